#pragma once
// graph::csr: an owning CSR adjacency, the one graph type every topology model produces.
//
// Layout invariant (every function in graph/ builds and keeps it, check_csr verifies it):
//   N(i) = indices[offsets[i] .. offsets[i+1]) holds i itself first (the self-loop), then i's
//   other neighbours in strictly ascending order.
// The self-loop is stored because every networked method aggregates over N(i) including i (DGN's
// attention, mean-field, LToS's w_ii); storing it once means kernels never special-case it.
// Ids are 32-bit so a kernel (core/csr_view.hpp) can read the buffers as they are.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "netmarl/core/assert.hpp"
#include "netmarl/core/csr_view.hpp"
#include "netmarl/core/error.hpp"
#include "netmarl/core/tensor.hpp"

namespace netmarl::graph {

struct csr {
  std::vector<std::int32_t> offsets{0};  // nodes + 1 entries; offsets[0] == 0
  std::vector<std::int32_t> indices;     // offsets[nodes] entries, self-loops included

  // A non-owning view for kernels; valid until the csr is modified.
  csr_view view() const {
    return csr_view{offsets.data(), indices.data(),
                    offsets.empty() ? 0 : static_cast<index>(offsets.size()) - 1};
  }

  friend bool operator==(const csr&, const csr&) = default;
};

inline index num_nodes(const csr& g) {
  return g.offsets.empty() ? 0 : static_cast<index>(g.offsets.size()) - 1;
}

// N(i), self first: the set every aggregation runs over.
inline std::span<const std::int32_t> neighbors(const csr& g, index i) {
  NETMARL_ASSERT(i >= 0 && i < num_nodes(g), "graph::neighbors: node out of range");
  const auto begin = static_cast<std::size_t>(g.offsets[static_cast<std::size_t>(i)]);
  const auto end = static_cast<std::size_t>(g.offsets[static_cast<std::size_t>(i) + 1]);
  return std::span<const std::int32_t>(g.indices).subspan(begin, end - begin);
}

// N(i) without i (the self-loop is always first, so this is the tail).
inline std::span<const std::int32_t> neighbors_excluding_self(const csr& g, index i) {
  return neighbors(g, i).subspan(1);
}

// |N(i)|, COUNTING THE SELF-LOOP: an isolated node has degree 1. Subtract 1 for the usual
// graph-theoretic degree.
inline index degree(const csr& g, index i) {
  NETMARL_ASSERT(i >= 0 && i < num_nodes(g), "graph::degree: node out of range");
  return g.offsets[static_cast<std::size_t>(i) + 1] - g.offsets[static_cast<std::size_t>(i)];
}

// Stored entries, self-loops included (== view().edges(), the length of an edge-aligned buffer).
inline index num_entries(const csr& g) { return static_cast<index>(g.indices.size()); }

// Directed links i -> j with j != i. Self-loops are not counted; an undirected edge counts twice
// (once from each end). For a directed csr (graph::build_k_nearest) it counts out-links.
inline index num_edges(const csr& g) { return num_entries(g) - num_nodes(g); }

// j in N(i)? Binary search over the sorted tail.
inline bool has_edge(const csr& g, index i, index j) {
  if (i == j) return true;
  const auto tail = neighbors_excluding_self(g, i);
  return std::binary_search(tail.begin(), tail.end(), static_cast<std::int32_t>(j));
}

// Every j in N(i) has i in N(j): an undirected graph. O(entries * log degree).
inline bool is_symmetric(const csr& g) {
  const index n = num_nodes(g);
  for (index i = 0; i < n; ++i)
    for (const std::int32_t j : neighbors_excluding_self(g, i))
      if (!has_edge(g, j, i)) return false;
  return true;
}

// Undirected edges {i, j}, i != j, of a symmetric csr (the count a paper quotes: 12 for the 3x3
// grid). Throws invalid_argument for a directed csr, where the count would be meaningless.
inline index num_undirected_edges(const csr& g) {
  if (!is_symmetric(g))
    throw invalid_argument(
        "graph::num_undirected_edges: the graph is directed (some j in N(i) lacks i in N(j))");
  return num_edges(g) / 2;
}

// Checks the layout invariant above; throws invalid_argument naming the first broken node. For a
// csr assembled by hand (graph::fixed checks what it is given).
inline void check_csr(const csr& g, const std::string& who = "graph::csr") {
  if (g.offsets.empty() || g.offsets.front() != 0)
    throw invalid_argument(who + ": offsets must start with 0");
  if (static_cast<std::size_t>(g.offsets.back()) != g.indices.size())
    throw invalid_argument(who + ": offsets end at " + std::to_string(g.offsets.back()) +
                           " but there are " + std::to_string(g.indices.size()) + " indices");
  const index n = num_nodes(g);
  for (index i = 0; i < n; ++i) {
    const auto ui = static_cast<std::size_t>(i);
    if (g.offsets[ui + 1] <= g.offsets[ui])
      throw invalid_argument(who + ": node " + std::to_string(i) +
                             " has no entries (its self-loop must come first)");
    const auto row = neighbors(g, i);
    if (row[0] != i)
      throw invalid_argument(who + ": node " + std::to_string(i) + "'s first neighbour is " +
                             std::to_string(row[0]) + ", not itself");
    for (std::size_t k = 1; k < row.size(); ++k) {
      if (row[k] < 0 || row[k] >= n)
        throw invalid_argument(who + ": node " + std::to_string(i) + " lists neighbour " +
                               std::to_string(row[k]) + ", outside [0, " + std::to_string(n) + ")");
      if (row[k] == i)
        throw invalid_argument(who + ": node " + std::to_string(i) + " lists itself twice");
      if (k > 1 && row[k] <= row[k - 1])
        throw invalid_argument(
            who + ": node " + std::to_string(i) + "'s neighbours are not strictly ascending (" +
            std::to_string(row[k - 1]) + " then " + std::to_string(row[k]) + ")");
    }
  }
}

// Builds the csr of an undirected graph with `nodes` nodes from its edge list (each edge once, in
// either direction). Self-loops are implicit, so an explicit (i, i) is rejected: in a user's edge
// list it is almost always an off-by-one. Ids out of [0, nodes), self edges and duplicates (in
// either direction) throw invalid_argument naming the edge's index in `edges`.
inline csr from_edges(index nodes, std::span<const std::pair<int, int>> edges) {
  if (nodes < 1)
    throw invalid_argument("graph::from_edges: nodes must be at least 1, got " +
                           std::to_string(nodes));
  // Offsets are int32: n self-loops plus both directions of every edge must fit.
  constexpr auto limit = static_cast<index>(std::numeric_limits<std::int32_t>::max());
  if (nodes > limit || static_cast<index>(edges.size()) > (limit - nodes) / 2)
    throw invalid_argument("graph::from_edges: " + std::to_string(nodes) + " nodes and " +
                           std::to_string(edges.size()) + " edges do not fit 32-bit offsets");
  const auto edge_text = [&](std::size_t e) {
    return "edge " + std::to_string(e) + " (" + std::to_string(edges[e].first) + ", " +
           std::to_string(edges[e].second) + ")";
  };
  // (low, high, position in `edges`), sorted: duplicates become adjacent and can name both.
  std::vector<std::tuple<std::int32_t, std::int32_t, std::size_t>> sorted;
  sorted.reserve(edges.size());
  for (std::size_t e = 0; e < edges.size(); ++e) {
    const auto [a, b] = edges[e];
    if (a < 0 || a >= nodes || b < 0 || b >= nodes)
      throw invalid_argument("graph::from_edges: " + edge_text(e) + " has a node id outside [0, " +
                             std::to_string(nodes) + ")");
    if (a == b)
      throw invalid_argument("graph::from_edges: " + edge_text(e) +
                             " is a self edge; self-loops are implicit, leave them out");
    sorted.emplace_back(std::min(a, b), std::max(a, b), e);
  }
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t k = 1; k < sorted.size(); ++k)
    if (std::get<0>(sorted[k]) == std::get<0>(sorted[k - 1]) &&
        std::get<1>(sorted[k]) == std::get<1>(sorted[k - 1]))
      throw invalid_argument("graph::from_edges: " + edge_text(std::get<2>(sorted[k])) +
                             " duplicates " + edge_text(std::get<2>(sorted[k - 1])));

