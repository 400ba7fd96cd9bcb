// message::attention (DGN). The no-allocation test counts heap allocations two ways, as
// tests/nn/test_no_allocation.cpp does: a replaced global operator new and Eigen's malloc hook
// (EIGEN_RUNTIME_NO_MALLOC). Both must be set up before anything includes Eigen.
#include <cstddef>
#include <cstdlib>
#include <new>

namespace allocation_counter {
inline long cpp_allocations = 0;    // operator new calls
inline long eigen_allocations = 0;  // Eigen heap allocations while they are forbidden
inline void eigen_assert_failed(const char*) { ++eigen_allocations; }
}  // namespace allocation_counter

// Only Eigen's "malloc forbidden" check matters here; any other failed Eigen assertion would also
// be counted, which fails the allocation test loudly rather than hiding a bug.
#define EIGEN_RUNTIME_NO_MALLOC
#define eigen_assert(x) ((x) ? (void)0 : ::allocation_counter::eigen_assert_failed(#x))

void* operator new(std::size_t size) {
  ++allocation_counter::cpp_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return ::operator new(size); }
// GCC cannot see that the replaced operator new above allocates with malloc, so it would call
// free() here "mismatched"; it is not.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "netmarl/graph/csr.hpp"
#include "netmarl/graph/generators.hpp"
#include "netmarl/message/attention.hpp"
#include "netmarl/message/concept.hpp"
#include "netmarl/nn/init.hpp"
#include "support/gradient_check.hpp"
#include "support/message_model_check.hpp"

namespace message = netmarl::message;
namespace graph = netmarl::graph;
namespace backend = netmarl::backend;
using idx = netmarl::index;  // plain `index` clashes with POSIX index()
using netmarl::csr_view;
using netmarl::matrix;
using netmarl::rng;
using model_type = message::attention::model<double>;
using netmarl::testing::run;
using netmarl::testing::views;

