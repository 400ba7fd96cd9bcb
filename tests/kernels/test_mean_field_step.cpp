#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "netmarl/kernels/mean_field_step.hpp"
#include "support/kernel_graphs.hpp"
#include "support/require_close.hpp"

namespace mf = netmarl::kernels::mean_field_step;
namespace backend = netmarl::backend;
using idx = netmarl::index;  // plain `index` clashes with POSIX index()
using dmatrix = netmarl::matrix<double>;
using namespace netmarl::testing;  // the graphs and data of support/kernel_graphs.hpp

namespace {

// The dense adjacency of one graph: count(i, j) = how often row i lists j.
dmatrix adjacency(const netmarl::csr_view& g) {
  dmatrix a = dmatrix::Zero(g.nodes, g.nodes);
  for (idx i = 0; i < g.nodes; ++i)
    for (idx e = g.offsets[i]; e < g.offsets[i + 1]; ++e) a(i, g.indices[e]) += 1.0;
  return a;
}

// The hop written out entry by entry from its definition, and its gradients by the chain rule
// (d_w2 starting at zero).
struct naive_hop {
  dmatrix aggregated, mu, d_pre, d_w2, d_mu_prev;
};

naive_hop naive(const std::vector<netmarl::csr_view>& graphs, idx batch, idx nodes,
                const dmatrix& pre, const dmatrix& mu_prev, const dmatrix& w2,
                const dmatrix& d_mu) {
  const idx D = mu_prev.cols(), H = w2.cols(), rows = batch * nodes;
  naive_hop r{dmatrix::Zero(rows, D), dmatrix::Zero(rows, H), dmatrix::Zero(rows, H),
              dmatrix::Zero(D, H), dmatrix::Zero(rows, D)};
  for (idx b = 0; b < batch; ++b) {
    const dmatrix a = adjacency(graphs.size() == 1 ? graphs[0] : graphs[sz(b)]);
    for (idx i = 0; i < nodes; ++i)
      for (idx j = 0; j < nodes; ++j)
        for (idx f = 0; f < D; ++f)
          r.aggregated(b * nodes + i, f) += a(i, j) * mu_prev(b * nodes + j, f);
  }
  for (idx row = 0; row < rows; ++row)
    for (idx h = 0; h < H; ++h) {
      double x = pre(row, h);
      for (idx f = 0; f < D; ++f) x += r.aggregated(row, f) * w2(f, h);
      r.mu(row, h) = x > 0 ? x : 0;
      r.d_pre(row, h) = x > 0 ? d_mu(row, h) : 0;
    }
  for (idx f = 0; f < D; ++f)
    for (idx h = 0; h < H; ++h)
      for (idx row = 0; row < rows; ++row) r.d_w2(f, h) += r.aggregated(row, f) * r.d_pre(row, h);
  for (idx b = 0; b < batch; ++b) {
    const dmatrix a = adjacency(graphs.size() == 1 ? graphs[0] : graphs[sz(b)]);
    for (idx i = 0; i < nodes; ++i)
      for (idx j = 0; j < nodes; ++j)
        for (idx f = 0; f < D; ++f) {
          double d_agg = 0;
          for (idx h = 0; h < H; ++h) d_agg += r.d_pre(b * nodes + i, h) * w2(f, h);
          r.d_mu_prev(b * nodes + j, f) += a(i, j) * d_agg;
        }
  }
  return r;
}

// Runs the reference kernel forward and backward on random data and compares with `naive`.
void check(const std::vector<netmarl::csr_view>& graphs, idx batch, idx nodes, idx D, idx H,
           unsigned seed) {
  INFO("batch " << batch << ", nodes " << nodes << ", D " << D << ", H " << H << ", "
                << graphs.size() << " graph(s)");
  std::mt19937 gen(seed);
  const idx rows = batch * nodes;
  const dmatrix pre = random_matrix(rows, H, gen), mu_prev = random_matrix(rows, D, gen),
                w2 = random_matrix(D, H, gen), d_mu = random_matrix(rows, H, gen);
  const naive_hop want = naive(graphs, batch, nodes, pre, mu_prev, w2, d_mu);
  const mf::shape s{batch, nodes, D, H};
  const std::span<const netmarl::csr_view> span(graphs);

  // NaN-filled outputs: every entry must be written before it is read.
  dmatrix aggregated = nan_matrix(rows, D), mu = nan_matrix(rows, H);
  mf::forward(backend::reference{}, s, span, pre.data(), mu_prev.data(), w2.data(),
              aggregated.data(), mu.data());
  require_near(aggregated, want.aggregated, "aggregated");
  require_near(mu, want.mu, "mu");

  // d_w2 accumulates onto what it held; d_pre, d_aggregated and d_mu_prev are overwritten.
  const dmatrix d_w2_before = random_matrix(D, H, gen);
  dmatrix d_w2 = d_w2_before, d_pre = nan_matrix(rows, H), d_aggregated = nan_matrix(rows, D),
          d_mu_prev = nan_matrix(rows, D);
  mf::backward(backend::reference{}, s, span, aggregated.data(), w2.data(), mu.data(), d_mu.data(),
               d_pre.data(), d_w2.data(), d_aggregated.data(), d_mu_prev.data());
  require_near(d_pre, want.d_pre, "d_pre");
  require_near(d_w2, d_w2_before + want.d_w2, "d_w2");
  require_near(d_mu_prev, want.d_mu_prev, "d_mu_prev");

  // Without d_mu_prev the parameter gradient is still accumulated, and no scratch is needed.
  dmatrix d_w2_only = dmatrix::Zero(D, H), d_pre_only = nan_matrix(rows, H);
  mf::backward(backend::reference{}, s, span, aggregated.data(), w2.data(), mu.data(), d_mu.data(),
               d_pre_only.data(), d_w2_only.data(), nullptr, nullptr);
  require_near(d_w2_only, want.d_w2, "d_w2 without d_mu_prev");
  require_near(d_pre_only, want.d_pre, "d_pre without d_mu_prev");
}

}  // namespace

