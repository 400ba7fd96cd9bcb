#pragma once
// dgn_attention: the core of DGN's relation kernel (Jiang et al. 2020, section 3.2, without the
// Q/K/V projections and the output layer): per head, scaled dot-product attention of every node
// over its CSR neighbourhood, for a batch of samples that share one graph.
// Buffers (all row-major, contiguous, caller-owned; outputs must not alias inputs):
//   q, k, v, out, d_out, d_q, d_k, d_v   [batch, nodes, heads * head_dim]
//                                        (head h owns columns [h * head_dim, (h + 1) * head_dim))
//   attention                            [batch, edges, heads], edge e of the csr, per head
// Graph: a netmarl::csr_view whose row i lists N(i), the nodes i attends to. N(i) includes i when
// the caller wants a self term (graph::csr stores the self-loop first); it is not added here.
// Directed graphs are fine. A repeated id is two entries of the softmax.
//   forward   s_e = scale * <q[b, i, h], k[b, j_e, h]>        for e in row i, j_e = indices[e]
//             attention[b, e, h] = exp(s_e - max_row s) / sum_{e' in row i} exp(s_e' - max_row s)
//             out[b, i, h] = sum_{e in row i} attention[b, e, h] * v[b, j_e, h]
//             scale = 1 / sqrt(head_dim). An empty neighbourhood gives a zero row of out.
//   backward  with a_e = attention[b, e, h], g = d_out[b, i, h]:
//             d_v[b, j_e, h] += a_e * g
//             d_s_e = a_e * (<g, v[b, j_e, h]> - <g, out[b, i, h]>)   (<g, out> = sum_e a_e <g,
//             v_j>) d_q[b, i, h]   += scale * sum_e d_s_e * k[b, j_e, h] d_k[b, j_e, h] += scale *
//             d_s_e * q[b, i, h] it OVERWRITES d_q, d_k and d_v (no parameters, nothing accumulates
//             across calls).
// Backward reads forward's `out` as well as its attention weights: <g, out> is the softmax
// Jacobian's row term in one dot product per (node, head), so no per-edge scratch is needed.
#include <cmath>
#include <string>

#include "netmarl/core/assert.hpp"
#include "netmarl/core/csr_view.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/kernels/neighbor_aggregate/spec.hpp"

namespace netmarl::kernels::dgn_attention {

struct shape {
  index batch = 0;
  index nodes = 0;
  index heads = 0;
  index head_dim = 0;

  index features() const { return heads * head_dim; }
  index elements() const { return batch * nodes * features(); }
  index attention_elements(index edges) const { return batch * edges * heads; }
  // DGN's code divides the scores by sqrt(dv), the per-head width (Transformer scaling).
  double scale() const { return 1.0 / std::sqrt(double(head_dim)); }

  // Per (edge, feature): a multiply-add for the score and one for the weighted sum; the softmax's
  // exponentials (one per edge and head) are not counted.
  double forward_flops(index edges) const { return 4.0 * batch * double(edges) * features(); }
  // Per (edge, feature): <g, v_j>, d_v, d_q and d_k, a multiply-add each; plus <g, out> per node.
  double backward_flops(index edges) const {
    return 8.0 * batch * double(edges) * features() + 2.0 * double(elements());
  }
};

// The CSR invariants are neighbor_aggregate's (offsets from 0, non-decreasing, every id a node),
// plus the graph's node count matching the shape's. Compiled to nothing when NETMARL_ASSERT is off.
inline void validate(const shape& s, const csr_view& g) {
  static_cast<void>(s);  // only read by the assertions
  NETMARL_ASSERT(g.nodes == s.nodes, "graph has " + std::to_string(g.nodes) +
                                         " nodes, tensors have " + std::to_string(s.nodes));
  NETMARL_ASSERT(s.heads >= 1 && s.head_dim >= 1,
                 "heads " + std::to_string(s.heads) + " and head_dim " +
                     std::to_string(s.head_dim) + " must both be >= 1");
  neighbor_aggregate::validate(g);
}

}  // namespace netmarl::kernels::dgn_attention