namespace {

std::size_t sz(idx n) { return static_cast<std::size_t>(n); }

// The brief's small network: encoder {6, 5}, dim 4, 2 heads of width 2, 2 convolutions.
message::attention::settings small_settings() { return {{6, 5}, 4, 2, 2}; }

// A csr from adjacency lists, rows as given (self first, as graph::csr stores them).
graph::csr csr_of(const std::vector<std::vector<std::int32_t>>& adjacency) {
  graph::csr g;
  for (const auto& row : adjacency) {
    g.indices.insert(g.indices.end(), row.begin(), row.end());
    g.offsets.push_back(std::int32_t(g.indices.size()));
  }
  return g;
}

// Three graphs over 5 agents with different degrees per sample and per agent: a ring (3 each), a
// star (hub 5, leaves 2) and a directed graph with degrees 4, 1, 2, 2, 5.
std::vector<graph::csr> sample_graphs() {
  return {graph::ring(5), graph::star(5),
          csr_of({{0, 1, 2, 3}, {1}, {2, 0}, {3, 4}, {4, 0, 1, 2, 3}})};
}

// The smallest |pre-activation| of any ReLU in the forward that filled `c`, recomputed from the
// cache: the finite-difference stencil must not cross a kink.
double smallest_pre_activation(const model_type& m, const model_type::cache& c) {
  double smallest = 1e300;
  auto visit = [&](const matrix<double>& in, const netmarl::nn::dense<double>& layer) {
    const matrix<double> pre = (in * layer.weight.value).rowwise() + layer.bias.value.row(0);
    smallest = std::min(smallest, pre.cwiseAbs().minCoeff());
  };
  for (std::size_t i = 0; i < m.encoder.depth(); ++i)
    visit(c.encoder.outputs[i], m.encoder.layers[i]);
  for (std::size_t l = 0; l < m.convolutions.size(); ++l) {
    visit(c.hidden[l], m.convolutions[l].query);
    visit(c.hidden[l], m.convolutions[l].key);
    visit(c.hidden[l], m.convolutions[l].value);
    visit(c.layers[l].attended, m.convolutions[l].output);
  }
  return smallest;
}

struct gradient_reports {
  netmarl::testing::gradient_check_report parameters, input;
  std::uint64_t seed = 0;
};

// Redraws weights from N(0, 0.6^2) and biases from U(0, 0.6): most ReLUs active and attention
// weights less uniform, where torch's default draws leave 4-wide layers mostly dead.
void redraw_lively(model_type& m, rng& g) {
  for (const auto& p : netmarl::nn::parameters_of(m)) {
    if (p.name.ends_with("bias"))
      netmarl::nn::init::uniform(*p.param, g, 0.0, 0.6);
    else
      netmarl::nn::init::normal(*p.param, g, 0.0, 0.6);
  }
}

// Finite-difference check of every parameter and of d_x. torch's default initialisation leaves
// 4-wide ReLU layers mostly dead and the attention nearly uniform, so the query and key gradients
// come out at 1e-7 or exactly 0; hence redraw_lively, and the first seed from `seed` whose ReLU
// pre-activations all stay >= 1e-3 from 0 (the stencil moves them by ~1e-4 at most) and whose
// every weight gets a gradient of norm >= 1e-4. (A key bias gets none where all its units are
// active: adding one offset to every K_j shifts all of i's scores by Q_i . offset, which the
// softmax ignores.)
gradient_reports check_gradients(idx agents, idx batch, const std::vector<graph::csr>& graphs,
                                 std::uint64_t seed) {
  const auto views = netmarl::testing::views(graphs);
  for (const std::uint64_t last = seed + 1000; seed < last; ++seed) {
    rng g(seed);
    model_type m(agents, 3, small_settings(), g);
    redraw_lively(m, g);
    auto params = netmarl::nn::parameters_of(m);
    matrix<double> x = netmarl::testing::random_matrix(agents * batch, 3, g);
    model_type::cache c;
    matrix<double> out;
    m.forward(backend::reference{}, x, views, out, c);
    if (smallest_pre_activation(m, c) < 1e-3) continue;
    const matrix<double> weight_of_out = netmarl::testing::random_matrix(out.rows(), out.cols(), g);
    netmarl::nn::zero_grad(params);
    matrix<double> d_x;
    m.backward(backend::reference{}, c, weight_of_out, &d_x);
    if (std::any_of(params.begin(), params.end(), [](const auto& p) {
          return p.name.ends_with("weight") && p.param->grad.norm() < 1e-4;
        }))
      continue;
    auto loss = [&] { return (run(m, x, views).array() * weight_of_out.array()).sum(); };
    return {netmarl::testing::check_parameter_gradients(params, loss),
            netmarl::testing::check_gradient(x, d_x, loss, "x"), seed};
  }
  return {};  // no seed found: both reports are empty, and an empty report fails
}

// new_id[i] is agent i's label after relabelling. Row new_id[i] lists new_id[i] first, then the
// relabelled neighbours ascending (the csr layout).
graph::csr relabel(const graph::csr& g, const std::vector<std::int32_t>& new_id) {
  const idx n = graph::num_nodes(g);
  std::vector<std::vector<std::int32_t>> rows(sz(n));
  for (idx i = 0; i < n; ++i) {
    auto& row = rows[sz(new_id[sz(i)])];
    row.push_back(new_id[sz(i)]);
    for (const std::int32_t j : graph::neighbors_excluding_self(g, i)) row.push_back(new_id[sz(j)]);
    std::sort(row.begin() + 1, row.end());
  }
  return csr_of(rows);
}

struct allocation_counts {
  long cpp = 0, eigen = 0;
};

// Runs `step` once to warm up, then again while counting heap allocations.
template <class Step>
allocation_counts allocations_after_warm_up(Step&& step) {
  step();
  allocation_counter::cpp_allocations = 0;
  allocation_counter::eigen_allocations = 0;
  Eigen::internal::set_is_malloc_allowed(false);
  step();
  Eigen::internal::set_is_malloc_allowed(true);
  return {allocation_counter::cpp_allocations, allocation_counter::eigen_allocations};
}

}  // namespace

TEST_CASE("attention: meets the MessagePassing concept", "[message][attention]") {
  STATIC_REQUIRE(netmarl::MessagePassing<message::attention>);
  STATIC_REQUIRE(model_type::uses_graph);
}

