#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "netmarl/kernels/dgn_attention.hpp"
#include "support/gradient_check.hpp"
#include "support/kernel_graphs.hpp"
#include "support/require_close.hpp"

namespace da = netmarl::kernels::dgn_attention;
namespace backend = netmarl::backend;
using idx = netmarl::index;        // plain `index` clashes with POSIX index()
using namespace netmarl::testing;  // the graphs and data of support/kernel_graphs.hpp
using netmarl::testing::require_close;

namespace {

// Every instruction set this compiler can target (as in test_dense.cpp), so the vector widths 16, 8
// and 4 and their tails are all exercised on one machine.
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

// Self plus 4 ring neighbours (i +- 1, i +- 2), as a k-nearest graph on a circle.
test_graph ring4(int nodes) {
  std::vector<std::vector<std::int32_t>> adj(sz(nodes));
  for (int i = 0; i < nodes; ++i)
    adj[sz(i)] = {i, (i + 1) % nodes, (i + nodes - 1) % nodes, (i + 2) % nodes,
                  (i + nodes - 2) % nodes};
  return {"ring4 " + std::to_string(nodes), adj};
}

std::vector<test_graph> graphs() {
  std::vector<test_graph> g;
  g.push_back(star(61));
  g.push_back(ring4(13));
  g.push_back(random_directed(23, 7, 1));
  g.push_back(random_directed(6, 3, 2));
  add_degenerate_graphs(g, 7, 5);
  return g;
}

// The definitions of spec.hpp, computed another way in double: softmax as exp(s) / sum exp(s)
// (no shift; inputs are kept small enough for that), and backward through the explicit softmax
// Jacobian sum_e' a_e (delta_ee' - a_e') d_alpha_e' rather than the kernel's <g, out> shortcut.
struct naive_result {
  std::vector<double> out, attention, d_q, d_k, d_v;
};

naive_result naive(const da::shape& s, const test_graph& g, const std::vector<double>& q,
                   const std::vector<double>& k, const std::vector<double>& v,
                   const std::vector<double>& d_out) {
  const idx F = s.features(), D = s.head_dim, H = s.heads, E = g.edges();
  naive_result r;
  r.out.assign(sz(s.elements()), 0.0);
  r.attention.assign(sz(s.attention_elements(E)), 0.0);
  r.d_q = r.d_k = r.d_v = r.out;
  const double scale = 1.0 / std::sqrt(double(D));
  auto at = [&](idx b, idx node, idx h, idx f) { return sz((b * s.nodes + node) * F + h * D + f); };
  for (idx b = 0; b < s.batch; ++b)
    for (idx i = 0; i < s.nodes; ++i)
      for (idx h = 0; h < H; ++h) {
        const idx begin = g.offsets[sz(i)], end = g.offsets[sz(i) + 1];
        std::vector<double> a, d_alpha;
        double total = 0;
        for (idx e = begin; e < end; ++e) {
          double score = 0;
          for (idx f = 0; f < D; ++f) score += q[at(b, i, h, f)] * k[at(b, g.indices[sz(e)], h, f)];
          a.push_back(std::exp(scale * score));
          total += a.back();
        }
        for (auto& w : a) w /= total;
        for (idx e = begin; e < end; ++e) {
          const idx j = g.indices[sz(e)];
          const double w = a[sz(e - begin)];
          r.attention[sz((b * E + e) * H + h)] = w;
          double da_e = 0;
          for (idx f = 0; f < D; ++f) {
            r.out[at(b, i, h, f)] += w * v[at(b, j, h, f)];
            r.d_v[at(b, j, h, f)] += w * d_out[at(b, i, h, f)];
            da_e += d_out[at(b, i, h, f)] * v[at(b, j, h, f)];
          }
          d_alpha.push_back(da_e);
        }
        for (idx e = begin; e < end; ++e) {
          double d_score = 0;
          for (idx e2 = begin; e2 < end; ++e2)
            d_score += a[sz(e - begin)] * ((e == e2 ? 1.0 : 0.0) - a[sz(e2 - begin)]) *
                       d_alpha[sz(e2 - begin)];
          const idx j = g.indices[sz(e)];
          for (idx f = 0; f < D; ++f) {
            r.d_q[at(b, i, h, f)] += scale * d_score * k[at(b, j, h, f)];
            r.d_k[at(b, j, h, f)] += scale * d_score * q[at(b, i, h, f)];
          }
        }
      }
  return r;
}

template <class T>
std::vector<T> cast(const std::vector<double>& x) {
  return std::vector<T>(x.begin(), x.end());
}

// Reference kernel in precision T against the naive double computation. Outputs start as NaN: every
// entry must be written (overwritten, not accumulated), none read.
template <class T>
void check_against_naive(const test_graph& g, idx batch, idx heads, idx head_dim, double rtol) {
  INFO(g.name << ", batch " << batch << ", heads " << heads << ", head_dim " << head_dim);
  const da::shape s{batch, g.nodes(), heads, head_dim};
  std::mt19937 gen(unsigned(batch * 7919 + heads * 131 + head_dim * 31 + g.nodes()));
  const auto n = sz(s.elements());
  const auto q = random_vector<double>(n, gen, 1.5), k = random_vector<double>(n, gen, 1.5),
             v = random_vector<double>(n, gen), d_out = random_vector<double>(n, gen);
  const naive_result want = naive(s, g, q, k, v, d_out);

  const auto qt = cast<T>(q), kt = cast<T>(k), vt = cast<T>(v), gt = cast<T>(d_out);
  auto out = nan_vector<T>(n), attention = nan_vector<T>(sz(s.attention_elements(g.edges())));
  da::forward(backend::reference{}, s, g.view(), qt.data(), kt.data(), vt.data(), attention.data(),
              out.data());
  require_close(out, cast<T>(want.out), rtol, "out");
  require_close(attention, cast<T>(want.attention), rtol, "attention");
  auto d_q = nan_vector<T>(n), d_k = d_q, d_v = d_q;
  da::backward(backend::reference{}, s, g.view(), qt.data(), kt.data(), vt.data(), attention.data(),
               out.data(), gt.data(), d_q.data(), d_k.data(), d_v.data());
  require_close(d_q, cast<T>(want.d_q), rtol, "d_q");
  require_close(d_k, cast<T>(want.d_k), rtol, "d_k");
  require_close(d_v, cast<T>(want.d_v), rtol, "d_v");
}

// The simd kernel against the reference in the same precision T, on the same inputs. Outputs start
// as NaN (every entry must be written); backward's inputs are the reference forward's outputs, so
// both backwards see identical attention and out.
template <class T, class Backend>
void check_against_reference(Backend backend_tag, const test_graph& g, idx batch, idx heads,
                             idx head_dim, double rtol) {
  INFO(Backend::name() << ", " << g.name << ", batch " << batch << ", heads " << heads
                       << ", head_dim " << head_dim);
  const da::shape s{batch, g.nodes(), heads, head_dim};
  std::mt19937 gen(unsigned(batch * 7919 + heads * 131 + head_dim * 31 + g.nodes() + 17));
  const auto n = sz(s.elements()), n_attention = sz(s.attention_elements(g.edges()));
  const auto q = random_vector<T>(n, gen, 1.5), k = random_vector<T>(n, gen, 1.5),
             v = random_vector<T>(n, gen), d_out = random_vector<T>(n, gen);

  auto out_ref = nan_vector<T>(n), attention_ref = nan_vector<T>(n_attention);
  da::forward(backend::reference{}, s, g.view(), q.data(), k.data(), v.data(), attention_ref.data(),
              out_ref.data());
  auto out = nan_vector<T>(n), attention = nan_vector<T>(n_attention);
  da::forward(backend_tag, s, g.view(), q.data(), k.data(), v.data(), attention.data(), out.data());
  require_close(out, out_ref, rtol, "out");
  require_close(attention, attention_ref, rtol, "attention");

  auto d_q_ref = nan_vector<T>(n), d_k_ref = d_q_ref, d_v_ref = d_q_ref;
  da::backward(backend::reference{}, s, g.view(), q.data(), k.data(), v.data(),
               attention_ref.data(), out_ref.data(), d_out.data(), d_q_ref.data(), d_k_ref.data(),
               d_v_ref.data());
  auto d_q = nan_vector<T>(n), d_k = d_q, d_v = d_q;
  da::backward(backend_tag, s, g.view(), q.data(), k.data(), v.data(), attention_ref.data(),
               out_ref.data(), d_out.data(), d_q.data(), d_k.data(), d_v.data());
  require_close(d_q, d_q_ref, rtol, "d_q");
  require_close(d_k, d_k_ref, rtol, "d_k");
  require_close(d_v, d_v_ref, rtol, "d_v");
}

}  // namespace