  csr g;
  const auto n = static_cast<std::size_t>(nodes);
  g.offsets.assign(n + 1, 0);
  for (std::size_t i = 0; i < n; ++i) g.offsets[i + 1] = 1;  // the self-loop
  for (const auto& [lo, hi, e] : sorted) {
    ++g.offsets[static_cast<std::size_t>(lo) + 1];
    ++g.offsets[static_cast<std::size_t>(hi) + 1];
  }
  for (std::size_t i = 0; i < n; ++i) g.offsets[i + 1] += g.offsets[i];
  g.indices.resize(static_cast<std::size_t>(g.offsets[n]));
  std::vector<std::int32_t> fill(g.offsets.begin(), g.offsets.end() - 1);
  for (std::size_t i = 0; i < n; ++i)
    g.indices[static_cast<std::size_t>(fill[i]++)] = static_cast<std::int32_t>(i);
  // Pairs sorted by (low, high) reach row v first as every u < v ascending (from pairs (u, v)),
  // then as every w > v ascending (from pairs (v, w)): rows come out sorted, no per-row sort.
  for (const auto& [lo, hi, e] : sorted) {
    g.indices[static_cast<std::size_t>(fill[static_cast<std::size_t>(lo)]++)] = hi;
    g.indices[static_cast<std::size_t>(fill[static_cast<std::size_t>(hi)]++)] = lo;
  }
  return g;
}

// Braced lists and vectors: from_edges(3, {{0, 1}, {1, 2}}).
inline csr from_edges(index nodes, const std::vector<std::pair<int, int>>& edges) {
  return from_edges(nodes, std::span<const std::pair<int, int>>(edges));
}

}  // namespace netmarl::graph
