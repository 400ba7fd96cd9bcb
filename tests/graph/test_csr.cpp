#include <catch2/catch.hpp>
#include <cstdint>
#include <utility>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/graph/csr.hpp"

namespace graph = netmarl::graph;
using Catch::Contains;
using netmarl::invalid_argument;

namespace {
std::vector<std::int32_t> as_vector(std::span<const std::int32_t> s) {
  return {s.begin(), s.end()};
}
}  // namespace

TEST_CASE("csr: from_edges puts the self-loop first, then neighbours ascending", "[graph][csr]") {
  // Edges given in scrambled order and direction.
  const graph::csr g = graph::from_edges(5, {{3, 1}, {0, 4}, {1, 0}, {4, 3}, {2, 1}});
  REQUIRE(graph::num_nodes(g) == 5);
  CHECK(as_vector(graph::neighbors(g, 0)) == std::vector<std::int32_t>{0, 1, 4});
  CHECK(as_vector(graph::neighbors(g, 1)) == std::vector<std::int32_t>{1, 0, 2, 3});
  CHECK(as_vector(graph::neighbors(g, 2)) == std::vector<std::int32_t>{2, 1});
  CHECK(as_vector(graph::neighbors(g, 3)) == std::vector<std::int32_t>{3, 1, 4});
  CHECK(as_vector(graph::neighbors(g, 4)) == std::vector<std::int32_t>{4, 0, 3});
  CHECK(as_vector(graph::neighbors_excluding_self(g, 1)) == std::vector<std::int32_t>{0, 2, 3});
  // degree counts the self-loop.
  CHECK(graph::degree(g, 1) == 4);
  CHECK(graph::degree(g, 2) == 2);
  CHECK(graph::num_entries(g) == 5 + 2 * 5);
  CHECK(graph::num_edges(g) == 10);
  CHECK(graph::num_undirected_edges(g) == 5);
  CHECK(graph::is_symmetric(g));
  CHECK(graph::has_edge(g, 3, 4));
  CHECK_FALSE(graph::has_edge(g, 2, 4));
  CHECK_NOTHROW(graph::check_csr(g));
}

TEST_CASE("csr: view exposes the same buffers", "[graph][csr]") {
  const graph::csr g = graph::from_edges(3, {{0, 1}, {1, 2}});
  const netmarl::csr_view v = g.view();
  REQUIRE(v.nodes == 3);
  CHECK(v.edges() == 7);
  CHECK(v.offsets == g.offsets.data());
  CHECK(v.indices == g.indices.data());
  for (int i = 0; i < 3; ++i) CHECK(v.degree(i) == graph::degree(g, i));
}

TEST_CASE("csr: a graph without edges has only self-loops", "[graph][csr]") {
  const graph::csr g = graph::from_edges(4, std::vector<std::pair<int, int>>{});
  for (int i = 0; i < 4; ++i) {
    REQUIRE(graph::degree(g, i) == 1);
    REQUIRE(graph::neighbors(g, i)[0] == i);
  }
  CHECK(graph::num_edges(g) == 0);
}

TEST_CASE("csr: from_edges rejects bad edges, naming the edge index", "[graph][csr]") {
  REQUIRE_THROWS_AS(graph::from_edges(3, {{0, 3}}), invalid_argument);
  REQUIRE_THROWS_WITH(graph::from_edges(3, {{0, 1}, {0, 3}}),
                      Contains("edge 1 (0, 3)") && Contains("outside [0, 3)"));
  REQUIRE_THROWS_WITH(graph::from_edges(3, {{-1, 1}}), Contains("edge 0 (-1, 1)"));
  REQUIRE_THROWS_AS(graph::from_edges(3, {{1, 1}}), invalid_argument);
  REQUIRE_THROWS_WITH(graph::from_edges(3, {{0, 1}, {2, 2}}),
                      Contains("edge 1 (2, 2)") && Contains("self edge"));
  REQUIRE_THROWS_AS(graph::from_edges(3, {{0, 1}, {1, 0}}), invalid_argument);
  REQUIRE_THROWS_WITH(graph::from_edges(3, {{0, 1}, {1, 2}, {1, 0}}),
                      Contains("edge 2 (1, 0) duplicates edge 0 (0, 1)"));
  REQUIRE_THROWS_WITH(graph::from_edges(4, {{2, 3}, {2, 3}}),
                      Contains("edge 1 (2, 3) duplicates edge 0 (2, 3)"));
  REQUIRE_THROWS_AS(graph::from_edges(0, std::vector<std::pair<int, int>>{}), invalid_argument);
  REQUIRE_THROWS_WITH(graph::from_edges(0, std::vector<std::pair<int, int>>{}),
                      Contains("at least 1, got 0"));
}

TEST_CASE("csr: check_csr names the broken node", "[graph][csr]") {
  graph::csr good = graph::from_edges(3, {{0, 1}, {1, 2}});
  graph::csr g = good;
  g.indices[0] = 1;  // node 0's first entry is not itself
  REQUIRE_THROWS_AS(graph::check_csr(g), invalid_argument);
  REQUIRE_THROWS_WITH(graph::check_csr(g), Contains("node 0's first neighbour is 1"));

  g = good;  // row 1 = {1, 0, 2}: swap to {1, 2, 0}
  std::swap(g.indices[3], g.indices[4]);
  REQUIRE_THROWS_WITH(graph::check_csr(g),
                      Contains("node 1's neighbours are not strictly ascending"));

  g = good;
  g.indices[4] = 7;
  REQUIRE_THROWS_WITH(graph::check_csr(g), Contains("node 1 lists neighbour 7, outside [0, 3)"));

  g = good;
  g.offsets.back() = 99;
  REQUIRE_THROWS_WITH(graph::check_csr(g), Contains("offsets end at 99"));

  g = good;
  g.offsets[1] = 0;  // node 0 empty
  REQUIRE_THROWS_WITH(graph::check_csr(g), Contains("node 0 has no entries"));
}

TEST_CASE("csr: num_undirected_edges refuses a directed graph", "[graph][csr]") {
  graph::csr g;
  g.offsets = {0, 2, 3};
  g.indices = {0, 1, 1};  // 0 -> 1 but not 1 -> 0
  REQUIRE_NOTHROW(graph::check_csr(g));
  CHECK_FALSE(graph::is_symmetric(g));
  CHECK(graph::num_edges(g) == 1);
  REQUIRE_THROWS_AS(graph::num_undirected_edges(g), invalid_argument);
  REQUIRE_THROWS_WITH(graph::num_undirected_edges(g), Contains("directed"));
}
