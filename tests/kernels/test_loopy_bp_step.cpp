#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "netmarl/kernels/loopy_bp_step.hpp"
#include "support/kernel_graphs.hpp"
#include "support/require_close.hpp"

namespace bp = netmarl::kernels::loopy_bp_step;
namespace backend = netmarl::backend;
using idx = netmarl::index;  // plain `index` clashes with POSIX index()
using dmatrix = netmarl::matrix<double>;
using namespace netmarl::testing;  // the graphs and data of support/kernel_graphs.hpp

namespace {

// Random directed rows without repeated ids: the self-loop sometimes missing and sometimes in the
// middle of a row, every fifth row empty (no entries at all).
test_graph random_directed_distinct(int nodes, int max_degree, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> degree(0, max_degree);
  std::vector<std::vector<std::int32_t>> adj(sz(nodes));
  std::vector<std::int32_t> ids(sz(nodes));
  std::iota(ids.begin(), ids.end(), 0);
  for (int i = 0; i < nodes; ++i) {
    if (i % 5 == 2) continue;
    std::shuffle(ids.begin(), ids.end(), gen);
    adj[sz(i)].assign(ids.begin(), ids.begin() + std::min(degree(gen), nodes));
  }
  return {"random directed " + std::to_string(nodes), adj};
}

const netmarl::csr_view& graph_for(const std::vector<netmarl::csr_view>& graphs, idx b) {
  return graphs.size() == 1 ? graphs[0] : graphs[sz(b)];
}

// The update written literally from the appendix: the message j -> i (entry e of row i) reads
// every message into j from k in N(j), k != j and k != i, with no reverse-edge bookkeeping; its
// gradients by the chain rule through that same sum.
struct naive_update {
  dmatrix v, d_node_term, d_w2, d_v_prev;
};

naive_update naive(const std::vector<netmarl::csr_view>& graphs, idx batch, idx nodes,
                   const dmatrix& node_term, const dmatrix* v_prev, const dmatrix& w2,
                   const dmatrix& d_v) {
  const idx H = w2.cols();
  idx entries = 0;
  for (idx b = 0; b < batch; ++b) entries += graph_for(graphs, b).edges();
  naive_update r{dmatrix::Zero(entries, H), dmatrix::Zero(batch * nodes, H), dmatrix::Zero(H, H),
                 dmatrix::Zero(entries, H)};
  idx base = 0;
  for (idx b = 0; b < batch; ++b) {
    const netmarl::csr_view& g = graph_for(graphs, b);
    for (idx i = 0; i < nodes; ++i)
      for (idx e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
        const idx j = g.indices[e];
        if (j == i) continue;
        std::vector<idx> read;  // entries of messages k -> j, k != i
        for (idx e2 = g.offsets[j]; e2 < g.offsets[j + 1]; ++e2)
          if (g.indices[e2] != j && g.indices[e2] != i) read.push_back(base + e2);
        dmatrix z = dmatrix::Zero(1, H);
        if (v_prev)
          for (idx e2 : read) z += v_prev->row(e2);
        for (idx h = 0; h < H; ++h) {
          double pre = node_term(b * nodes + j, h);
          for (idx f = 0; f < H; ++f) pre += z(0, f) * w2(f, h);
          r.v(base + e, h) = pre > 0 ? pre : 0;
          const double d_pre = pre > 0 ? d_v(base + e, h) : 0;
          r.d_node_term(b * nodes + j, h) += d_pre;
          if (!v_prev) continue;
          for (idx f = 0; f < H; ++f) {
            r.d_w2(f, h) += z(0, f) * d_pre;
            for (idx e2 : read) r.d_v_prev(e2, f) += d_pre * w2(f, h);
          }
        }
      }
    base += g.edges();
  }
  return r;
}

std::vector<std::int32_t> reverse_of(const std::vector<netmarl::csr_view>& graphs) {
  std::vector<std::int32_t> reverse(sz(bp::reverse_entries(graphs)));
  idx offset = 0;
  for (const auto& g : graphs) {
    bp::find_reverse_entries(g, reverse.data() + offset);
    offset += g.edges();
  }
  return reverse;
}

// The reference kernel, forward (from v_prev or from v^0 = 0) and backward, against `naive`.
void check(const std::vector<netmarl::csr_view>& graphs, idx batch, idx nodes, idx H,
           bool first_update, unsigned seed) {
  INFO("batch " << batch << ", nodes " << nodes << ", H " << H << ", " << graphs.size()
                << " graph(s), " << (first_update ? "v_prev null" : "v_prev given"));
  std::mt19937 gen(seed);
  const bp::shape s{batch, nodes, H};
  const std::span<const netmarl::csr_view> span(graphs);
  const idx entries = bp::total_entries(s, span), rows = batch * nodes;
  const auto reverse = reverse_of(graphs);
  const dmatrix node_term = random_matrix(rows, H, gen), w2 = random_matrix(H, H, gen),
                d_v = random_matrix(entries, H, gen);
  dmatrix v_prev = random_matrix(entries, H, gen);
  // Self-loop rows of a message buffer are 0, as the kernel writes them.
  idx base = 0;
  for (idx b = 0; b < batch; ++b) {
    const auto& g = graph_for(graphs, b);
    for (idx i = 0; i < nodes; ++i)
      for (idx e = g.offsets[i]; e < g.offsets[i + 1]; ++e)
        if (g.indices[e] == i) v_prev.row(base + e).setZero();
    base += g.edges();
  }
  const dmatrix* prev = first_update ? nullptr : &v_prev;
  const naive_update want = naive(graphs, batch, nodes, node_term, prev, w2, d_v);

  dmatrix arriving = nan_matrix(rows, H), gathered = nan_matrix(entries, H),
          v = nan_matrix(entries, H);
  bp::forward(backend::reference{}, s, span, reverse.data(), node_term.data(),
              prev ? prev->data() : nullptr, w2.data(), arriving.data(), gathered.data(), v.data());
  require_near(v, want.v, "v");

  // d_node_term and d_w2 accumulate onto what they held; d_v_prev is overwritten.
  std::mt19937 gen2(seed + 1);
  const dmatrix d_node_term_before = random_matrix(rows, H, gen2),
                d_w2_before = random_matrix(H, H, gen2);
  dmatrix d_node_term = d_node_term_before, d_w2 = d_w2_before, d_v_prev = nan_matrix(entries, H),
          d_pre = nan_matrix(entries, H);
  bp::backward(backend::reference{}, s, span, reverse.data(), prev ? prev->data() : nullptr,
               w2.data(), v.data(), d_v.data(), d_node_term.data(), d_w2.data(),
               prev ? d_v_prev.data() : nullptr, arriving.data(), gathered.data(), d_pre.data());
  require_near(d_node_term, d_node_term_before + want.d_node_term, "d_node_term");
  require_near(d_w2, d_w2_before + want.d_w2, "d_w2");
  if (prev) require_near(d_v_prev, want.d_v_prev, "d_v_prev");

  if (prev) {  // without d_v_prev the parameter gradients are the same
    dmatrix d_node_term_only = dmatrix::Zero(rows, H), d_w2_only = dmatrix::Zero(H, H);
    bp::backward(backend::reference{}, s, span, reverse.data(), prev->data(), w2.data(), v.data(),
                 d_v.data(), d_node_term_only.data(), d_w2_only.data(), nullptr, arriving.data(),
                 gathered.data(), d_pre.data());
    require_near(d_node_term_only, want.d_node_term, "d_node_term without d_v_prev");
    require_near(d_w2_only, want.d_w2, "d_w2 without d_v_prev");
  }
}

}  // namespace