TEST_CASE("dgn_attention reference: a hand-computed example", "[kernels][dgn_attention]") {
  // One head of width 1: scale 1. N(0) = {0, 1}, N(1) = {1}, N(2) = {} (a zero row).
  const test_graph g("example", {{0, 1}, {1}, {}});
  const da::shape s{1, 3, 1, 1};
  const std::vector<double> q = {1, 2, 3}, k = {0, std::log(3.0), 5}, v = {10, 20, 30};
  std::vector<double> out(3, -1.0), attention(3, -1.0);
  da::forward(backend::reference{}, s, g.view(), q.data(), k.data(), v.data(), attention.data(),
              out.data());
  // Node 0: scores 0 and log 3, weights 1/4 and 3/4; node 1 attends only to itself.
  REQUIRE(attention[0] == Approx(0.25));
  REQUIRE(attention[1] == Approx(0.75));
  REQUIRE(attention[2] == 1.0);
  REQUIRE(out[0] == Approx(17.5));
  REQUIRE(out[1] == 20.0);
  REQUIRE(out[2] == 0.0);
}

TEST_CASE("dgn_attention reference: matches the naive computation in float and double",
          "[kernels][dgn_attention]") {
  // Empty rows, degree 1, a 61-node hub, repeated ids; widths that are not multiples of 8.
  for (const auto& g : graphs())
    for (idx batch : {1, 3})
      for (idx heads : {1, 2, 3})
        for (idx head_dim : {1, 3, 5, 13}) {
          check_against_naive<double>(g, batch, heads, head_dim, 1e-12);
          check_against_naive<float>(g, batch, heads, head_dim, 1e-4);
        }
}

