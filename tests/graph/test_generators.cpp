#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/graph/generators.hpp"

namespace graph = netmarl::graph;
using Catch::Contains;
using netmarl::invalid_argument;

namespace {
std::vector<std::int32_t> row(const graph::csr& g, int i) {
  const auto s = graph::neighbors(g, i);
  return {s.begin(), s.end()};
}
// Every generator must keep the csr invariant and be undirected.
void require_valid(const graph::csr& g) {
  REQUIRE_NOTHROW(graph::check_csr(g));
  REQUIRE(graph::is_symmetric(g));
}
}  // namespace

TEST_CASE("generators: line, ring, complete, star, isolated edge counts", "[graph][generators]") {
  const auto l = graph::line(5);
  require_valid(l);
  CHECK(graph::num_undirected_edges(l) == 4);
  CHECK(row(l, 0) == std::vector<std::int32_t>{0, 1});
  CHECK(row(l, 2) == std::vector<std::int32_t>{2, 1, 3});
  CHECK(graph::num_undirected_edges(graph::line(1)) == 0);

  const auto r = graph::ring(5);
  require_valid(r);
  CHECK(graph::num_undirected_edges(r) == 5);
  CHECK(row(r, 0) == std::vector<std::int32_t>{0, 1, 4});
  CHECK(row(r, 4) == std::vector<std::int32_t>{4, 0, 3});
  CHECK(graph::num_undirected_edges(graph::ring(3)) == 3);

  const auto c = graph::complete(6);
  require_valid(c);
  CHECK(graph::num_undirected_edges(c) == 15);
  for (int i = 0; i < 6; ++i) CHECK(graph::degree(c, i) == 6);  // 5 others + self

  const auto s = graph::star(5);
  require_valid(s);
  CHECK(graph::num_undirected_edges(s) == 4);
  CHECK(row(s, 0) == std::vector<std::int32_t>{0, 1, 2, 3, 4});
  CHECK(row(s, 3) == std::vector<std::int32_t>{3, 0});

  const auto iso = graph::isolated(3);
  require_valid(iso);
  CHECK(graph::num_edges(iso) == 0);
}

TEST_CASE("generators: grid2d edge counts", "[graph][generators]") {
  SECTION("3x3, 4-neighbour: 12 edges (the coordination grid)") {
    const auto g = graph::grid2d(3, 3);
    require_valid(g);
    CHECK(graph::num_nodes(g) == 9);
    CHECK(graph::num_undirected_edges(g) == 12);
    CHECK(row(g, 4) == std::vector<std::int32_t>{4, 1, 3, 5, 7});
    CHECK(row(g, 0) == std::vector<std::int32_t>{0, 1, 3});
  }
  SECTION("rectangular 2x4: r(c-1) + c(r-1)") {
    const auto g = graph::grid2d(2, 4);
    require_valid(g);
    CHECK(graph::num_undirected_edges(g) == 2 * 3 + 4 * 1);
    CHECK(row(g, 5) == std::vector<std::int32_t>{5, 1, 4, 6});  // (1, 1)
  }
  SECTION("3x3, 8-neighbour: 12 + 2 * 2 * 2 = 20 edges") {
    const auto g = graph::grid2d(3, 3, {.connectivity = 8});
    require_valid(g);
    CHECK(graph::num_undirected_edges(g) == 20);
    CHECK(graph::degree(g, 4) == 9);
    CHECK(row(g, 0) == std::vector<std::int32_t>{0, 1, 3, 4});
  }
  SECTION("4x5 torus, 4-neighbour: every node has 4 neighbours") {
    const auto g = graph::grid2d(4, 5, {.torus = true});
    require_valid(g);
    CHECK(graph::num_undirected_edges(g) == 4 * 5 * 4 / 2);
    for (int i = 0; i < 20; ++i) CHECK(graph::degree(g, i) == 5);
    CHECK(row(g, 0) == std::vector<std::int32_t>{0, 1, 4, 5, 15});
  }
  SECTION("3x3 torus, 8-neighbour: the complete graph K9") {
    const auto g = graph::grid2d(3, 3, {.connectivity = 8, .torus = true});
    require_valid(g);
    CHECK(graph::num_undirected_edges(g) == 36);
    CHECK(g == graph::complete(9));
  }
  SECTION("a 1 x n grid is a line") { CHECK(graph::grid2d(1, 6) == graph::line(6)); }
}

TEST_CASE("generators: bad sizes throw invalid_argument naming the value", "[graph][generators]") {
  REQUIRE_THROWS_AS(graph::line(0), invalid_argument);
  REQUIRE_THROWS_WITH(graph::line(0), Contains("graph::line") && Contains("got 0"));
  REQUIRE_THROWS_AS(graph::ring(2), invalid_argument);
  REQUIRE_THROWS_WITH(graph::ring(2), Contains("at least 3, got 2"));
  REQUIRE_THROWS_WITH(graph::complete(-1), Contains("got -1"));
  REQUIRE_THROWS_WITH(graph::star(0), Contains("graph::star"));
  REQUIRE_THROWS_WITH(graph::isolated(0), Contains("graph::isolated"));
  REQUIRE_THROWS_AS(graph::grid2d(0, 3), invalid_argument);
  REQUIRE_THROWS_WITH(graph::grid2d(0, 3), Contains("rows must be at least 1, got 0"));
  REQUIRE_THROWS_WITH(graph::grid2d(3, 0), Contains("cols must be at least 1, got 0"));
  REQUIRE_THROWS_AS(graph::grid2d(3, 3, {.connectivity = 6}), invalid_argument);
  REQUIRE_THROWS_WITH(graph::grid2d(3, 3, {.connectivity = 6}),
                      Contains("connectivity must be 4 or 8, got 6"));
  REQUIRE_THROWS_AS(graph::grid2d(2, 5, {.torus = true}), invalid_argument);
  REQUIRE_THROWS_WITH(graph::grid2d(2, 5, {.torus = true}),
                      Contains("rows of a torus must be at least 3, got 2"));
  REQUIRE_THROWS_WITH(graph::grid2d(5, 1, {.torus = true}),
                      Contains("cols of a torus must be at least 3, got 1"));
}