TEST_CASE("loopy_bp_step reference: matches the literal update on one shared graph",
          "[kernels][loopy_bp_step]") {
  const std::vector<test_graph> graphs = {grid(3, 4), star(30), random_directed_distinct(17, 6, 3),
                                          random_directed_distinct(6, 6, 9), self_only(5)};
  unsigned seed = 1;
  for (const auto& g : graphs) {
    INFO(g.name);
    for (idx batch : {1, 2})
      for (idx H : {1, 7, 13})  // not multiples of 8
        for (bool first : {true, false}) check({g.view()}, batch, g.nodes(), H, first, seed++);
  }
}

TEST_CASE("loopy_bp_step reference: one graph per sample, degrees differ",
          "[kernels][loopy_bp_step]") {
  const test_graph a = random_directed_distinct(8, 5, 21), b = star(8), c = self_only(8),
                   d = grid(2, 4);
  for (bool first : {true, false}) {
    check({a.view(), b.view(), c.view(), d.view()}, 4, 8, 11, first, 42);
    check({d.view(), a.view()}, 2, 8, 3, first, 43);
  }
}

TEST_CASE("loopy_bp_step: reverse entries, undirected and directed", "[kernels][loopy_bp_step]") {
  // Undirected line 0 - 1 - 2: entries (row, id) = (0,0) (0,1) (1,1) (1,0) (1,2) (2,2) (2,1).
  const test_graph line("line", {{0, 1}, {1, 0, 2}, {2, 1}});
  std::vector<std::int32_t> reverse(7, 99);
  bp::find_reverse_entries(line.view(), reverse.data());
  REQUIRE(reverse == std::vector<std::int32_t>{-1, 3, -1, 1, 6, -1, 4});
  // Directed: 0 reads 1 and 2, 1 reads 0, 2 reads nobody (an empty row), 3 reads only itself.
  const test_graph directed("directed", {{0, 1, 2}, {0}, {}, {3}});
  reverse.assign(5, 99);
  bp::find_reverse_entries(directed.view(), reverse.data());
  REQUIRE(reverse == std::vector<std::int32_t>{-1, 3, -1, 1, -1});
}