TEST_CASE("attention: sizes, defaults and parameter names", "[message][attention]") {
  const message::attention::settings defaults;
  REQUIRE(defaults.encoder == std::vector<idx>{512, 128});
  REQUIRE(defaults.dim == 128);
  REQUIRE(defaults.heads == 4);
  REQUIRE(defaults.layers == 2);

  rng g(1);
  message::attention::model<float> dgn(20, 26, defaults, g);
  REQUIRE(dgn.output_size() == 128 + 2 * 128);  // DGN's Q network reads h0, h1 and h2
  const auto params = netmarl::nn::parameters_of(dgn, "dgn.");
  REQUIRE(params.size() == 4 + 2 * 8);
  REQUIRE(params[0].name == "dgn.encoder.0.weight");
  REQUIRE(params[4].name == "dgn.layer0.query.weight");
  REQUIRE(params[10].name == "dgn.layer0.output.weight");
  REQUIRE(params.back().name == "dgn.layer1.output.bias");
  REQUIRE(netmarl::nn::parameter_count(params) ==
          (26 * 512 + 512 + 512 * 128 + 128) + 2 * 4 * (128 * 128 + 128));

  model_type small(4, 3, small_settings(), g);
  REQUIRE(small.output_size() == 5 + 2 * 4);
  REQUIRE(small.convolutions[0].query.input_size() == 5);  // the first reads the encoder output
  REQUIRE(small.convolutions[1].query.input_size() == 4);
}

TEST_CASE("attention: gradients match finite differences", "[message][attention]") {
  SECTION("one graph per sample, different degrees (5 agents, batch 3)") {
    const auto r = check_gradients(5, 3, sample_graphs(), 100);
    INFO("seed " << r.seed);
    REQUIRE(r.parameters.entries_checked == 231);
    INFO(r.parameters);
    REQUIRE(r.parameters.max_relative_error <= 1e-6);
    INFO(r.input);
    REQUIRE(r.input.max_relative_error <= 1e-6);
  }
  SECTION("one graph shared by the batch (4 agents, batch 2)") {
    const auto r = check_gradients(4, 2, {csr_of({{0, 1, 3}, {1, 0, 2, 3}, {2}, {3, 2}})}, 200);
    INFO("seed " << r.seed);
    REQUIRE(r.parameters.entries_checked == 231);
    INFO(r.parameters);
    REQUIRE(r.parameters.max_relative_error <= 1e-6);
    INFO(r.input);
    REQUIRE(r.input.max_relative_error <= 1e-6);
  }
}

TEST_CASE("attention: one shared graph equals that graph repeated per sample",
          "[message][attention]") {
  rng g(3);
  const model_type m(5, 3, small_settings(), g);
  const matrix<double> x = netmarl::testing::random_matrix(15, 3, g);
  const graph::csr shared = graph::star(5);
  const std::vector<csr_view> one{shared.view()}, three(3, shared.view());
  REQUIRE(run(m, x, one).isApprox(run(m, x, three), 1e-14));
}

TEST_CASE("attention: relabelling agents permutes the outputs", "[message][attention]") {
  rng g(4);
  model_type m(5, 3, small_settings(), g);
  redraw_lively(m, g);
  const idx agents = 5, batch = 3;
  const matrix<double> x = netmarl::testing::random_matrix(agents * batch, 3, g);
  const auto graphs = sample_graphs();
  const std::vector<std::int32_t> new_id = {3, 0, 4, 1, 2};
  std::vector<graph::csr> relabelled;
  for (const auto& gr : graphs) relabelled.push_back(relabel(gr, new_id));
  matrix<double> x_relabelled(x.rows(), x.cols());
  for (idx b = 0; b < batch; ++b)
    for (idx i = 0; i < agents; ++i)
      x_relabelled.row(b * agents + new_id[sz(i)]) = x.row(b * agents + i);

  const matrix<double> out = run(m, x, views(graphs));
  const matrix<double> out_relabelled = run(m, x_relabelled, views(relabelled));
  for (idx b = 0; b < batch; ++b)
    for (idx i = 0; i < agents; ++i) {
      INFO("sample " << b << ", agent " << i);
      REQUIRE(
          out_relabelled.row(b * agents + new_id[sz(i)]).isApprox(out.row(b * agents + i), 1e-12));
    }
  // Not vacuous: the graph does mix agents (the star's hub reads everyone).
  REQUIRE_FALSE(out.row(5).isApprox(
      run(m, x, views({graph::isolated(5), graph::isolated(5), graph::isolated(5)})).row(5), 1e-6));
}

