#pragma once
// loopy_bp_step: one message update of the loopy belief propagation network, IP appendix B.2,
//   v_ij = ReLU(W1 s_i + b1 + W2 sum_{k in N(i)\j} v_ki)      (v_ij: the message from i to j)
// over every directed edge of a batch of graphs, and the readout's sum of arriving messages.
//
// Edges are CSR entries. Row i of a graph lists N(i), the nodes i reads from, so entry e of row i
// with sender j = indices[e] carries the message j -> i; a self-loop entry (j == i) carries none
// (its message is 0 and stays 0). With that convention, for entry e (receiver i, sender j):
//   arriving[b, j]  = sum_{e' in row j, indices[e'] != j} v_prev[b, e']   messages into j
//   gathered[b, e]  = arriving[b, j] - v_prev[b, reverse[e]]               all but the one from i
//   v[b, e]         = ReLU(node_term[b, j] + gathered[b, e] . W2)
// where node_term = s W1 + b1 is computed by the caller with the dense kernel, and reverse[e] is
// the entry of row j whose id is i (it carries i -> j). On an undirected graph this is exactly
// the appendix's update. On a directed graph (k-nearest) row j may not list i: then i never sent
// j a message, reverse[e] = -1, and nothing is subtracted (the missing message is 0).
// v_prev may be null: the first update, from v^0 = 0, is v = ReLU(node_term[b, j]) and skips the
// product. The node readout reads `arriving` for the last messages (incoming_sum below).
//
// Graphs: `graphs` holds one csr_view shared by every sample, or exactly `batch` of them (sample
// b reads graphs[b]; degrees may differ per sample). Entry-aligned buffers hold sample after
// sample: sample b's entries start at entry_offset(s, graphs, b), the entry counts of the graphs
// of samples 0..b-1 summed. `reverse` holds find_reverse_entries of each graph in `graphs`, one
// after another (for a shared graph, one graph's worth read by every sample), ids local to its
// graph.
//
// Buffers (all row-major, contiguous, caller-owned; outputs must not alias inputs).
// rows = batch * nodes; entries = total_entries(s, graphs); H = hidden.
//   node_term   [rows, H]       s W1 + b1
//   v_prev, v   [entries, H]    messages before and after the update (self-loop rows are 0)
//   w2          [H, H]
//   reverse     [sum over `graphs` of their entries]   int32, -1 for none
//   arriving    [rows, H]       scratch (unused when v_prev is null)
//   gathered    [entries, H]    scratch
// Ops:
//   forward                v from v_prev (OVERWRITES v, self-loop rows included)
//   backward               given d_v [entries, H], with d_pre = d_v * [v > 0]:
//       d_node_term[b, j] += sum_{e with sender j} d_pre[b, e]      ACCUMULATES (W1, b1 are shared
//                                                                    by every hop)
//       d_w2              += gathered^T . d_pre                      ACCUMULATES (skipped when
//                                                                    v_prev is null)
//       d_v_prev           = the adjoint of the gather above         OVERWRITES; may be null,
//                                                                    ignored when v_prev is null
//     backward recomputes `gathered` from v_prev rather than keeping it per hop (O(entries H)
//     against the O(entries H^2) product). Scratch: arriving, gathered, d_pre [entries, H].
//   incoming_sum           arriving[b, i] = sum_{e in row i, non-self} v[b, e]   OVERWRITES
//   incoming_sum_backward  d_v[b, e] = d_arriving[b, i] for non-self e in row i, 0 for
//                          self-loops                                            OVERWRITES
#include <cstdint>
#include <span>
#include <string>

#include "netmarl/core/assert.hpp"
#include "netmarl/core/csr_view.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/kernels/neighbor_aggregate/spec.hpp"

namespace netmarl::kernels::loopy_bp_step {

struct shape {
  index batch = 0;
  index nodes = 0;
  index hidden = 0;  // H: message and node-term width

  index rows() const { return batch * nodes; }

  // Arriving sums and the gather (2 entries H), the product (2 entries H^2), add and ReLU
  // (2 entries H).
  double forward_flops(index entries) const {
    const double eh = double(entries) * double(hidden);
    return 4.0 * eh + 2.0 * eh * double(hidden);
  }
  // Mask, node-term sums, gather recomputed, adjoint gather (6 entries H), two products
  // (4 entries H^2).
  double backward_flops(index entries) const {
    const double eh = double(entries) * double(hidden);
    return 6.0 * eh + 4.0 * eh * double(hidden);
  }
};

// The graph sample b reads.
inline const csr_view& graph_of(std::span<const csr_view> graphs, index b) {
  return graphs.size() == 1 ? graphs[0] : graphs[static_cast<std::size_t>(b)];
}

// Where sample b's entries start in an entry-aligned buffer.
inline index entry_offset(const shape& s, std::span<const csr_view> graphs, index b) {
  if (graphs.size() == 1) return b * graphs[0].edges();
  index offset = 0;
  for (index k = 0; k < b && k < s.batch; ++k)
    offset += graphs[static_cast<std::size_t>(k)].edges();
  return offset;
}

// Rows of an entry-aligned buffer: entries summed over the batch.
inline index total_entries(const shape& s, std::span<const csr_view> graphs) {
  return entry_offset(s, graphs, s.batch);
}

// Length of the `reverse` buffer: entries summed over `graphs` (each graph once).
inline index reverse_entries(std::span<const csr_view> graphs) {
  index total = 0;
  for (const csr_view& g : graphs) total += g.edges();
  return total;
}

// reverse[e] for entry e of row i with id j != i: the first entry of row j with id i, or -1 when
// row j does not list i; -1 for self-loops. reverse must hold g.edges() entries. A linear scan of
// row j per entry: O(sum over entries of the sender's degree), nothing allocated.
inline void find_reverse_entries(const csr_view& g, std::int32_t* reverse) {
  for (index i = 0; i < g.nodes; ++i)
    for (index e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
      const index j = g.indices[e];
      reverse[e] = -1;
      if (j == i) continue;
      for (index r = g.offsets[j]; r < g.offsets[j + 1]; ++r)
        if (g.indices[r] == i) {
          reverse[e] = static_cast<std::int32_t>(r);
          break;
        }
    }
}

// The graph count and every graph's node count fit the shape, and each graph is a valid CSR.
// Compiled to nothing when NETMARL_ASSERT is off; the models check user input themselves.
inline void validate(const shape& s, std::span<const csr_view> graphs) {
  NETMARL_ASSERT(
      graphs.size() == 1 || index(graphs.size()) == s.batch,
      "expected 1 or " + std::to_string(s.batch) + " graphs, got " + std::to_string(graphs.size()));
  for (const csr_view& g : graphs)
    neighbor_aggregate::validate(neighbor_aggregate::shape{s.batch, s.nodes, s.hidden}, g);
}

}  // namespace netmarl::kernels::loopy_bp_step