TEST_CASE("loopy_bp_step reference: a hand-computed example", "[kernels][loopy_bp_step]") {
  // The line 0 - 1 - 2 with H = 1: v(1->0) = 1, v(0->1) = 2, v(2->1) = 3, v(1->2) = 4.
  const test_graph line("line", {{0, 1}, {1, 0, 2}, {2, 1}});
  const std::vector<netmarl::csr_view> graphs = {line.view()};
  std::vector<std::int32_t> reverse(7);
  bp::find_reverse_entries(line.view(), reverse.data());
  const std::vector<double> v_prev = {0, 1, 0, 2, 3, 0, 4}, node_term = {0.5, -1, 0.25}, w2 = {2};
  std::vector<double> arriving(3), gathered(7), v(7, 42.0);
  bp::forward(backend::reference{}, bp::shape{1, 3, 1}, graphs, reverse.data(), node_term.data(),
              v_prev.data(), w2.data(), arriving.data(), gathered.data(), v.data());
  // Into 1 from 0 and 2: 5; v(1->0) = ReLU(t1 + 2 (5 - v(0->1))) = ReLU(-1 + 6) = 5;
  // v(0->1) = ReLU(t0 + 2 (1 - 1)) = 0.5; v(2->1) = ReLU(t2 + 0) = 0.25;
  // v(1->2) = ReLU(t1 + 2 (5 - v(2->1))) = ReLU(-1 + 4) = 3.
  REQUIRE(gathered == std::vector<double>{0, 3, 0, 0, 0, 0, 2});
  REQUIRE(v == std::vector<double>{0, 5, 0, 0.5, 0.25, 0, 3});
  // The readout's sums: into 0: 5; into 1: 0.5 + 0.25; into 2: 3.
  bp::incoming_sum(backend::reference{}, bp::shape{1, 3, 1}, graphs, v.data(), arriving.data());
  REQUIRE(arriving == std::vector<double>{5, 0.75, 3});
  // The first update ignores messages: ReLU(t_sender), 0 on self-loops.
  bp::forward(backend::reference{}, bp::shape{1, 3, 1}, graphs, reverse.data(), node_term.data(),
              nullptr, w2.data(), arriving.data(), gathered.data(), v.data());
  REQUIRE(v == std::vector<double>{0, 0, 0, 0.5, 0.25, 0, 0});
}

TEST_CASE("loopy_bp_step reference: incoming_sum_backward is the adjoint of incoming_sum",
          "[kernels][loopy_bp_step]") {
  const test_graph a = random_directed_distinct(9, 6, 5), b = star(9);
  const std::vector<netmarl::csr_view> per_sample = {a.view(), b.view(), a.view()};
  const bp::shape s{3, 9, 5};
  const idx entries = bp::total_entries(s, per_sample);
  REQUIRE(entries == 2 * a.view().edges() + b.view().edges());
  std::mt19937 gen(3);
  const dmatrix v = random_matrix(entries, 5, gen), y = random_matrix(27, 5, gen);
  dmatrix fv = nan_matrix(27, 5), by = nan_matrix(entries, 5);
  bp::incoming_sum(backend::reference{}, s, per_sample, v.data(), fv.data());
  bp::incoming_sum_backward(backend::reference{}, s, per_sample, y.data(), by.data());
  // Self-loop rows get no gradient.
  REQUIRE(by.row(b.view().offsets[0] + a.view().edges()).isZero());
  // <S v, y> == <v, S^T y>.
  REQUIRE((fv.array() * y.array()).sum() == Approx((v.array() * by.array()).sum()).epsilon(1e-12));
}