TEST_CASE("attention: with only self-loops each output reads only its own input",
          "[message][attention]") {
  rng g(5);
  const model_type m(4, 3, small_settings(), g);
  const graph::csr self_only = graph::isolated(4);
  const std::vector<csr_view> graphs{self_only.view()};
  matrix<double> x = netmarl::testing::random_matrix(8, 3, g);
  const matrix<double> out = run(m, x, graphs);
  // Other agents' inputs change; agent 2 of sample 1 (row 6) keeps its output bit for bit.
  matrix<double> x_other = netmarl::testing::random_matrix(8, 3, g);
  x_other.row(6) = x.row(6);
  const matrix<double> out_other = run(m, x_other, graphs);
  REQUIRE(out_other.row(6) == out.row(6));
  REQUIRE_FALSE(out_other.row(5) == out.row(5));
  // A lone agent's softmax weight is 1: h1 = ReLU(W_o ReLU(W_v h0 + b_v) + b_o).
  const auto& conv = m.convolutions[0];
  const matrix<double> h0 = out.leftCols(5);
  const matrix<double> v =
      ((h0 * conv.value.weight.value).rowwise() + conv.value.bias.value.row(0)).cwiseMax(0.0);
  const matrix<double> h1 =
      ((v * conv.output.weight.value).rowwise() + conv.output.bias.value.row(0)).cwiseMax(0.0);
  REQUIRE(out.middleCols(5, 4).isApprox(h1, 1e-14));
}

TEST_CASE("attention: settings and inputs are checked with readable errors",
          "[message][attention]") {
  using Catch::Matchers::Message;
  rng g(6);
  auto make = [&](message::attention::settings s, idx agents = 4) {
    return model_type(agents, 3, s, g);
  };
  auto with = [](auto change) {
    auto s = small_settings();
    change(s);
    return s;
  };
  REQUIRE_THROWS_MATCHES(make(with([](auto& s) {
                           s.dim = 6;
                           s.heads = 4;
                         })),
                         netmarl::invalid_argument,
                         Message("message::attention: dim 6 is not a multiple of heads 4"));
  REQUIRE_THROWS_MATCHES(make(with([](auto& s) { s.heads = 0; })), netmarl::invalid_argument,
                         Message("message::attention: heads must be >= 1, got 0"));
  REQUIRE_THROWS_MATCHES(make(with([](auto& s) { s.layers = 0; })), netmarl::invalid_argument,
                         Message("message::attention: layers must be >= 1, got 0"));
  REQUIRE_THROWS_MATCHES(make(with([](auto& s) { s.encoder = {}; })), netmarl::invalid_argument,
                         Message("message::attention: encoder must list at least one width "
                                 "(DGN: {512, 128})"));
  REQUIRE_THROWS_MATCHES(make(with([](auto& s) {
                           s.encoder = {6, 0};
                         })),
                         netmarl::invalid_argument,
                         Message("message::attention: encoder[1] must be >= 1, got 0"));
  REQUIRE_THROWS_MATCHES(make(with([](auto& s) { s.dim = -2; })), netmarl::invalid_argument,
                         Message("message::attention: dim must be >= 1, got -2"));
  REQUIRE_THROWS_MATCHES(make(small_settings(), 0), netmarl::invalid_argument,
                         Message("message::attention: agents must be >= 1, got 0"));

  const model_type m = make(small_settings());
  const graph::csr ring = graph::ring(4);
  const std::vector<csr_view> one{ring.view()};
  model_type::cache c;
  matrix<double> out;
  REQUIRE_THROWS_MATCHES(m.forward(backend::reference{}, matrix<double>::Zero(8, 2), one, out, c),
                         netmarl::shape_error,
                         Message("message::attention: input has 2 features, expected 3"));
  REQUIRE_THROWS_MATCHES(m.forward(backend::reference{}, matrix<double>::Zero(6, 3), one, out, c),
                         netmarl::shape_error,
                         Message("message::attention: input has 6 rows, not a multiple of the 4 "
                                 "agents"));
  const std::vector<csr_view> two(2, ring.view());
  REQUIRE_THROWS_MATCHES(m.forward(backend::reference{}, matrix<double>::Zero(12, 3), two, out, c),
                         netmarl::shape_error,
                         Message("message::attention: got 2 graphs for a batch of 3 samples; "
                                 "pass one shared graph or one per sample"));
  const graph::csr five = graph::ring(5);
  const std::vector<csr_view> mixed{ring.view(), five.view()};
  REQUIRE_THROWS_MATCHES(m.forward(backend::reference{}, matrix<double>::Zero(8, 3), mixed, out, c),
                         netmarl::shape_error,
                         Message("message::attention: graph 1 has 5 nodes, expected 4 (the "
                                 "agents)"));
  graph::csr broken = ring;
  broken.indices[4] = 7;
  const std::vector<csr_view> bad_id{broken.view()};
  REQUIRE_THROWS_MATCHES(
      m.forward(backend::reference{}, matrix<double>::Zero(4, 3), bad_id, out, c),
      netmarl::invalid_argument,
      Message("message::attention: graph 0 lists node 7 at edge 4, outside "
              "[0, 4)"));

  model_type fresh = make(small_settings());
  model_type::cache unused;
  REQUIRE_THROWS_MATCHES(
      fresh.backward(backend::reference{}, unused, matrix<double>::Zero(4, 13), nullptr),
      netmarl::shape_error,
      Message("message::attention backward: call forward with this cache first"));
  fresh.forward(backend::reference{}, matrix<double>::Zero(4, 3), one, out, unused);
  REQUIRE_THROWS_MATCHES(
      fresh.backward(backend::reference{}, unused, matrix<double>::Zero(4, 12), nullptr),
      netmarl::shape_error, Message("message::attention backward: d_out: expected 4x13, got 4x12"));
}

