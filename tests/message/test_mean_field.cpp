#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "netmarl/graph/generators.hpp"
#include "netmarl/graph/k_nearest.hpp"
#include "netmarl/message/concept.hpp"
#include "netmarl/message/mean_field.hpp"
#include "support/gradient_check.hpp"
#include "support/message_model_check.hpp"

// Counts every heap allocation in this test binary, so "no allocation after warm-up" is measured.
#include "support/count_allocations.hpp"

using namespace netmarl;
using idx = netmarl::index;  // plain `index` clashes with POSIX index()
using dmatrix = matrix<double>;
using Catch::Matchers::Contains;
using Catch::Matchers::Message;
using mean_field_model = message::mean_field::model<double>;
using testing::random_k_nearest;
using testing::run;
using testing::views;

namespace {

const backend::reference ref{};

message::mean_field::settings small_settings() {
  message::mean_field::settings s;
  s.hops = 2;
  s.hidden = 6;
  s.intention_hidden = 5;
  s.intention_size = 4;
  return s;
}

dmatrix adjacency(const graph::csr& g) {
  const idx n = graph::num_nodes(g);
  dmatrix a = dmatrix::Zero(n, n);
  for (idx i = 0; i < n; ++i)
    for (const std::int32_t j : graph::neighbors(g, i)) a(i, j) += 1.0;
  return a;
}

// The network written out with dense adjacency matrices, sample by sample, independent of the
// kernels; `smallest_pre` is the smallest |pre-activation| of any ReLU (the gradient checks keep
// far from the kink).
struct naive_result {
  dmatrix out;
  double smallest_pre = std::numeric_limits<double>::infinity();
};

naive_result naive(const mean_field_model& m, const dmatrix& x,
                   const std::vector<graph::csr>& graphs, idx agents) {
  naive_result r;
  const idx batch = x.rows() / agents;
  r.out.resize(x.rows(), m.output_size());
  const auto& l0 = m.intention.layers[0];
  const auto& l1 = m.intention.layers[1];
  for (idx b = 0; b < batch; ++b) {
    const dmatrix a = adjacency(graphs.size() == 1 ? graphs[0] : graphs[std::size_t(b)]);
    const dmatrix xb = x.middleRows(b * agents, agents);
    dmatrix h = (xb * l0.weight.value).rowwise() + l0.bias.value.row(0);
    r.smallest_pre = std::min(r.smallest_pre, h.cwiseAbs().minCoeff());
    h = h.cwiseMax(0.0);
    const dmatrix logits = (h * l1.weight.value).rowwise() + l1.bias.value.row(0);
    dmatrix mu = logits;
    for (idx i = 0; i < agents; ++i) {
      const dmatrix e = (logits.row(i).array() - logits.row(i).maxCoeff()).exp().matrix();
      mu.row(i) = e / e.sum();
    }
    for (const auto& hop : m.hops) {
      const dmatrix pre = ((a * xb) * hop.state.weight.value).rowwise() +
                          hop.state.bias.value.row(0) + (a * mu) * hop.intention_weight.value;
      r.smallest_pre = std::min(r.smallest_pre, pre.cwiseAbs().minCoeff());
      mu = pre.cwiseMax(0.0);
    }
    r.out.middleRows(b * agents, agents) = mu;
  }
  return r;
}

// The shared gradient-check driver (support/message_model_check.hpp) on this model's `naive`.
void check_gradients(const std::vector<graph::csr>& graphs, idx agents, idx batch,
                     std::uint64_t seed) {
  testing::check_gradients<mean_field_model>(graphs, agents, batch, seed, small_settings(), naive);
}

}  // namespace

TEST_CASE("mean_field: meets the MessagePassing slot", "[message][mean_field]") {
  STATIC_REQUIRE(MessagePassing<message::mean_field>);
  STATIC_REQUIRE(message::mean_field::model<float>::uses_graph);
}

TEST_CASE("mean_field: gradients match finite differences, one shared graph",
          "[message][mean_field]") {
  check_gradients({graph::ring(6)}, 6, 2, 100);
  check_gradients({graph::grid2d(2, 2)}, 4, 3, 200);
}

TEST_CASE("mean_field: gradients match finite differences, one graph per sample",
          "[message][mean_field]") {
  // Degrees differ per sample: a line, a hub, a directed k-nearest graph.
  rng g(3);
  check_gradients({graph::line(5), graph::star(5), random_k_nearest(g, 5)}, 5, 3, 300);
  check_gradients({graph::complete(4), graph::isolated(4)}, 4, 2, 400);
}

TEST_CASE("mean_field: forward matches the dense-adjacency network", "[message][mean_field]") {
  rng g(11);
  message::mean_field::settings s;
  s.hops = 3;
  s.hidden = 17;
  s.intention_hidden = 9;
  s.intention_size = 5;
  const idx agents = 12, batch = 4;
  mean_field_model m(agents, 7, s, g);
  const dmatrix x = testing::random_matrix(batch * agents, 7, g);
  const std::vector<graph::csr> per_sample = {graph::grid2d(3, 4), random_k_nearest(g, agents, 3),
                                              graph::star(agents), graph::isolated(agents)};
  REQUIRE(run(m, x, views(per_sample)).isApprox(naive(m, x, per_sample, agents).out, 1e-12));
  const std::vector<graph::csr> shared = {graph::grid2d(3, 4, {8, true})};
  REQUIRE(run(m, x, views(shared)).isApprox(naive(m, x, shared, agents).out, 1e-12));
}

