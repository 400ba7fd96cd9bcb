#include <catch2/catch.hpp>
#include <cstdint>
#include <set>
#include <utility>
#include <vector>

#include "netmarl/core/rng.hpp"
#include "netmarl/graph/directed_edges.hpp"
#include "netmarl/graph/generators.hpp"
#include "netmarl/graph/k_nearest.hpp"

namespace graph = netmarl::graph;

namespace {
// Properties every directed edge set must have, whatever the graph.
void require_consistent(const graph::directed_edges& d, const graph::csr& g) {
  const int n = static_cast<int>(graph::num_nodes(g));
  REQUIRE(d.num_nodes() == n);
  REQUIRE(d.num_edges() == graph::num_entries(g));
  std::set<std::pair<int, int>> seen_in;
  for (int i = 0; i < n; ++i) {
    // Out-edges of i: contiguous, self-loop first, targets = N(i) in csr order.
    const auto row = graph::neighbors(g, i);
    std::size_t m = 0;
    for (const std::int32_t e : d.out_edges(i)) {
      REQUIRE(d.from[e] == i);
      REQUIRE(d.to[e] == row[m++]);
    }
    REQUIRE(m == row.size());
    // In-edges of i: all end at i, self-loop first, sources ascending after it.
    const auto in = d.in_edges(i);
    REQUIRE(!in.empty());
    REQUIRE(d.from[in[0]] == i);
    for (std::size_t k = 0; k < in.size(); ++k) {
      REQUIRE(d.to[in[k]] == i);
      if (k >= 2) REQUIRE(d.from[in[k]] > d.from[in[k - 1]]);
      if (k == 1) REQUIRE(d.from[in[k]] != i);
      seen_in.emplace(d.from[in[k]], i);
    }
  }
  // Every edge is someone's in-edge exactly once.
  REQUIRE(static_cast<int>(seen_in.size()) == d.num_edges());
  // reverse: an involution where present, and exactly where the opposite arc exists.
  for (int e = 0; e < d.num_edges(); ++e) {
    const int r = d.reverse[e];
    if (r < 0) {
      REQUIRE_FALSE(graph::has_edge(g, d.to[e], d.from[e]));
      continue;
    }
    REQUIRE(d.from[r] == d.to[e]);
    REQUIRE(d.to[r] == d.from[e]);
    REQUIRE(d.reverse[r] == e);
  }
}
}  // namespace

TEST_CASE("directed_edges: n self-loops plus both directions of every edge",
          "[graph][directed_edges]") {
  const graph::csr g = graph::grid2d(3, 3);  // 9 nodes, 12 edges
  const graph::directed_edges d = graph::make_directed_edges(g);
  CHECK(d.num_edges() == 9 + 2 * 12);
  require_consistent(d, g);
  // Edge ids are csr positions: a weight buffer aligned with g.indices is indexed by edge id.
  for (int e = 0; e < d.num_edges(); ++e) CHECK(d.to[e] == g.indices[e]);
  // Centre node 4 receives from itself and its 4 neighbours.
  std::vector<int> sources;
  for (const auto e : d.in_edges(4)) sources.push_back(d.from[e]);
  CHECK(sources == std::vector<int>{4, 1, 3, 5, 7});
  // Self-loops are their own reverse.
  for (int i = 0; i < 9; ++i) CHECK(d.reverse[d.out_offsets[i]] == d.out_offsets[i]);
  for (int e = 0; e < d.num_edges(); ++e) CHECK(d.reverse[e] >= 0);  // undirected: all present
}

TEST_CASE("directed_edges: other generators", "[graph][directed_edges]") {
  for (const graph::csr& g :
       {graph::star(6), graph::ring(5), graph::complete(4), graph::isolated(3),
        graph::grid2d(4, 4, {.connectivity = 8, .torus = true})}) {
    const auto d = graph::make_directed_edges(g);
    CHECK(d.num_edges() == graph::num_nodes(g) + 2 * graph::num_undirected_edges(g));
    require_consistent(d, g);
  }
}

TEST_CASE("directed_edges: a directed k-nearest graph, rebuilt in place",
          "[graph][directed_edges]") {
  netmarl::rng rng(3);
  graph::directed_edges d;
  int one_way = 0;  // arcs without a reverse: the -1 path must be exercised
  for (int round = 0; round < 5; ++round) {
    netmarl::matrix<float> p(30, 2);
    for (int i = 0; i < 30; ++i) p.row(i) << float(rng.uniform()), float(rng.uniform());
    const graph::csr g = graph::make_k_nearest(p, 3);
    graph::build_directed_edges(d, g);
    CHECK(d.num_edges() == 30 * 4);
    require_consistent(d, g);
    for (const auto r : d.reverse) one_way += r < 0;
  }
  CHECK(one_way > 0);
}