TEST_CASE("attention: caches are reused across shapes and independent of each other",
          "[message][attention]") {
  rng g(7);
  model_type m(5, 3, small_settings(), g);
  const matrix<double> x2 = netmarl::testing::random_matrix(10, 3, g);
  const matrix<double> x3 = netmarl::testing::random_matrix(15, 3, g);
  const matrix<double> d2 = netmarl::testing::random_matrix(10, m.output_size(), g);
  const matrix<double> d3 = netmarl::testing::random_matrix(15, m.output_size(), g);
  graph::csr shared = graph::star(5);
  const auto per_sample = sample_graphs();
  const std::vector<csr_view> one{shared.view()};
  const auto three = views(per_sample);
  auto params = netmarl::nn::parameters_of(m);

  // What a fresh cache gives: outputs, parameter gradients and d_x for each input alone.
  auto alone = [&](const matrix<double>& x, std::span<const csr_view> graphs,
                   const matrix<double>& d_out, matrix<double>& out, matrix<double>& d_x) {
    netmarl::nn::zero_grad(params);
    model_type::cache c;
    m.forward(backend::reference{}, x, graphs, out, c);
    m.backward(backend::reference{}, c, d_out, &d_x);
    std::vector<matrix<double>> grads;
    for (const auto& p : params) grads.push_back(p.param->grad);
    return grads;
  };
  matrix<double> out2, dx2, out3, dx3;
  const auto grads2 = alone(x2, one, d2, out2, dx2);
  const auto grads3 = alone(x3, three, d3, out3, dx3);
  auto require_grads = [&](const std::vector<matrix<double>>& want) {
    for (std::size_t p = 0; p < params.size(); ++p) {
      INFO(params[p].name);
      REQUIRE(params[p].param->grad.isApprox(want[p], 1e-14));
    }
  };

  SECTION("one cache, the batch size changing between calls") {
    model_type::cache c;
    matrix<double> out, d_x;
    m.forward(backend::reference{}, x3, three, out, c);
    m.forward(backend::reference{}, x2, one, out, c);
    REQUIRE(out == out2);
    netmarl::nn::zero_grad(params);
    m.backward(backend::reference{}, c, d2, &d_x);
    REQUIRE(d_x.isApprox(dx2, 1e-14));
    require_grads(grads2);
    m.forward(backend::reference{}, x3, three, out, c);
    REQUIRE(out == out3);
    netmarl::nn::zero_grad(params);
    m.backward(backend::reference{}, c, d3, &d_x);
    REQUIRE(d_x.isApprox(dx3, 1e-14));
    require_grads(grads3);
  }
  SECTION("two caches: two forwards, then backward of either") {
    model_type::cache c2, c3;
    matrix<double> out, d_x;
    m.forward(backend::reference{}, x2, one, out, c2);
    m.forward(backend::reference{}, x3, three, out, c3);
    // The cache keeps its own copy of the graph: rebuilding it before backward changes nothing.
    shared = graph::ring(5);
    netmarl::nn::zero_grad(params);
    m.backward(backend::reference{}, c2, d2, &d_x);
    REQUIRE(d_x.isApprox(dx2, 1e-14));
    require_grads(grads2);
    netmarl::nn::zero_grad(params);
    m.backward(backend::reference{}, c3, d3, nullptr);  // no input gradient wanted
    require_grads(grads3);
  }
}

