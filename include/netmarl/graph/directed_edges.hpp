#pragma once
// The directed edge set of a csr, with self-loops: what LToS's reward sharing runs over. Agent i
// splits its reward over its out-edges i -> j with weights w_ij (sum_j w_ij = 1, w_ii included),
// and agent j gathers sum_i w_ij r_i over its in-edges (LToS eq. 2), so both directions need an
// index.
//
// Edge ids are the positions in the csr's `indices`: edge e goes from the row that holds position
// e to indices[e]. So the out-edges of i are the contiguous ids offsets[i] .. offsets[i+1] (the
// self-loop first), and any per-edge buffer (weights w_ij, attention scores) lines up with the csr.
// For a symmetric (undirected) csr that is n self-loops plus both directions of every edge:
// n + 2|E| edges. For a directed csr (k-nearest) it is exactly its arcs, and `reverse` says -1
// where the opposite arc is missing.
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "netmarl/core/tensor.hpp"
#include "netmarl/graph/csr.hpp"

namespace netmarl::graph {

// A contiguous run of edge ids [first, last), usable in range-for. (Not std::ranges::iota_view:
// clang 14 cannot compile libstdc++ 12's <ranges>.)
struct edge_id_range {
  struct iterator {
    std::int32_t id = 0;
    std::int32_t operator*() const { return id; }
    iterator& operator++() {
      ++id;
      return *this;
    }
    bool operator==(const iterator&) const = default;
  };
  std::int32_t first = 0;
  std::int32_t last = 0;
  iterator begin() const { return {first}; }
  iterator end() const { return {last}; }
  index size() const { return last - first; }
};

struct directed_edges {
  std::vector<std::int32_t> from;         // [edges] source of edge e
  std::vector<std::int32_t> to;           // [edges] target of edge e
  std::vector<std::int32_t> reverse;      // [edges] id of to -> from, -1 if absent; a self-loop is
                                          // its own reverse
  std::vector<std::int32_t> out_offsets;  // [nodes + 1] out-edges of i: ids in [out_offsets[i],
                                          // out_offsets[i+1]), self-loop first
  std::vector<std::int32_t> in_offsets;   // [nodes + 1]
  std::vector<std::int32_t> in_edge_ids;  // [edges] edges into j: in_edge_ids[in_offsets[j] ..
                                          // in_offsets[j+1]), self-loop first, sources ascending
  std::vector<std::int32_t> cursor;       // scratch for rebuilds (kept so they do not allocate)

  index num_nodes() const {
    return out_offsets.empty() ? 0 : static_cast<index>(out_offsets.size()) - 1;
  }
  // Self-loops included.
  index num_edges() const { return static_cast<index>(from.size()); }

  // Ids of i's out-edges (contiguous).
  edge_id_range out_edges(index i) const {
    const auto u = static_cast<std::size_t>(i);
    return {out_offsets[u], out_offsets[u + 1]};
  }
  // Ids of j's in-edges.
  std::span<const std::int32_t> in_edges(index j) const {
    const auto u = static_cast<std::size_t>(j);
    return std::span<const std::int32_t>(in_edge_ids)
        .subspan(static_cast<std::size_t>(in_offsets[u]),
                 static_cast<std::size_t>(in_offsets[u + 1] - in_offsets[u]));
  }
};

// Rebuilds `out` from g in place: no allocation once sized for g's node and entry counts.
inline void build_directed_edges(directed_edges& out, const csr& g) {
  const auto n = static_cast<std::size_t>(num_nodes(g));
  const auto m = g.indices.size();
  out.from.resize(m);
  out.to.resize(m);
  out.reverse.resize(m);
  out.out_offsets.assign(g.offsets.begin(), g.offsets.end());
  out.in_offsets.assign(n + 1, 0);
  out.in_edge_ids.resize(m);
  out.cursor.resize(n);

  for (std::size_t i = 0; i < n; ++i)
    for (auto e = static_cast<std::size_t>(g.offsets[i]);
         e < static_cast<std::size_t>(g.offsets[i + 1]); ++e) {
      out.from[e] = static_cast<std::int32_t>(i);
      out.to[e] = g.indices[e];
      ++out.in_offsets[static_cast<std::size_t>(g.indices[e]) + 1];
    }
  for (std::size_t j = 0; j < n; ++j) out.in_offsets[j + 1] += out.in_offsets[j];

  // The reverse of i -> j sits in row j: the self-loop at its start, else found by binary search.
  for (std::size_t e = 0; e < m; ++e) {
    const auto i = out.from[e], j = out.to[e];
    if (i == j) {
      out.reverse[e] = static_cast<std::int32_t>(e);
      continue;
    }
    const auto tail = neighbors_excluding_self(g, j);
    const auto it = std::lower_bound(tail.begin(), tail.end(), i);
    out.reverse[e] = (it != tail.end() && *it == i)
                         ? static_cast<std::int32_t>(g.offsets[static_cast<std::size_t>(j)] + 1 +
                                                     (it - tail.begin()))
                         : -1;
  }

  // In-edges: every self-loop first, then the others in id order, which is source order.
  std::copy(out.in_offsets.begin(), out.in_offsets.end() - 1, out.cursor.begin());
  for (std::size_t j = 0; j < n; ++j)
    out.in_edge_ids[static_cast<std::size_t>(out.cursor[j]++)] = g.offsets[j];
  for (std::size_t e = 0; e < m; ++e)
    if (out.from[e] != out.to[e])
      out.in_edge_ids[static_cast<std::size_t>(out.cursor[static_cast<std::size_t>(out.to[e])]++)] =
          static_cast<std::int32_t>(e);
}

inline directed_edges make_directed_edges(const csr& g) {
  directed_edges out;
  build_directed_edges(out, g);
  return out;
}

}  // namespace netmarl::graph