TEST_CASE("dgn_attention reference: softmax is stable for large scores",
          "[kernels][dgn_attention]") {
  // Scores near 1e4 overflow exp in float and double unless the row maximum is subtracted.
  const test_graph g = star(9);
  const da::shape s{2, g.nodes(), 2, 4};
  std::mt19937 gen(5);
  const auto n = sz(s.elements());
  auto q = random_vector<float>(n, gen, 50.0), k = random_vector<float>(n, gen, 50.0);
  const auto v = random_vector<float>(n, gen);
  std::vector<float> out(n), attention(sz(s.attention_elements(g.edges())));
  da::forward(backend::reference{}, s, g.view(), q.data(), k.data(), v.data(), attention.data(),
              out.data());
  for (float x : out) REQUIRE(std::isfinite(x));
  // Every (sample, node, head) distribution sums to one; the outputs are convex combinations.
  for (idx b = 0; b < s.batch; ++b)
    for (idx i = 0; i < s.nodes; ++i)
      for (idx h = 0; h < s.heads; ++h) {
        double total = 0;
        for (idx e = g.offsets[sz(i)]; e < g.offsets[sz(i) + 1]; ++e)
          total += attention[sz((b * g.edges() + e) * s.heads + h)];
        REQUIRE(total == Approx(1.0).epsilon(1e-5));
      }
  for (float x : out) REQUIRE(std::abs(x) <= 1.0f + 1e-5f);
}

TEST_CASE("dgn_attention reference: backward matches finite differences",
          "[kernels][dgn_attention]") {
  using netmarl::matrix;
  for (const auto& g : {random_directed(9, 5, 3), star(7), ring4(6)}) {
    INFO(g.name);
    const da::shape s{2, g.nodes(), 2, 3};
    netmarl::rng gen(11);
    const idx rows = s.batch * s.nodes, cols = s.features();
    matrix<double> q = netmarl::testing::random_matrix(rows, cols, gen),
                   k = netmarl::testing::random_matrix(rows, cols, gen),
                   v = netmarl::testing::random_matrix(rows, cols, gen);
    const matrix<double> weight_of_out = netmarl::testing::random_matrix(rows, cols, gen);
    std::vector<double> attention(sz(s.attention_elements(g.edges())));
    matrix<double> out(rows, cols);
    auto loss = [&] {
      da::forward(backend::reference{}, s, g.view(), q.data(), k.data(), v.data(), attention.data(),
                  out.data());
      return (out.array() * weight_of_out.array()).sum();
    };
    loss();
    matrix<double> d_q(rows, cols), d_k(rows, cols), d_v(rows, cols);
    da::backward(backend::reference{}, s, g.view(), q.data(), k.data(), v.data(), attention.data(),
                 out.data(), weight_of_out.data(), d_q.data(), d_k.data(), d_v.data());
    const matrix<double> analytic_q = d_q, analytic_k = d_k, analytic_v = d_v;
    netmarl::testing::gradient_check_report report;
    netmarl::testing::check_gradient_into(report, q, analytic_q, loss, "q");
    netmarl::testing::check_gradient_into(report, k, analytic_k, loss, "k");
    netmarl::testing::check_gradient_into(report, v, analytic_v, loss, "v");
    INFO(report);
    REQUIRE(report.entries_checked == 3 * rows * cols);
    REQUIRE(report.max_relative_error <= 1e-6);
  }
}

