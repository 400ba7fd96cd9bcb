#pragma once
// mean_field_step: one hop of the mean-field (structure2vec) intention propagation network,
// IP appendix B.1, in aggregate-then-multiply order:
//   mu[r, :] = ReLU(pre_state[r, :] + aggregated[r, :] . W2)
//   aggregated[r, :] = sum_{j in N(i)} mu_prev[b * nodes + j, :]      r = b * nodes + i
// The state half of the hop, (sum_{j in N(i)} s_j) W1 + b, is a plain dense product of the
// aggregated states; the caller computes it once per hop with the dense kernel (bias included)
// and passes it as `pre_state`. The kernel owns the part that reads the graph.
//
// Graphs: `graphs` holds one csr_view shared by every sample, or exactly `batch` of them (sample
// b reads graphs[b]; dynamic topologies, degrees may differ per sample). Row i of a graph lists
// N(i), the nodes i reads from; the kernel sums over whatever it lists (graph::csr stores the
// self-loop first, which gives the paper's "mu_i + sum_j mu_j"). An empty row gives a zero
// aggregate; a repeated id counts twice.
//
// Buffers (all row-major, contiguous, caller-owned; outputs must not alias inputs).
// rows = batch * nodes; D = mu_prev's width, H = hidden.
//   pre_state   [rows, H]    (A s) W1 + b
//   mu_prev     [rows, D]    the previous hop's intentions mu^{m-1}
//   w2          [D, H]
//   aggregated  [rows, D]    forward writes A mu_prev; backward reads it (d_w2 = aggregated^T
//   d_pre) mu          [rows, H]    forward writes mu^m; backward reads it (ReLU' from the output)
// Backward, given d_mu [rows, H]:
//   d_pre        = d_mu * [mu > 0]                      OVERWRITES (also d pre_state: the caller
//                                                       backpropagates it into W1, b and A s)
//   d_w2        += aggregated^T . d_pre                 ACCUMULATES (a parameter gradient)
//   d_aggregated = d_pre . W2^T                         OVERWRITES (scratch [rows, D])
//   d_mu_prev[b * nodes + j] = sum_{i : j in N(i)} d_aggregated[b * nodes + i]
//                                                       OVERWRITES
// d_mu_prev may be null (nothing upstream needs it): then d_aggregated is neither written nor
// read, and may be null too.
#include <span>
#include <string>

#include "netmarl/core/assert.hpp"
#include "netmarl/core/csr_view.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/kernels/neighbor_aggregate/spec.hpp"

namespace netmarl::kernels::mean_field_step {

struct shape {
  index batch = 0;
  index nodes = 0;
  index inputs = 0;  // D: mu_prev's width (the intention size at hop 1, hidden after)
  index hidden = 0;  // H

  index rows() const { return batch * nodes; }

  // Aggregation: one add per (entry, input feature) summed over the batch's graphs; the product
  // 2 rows D H; the add and ReLU 2 rows H.
  double forward_flops(index entries) const {
    return double(entries) * double(inputs) +
           2.0 * double(rows()) * double(inputs) * double(hidden) +
           2.0 * double(rows()) * double(hidden);
  }
  // Mask (rows H), two products (4 rows D H), the transposed aggregation (entries D).
  double backward_flops(index entries) const {
    return double(rows()) * double(hidden) +
           4.0 * double(rows()) * double(inputs) * double(hidden) +
           double(entries) * double(inputs);
  }
};

// The graph sample b reads.
inline const csr_view& graph_of(std::span<const csr_view> graphs, index b) {
  return graphs.size() == 1 ? graphs[0] : graphs[static_cast<std::size_t>(b)];
}

// CSR entries summed over the batch (a shared graph counts once per sample): the `entries` of the
// flop counts.
inline index total_entries(const shape& s, std::span<const csr_view> graphs) {
  index total = 0;
  for (index b = 0; b < s.batch; ++b) total += graph_of(graphs, b).edges();
  return total;
}

// The graph count and every graph's node count fit the shape, and each graph is a valid CSR.
// Compiled to nothing when NETMARL_ASSERT is off; the models check user input themselves.
inline void validate(const shape& s, std::span<const csr_view> graphs) {
  NETMARL_ASSERT(
      graphs.size() == 1 || index(graphs.size()) == s.batch,
      "expected 1 or " + std::to_string(s.batch) + " graphs, got " + std::to_string(graphs.size()));
  for (const csr_view& g : graphs)
    neighbor_aggregate::validate(neighbor_aggregate::shape{s.batch, s.nodes, s.inputs}, g);
}

}  // namespace netmarl::kernels::mean_field_step