TEST_CASE("mean_field_step reference: matches the naive hop on one shared graph",
          "[kernels][mean_field_step]") {
  const std::vector<test_graph> graphs = {grid(3, 5), star(41), random_directed(23, 7, 3),
                                          self_only(9), random_directed(6, 4, 11)};
  unsigned seed = 1;
  for (const auto& g : graphs) {
    INFO(g.name);
    // Widths that are not multiples of 8 (SIMD lanes), and D != H as at hop 1.
    for (idx batch : {1, 3})
      for (auto [D, H] : {std::pair<idx, idx>{13, 19}, {1, 1}, {16, 9}, {17, 17}})
        check({g.view()}, batch, g.nodes(), D, H, seed++);
  }
}

TEST_CASE("mean_field_step reference: one graph per sample, degrees differ",
          "[kernels][mean_field_step]") {
  // Three 7-node graphs: a directed random one with empty rows, a hub, self-loops only.
  const test_graph a = random_directed(7, 5, 21), b = star(7), c = self_only(7);
  check({a.view(), b.view(), c.view()}, 3, 7, 5, 11, 42);
  // One graph per sample must give sample k what a shared graph k gives it alone.
  std::mt19937 gen(5);
  const idx nodes = 7, D = 3, H = 4;
  const dmatrix pre = random_matrix(3 * nodes, H, gen), mu_prev = random_matrix(3 * nodes, D, gen),
                w2 = random_matrix(D, H, gen);
  const std::vector<netmarl::csr_view> per_sample = {a.view(), b.view(), c.view()};
  dmatrix aggregated(3 * nodes, D), mu(3 * nodes, H);
  mf::forward(backend::reference{}, mf::shape{3, nodes, D, H}, per_sample, pre.data(),
              mu_prev.data(), w2.data(), aggregated.data(), mu.data());
  for (idx k = 0; k < 3; ++k) {
    const std::vector<netmarl::csr_view> alone = {per_sample[sz(k)]};
    dmatrix agg_k(nodes, D), mu_k(nodes, H);
    mf::forward(backend::reference{}, mf::shape{1, nodes, D, H}, alone, pre.data() + k * nodes * H,
                mu_prev.data() + k * nodes * D, w2.data(), agg_k.data(), mu_k.data());
    require_near(mu.middleRows(k * nodes, nodes), mu_k, "sample " + std::to_string(k));
  }
}

TEST_CASE("mean_field_step reference: a hand-computed example", "[kernels][mean_field_step]") {
  // N(0) = {0, 1}, N(1) = {} (empty row), N(2) = {2, 0}; D = 1, H = 2, W2 = [1, -1], pre = 0.
  const test_graph g("example", {{0, 1}, {}, {2, 0}});
  const std::vector<netmarl::csr_view> graphs = {g.view()};
  const std::vector<double> mu_prev = {1, 2, 3}, w2 = {1, -1}, pre(6, 0.0);
  std::vector<double> aggregated(3), mu(6);
  mf::forward(backend::reference{}, mf::shape{1, 3, 1, 2}, graphs, pre.data(), mu_prev.data(),
              w2.data(), aggregated.data(), mu.data());
  REQUIRE(aggregated == std::vector<double>{3, 0, 4});
  REQUIRE(mu == std::vector<double>{3, 0, 0, 0, 4, 0});  // ReLU(a), ReLU(-a)
  // d_mu = 1: d_pre passes where mu > 0; d_aggregated = d_pre . W2^T = (1, 0, 1);
  // node 0 is read by rows 0 and 2, node 1 by row 0, node 2 by row 2.
  const std::vector<double> d_mu(6, 1.0);
  std::vector<double> d_pre(6), d_w2 = {10, 20}, d_aggregated(3), d_mu_prev(3, 42.0);
  mf::backward(backend::reference{}, mf::shape{1, 3, 1, 2}, graphs, aggregated.data(), w2.data(),
               mu.data(), d_mu.data(), d_pre.data(), d_w2.data(), d_aggregated.data(),
               d_mu_prev.data());
  REQUIRE(d_pre == std::vector<double>{1, 0, 0, 0, 1, 0});
  REQUIRE(d_w2 == std::vector<double>{10 + 3 + 4, 20});
  REQUIRE(d_mu_prev == std::vector<double>{2, 1, 1});
}