TEST_CASE("dgn_attention: shape facts and graph validation", "[kernels][dgn_attention]") {
  const da::shape s{32, 20, 4, 32};
  REQUIRE(s.features() == 128);
  REQUIRE(s.elements() == 32 * 20 * 128);
  REQUIRE(s.attention_elements(100) == 32 * 100 * 4);
  REQUIRE(s.scale() == Approx(1.0 / std::sqrt(32.0)));
  REQUIRE(s.forward_flops(100) == 4.0 * 32 * 100 * 128);

  // With asserts on (as in tests), the kernels check the graph and the node count themselves.
  const test_graph good("good", {{0, 1}, {1}});
  std::vector<double> x(6), attention(12), out(6);
  REQUIRE_THROWS_AS(da::forward(backend::reference{}, da::shape{1, 3, 1, 2}, good.view(), x.data(),
                                x.data(), x.data(), attention.data(), out.data()),
                    netmarl::internal_error);
  std::vector<std::int32_t> offsets = {0, 1, 2}, indices = {0, 2};  // id 2 is not a node
  REQUIRE_THROWS_AS(da::backward(backend::reference{}, da::shape{1, 2, 1, 3},
                                 netmarl::csr_view{offsets.data(), indices.data(), 2}, x.data(),
                                 x.data(), x.data(), attention.data(), x.data(), x.data(),
                                 out.data(), out.data(), out.data()),
                    netmarl::internal_error);
}

TEMPLATE_LIST_TEST_CASE("dgn_attention simd: matches the reference, float and double",
                        "[kernels][dgn_attention][simd]", archs) {
  const backend::simd<TestType> b;
  // Empty rows, degree 1, a 61-node hub, repeated ids; head widths below, at, between and above the
  // vector widths (4, 8, 16) so full vectors and scalar tails both run; DGN's 4 heads of 32.
  std::vector<test_graph> gs = graphs();
  gs.push_back(self_only(9));
  for (const auto& g : gs)
    for (idx batch : {1, 3})
      for (auto [heads, head_dim] : {std::pair<idx, idx>{1, 1},
                                     {1, 3},
                                     {3, 5},
                                     {2, 8},
                                     {1, 13},
                                     {2, 16},
                                     {3, 21},
                                     {4, 32},
                                     {1, 37}}) {
        check_against_reference<float>(b, g, batch, heads, head_dim, 1e-4);
        check_against_reference<double>(b, g, batch, heads, head_dim, 1e-12);
      }
}

TEMPLATE_LIST_TEST_CASE("dgn_attention simd: softmax is stable for large scores",
                        "[kernels][dgn_attention][simd]", archs) {
  // Scores near 1e4 overflow exp unless the row maximum is subtracted; the hub row holds 9 edges.
  const test_graph g = star(9);
  const da::shape s{2, g.nodes(), 3, 4};
  std::mt19937 gen(5);
  const auto n = sz(s.elements());
  const auto q = random_vector<float>(n, gen, 50.0), k = random_vector<float>(n, gen, 50.0),
             v = random_vector<float>(n, gen);
  std::vector<float> out(n), attention(sz(s.attention_elements(g.edges())));
  std::vector<float> out_ref = out, attention_ref = attention;
  da::forward(backend::simd<TestType>{}, s, g.view(), q.data(), k.data(), v.data(),
              attention.data(), out.data());
  da::forward(backend::reference{}, s, g.view(), q.data(), k.data(), v.data(), attention_ref.data(),
              out_ref.data());
  for (float x : out) REQUIRE(std::isfinite(x));
  // Near-ties at scores of 1e4 amplify the float rounding of the scores themselves, so compare
  // against the reference loosely; both must be proper distributions.
  require_close(attention, attention_ref, 1e-2, "attention");
  for (float x : out) REQUIRE(std::abs(x) <= 1.0f + 1e-5f);
}