// ---------------------------------------------------------------------------------------------
// backend::simd against the reference (float).

namespace {

// Every instruction set this compiler can target (as tests/kernels/test_dense.cpp).
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

using netmarl::testing::require_close;

// A random message buffer whose self-loop rows are 0, as the kernel writes them.
std::vector<float> random_messages(const std::vector<netmarl::csr_view>& graphs, idx batch, idx H,
                                   std::mt19937& gen) {
  idx entries = 0;
  for (idx b = 0; b < batch; ++b) entries += graph_for(graphs, b).edges();
  std::vector<float> m = random_vector<float>(sz(entries * H), gen);
  idx base = 0;
  for (idx b = 0; b < batch; ++b) {
    const auto& g = graph_for(graphs, b);
    for (idx i = 0; i < g.nodes; ++i)
      for (idx e = g.offsets[i]; e < g.offsets[i + 1]; ++e)
        if (g.indices[e] == i) std::fill_n(m.begin() + (base + e) * H, H, 0.0f);
    base += g.edges();
  }
  return m;
}

// Every op of Backend against the reference on the same float inputs. Outputs and scratch start
// as NaN (so every OVERWRITES entry must be written and no scratch read before it is written);
// accumulated gradients start random. Backward reads the reference's v on both sides, so the
// ReLU masks agree exactly.
template <class Backend>
void check_simd(Backend be, const std::vector<netmarl::csr_view>& graphs, idx batch, idx nodes,
                idx H, bool first_update, unsigned seed) {
  INFO("backend " << be.name() << ", batch " << batch << ", nodes " << nodes << ", H " << H << ", "
                  << graphs.size() << " graph(s), "
                  << (first_update ? "v_prev null" : "v_prev given"));
  constexpr double rtol = 1e-5;
  std::mt19937 gen(seed);
  const bp::shape s{batch, nodes, H};
  const std::span<const netmarl::csr_view> span(graphs);
  const idx entries = bp::total_entries(s, span), rows = batch * nodes;
  const auto reverse = reverse_of(graphs);
  const auto node_term = random_vector<float>(sz(rows * H), gen);
  const auto w2 = random_vector<float>(sz(H * H), gen);
  const auto d_v = random_vector<float>(sz(entries * H), gen);
  const auto v_prev_values = random_messages(graphs, batch, H, gen);
  const float* v_prev = first_update ? nullptr : v_prev_values.data();
  const auto nan_rows = [&] { return nan_vector<float>(sz(rows * H)); };
  const auto nan_entries = [&] { return nan_vector<float>(sz(entries * H)); };

  auto v_ref = nan_entries(), v = nan_entries();
  {
    auto arriving = nan_rows(), gathered = nan_entries();
    bp::forward(backend::reference{}, s, span, reverse.data(), node_term.data(), v_prev, w2.data(),
                arriving.data(), gathered.data(), v_ref.data());
  }
  {
    auto arriving = nan_rows(), gathered = nan_entries();
    bp::forward(be, s, span, reverse.data(), node_term.data(), v_prev, w2.data(), arriving.data(),
                gathered.data(), v.data());
  }
  require_close(v, v_ref, rtol, "forward v");

  const auto d_node_term0 = random_vector<float>(sz(rows * H), gen);
  const auto d_w2_0 = random_vector<float>(sz(H * H), gen);
  for (bool want_d_v_prev : {true, false}) {
    INFO((want_d_v_prev ? "d_v_prev given" : "d_v_prev null"));
    auto d_node_term_ref = d_node_term0, d_node_term = d_node_term0;
    auto d_w2_ref = d_w2_0, d_w2 = d_w2_0;
    auto d_v_prev_ref = nan_entries(), d_v_prev = nan_entries();
    {
      auto arriving = nan_rows(), gathered = nan_entries(), d_pre = nan_entries();
      bp::backward(backend::reference{}, s, span, reverse.data(), v_prev, w2.data(), v_ref.data(),
                   d_v.data(), d_node_term_ref.data(), d_w2_ref.data(),
                   want_d_v_prev ? d_v_prev_ref.data() : nullptr, arriving.data(), gathered.data(),
                   d_pre.data());
    }
    {
      auto arriving = nan_rows(), gathered = nan_entries(), d_pre = nan_entries();
      bp::backward(be, s, span, reverse.data(), v_prev, w2.data(), v_ref.data(), d_v.data(),
                   d_node_term.data(), d_w2.data(), want_d_v_prev ? d_v_prev.data() : nullptr,
                   arriving.data(), gathered.data(), d_pre.data());
    }
    require_close(d_node_term, d_node_term_ref, rtol, "backward d_node_term");
    require_close(d_w2, d_w2_ref, rtol, "backward d_w2");
    if (want_d_v_prev && v_prev) require_close(d_v_prev, d_v_prev_ref, rtol, "backward d_v_prev");
  }

  auto arriving_ref = nan_rows(), arriving = nan_rows();
  bp::incoming_sum(backend::reference{}, s, span, v_ref.data(), arriving_ref.data());
  bp::incoming_sum(be, s, span, v_ref.data(), arriving.data());
  require_close(arriving, arriving_ref, rtol, "incoming_sum");
  const auto d_arriving = random_vector<float>(sz(rows * H), gen);
  auto d_msg_ref = nan_entries(), d_msg = nan_entries();
  bp::incoming_sum_backward(backend::reference{}, s, span, d_arriving.data(), d_msg_ref.data());
  bp::incoming_sum_backward(be, s, span, d_arriving.data(), d_msg.data());
  require_close(d_msg, d_msg_ref, rtol, "incoming_sum_backward");
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("loopy_bp_step simd: matches the reference on one shared graph",
                        "[kernels][loopy_bp_step][simd]", archs) {
  const backend::simd<TestType> be;
  // Grids past one row range (192 entries), a hub of degree 300 (a range alone), directed rows
  // with distinct ids (reverse pairs up) and with repeated ids and self-loops (it does not),
  // empty rows, degree 1, and the degenerate graphs.
  std::vector<test_graph> graphs = {grid(3, 4),
                                    grid(15, 15),
                                    star(300),
                                    random_directed_distinct(17, 6, 3),
                                    random_directed(23, 7, 5),
                                    self_only(5)};
  add_degenerate_graphs(graphs, 9, 4);
  unsigned seed = 100;
  for (const auto& g : graphs) {
    INFO(g.name);
    for (idx batch : {1, 3})
      for (idx H : {1, 13, 33, 128})  // tails under every vector width, and the width
        for (bool first : {true, false})
          check_simd(be, {g.view()}, batch, g.nodes(), H, first, seed++);
  }
}

TEMPLATE_LIST_TEST_CASE("loopy_bp_step simd: one graph per sample, degrees differ",
                        "[kernels][loopy_bp_step][simd]", archs) {
  const backend::simd<TestType> be;
  const test_graph a = random_directed_distinct(8, 5, 21), b = star(8), c = self_only(8),
                   d = grid(2, 4), e = random_directed(8, 9, 17),
                   empty("all empty", adjacency_lists(8));
  for (bool first : {true, false})
    for (idx H : {5, 37}) {
      check_simd(be, {a.view(), b.view(), c.view(), d.view()}, 4, 8, H, first, 42);
      check_simd(be, {d.view(), e.view(), empty.view()}, 3, 8, H, first, 43);
    }
  // Per-sample grids large enough for several row ranges each.
  const test_graph g1 = grid(9, 10), g2 = random_directed_distinct(90, 12, 8);
  for (bool first : {true, false})
    check_simd(be, {g1.view(), g2.view(), g1.view()}, 3, 90, 24, first, 44);
}

TEST_CASE("loopy_bp_step simd: double delegates to the reference",
          "[kernels][loopy_bp_step][simd]") {
  const test_graph g = grid(3, 3);
  const std::vector<netmarl::csr_view> graphs = {g.view()};
  const bp::shape s{2, 9, 6};
  const idx entries = 2 * g.edges();  // not total_entries: GCC 12 -Warray-bounds false positive
  const auto reverse = reverse_of(graphs);
  std::mt19937 gen(9);
  const dmatrix node_term = random_matrix(18, 6, gen), w2 = random_matrix(6, 6, gen),
                v_prev = random_matrix(entries, 6, gen);
  dmatrix arriving = nan_matrix(18, 6), gathered = nan_matrix(entries, 6),
          v_ref = nan_matrix(entries, 6), v = nan_matrix(entries, 6);
  bp::forward(backend::reference{}, s, graphs, reverse.data(), node_term.data(), v_prev.data(),
              w2.data(), arriving.data(), gathered.data(), v_ref.data());
  bp::forward(backend::simd<>{}, s, graphs, reverse.data(), node_term.data(), v_prev.data(),
              w2.data(), arriving.data(), gathered.data(), v.data());
  REQUIRE(v == v_ref);
}
