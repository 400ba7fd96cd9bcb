#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "netmarl/graph/generators.hpp"
#include "netmarl/graph/k_nearest.hpp"
#include "netmarl/message/concept.hpp"
#include "netmarl/message/mean_field.hpp"
#include "support/gradient_check.hpp"

// Counts every heap allocation in this test binary, so "no allocation after warm-up" is measured.
#include "support/count_allocations.hpp"

using namespace netmarl;
using idx = netmarl::index;  // plain `index` clashes with POSIX index()
using dmatrix = matrix<double>;
using Catch::Matchers::Contains;
using Catch::Matchers::Message;
using mean_field_model = message::mean_field::model<double>;

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

std::vector<csr_view> views(const std::vector<graph::csr>& graphs) {
  std::vector<csr_view> v;
  for (const auto& g : graphs) v.push_back(g.view());
  return v;
}

// A directed k-nearest graph of n random points (k = 2): rows differ in who they read.
graph::csr random_k_nearest(rng& g, idx n, idx k = 2) {
  matrix<float> p(n, 2);
  for (idx i = 0; i < p.size(); ++i) p.data()[i] = static_cast<float>(g.uniform(0.0, 10.0));
  return graph::make_k_nearest(p, k);
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

dmatrix run(const mean_field_model& m, const dmatrix& x, std::span<const csr_view> graphs) {
  mean_field_model::cache c;
  dmatrix out;
  m.forward(ref, x, graphs, out, c);
  return out;
}

// A model and input whose ReLUs all sit at least 0.01 from their kink: seeds are tried from
// `seed` on (as the mlp test does), so the finite-difference stencil never straddles one.
struct checked_case {
  mean_field_model model;
  dmatrix x;
};

checked_case away_from_kinks(std::uint64_t seed, idx agents, idx input, idx rows,
                             const std::vector<graph::csr>& graphs) {
  for (;; ++seed) {
    rng g(seed);
    mean_field_model m(agents, input, small_settings(), g);
    dmatrix x = testing::random_matrix(rows, input, g);
    if (naive(m, x, graphs, agents).smallest_pre >= 0.01) return {std::move(m), std::move(x)};
  }
}

void check_gradients(const std::vector<graph::csr>& graphs, idx agents, idx batch,
                     std::uint64_t seed) {
  const idx input = 3;
  checked_case checked = away_from_kinks(seed, agents, input, batch * agents, graphs);
  mean_field_model& m = checked.model;
  dmatrix& x = checked.x;
  const auto graph_views = views(graphs);
  rng g(seed + 1000);
  const dmatrix weight_of_out = testing::random_matrix(batch * agents, m.output_size(), g);
  auto loss = [&] { return (run(m, x, graph_views).array() * weight_of_out.array()).sum(); };

  auto params = nn::parameters_of(m);
  nn::zero_grad(params);
  mean_field_model::cache c;
  dmatrix out, dx;
  m.forward(ref, x, graph_views, out, c);
  REQUIRE(out.isApprox(naive(m, x, graphs, agents).out, 1e-12));
  m.backward(ref, c, weight_of_out, &dx);
  const auto parameter_report = testing::check_parameter_gradients(params, loss);
  INFO(parameter_report);
  REQUIRE(parameter_report.max_relative_error <= 1e-6);
  const auto input_report = testing::check_gradient(x, dx, loss, "x");
  INFO(input_report);
  REQUIRE(input_report.max_relative_error <= 1e-6);
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
  rng g(21);
  const idx agents = 7, batch = 2, input = 4;
  mean_field_model m(agents, input, small_settings(), g);
  const dmatrix x = testing::random_matrix(batch * agents, input, g);
  std::vector<int> perm(agents);  // agent i becomes agent perm[i]
  std::iota(perm.begin(), perm.end(), 0);
  g.shuffle(perm);

  // An undirected graph from an edge list, and a directed k-nearest graph from positions.
  std::vector<std::pair<int, int>> edges = {{0, 1}, {1, 2}, {2, 3}, {3, 0}, {4, 5}, {1, 5}, {2, 6}};
  std::vector<std::pair<int, int>> relabelled;
  for (auto [u, v] : edges) relabelled.emplace_back(perm[std::size_t(u)], perm[std::size_t(v)]);
  matrix<float> points(agents, 2), relabelled_points(agents, 2);
  for (idx i = 0; i < points.size(); ++i) points.data()[i] = static_cast<float>(g.uniform(0, 10));
  for (idx i = 0; i < agents; ++i) relabelled_points.row(perm[std::size_t(i)]) = points.row(i);

  const std::vector<graph::csr> original = {graph::from_edges(agents, edges),
                                            graph::make_k_nearest(points, 2)};
  const std::vector<graph::csr> permuted = {graph::from_edges(agents, relabelled),
                                            graph::make_k_nearest(relabelled_points, 2)};
  dmatrix x_permuted(x.rows(), x.cols());
  for (idx b = 0; b < batch; ++b)
    for (idx i = 0; i < agents; ++i)
      x_permuted.row(b * agents + perm[std::size_t(i)]) = x.row(b * agents + i);

  const dmatrix out = run(m, x, views(original)),
                out_permuted = run(m, x_permuted, views(permuted));
  for (idx b = 0; b < batch; ++b)
    for (idx i = 0; i < agents; ++i) {
      INFO("sample " << b << ", agent " << i);
      REQUIRE(out_permuted.row(b * agents + perm[std::size_t(i)])
                  .isApprox(out.row(b * agents + i), 1e-12));
    }
}

TEST_CASE("mean_field: without edges each agent's output is a function of its own input",
          "[message][mean_field]") {
  const idx agents = 5, batch = 2, input = 3;
  rng g(31);
  mean_field_model m(agents, input, small_settings(), g);
  rng same(31);  // the parameters do not depend on the agent count: same draws, same weights
  const mean_field_model single(1, input, small_settings(), same);
  const dmatrix x = testing::random_matrix(batch * agents, input, g);
  const std::vector<graph::csr> isolated_graph = {graph::isolated(agents)};
  const std::vector<graph::csr> alone_graph = {graph::isolated(1)};
  const std::vector<csr_view> isolated = views(isolated_graph), alone = views(alone_graph);
  const dmatrix out = run(m, x, isolated);
  for (idx r = 0; r < x.rows(); ++r) {
    INFO("row " << r);
    REQUIRE(out.row(r).isApprox(run(single, x.row(r), alone), 1e-12));
  }
  // Perturbing agent j moves row j alone.
  for (idx j = 0; j < x.rows(); ++j) {
    dmatrix moved = x;
    moved.row(j).array() += 0.5;
    const dmatrix out_moved = run(m, moved, isolated);
    for (idx r = 0; r < x.rows(); ++r) {
      INFO("perturbed row " << j << ", row " << r);
      if (r == j)
        REQUIRE_FALSE(out_moved.row(r) == out.row(r));
      else
        REQUIRE(out_moved.row(r) == out.row(r));
    }
  }
  // With edges the neighbours' inputs do matter (the check above can fail).
  const dmatrix out_line = run(m, x, views({graph::line(agents)}));
  dmatrix moved = x;
  moved.row(1).array() += 0.5;
  REQUIRE_FALSE(run(m, moved, views({graph::line(agents)})).row(0) == out_line.row(0));
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
  rng g(51);
  const idx agents = 5, input = 3;
  mean_field_model m(agents, input, small_settings(), g);
  auto params = nn::parameters_of(m);
  const std::vector<graph::csr> shared = {graph::ring(5)};
  const std::vector<graph::csr> per_sample = {graph::line(5), graph::star(5)};
  const dmatrix x3 = testing::random_matrix(3 * agents, input, g);
  const dmatrix x2 = testing::random_matrix(2 * agents, input, g);
  const dmatrix d3 = testing::random_matrix(3 * agents, 6, g);
  const dmatrix d2 = testing::random_matrix(2 * agents, 6, g);

  // Fresh caches: the expected outputs and gradients of each batch alone.
  auto fresh = [&](const dmatrix& x, const std::vector<graph::csr>& graphs, const dmatrix& d) {
    nn::zero_grad(params);
    mean_field_model::cache c;
    dmatrix out, dx;
    m.forward(ref, x, views(graphs), out, c);
    m.backward(ref, c, d, &dx);
    std::vector<dmatrix> grads;
    for (auto& p : params) grads.push_back(p.param->grad);
    return std::make_tuple(out, dx, grads);
  };
  const auto [out3, dx3, grads3] = fresh(x3, shared, d3);
  const auto [out2, dx2, grads2] = fresh(x2, per_sample, d2);

  // One cache through both shapes, twice over.
  mean_field_model::cache c;
  dmatrix out, dx;
  for (int round = 0; round < 2; ++round) {
    nn::zero_grad(params);
    m.forward(ref, x3, views(shared), out, c);
    REQUIRE(out == out3);
    m.backward(ref, c, d3, &dx);
    REQUIRE(dx == dx3);
    for (std::size_t k = 0; k < params.size(); ++k) REQUIRE(params[k].param->grad == grads3[k]);
    nn::zero_grad(params);
    m.forward(ref, x2, views(per_sample), out, c);
    REQUIRE(out == out2);
    m.backward(ref, c, d2, &dx);
    REQUIRE(dx == dx2);
    for (std::size_t k = 0; k < params.size(); ++k) REQUIRE(params[k].param->grad == grads2[k]);
  }

  // Two caches (s and s'): backward of the first after the second's forward is unaffected, and
  // gradients accumulate over both backwards.
  mean_field_model::cache on_s, on_s_next;
  const auto views_shared = views(shared);
  const auto views_per_sample = views(per_sample);
  nn::zero_grad(params);
  m.forward(ref, x3, views_shared, out, on_s);
  m.forward(ref, x2, views_per_sample, out, on_s_next);
  m.backward(ref, on_s, d3, &dx);
  REQUIRE(dx == dx3);
  m.backward(ref, on_s_next, d2, nullptr);
  for (std::size_t k = 0; k < params.size(); ++k)
    REQUIRE(params[k].param->grad.isApprox(grads3[k] + grads2[k], 1e-14));
}

TEST_CASE("mean_field: forward and backward allocate nothing after warm-up",
          "[message][mean_field]") {
  rng g(61);
  const idx agents = 9;
  message::mean_field::settings s;  // the paper's sizes
  mean_field_model m(agents, 26, s, g);
  const std::vector<graph::csr> per_sample = {graph::grid2d(3, 3), graph::star(9),
                                              random_k_nearest(g, 9, 3), graph::isolated(9)};
  const auto graph_views = views(per_sample);
  const dmatrix x = testing::random_matrix(4 * agents, 26, g);
  const dmatrix d_out = testing::random_matrix(4 * agents, 128, g);
  mean_field_model::cache c;
  dmatrix out, dx;
  auto step = [&] {
    m.forward(ref, x, graph_views, out, c);
    m.backward(ref, c, d_out, &dx);
  };
  step();
  const long before = testing::heap_allocations();
  step();
  step();
  REQUIRE(testing::heap_allocations() == before);
}

TEST_CASE("mean_field: float and the simd backend agree with the double reference",
          "[message][mean_field]") {
  rng g(71), same(71);
  const idx agents = 9;
  message::mean_field::model<float> mf(agents, 26, {}, g);
  mean_field_model md(agents, 26, {}, same);
  const std::vector<graph::csr> grid_graph = {graph::grid2d(3, 3)};
  const std::vector<csr_view> grid = views(grid_graph);
  const dmatrix x = testing::random_matrix(3 * agents, 26, g);
  const matrix<float> xf = x.cast<float>();
  message::mean_field::model<float>::cache cf;
  matrix<float> out_simd, out_reference;
  mf.forward(backend::simd<>{}, xf, grid, out_simd, cf);
  mf.forward(ref, xf, grid, out_reference, cf);
  const dmatrix out_double = run(md, x, grid);
  REQUIRE(out_simd.cast<double>().isApprox(out_double, 1e-5));
  REQUIRE(out_reference.cast<double>().isApprox(out_double, 1e-5));
}
