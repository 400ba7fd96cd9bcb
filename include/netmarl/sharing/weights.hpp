#pragma once
// Reward-sharing weights on a neighbourhood graph (LToS section 4.1) and the three maps every
// sharing model is built from:
//   shape     r_i^w = sum_{j in N(i)} w_ji r_j                (LToS eq. 2)
//   incoming  agent i's w_i^in = (w_ji)_{j in N(i)} as a fixed-width feature row (the low level's
//             extra input, LToS section 4.2)
//   route     the adjoint of incoming: dJ/dw_i^in at receiver i back onto the edges j -> i, i.e.
//             to the senders j (LToS algorithm 1, line 20)
// Weights live on the directed edges of the symmetric closure of the topology's graph (LToS's D:
// a self-loop per agent and both directions of each edge), edge ids aligned with its csr, so
// w_i^out = w[offsets[i] .. offsets[i+1]) with w_ii first. When every row of w sums to 1 the
// shaped rewards sum to the environment's (proposition 4.1).
#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/graph/csr.hpp"
#include "netmarl/graph/directed_edges.hpp"
#include "netmarl/graph/symmetric_closure.hpp"

namespace netmarl::sharing {

struct edge_weights {
  graph::csr graph;             // symmetric closure of the topology's graph; self first per row
  graph::directed_edges edges;  // ids line up with graph.indices; every edge has its reverse
  std::vector<float> w;         // w[e], e = i -> j: the share of r_i that j receives

  index agents() const { return graph::num_nodes(graph); }
  index num_edges() const { return static_cast<index>(w.size()); }

  // Rebuilds the closure and its edge index for `topology`; weights are resized (zero for a new
  // size, else kept) and must be set by the caller. Returns whether the closure changed.
  bool rebuild(const graph::csr& topology) {
    graph::build_symmetric_closure(scratch_, topology);
    if (scratch_ == graph && !w.empty()) return false;
    std::swap(graph, scratch_);
    graph::build_directed_edges(edges, graph);
    w.resize(graph.indices.size());
    return true;
  }
  // The weight agent i keeps for itself (its self-loop comes first in its row).
  float selfishness(index i) const {
    return w[static_cast<std::size_t>(graph.offsets[static_cast<std::size_t>(i)])];
  }

 private:
  graph::csr scratch_;
};

// Fixed LToS weights: w_ii = s, the rest (1 - s) split evenly over the other neighbours; an agent
// without neighbours keeps everything.
inline void set_fixed(edge_weights& ew, double selfishness) {
  for (index i = 0; i < ew.agents(); ++i) {
    const auto first = static_cast<std::size_t>(ew.graph.offsets[static_cast<std::size_t>(i)]);
    const auto last = static_cast<std::size_t>(ew.graph.offsets[static_cast<std::size_t>(i) + 1]);
    const auto others = last - first - 1;
    ew.w[first] = others == 0 ? 1.0f : static_cast<float>(selfishness);
    for (std::size_t e = first + 1; e < last; ++e)
      ew.w[e] = static_cast<float>((1.0 - selfishness) / static_cast<double>(others));
  }
}

// LToS eq. 2 over the edges of `ew`.
inline void shape(const edge_weights& ew, std::span<const float> rewards, std::span<float> shaped) {
  const index n = ew.agents();
  if (static_cast<index>(rewards.size()) != n || shaped.size() != rewards.size())
    throw shape_error("sharing: expected " + std::to_string(n) + " rewards and outputs, got " +
                      std::to_string(rewards.size()) + " and " + std::to_string(shaped.size()));
  for (index i = 0; i < n; ++i) {
    double sum = 0;
    for (const std::int32_t e : ew.edges.in_edges(i))
      sum += static_cast<double>(ew.w[static_cast<std::size_t>(e)]) *
             static_cast<double>(rewards[static_cast<std::size_t>(ew.edges.from[static_cast<std::size_t>(e)])]);
    shaped[static_cast<std::size_t>(i)] = static_cast<float>(sum);
  }
}

// Where receiver i's k-th neighbour (row order, self at k = 0) lands among `slots` features: a
// neighbourhood wider than the row folds its tail into the last slot.
inline index incoming_slot(index k, index slots) { return std::min(k, slots - 1); }

// Row i of `features` ([agents, ld] row-major, columns [0, slots)) = w_i^in: slot k holds w_ji of
// i's k-th neighbour j (self first); unused slots are 0.
template <class T>
void incoming(const edge_weights& ew, index slots, T* features, index ld) {
  for (index i = 0; i < ew.agents(); ++i) {
    T* row = features + i * ld;
    std::fill(row, row + slots, T(0));
    const auto first = ew.graph.offsets[static_cast<std::size_t>(i)];
    const auto last = ew.graph.offsets[static_cast<std::size_t>(i) + 1];
    for (auto e = first; e < last; ++e)  // e = i -> j; its reverse j -> i carries w_ji
      row[incoming_slot(e - first, slots)] +=
          static_cast<T>(ew.w[static_cast<std::size_t>(ew.edges.reverse[static_cast<std::size_t>(e)])]);
  }
}

// The adjoint of incoming: d_w[j -> i] = d_features(i, slot of j). Overwrites d_w ([edges]).
template <class T>
void route(const edge_weights& ew, index slots, const T* d_features, index ld, std::span<T> d_w) {
  for (index i = 0; i < ew.agents(); ++i) {
    const T* row = d_features + i * ld;
    const auto first = ew.graph.offsets[static_cast<std::size_t>(i)];
    const auto last = ew.graph.offsets[static_cast<std::size_t>(i) + 1];
    for (auto e = first; e < last; ++e)
      d_w[static_cast<std::size_t>(ew.edges.reverse[static_cast<std::size_t>(e)])] =
          row[incoming_slot(e - first, slots)];
  }
}

}  // namespace netmarl::sharing
