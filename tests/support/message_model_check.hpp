#pragma once
// What the message/ tests of graph models share: batches of graphs as views, random k-nearest
// graphs, a forward with fresh caches, the gradient check against finite differences on a model
// and input kept away from every ReLU kink, and the checks every graph model must pass the same
// way (relabelling, no edges, cache reuse, no allocation, float and simd). A test supplies its
// model's `naive` reference: naive(model, x, graphs, agents) returning .out (the forward written
// out independently of the kernels) and .smallest_pre (the smallest |pre-activation| of any ReLU).
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <span>
#include <tuple>
#include <utility>
#include <vector>

#include "netmarl/backend/tags.hpp"
#include "netmarl/core/csr_view.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/graph/csr.hpp"
#include "netmarl/graph/generators.hpp"
#include "netmarl/graph/k_nearest.hpp"
#include "support/gradient_check.hpp"

namespace netmarl::testing {

inline std::vector<csr_view> views(const std::vector<graph::csr>& graphs) {
  std::vector<csr_view> v;
  for (const auto& g : graphs) v.push_back(g.view());
  return v;
}

// A directed k-nearest graph of n random points: j reads i does not imply i reads j, and rows
// differ in who they read.
inline graph::csr random_k_nearest(rng& g, index n, index k = 2) {
  matrix<float> p(n, 2);
  for (index i = 0; i < p.size(); ++i) p.data()[i] = static_cast<float>(g.uniform(0.0, 10.0));
  return graph::make_k_nearest(p, k);
}

// One forward with a fresh cache: what a finite-difference probe needs.
template <class Model>
matrix<double> run(const Model& m, const matrix<double>& x, std::span<const csr_view> graphs) {
  typename Model::cache c;
  matrix<double> out;
  m.forward(backend::reference{}, x, graphs, out, c);
  return out;
}

template <class Model>
struct checked_case {
  Model model;
  matrix<double> x;
};

// A model and input whose ReLUs all sit at least 0.01 from their kink: seeds are tried from
// `seed` on (as the mlp test does), so the finite-difference stencil never straddles one.
template <class Model, class Settings, class Naive>
checked_case<Model> away_from_kinks(std::uint64_t seed, index agents, index input, index rows,
                                    const std::vector<graph::csr>& graphs, const Settings& settings,
                                    Naive naive) {
  for (;; ++seed) {
    rng g(seed);
    Model m(agents, input, settings, g);
    matrix<double> x = random_matrix(rows, input, g);
    if (naive(m, x, graphs, agents).smallest_pre >= 0.01) return {std::move(m), std::move(x)};
  }
}

// The forward matches `naive`, and the parameter and input gradients of a random linear loss
// match finite differences (input width 3).
template <class Model, class Settings, class Naive>
void check_gradients(const std::vector<graph::csr>& graphs, index agents, index batch,
                     std::uint64_t seed, const Settings& settings, Naive naive) {
  const index input = 3;
  checked_case<Model> checked =
      away_from_kinks<Model>(seed, agents, input, batch * agents, graphs, settings, naive);
  Model& m = checked.model;
  matrix<double>& x = checked.x;
  const auto graph_views = views(graphs);
  rng g(seed + 1000);
  const matrix<double> weight_of_out = random_matrix(batch * agents, m.output_size(), g);
  auto loss = [&] { return (run(m, x, graph_views).array() * weight_of_out.array()).sum(); };

  auto params = nn::parameters_of(m);
  nn::zero_grad(params);
  typename Model::cache c;
  matrix<double> out, dx;
  m.forward(backend::reference{}, x, graph_views, out, c);
  REQUIRE(out.isApprox(naive(m, x, graphs, agents).out, 1e-12));
  m.backward(backend::reference{}, c, weight_of_out, &dx);
  const auto parameter_report = check_parameter_gradients(params, loss);
  INFO(parameter_report);
  REQUIRE(parameter_report.max_relative_error <= 1e-6);
  const auto input_report = check_gradient(x, dx, loss, "x");
  INFO(input_report);
  REQUIRE(input_report.max_relative_error <= 1e-6);
}

// Relabelling agents (an undirected graph from an edge list, a directed k-nearest graph from
// positions) permutes the output rows the same way.
template <class Model, class Settings>
void check_relabelling_permutes_output(const Settings& settings) {
  rng g(21);
  const index agents = 7, batch = 2, input = 4;
  Model m(agents, input, settings, g);
  const matrix<double> x = random_matrix(batch * agents, input, g);
  std::vector<int> perm(agents);  // agent i becomes agent perm[i]
  std::iota(perm.begin(), perm.end(), 0);
  g.shuffle(perm);

  std::vector<std::pair<int, int>> edges = {{0, 1}, {1, 2}, {2, 3}, {3, 0}, {4, 5}, {1, 5}, {2, 6}};
  std::vector<std::pair<int, int>> relabelled;
  for (auto [u, v] : edges) relabelled.emplace_back(perm[std::size_t(u)], perm[std::size_t(v)]);
  matrix<float> points(agents, 2), relabelled_points(agents, 2);
  for (index i = 0; i < points.size(); ++i) points.data()[i] = static_cast<float>(g.uniform(0, 10));
  for (index i = 0; i < agents; ++i) relabelled_points.row(perm[std::size_t(i)]) = points.row(i);

  const std::vector<graph::csr> original = {graph::from_edges(agents, edges),
                                            graph::make_k_nearest(points, 2)};
  const std::vector<graph::csr> permuted = {graph::from_edges(agents, relabelled),
                                            graph::make_k_nearest(relabelled_points, 2)};
  matrix<double> x_permuted(x.rows(), x.cols());
  for (index b = 0; b < batch; ++b)
    for (index i = 0; i < agents; ++i)
      x_permuted.row(b * agents + perm[std::size_t(i)]) = x.row(b * agents + i);

  const matrix<double> out = run(m, x, views(original)),
                       out_permuted = run(m, x_permuted, views(permuted));
  for (index b = 0; b < batch; ++b)
    for (index i = 0; i < agents; ++i) {
      INFO("sample " << b << ", agent " << i);
      REQUIRE(out_permuted.row(b * agents + perm[std::size_t(i)])
                  .isApprox(out.row(b * agents + i), 1e-12));
    }
}

// Without edges each agent's output is the one-agent model's on its own input, and moving one
// agent's input moves its row alone; with edges a neighbour's input does matter.
// also_check(model, x, out on the edgeless graph) adds a model's own expectations.
template <class Model, class Settings, class AlsoCheck>
void check_own_input_alone_without_edges(const Settings& settings, AlsoCheck also_check) {
  const index agents = 5, batch = 2, input = 3;
  rng g(31);
  Model m(agents, input, settings, g);
  rng same(31);  // the parameters do not depend on the agent count: same draws, same weights
  const Model single(1, input, settings, same);
  const matrix<double> x = random_matrix(batch * agents, input, g);
  const std::vector<graph::csr> isolated_graph = {graph::isolated(agents)};
  const std::vector<graph::csr> alone_graph = {graph::isolated(1)};
  const std::vector<csr_view> isolated = views(isolated_graph), alone = views(alone_graph);
  const matrix<double> out = run(m, x, isolated);
  also_check(m, x, out);
  for (index r = 0; r < x.rows(); ++r) {
    INFO("row " << r);
    REQUIRE(out.row(r).isApprox(run(single, x.row(r), alone), 1e-12));
  }
  // Perturbing agent j moves row j alone.
  for (index j = 0; j < x.rows(); ++j) {
    matrix<double> moved = x;
    moved.row(j).array() += 0.5;
    const matrix<double> out_moved = run(m, moved, isolated);
    for (index r = 0; r < x.rows(); ++r) {
      INFO("perturbed row " << j << ", row " << r);
      if (r == j)
        REQUIRE_FALSE(out_moved.row(r) == out.row(r));
      else
        REQUIRE(out_moved.row(r) == out.row(r));
    }
  }
  // With edges the neighbours' inputs do matter (the check above can fail).
  const std::vector<graph::csr> line = {graph::line(agents)};
  matrix<double> moved = x;
  moved.row(1).array() += 0.5;
  REQUIRE_FALSE(run(m, moved, views(line)).row(0) == run(m, x, views(line)).row(0));
}

template <class Model, class Settings>
void check_own_input_alone_without_edges(const Settings& settings) {
  check_own_input_alone_without_edges<Model>(
      settings, [](const Model&, const matrix<double>&, const matrix<double>&) {});
}

// One cache through a shared graph (batch 3) and per-sample graphs (batch 2), twice over, gives
// what fresh caches give; two caches held at once keep their own backward, and gradients
// accumulate over both. make_per_sample(g) draws the two per-sample graphs of 5 agents.
template <class Model, class Settings, class MakePerSample>
void check_caches_reused_across_shapes(const Settings& settings, MakePerSample make_per_sample) {
  const backend::reference ref{};
  rng g(51);
  const index agents = 5, input = 3;
  Model m(agents, input, settings, g);
  auto params = nn::parameters_of(m);
  const std::vector<graph::csr> shared = {graph::ring(5)};
  const std::vector<graph::csr> per_sample = make_per_sample(g);
  const matrix<double> x3 = random_matrix(3 * agents, input, g);
  const matrix<double> x2 = random_matrix(2 * agents, input, g);
  const matrix<double> d3 = random_matrix(3 * agents, m.output_size(), g);
  const matrix<double> d2 = random_matrix(2 * agents, m.output_size(), g);
  const auto views_shared = views(shared);
  const auto views_per_sample = views(per_sample);

  // Fresh caches: the expected outputs and gradients of each batch alone.
  auto fresh = [&](const matrix<double>& x, std::span<const csr_view> graphs,
                   const matrix<double>& d) {
    nn::zero_grad(params);
    typename Model::cache c;
    matrix<double> out, dx;
    m.forward(ref, x, graphs, out, c);
    m.backward(ref, c, d, &dx);
    std::vector<matrix<double>> grads;
    for (auto& p : params) grads.push_back(p.param->grad);
    return std::make_tuple(out, dx, grads);
  };
  const auto [out3, dx3, grads3] = fresh(x3, views_shared, d3);
  const auto [out2, dx2, grads2] = fresh(x2, views_per_sample, d2);

  // One cache through both shapes, twice over.
  typename Model::cache c;
  matrix<double> out, dx;
  for (int round = 0; round < 2; ++round) {
    nn::zero_grad(params);
    m.forward(ref, x3, views_shared, out, c);
    REQUIRE(out == out3);
    m.backward(ref, c, d3, &dx);
    REQUIRE(dx == dx3);
    for (std::size_t k = 0; k < params.size(); ++k) REQUIRE(params[k].param->grad == grads3[k]);
    nn::zero_grad(params);
    m.forward(ref, x2, views_per_sample, out, c);
    REQUIRE(out == out2);
    m.backward(ref, c, d2, &dx);
    REQUIRE(dx == dx2);
    for (std::size_t k = 0; k < params.size(); ++k) REQUIRE(params[k].param->grad == grads2[k]);
  }

  // Two caches (s and s'): backward of the first after the second's forward is unaffected, and
  // gradients accumulate over both backwards.
  typename Model::cache on_s, on_s_next;
  nn::zero_grad(params);
  m.forward(ref, x3, views_shared, out, on_s);
  m.forward(ref, x2, views_per_sample, out, on_s_next);
  m.backward(ref, on_s, d3, &dx);
  REQUIRE(dx == dx3);
  m.backward(ref, on_s_next, d2, nullptr);
  for (std::size_t k = 0; k < params.size(); ++k)
    REQUIRE(params[k].param->grad.isApprox(grads3[k] + grads2[k], 1e-14));
}

// At the paper's sizes (default settings: output width 128, input 26) on four different per-sample
// graphs of 9 agents, forward plus backward allocates nothing once warm. heap_allocations is the
// counter of support/count_allocations.hpp, which only the test's own .cpp may include.
template <class Model, class Settings>
void check_no_allocation_after_warm_up(const Settings& paper_settings, long (*heap_allocations)()) {
  const backend::reference ref{};
  rng g(61);
  const index agents = 9;
  Model m(agents, 26, paper_settings, g);
  const std::vector<graph::csr> per_sample = {graph::grid2d(3, 3), graph::star(9),
                                              random_k_nearest(g, 9, 3), graph::isolated(9)};
  const auto graph_views = views(per_sample);
  const matrix<double> x = random_matrix(4 * agents, 26, g);
  const matrix<double> d_out = random_matrix(4 * agents, 128, g);
  typename Model::cache c;
  matrix<double> out, dx;
  auto step = [&] {
    m.forward(ref, x, graph_views, out, c);
    m.backward(ref, c, d_out, &dx);
  };
  step();
  const long before = heap_allocations();
  step();
  step();
  REQUIRE(heap_allocations() == before);
}

// The float model on backend::simd<> and on backend::reference agree with the double model
// (same seed, default settings) on a 3x3 grid, to float precision.
template <class FloatModel, class DoubleModel>
void check_float_and_simd_agree_with_double() {
  rng g(71), same(71);
  const index agents = 9;
  FloatModel mf(agents, 26, {}, g);
  DoubleModel md(agents, 26, {}, same);
  const std::vector<graph::csr> grid_graph = {graph::grid2d(3, 3)};
  const std::vector<csr_view> grid = views(grid_graph);
  const matrix<double> x = random_matrix(3 * agents, 26, g);
  const matrix<float> xf = x.cast<float>();
  typename FloatModel::cache cf;
  matrix<float> out_simd, out_reference;
  mf.forward(backend::simd<>{}, xf, grid, out_simd, cf);
  mf.forward(backend::reference{}, xf, grid, out_reference, cf);
  const matrix<double> out_double = run(md, x, grid);
  REQUIRE(out_simd.cast<double>().isApprox(out_double, 1e-5));
  REQUIRE(out_reference.cast<double>().isApprox(out_double, 1e-5));
}

}  // namespace netmarl::testing
