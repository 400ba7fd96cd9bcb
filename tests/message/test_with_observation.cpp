// message::with_observation<Inner>: [Inner's embedding, own input] per agent; gradients of the
// inner parameters and of x (through both paths) against finite differences.
#include <catch2/catch.hpp>
#include <vector>

#include "netmarl/graph/generators.hpp"
#include "netmarl/message/loopy_bp.hpp"
#include "netmarl/message/mean_field.hpp"
#include "netmarl/message/with_observation.hpp"
#include "support/gradient_check.hpp"

namespace nm = netmarl;
using idx = netmarl::index;

namespace {
template <class Inner>
typename Inner::settings small() {
  typename Inner::settings s;
  s.hops = 2;
  s.hidden = 5;
  return s;
}
}  // namespace

TEMPLATE_TEST_CASE("with_observation appends each agent's own input to the embedding",
                   "[message][with_observation]", nm::message::mean_field,
                   nm::message::loopy_bp) {
  using wrapped = nm::message::with_observation<TestType>;
  STATIC_REQUIRE(nm::MessagePassing<wrapped>);
  const idx agents = 4, batch = 2, features = 3;
  nm::rng g(11);
  typename wrapped::template model<double> m(agents, features, small<TestType>(), g);
  typename TestType::template model<double> inner = m.inner;  // same parameters
  CHECK(m.output_size() == inner.output_size() + features);

  const nm::graph::csr ring = nm::graph::ring(agents);
  const nm::csr_view view = ring.view();
  const std::span<const nm::csr_view> graphs(&view, 1);
  const nm::matrix<double> x = nm::testing::random_matrix(batch * agents, features, g);
  typename wrapped::template model<double>::cache cache;
  typename TestType::template model<double>::cache inner_cache;
  nm::matrix<double> out, inner_out;
  m.forward(nm::backend::reference{}, x, graphs, out, cache);
  inner.forward(nm::backend::reference{}, x, graphs, inner_out, inner_cache);
  REQUIRE(out.rows() == batch * agents);
  CHECK(out.leftCols(inner.output_size()) == inner_out);
  CHECK(out.rightCols(features) == x);

  SECTION("gradients: inner parameters and x through both paths") {
    const nm::matrix<double> upstream =
        nm::testing::random_matrix(batch * agents, m.output_size(), g);
    nm::nn::parameter_list<double> params;
    m.append_parameters(params, "");
    for (auto& p : params) p.param->zero_grad();
    nm::matrix<double> input = x, d_x;
    m.forward(nm::backend::reference{}, input, graphs, out, cache);
    m.backward(nm::backend::reference{}, cache, upstream, &d_x);
    auto loss = [&] {
      typename wrapped::template model<double>::cache fresh;
      nm::matrix<double> y;
      m.forward(nm::backend::reference{}, input, graphs, y, fresh);
      return (y.array() * upstream.array()).sum();
    };
    auto params_report = nm::testing::check_parameter_gradients(params, loss);
    INFO(params_report);
    CHECK(params_report.max_relative_error <= 1e-6);
    auto x_report = nm::testing::check_gradient(input, d_x, loss, "x");
    INFO(x_report);
    CHECK(x_report.max_relative_error <= 1e-6);
  }
}