TEST_CASE("mean_field: relabelling agents permutes the output", "[message][mean_field]") {
  testing::check_relabelling_permutes_output<mean_field_model>(small_settings());
}

TEST_CASE("mean_field: without edges each agent's output is a function of its own input",
          "[message][mean_field]") {
  testing::check_own_input_alone_without_edges<mean_field_model>(small_settings());
}

TEST_CASE("mean_field: bad settings and bad input are rejected with the value",
          "[message][mean_field]") {
  rng g(41);
  auto with = [](auto change) {
    auto s = small_settings();
    change(s);
    return s;
  };
  REQUIRE_THROWS_MATCHES(mean_field_model(4, 3, with([](auto& s) { s.hops = 0; }), g),
                         invalid_argument,
                         Message("message::mean_field: hops must be >= 1, got 0"));
  REQUIRE_THROWS_MATCHES(mean_field_model(4, 3, with([](auto& s) { s.hidden = -2; }), g),
                         invalid_argument,
                         Message("message::mean_field: hidden must be >= 1, got -2"));
  REQUIRE_THROWS_MATCHES(mean_field_model(4, 3, with([](auto& s) { s.intention_size = 0; }), g),
                         invalid_argument,
                         Message("message::mean_field: intention_size must be >= 1, got 0"));
  REQUIRE_THROWS_MATCHES(mean_field_model(4, 3, with([](auto& s) { s.intention_hidden = 0; }), g),
                         invalid_argument,
                         Message("message::mean_field: intention_hidden must be >= 1, got 0"));
  REQUIRE_THROWS_MATCHES(mean_field_model(0, 3, small_settings(), g), invalid_argument,
                         Message("message::mean_field: agents must be >= 1, got 0"));
  REQUIRE_THROWS_MATCHES(mean_field_model(4, 0, small_settings(), g), invalid_argument,
                         Message("message::mean_field: input_size must be >= 1, got 0"));

  mean_field_model m(4, 3, small_settings(), g);
  mean_field_model::cache c;
  dmatrix out;
  const std::vector<graph::csr> two = {graph::ring(4), graph::line(4)};
  const std::vector<graph::csr> three = {graph::ring(4), graph::line(4), graph::star(4)};
  const std::vector<graph::csr> wrong_nodes = {graph::ring(5)};
  REQUIRE_THROWS_MATCHES(
      m.forward(ref, dmatrix::Zero(12, 3), views(two), out, c), shape_error,
      Message("message::mean_field: expected 1 graph (shared) or 3 (one per sample), got 2"));
  REQUIRE_THROWS_AS(m.forward(ref, dmatrix::Zero(12, 3), {}, out, c), shape_error);
  REQUIRE_THROWS_WITH(m.forward(ref, dmatrix::Zero(12, 3), {}, out, c), Contains("got 0"));
  REQUIRE_THROWS_MATCHES(m.forward(ref, dmatrix::Zero(10, 3), views(three), out, c), shape_error,
                         Message("message::mean_field: x has 10 rows, not a multiple of 4 agents"));
  REQUIRE_THROWS_MATCHES(m.forward(ref, dmatrix::Zero(12, 5), views(three), out, c), shape_error,
                         Message("message::mean_field: x has 5 features, expected input_size 3"));
  REQUIRE_THROWS_MATCHES(m.forward(ref, dmatrix::Zero(8, 3), views(wrong_nodes), out, c),
                         shape_error,
                         Message("message::mean_field: graph 0 has 5 nodes, expected 4 agents"));
  REQUIRE_THROWS_MATCHES(m.backward(ref, c, dmatrix::Zero(12, 6), nullptr), shape_error,
                         Message("message::mean_field backward: call forward first"));
  m.forward(ref, dmatrix::Zero(12, 3), views(three), out, c);
  REQUIRE_THROWS_MATCHES(m.backward(ref, c, dmatrix::Zero(12, 5), nullptr), shape_error,
                         Message("message::mean_field backward: d_out: expected 12x6, got 12x5"));
}

TEST_CASE("mean_field: caches are reused across shapes and held by the caller",
          "[message][mean_field]") {
  testing::check_caches_reused_across_shapes<mean_field_model>(small_settings(), [](rng&) {
    return std::vector<graph::csr>{graph::line(5), graph::star(5)};
  });
}

TEST_CASE("mean_field: forward and backward allocate nothing after warm-up",
          "[message][mean_field]") {
  testing::check_no_allocation_after_warm_up<mean_field_model>(message::mean_field::settings{},
                                                               testing::heap_allocations);
}

TEST_CASE("mean_field: float and the simd backend agree with the double reference",
          "[message][mean_field]") {
  testing::check_float_and_simd_agree_with_double<message::mean_field::model<float>,
                                                  mean_field_model>();
}
