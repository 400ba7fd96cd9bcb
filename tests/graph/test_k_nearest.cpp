#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <utility>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/graph/k_nearest.hpp"

// Counts every heap allocation in this test binary, so "no allocation on rebuild" is measured,
// not inferred from capacities.
#include "support/count_allocations.hpp"

namespace graph = netmarl::graph;
using Catch::Contains;
using netmarl::matrix;

namespace {
matrix<float> random_points(netmarl::rng& g, int n, double scale = 10.0) {
  matrix<float> p(n, 2);
  for (int i = 0; i < n; ++i)
    for (int c = 0; c < 2; ++c) p(i, c) = static_cast<float>(g.uniform(0.0, scale));
  return p;
}

// Brute force: sort every other node by (distance, id) and keep the first k, as ascending ids.
std::vector<std::int32_t> brute_force_row(const matrix<float>& p, int i, int k) {
  std::vector<std::pair<double, std::int32_t>> all;
  for (int j = 0; j < p.rows(); ++j) {
    if (j == i) continue;
    const double dx = double(p(j, 0)) - double(p(i, 0)), dy = double(p(j, 1)) - double(p(i, 1));
    all.emplace_back(dx * dx + dy * dy, j);
  }
  std::sort(all.begin(), all.end());
  std::vector<std::int32_t> row;
  for (int m = 0; m < std::min<int>(k, static_cast<int>(all.size())); ++m)
    row.push_back(all[m].second);
  std::sort(row.begin(), row.end());
  row.insert(row.begin(), i);
  return row;
}
}  // namespace

TEST_CASE("k_nearest: matches brute force on random points", "[graph][k_nearest]") {
  netmarl::rng g(11);
  for (const int n : {1, 2, 5, 40}) {
    for (const int k : {0, 1, 3, 7, 100}) {
      const matrix<float> p = random_points(g, n);
      const graph::csr csr = graph::make_k_nearest(p, k);
      REQUIRE_NOTHROW(graph::check_csr(csr));
      for (int i = 0; i < n; ++i) {
        const auto row = graph::neighbors(csr, i);
        INFO("n " << n << " k " << k << " node " << i);
        REQUIRE(std::vector<std::int32_t>(row.begin(), row.end()) == brute_force_row(p, i, k));
      }
      CHECK(graph::num_edges(csr) == n * std::min(k, n - 1));  // k clipped to n - 1
    }
  }
}

TEST_CASE("k_nearest: ties go to the lower index", "[graph][k_nearest]") {
  // Node 0 at the origin; 1..4 all at distance 1; k = 2 must pick 1 and 2.
  matrix<float> p(5, 2);
  p << 0, 0, 1, 0, 0, 1, -1, 0, 0, -1;
  const graph::csr csr = graph::make_k_nearest(p, 2);
  const auto row = graph::neighbors(csr, 0);
  CHECK(std::vector<std::int32_t>(row.begin(), row.end()) == std::vector<std::int32_t>{0, 1, 2});
}

TEST_CASE("k_nearest: the graph is directed (out-neighbourhoods)", "[graph][k_nearest]") {
  // 0 and 1 close together, 2 far away: 2's nearest is 1, but 1's nearest is 0.
  matrix<float> p(3, 2);
  p << 0, 0, 1, 0, 10, 0;
  const graph::csr csr = graph::make_k_nearest(p, 1);
  CHECK(graph::has_edge(csr, 2, 1));
  CHECK_FALSE(graph::has_edge(csr, 1, 2));
  CHECK_FALSE(graph::is_symmetric(csr));
}

TEST_CASE("k_nearest: a rebuild at the same size allocates nothing", "[graph][k_nearest]") {
  netmarl::rng g(5);
  graph::csr csr;
  graph::k_nearest_workspace workspace;
  const matrix<float> first = random_points(g, 64);
  graph::build_k_nearest(csr, first, 5, workspace);
  std::vector<matrix<float>> later;
  for (int step = 0; step < 10; ++step) later.push_back(random_points(g, 64));

  const long before = netmarl::testing::heap_allocations();
  for (const auto& p : later) graph::build_k_nearest(csr, p, 5, workspace);
  const long during = netmarl::testing::heap_allocations() - before;
  REQUIRE(during == 0);
  // The counter does see allocations: a fresh build makes some.
  const long fresh_before = netmarl::testing::heap_allocations();
  const graph::csr fresh = graph::make_k_nearest(first, 5);
  CHECK(netmarl::testing::heap_allocations() > fresh_before);
  // And the result is the last positions' graph.
  for (int i = 0; i < 64; ++i) {
    const auto row = graph::neighbors(csr, i);
    REQUIRE(std::vector<std::int32_t>(row.begin(), row.end()) ==
            brute_force_row(later.back(), i, 5));
  }
}

TEST_CASE("k_nearest: bad input", "[graph][k_nearest]") {
  graph::csr csr;
  graph::k_nearest_workspace workspace;
  matrix<float> wrong(4, 3);
  wrong.setZero();
  REQUIRE_THROWS_AS(graph::build_k_nearest(csr, wrong, 2, workspace), netmarl::shape_error);
  REQUIRE_THROWS_WITH(graph::build_k_nearest(csr, wrong, 2, workspace),
                      Contains("positions must be [n, 2] with n >= 1, got [4, 3]"));
  matrix<float> empty(0, 2);
  REQUIRE_THROWS_WITH(graph::build_k_nearest(csr, empty, 2, workspace), Contains("got [0, 2]"));
  matrix<float> p(3, 2);
  p << 0, 0, 1, 1, 2, 2;
  REQUIRE_THROWS_AS(graph::build_k_nearest(csr, p, -1, workspace), netmarl::invalid_argument);
  REQUIRE_THROWS_WITH(graph::build_k_nearest(csr, p, -1, workspace),
                      Contains("k must not be negative, got -1"));
  p(1, 1) = std::numeric_limits<float>::quiet_NaN();
  REQUIRE_THROWS_AS(graph::build_k_nearest(csr, p, 1, workspace), netmarl::invalid_argument);
  REQUIRE_THROWS_WITH(graph::build_k_nearest(csr, p, 1, workspace),
                      Contains("agent 1 has a non-finite position"));
}