TEMPLATE_TEST_CASE("attention: simd backend gives the reference numbers", "[message][attention]",
                   backend::simd<>) {
  rng g(8);
  message::attention::settings s{{24, 16}, 16, 4, 2};
  message::attention::model<float> m(7, 9, s, g);
  auto copy = m;
  const matrix<float> x = netmarl::testing::random_matrix<float>(21, 9, g);
  const matrix<float> d_out = netmarl::testing::random_matrix<float>(21, m.output_size(), g);
  const graph::csr a = graph::ring(7), b = graph::star(7), c = graph::complete(7);
  const std::vector<csr_view> graphs{a.view(), b.view(), c.view()};
  message::attention::model<float>::cache cache_reference, cache_simd;
  matrix<float> out_reference, out_simd, dx_reference, dx_simd;
  m.forward(backend::reference{}, x, graphs, out_reference, cache_reference);
  m.backward(backend::reference{}, cache_reference, d_out, &dx_reference);
  copy.forward(TestType{}, x, graphs, out_simd, cache_simd);
  copy.backward(TestType{}, cache_simd, d_out, &dx_simd);
  REQUIRE(out_simd.isApprox(out_reference, 1e-5f));
  REQUIRE(dx_simd.isApprox(dx_reference, 1e-5f));
  REQUIRE(copy.encoder.layers[0].weight.grad.isApprox(m.encoder.layers[0].weight.grad, 1e-5f));
  REQUIRE(copy.convolutions[0].key.weight.grad.isApprox(m.convolutions[0].key.weight.grad, 1e-5f));
}

TEMPLATE_TEST_CASE("attention: no heap allocation after warm-up",
                   "[message][attention][allocation]", backend::reference, backend::simd<>) {
  // 20 agents, 4 samples with their own k-nearest-like graphs; widths keep Eigen's gemm packing
  // below its stack limit (see tests/nn/test_no_allocation.cpp).
  rng g(9);
  const idx agents = 20, batch = 4;
  message::attention::model<float> m(agents, 12, {{24}, 32, 4, 2}, g);  // h0 narrower than h1
  const matrix<float> x = netmarl::testing::random_matrix<float>(agents * batch, 12, g);
  const matrix<float> d_out =
      netmarl::testing::random_matrix<float>(agents * batch, m.output_size(), g);
  std::vector<graph::csr> graphs;
  for (idx b = 0; b < batch; ++b) {
    std::vector<std::vector<std::int32_t>> rows(sz(agents));
    for (idx i = 0; i < agents; ++i) {
      rows[sz(i)].push_back(std::int32_t(i));
      for (idx k = 1; k <= 1 + b; ++k) rows[sz(i)].push_back(std::int32_t((i + k * 3) % agents));
    }
    graphs.push_back(csr_of(rows));
  }
  const auto views = netmarl::testing::views(graphs);
  const std::vector<csr_view> shared{graphs[0].view()};
  message::attention::model<float>::cache cache_per_sample, cache_shared;
  matrix<float> out, d_x;
  const auto n = allocations_after_warm_up([&] {
    m.forward(TestType{}, x, views, out, cache_per_sample);
    m.forward(TestType{}, x, shared, out, cache_shared);
    m.backward(TestType{}, cache_per_sample, d_out, &d_x);
    m.backward(TestType{}, cache_shared, d_out, nullptr);
  });
  REQUIRE(n.cpp == 0);
  REQUIRE(n.eigen == 0);
  // The counters do see allocations (else the test above would pass vacuously).
  const long before = allocation_counter::cpp_allocations;
  std::vector<int>* probe = new std::vector<int>(3);
  delete probe;
  REQUIRE(allocation_counter::cpp_allocations > before);
}
