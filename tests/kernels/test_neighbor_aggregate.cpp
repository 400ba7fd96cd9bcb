#include <catch2/catch.hpp>

#include "support/kernel_graphs.hpp"
#include "support/require_close.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "netmarl/kernels/neighbor_aggregate.hpp"

namespace na = netmarl::kernels::neighbor_aggregate;
namespace backend = netmarl::backend;
using idx = netmarl::index;  // plain `index` clashes with POSIX index()
using na::reduction;
using namespace netmarl::testing;  // the graphs and data of support/kernel_graphs.hpp

namespace {

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

std::vector<test_graph> graphs() {
  std::vector<test_graph> g;
  g.push_back(grid(5, 7));
  g.push_back(star(200));
  g.push_back(random_directed(60, 9, 1));
  g.push_back(random_directed(7, 3, 2));
  add_degenerate_graphs(g, 9, 6);
  return g;
}

using netmarl::testing::require_close;

template <class T, class Backend>
void check_against_reference(Backend b, const test_graph& g, idx batch, idx features,
                             reduction r, double rtol) {
  INFO(g.name << ", batch " << batch << ", features " << features << ", "
              << (r == reduction::sum ? "sum" : "mean"));
  const na::shape s{batch, g.nodes(), features};
  std::mt19937 gen(unsigned(batch * 7919 + features * 31 + g.nodes()));
  const auto x = random_vector<T>(sz(s.elements()), gen);
  const auto d_out = random_vector<T>(sz(s.elements()), gen);
  // NaN-filled outputs: every entry must be written, none read.
  auto out_ref = nan_vector<T>(sz(s.elements())), out = out_ref;
  na::forward(backend::reference{}, s, g.view(), r, x.data(), out_ref.data());
  na::forward(b, s, g.view(), r, x.data(), out.data());
  require_close(out, out_ref, rtol, "forward");
  auto dx_ref = nan_vector<T>(sz(s.elements())), dx = dx_ref;
  na::backward(backend::reference{}, s, g.view(), r, d_out.data(), dx_ref.data());
  na::backward(b, s, g.view(), r, d_out.data(), dx.data());
  require_close(dx, dx_ref, rtol, "backward");
}

}  // namespace

TEST_CASE("neighbor_aggregate reference: a hand-computed directed example",
          "[kernels][neighbor_aggregate]") {
  // N(0) = {0, 1}, N(1) = {}, N(2) = {0, 0, 2} (a repeated id counts twice), N(3) = {1}.
  const test_graph g("example", {{0, 1}, {}, {0, 0, 2}, {1}});
  const na::shape s{2, 4, 2};
  // x[b, j, f] = 100 b + 10 j + f
  std::vector<double> x(sz(s.elements()));
  for (idx b = 0; b < 2; ++b)
    for (idx j = 0; j < 4; ++j)
      for (idx f = 0; f < 2; ++f) x[sz((b * 4 + j) * 2 + f)] = 100.0 * b + 10.0 * j + f;
  std::vector<double> out(sz(s.elements()), -1.0);

  na::forward(backend::reference{}, s, g.view(), reduction::sum, x.data(), out.data());
  const std::vector<double> sum = {10, 12, 0, 0, 20, 23, 10, 11,  //
                                   210, 212, 0, 0, 320, 323, 110, 111};
  REQUIRE(out == sum);
  na::forward(backend::reference{}, s, g.view(), reduction::mean, x.data(), out.data());
  const std::vector<double> mean = {5, 6, 0, 0, 20.0 / 3, 23.0 / 3, 10, 11,  //
                                    105, 106, 0, 0, 320.0 / 3, 323.0 / 3, 110, 111};
  for (std::size_t e = 0; e < mean.size(); ++e) REQUIRE(out[e] == Approx(mean[e]));

  // Backward of sum with d_out = 1 everywhere counts how often each node is read:
  // node 0 three times, node 1 twice, node 2 once, node 3 never.
  const std::vector<double> ones(sz(s.elements()), 1.0);
  std::vector<double> dx(sz(s.elements()), 42.0);  // overwritten, not accumulated
  na::backward(backend::reference{}, s, g.view(), reduction::sum, ones.data(), dx.data());
  REQUIRE(dx == std::vector<double>{3, 3, 2, 2, 1, 1, 0, 0, 3, 3, 2, 2, 1, 1, 0, 0});
  // Mean: node 0 gets 1/2 (from N(0)) + 2/3 (from N(2)), node 1 gets 1/2 + 1, node 2 gets 1/3.
  na::backward(backend::reference{}, s, g.view(), reduction::mean, ones.data(), dx.data());
  const std::vector<double> dmean = {7.0 / 6, 7.0 / 6, 1.5, 1.5, 1.0 / 3, 1.0 / 3, 0, 0};
  for (std::size_t e = 0; e < dx.size(); ++e) REQUIRE(dx[e] == Approx(dmean[e % 8]));
}

