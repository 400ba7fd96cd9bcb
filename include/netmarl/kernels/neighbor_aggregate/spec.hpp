#pragma once
// neighbor_aggregate: for every node, the sum (or mean) of its neighbours' feature rows, over a
// batch of graphs that share one topology.
// Buffers (all row-major, contiguous, caller-owned; out and d_x must not alias their inputs):
//   x      [batch, nodes, features]      out   [batch, nodes, features]
//   d_out  [batch, nodes, features]      d_x   [batch, nodes, features]
// Graph: a netmarl::csr_view whose row i lists N(i), the nodes i reads from. N(i) includes i
// itself when the caller wants a self term (the layers add a self loop); it is not added here.
// Directed graphs are fine: j in N(i) does not imply i in N(j). A repeated id counts twice.
//   forward   out[b, i, :] = sum_{j in N(i)} x[b, j, :]           (reduction::sum)
//             out[b, i, :] = sum_{j in N(i)} x[b, j, :] / |N(i)|  (reduction::mean)
//             an empty neighbourhood (offsets[i] == offsets[i+1]) gives a zero row.
//   backward  d_x[b, j, :] = sum_{i : j in N(i)} d_out[b, i, :]   (/ |N(i)| for mean)
//             the adjoint of forward; it OVERWRITES d_x (no parameters, nothing accumulates).
#include <cstdint>
#include <string>

#include "netmarl/core/assert.hpp"
#include "netmarl/core/csr_view.hpp"
#include "netmarl/core/tensor.hpp"

namespace netmarl::kernels::neighbor_aggregate {

enum class reduction { sum, mean };

struct shape {
  index batch = 0;
  index nodes = 0;
  index features = 0;

  index elements() const { return batch * nodes * features; }
  // One add per (edge, feature) and, for mean, one multiply per (node, feature); backward does
  // the same work in scatter form.
  double forward_flops(index edges, reduction r) const {
    return double(batch) * features * (double(edges) + (r == reduction::mean ? double(nodes) : 0.0));
  }
  double backward_flops(index edges, reduction r) const { return forward_flops(edges, r); }
};

// Checks the CSR invariants the kernels rely on: offsets start at 0 and never decrease, every id
// is a node. O(nodes + edges); compiled to nothing when NETMARL_ASSERT is off (release builds),
// and called by the kernels themselves when it is on.
inline void validate(const csr_view& g) {
  NETMARL_ASSERT(g.nodes >= 0, "negative node count");
  if (g.nodes == 0) return;
  NETMARL_ASSERT(g.offsets != nullptr, "csr offsets are null");
  NETMARL_ASSERT(g.offsets[0] == 0, "csr offsets[0] is " + std::to_string(g.offsets[0]));
  for (index i = 0; i < g.nodes; ++i)
    NETMARL_ASSERT(g.offsets[i] <= g.offsets[i + 1],
                   "csr offsets decrease at node " + std::to_string(i));
  NETMARL_ASSERT(g.edges() == 0 || g.indices != nullptr, "csr indices are null");
  for (index e = 0; e < g.edges(); ++e)
    NETMARL_ASSERT(g.indices[e] >= 0 && g.indices[e] < g.nodes,
                   "csr id " + std::to_string(g.indices[e]) + " at edge " + std::to_string(e) +
                       " is not a node (nodes: " + std::to_string(g.nodes) + ")");
}

// validate(g) plus the graph's node count matching the shape's.
inline void validate(const shape& s, const csr_view& g) {
  static_cast<void>(s);  // only read by the assertion
  NETMARL_ASSERT(g.nodes == s.nodes, "graph has " + std::to_string(g.nodes) +
                                         " nodes, tensors have " + std::to_string(s.nodes));
  validate(g);
}

}  // namespace netmarl::kernels::neighbor_aggregate