TEST_CASE("mean_field_step: flop counts and entry totals", "[kernels][mean_field_step]") {
  const test_graph a = grid(2, 2), b = star(4);  // 12 and 10 entries
  const std::vector<netmarl::csr_view> per_sample = {a.view(), b.view()}, shared = {a.view()};
  const mf::shape s{2, 4, 3, 5};
  REQUIRE(mf::total_entries(s, shared) == 2 * a.view().edges());
  REQUIRE(mf::total_entries(s, per_sample) == a.view().edges() + b.view().edges());
  REQUIRE(s.forward_flops(10) == 10.0 * 3 + 2.0 * 8 * 3 * 5 + 2.0 * 8 * 5);
}

namespace {

// Every instruction set this compiler can target (as in test_dense.cpp), so each GEMM blocking
// and gather width is exercised on one machine.
using archs = std::tuple<xsimd::default_arch
#if XSIMD_WITH_FMA3_AVX2
                         ,
                         xsimd::fma3<xsimd::avx2>
#endif
#if XSIMD_WITH_SSE4_2
                         ,
                         xsimd::sse4_2
#endif
                         >;

// The simd kernel against the reference on random float data. Backward of both reads the
// reference's forward outputs, so a mu that rounds to either side of zero cannot flip one mask.
template <class Backend>
void check_simd(Backend b, const std::vector<netmarl::csr_view>& graphs, idx batch, idx nodes,
                idx D, idx H, unsigned seed) {
  INFO("batch " << batch << ", nodes " << nodes << ", D " << D << ", H " << H << ", "
                << graphs.size() << " graph(s)");
  std::mt19937 gen(seed);
  const idx rows = batch * nodes;
  const auto pre = random_vector<float>(sz(rows * H), gen);
  const auto mu_prev = random_vector<float>(sz(rows * D), gen);
  const auto w2 = random_vector<float>(sz(D * H), gen);
  const auto d_mu = random_vector<float>(sz(rows * H), gen);
  const auto d_w2_before = random_vector<float>(sz(D * H), gen);
  const mf::shape s{batch, nodes, D, H};
  const std::span<const netmarl::csr_view> span(graphs);

  // NaN-filled outputs: every entry must be written before it is read.
  auto agg_ref = nan_vector<float>(sz(rows * D)), agg = agg_ref;
  auto mu_ref = nan_vector<float>(sz(rows * H)), mu = mu_ref;
  mf::forward(backend::reference{}, s, span, pre.data(), mu_prev.data(), w2.data(), agg_ref.data(),
              mu_ref.data());
  mf::forward(b, s, span, pre.data(), mu_prev.data(), w2.data(), agg.data(), mu.data());
  require_close(agg, agg_ref, 1e-5, "aggregated");
  require_close(mu, mu_ref, 1e-5, "mu");

  auto d_pre_ref = nan_vector<float>(sz(rows * H)), d_pre = d_pre_ref;
  auto d_agg_ref = nan_vector<float>(sz(rows * D)), d_agg = d_agg_ref;
  auto d_prev_ref = nan_vector<float>(sz(rows * D)), d_prev = d_prev_ref;
  auto d_w2_ref = d_w2_before, d_w2 = d_w2_before;
  mf::backward(backend::reference{}, s, span, agg_ref.data(), w2.data(), mu_ref.data(), d_mu.data(),
               d_pre_ref.data(), d_w2_ref.data(), d_agg_ref.data(), d_prev_ref.data());
  mf::backward(b, s, span, agg_ref.data(), w2.data(), mu_ref.data(), d_mu.data(), d_pre.data(),
               d_w2.data(), d_agg.data(), d_prev.data());
  require_close(d_pre, d_pre_ref, 0.0, "d_pre");
  require_close(d_w2, d_w2_ref, 1e-5, "d_w2");
  require_close(d_agg, d_agg_ref, 1e-5, "d_aggregated");
  require_close(d_prev, d_prev_ref, 1e-5, "d_mu_prev");

  // Without d_mu_prev: the same parameter gradient, no scratch touched.
  auto d_pre_only = nan_vector<float>(sz(rows * H));
  auto d_w2_only = d_w2_before;
  mf::backward(b, s, span, agg_ref.data(), w2.data(), mu_ref.data(), d_mu.data(), d_pre_only.data(),
               d_w2_only.data(), nullptr, nullptr);
  require_close(d_pre_only, d_pre_ref, 0.0, "d_pre without d_mu_prev");
  require_close(d_w2_only, d_w2_ref, 1e-5, "d_w2 without d_mu_prev");
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("mean_field_step simd: matches the reference on one shared graph",
                        "[kernels][mean_field_step][simd]", archs) {
  const backend::simd<TestType> b;
  INFO("backend " << b.name());
  std::vector<test_graph> graphs = {grid(5, 7), star(200), random_directed(60, 9, 1),
                                    random_directed(7, 3, 2)};
  add_degenerate_graphs(graphs, 9, 6);
  unsigned seed = 100;
  for (const auto& g : graphs) {
    INFO(g.name);
    // Widths off the vector width (and D != H), one full 8-vector gather chunk, and empty ones.
    for (idx batch : {1, 3})
      for (auto [D, H] : {std::pair<idx, idx>{13, 19},
                          {1, 1},
                          {16, 9},
                          {17, 17},
                          {128, 128},
                          {133, 70},
                          {0, 5},
                          {6, 0}})
        check_simd(b, {g.view()}, batch, g.nodes(), D, H, seed++);
  }
}

TEMPLATE_LIST_TEST_CASE("mean_field_step simd: the benchmark's shape, across row blocks",
                        "[kernels][mean_field_step][simd]", archs) {
  const backend::simd<TestType> b;
  INFO("backend " << b.name());
  // 7x7 grid, B = 32: 1568 rows, hidden 128 (eight full row blocks and a partial one).
  const test_graph g = grid(7, 7);
  check_simd(b, {g.view()}, 32, g.nodes(), 128, 128, 7);
  check_simd(b, {g.view()}, 5, g.nodes(), 31, 128, 8);
}

TEMPLATE_LIST_TEST_CASE("mean_field_step simd: one graph per sample, degrees differ",
                        "[kernels][mean_field_step][simd]", archs) {
  const backend::simd<TestType> b;
  INFO("backend " << b.name());
  const test_graph a = random_directed(7, 5, 21), h = star(7), c = self_only(7);
  check_simd(b, {a.view(), h.view(), c.view()}, 3, 7, 5, 11, 42);
  // Eight 60-node samples (480 rows): forward and backward row blocks start and end inside a
  // sample, and the scatter of one sample spans two blocks.
  const test_graph d = random_directed(60, 9, 3), e = star(60), f = grid(6, 10),
                   empty("all empty", adjacency_lists(60));
  check_simd(
      b, {d.view(), e.view(), f.view(), empty.view(), e.view(), d.view(), empty.view(), f.view()},
      8, 60, 37, 21, 43);
}

TEST_CASE("mean_field_step simd: double delegates to the reference",
          "[kernels][mean_field_step][simd]") {
  const test_graph g = grid(3, 4);
  const std::vector<netmarl::csr_view> graphs = {g.view()};
  std::mt19937 gen(9);
  const idx rows = 2 * 12, D = 5, H = 7;
  const dmatrix pre = random_matrix(rows, H, gen), mu_prev = random_matrix(rows, D, gen),
                w2 = random_matrix(D, H, gen), d_mu = random_matrix(rows, H, gen);
  const naive_hop want = naive(graphs, 2, 12, pre, mu_prev, w2, d_mu);
  const mf::shape s{2, 12, D, H};
  dmatrix aggregated = nan_matrix(rows, D), mu = nan_matrix(rows, H);
  mf::forward(backend::simd<>{}, s, graphs, pre.data(), mu_prev.data(), w2.data(),
              aggregated.data(), mu.data());
  require_near(mu, want.mu, "mu");
  dmatrix d_w2 = dmatrix::Zero(D, H), d_pre = nan_matrix(rows, H),
          d_aggregated = nan_matrix(rows, D), d_mu_prev = nan_matrix(rows, D);
  mf::backward(backend::simd<>{}, s, graphs, aggregated.data(), w2.data(), mu.data(), d_mu.data(),
               d_pre.data(), d_w2.data(), d_aggregated.data(), d_mu_prev.data());
  require_near(d_w2, want.d_w2, "d_w2");
  require_near(d_mu_prev, want.d_mu_prev, "d_mu_prev");
}