TEST_CASE("neighbor_aggregate reference: backward is the adjoint of forward",
          "[kernels][neighbor_aggregate]") {
  // <forward(x), y> == <x, backward(y)> for every graph, directed ones included.
  for (const auto& g : graphs())
    for (reduction r : {reduction::sum, reduction::mean}) {
      INFO(g.name << (r == reduction::sum ? ", sum" : ", mean"));
      const na::shape s{3, g.nodes(), 5};
      std::mt19937 gen(17);
      const auto x = random_vector<double>(sz(s.elements()), gen);
      const auto y = random_vector<double>(sz(s.elements()), gen);
      std::vector<double> fx(sz(s.elements())), by(sz(s.elements()));
      na::forward(backend::reference{}, s, g.view(), r, x.data(), fx.data());
      na::backward(backend::reference{}, s, g.view(), r, y.data(), by.data());
      double lhs = 0, rhs = 0, scale = 0;
      for (std::size_t e = 0; e < x.size(); ++e) {
        lhs += fx[e] * y[e];
        rhs += x[e] * by[e];
        scale += std::abs(fx[e] * y[e]);
      }
      REQUIRE(std::abs(lhs - rhs) <= 1e-12 * (1 + scale));
    }
}

TEMPLATE_LIST_TEST_CASE("neighbor_aggregate simd: matches the reference, float and double",
                        "[kernels][neighbor_aggregate][simd]", archs) {
  const backend::simd<TestType> b;
  INFO("backend " << b.name());
  for (const auto& g : graphs())
    for (idx batch : {1, 3})
      for (idx features : {1, 3, 15, 17, 33, 64, 100, 128, 200})
        for (reduction r : {reduction::sum, reduction::mean}) {
          check_against_reference<float>(b, g, batch, features, r, 1e-5);
          check_against_reference<double>(b, g, batch, features, r, 1e-12);
        }
}

TEST_CASE("neighbor_aggregate: validate rejects broken CSR arrays",
          "[kernels][neighbor_aggregate]") {
  const test_graph good("good", {{0, 1}, {1}});
  REQUIRE_NOTHROW(na::validate(good.view()));
  REQUIRE_NOTHROW(na::validate(netmarl::csr_view{}));

  std::vector<std::int32_t> offsets = {0, 2, 1}, indices = {0, 1};
  REQUIRE_THROWS_AS(na::validate(netmarl::csr_view{offsets.data(), indices.data(), 2}),
                    netmarl::internal_error);  // offsets decrease
  offsets = {1, 2, 2};
  REQUIRE_THROWS_AS(na::validate(netmarl::csr_view{offsets.data(), indices.data(), 2}),
                    netmarl::internal_error);  // offsets[0] != 0
  offsets = {0, 1, 2};
  indices = {0, 2};
  REQUIRE_THROWS_AS(na::validate(netmarl::csr_view{offsets.data(), indices.data(), 2}),
                    netmarl::internal_error);  // id 2 is not a node
  indices = {0, -1};
  REQUIRE_THROWS_AS(na::validate(netmarl::csr_view{offsets.data(), indices.data(), 2}),
                    netmarl::internal_error);  // negative id

  // With asserts on (as in tests), the kernels check the graph and the node count themselves.
  std::vector<float> x(6), out(6);
  REQUIRE_THROWS_AS(na::forward(backend::simd<>{}, na::shape{1, 2, 3}, netmarl::csr_view{offsets.data(), indices.data(), 2},
                                reduction::sum, x.data(), out.data()),
                    netmarl::internal_error);
  REQUIRE_THROWS_AS(na::backward(backend::reference{}, na::shape{1, 3, 2}, good.view(),
                                 reduction::sum, x.data(), out.data()),
                    netmarl::internal_error);
}
