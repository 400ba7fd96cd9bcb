#pragma once
// qtran_joint: the per-agent steps of QTRAN-base's joint network Q_jt(s, u) (Son et al. 2019,
// section 3.1; PyMARL QTranBase, qtran_arch "qtran_paper"). Per sample b and agent i, with row
// r = b * agents + i:
//   e_r = encoder([h_r, onehot(u_r)])          E_b = sum_i alive[r] e_r
//   Q_jt(s_b, u_b) = MLP([s_b, E_b])
// The choice made here: the kernel is the part that is not a dense layer, the one-hot and the
// agent sum. The encoder's first layer multiplies [h, onehot(u)] by W = [W_h; W_a] (W_h its first
// `hidden` rows, W_a its last `actions` rows, contiguous in row-major storage), and
//   [h, onehot(u)] . W + c = h . W_h + c + W_a[u, :],
// so the one-hot is never built: the dense kernel computes h . W_h + c over the first `hidden`
// rows of W, and `add_action_rows` adds row u of W_a (a gather instead of a multiply by a mostly
// zero matrix; with PyMARL's sizes, hidden 64 and 16 actions, that is a fifth of the first layer).
// The second op is the masked sum over agents; it writes E_b straight into its column block of
// the joint network's input row [s_b, E_b] (a row stride), so no concatenation copy is needed.
//
// Buffers (row-major, contiguous unless a stride is given, caller-owned; outputs must not alias
// inputs). rows = batch * agents.
//   actions        [rows]                  int, each in [0, actions) (not checked here: the model
//                                          validates user input once per call)
//   action_weight  [actions, width]        W_a
//   pre            [rows, width]           the first layer's pre-activation
//   encodings      [rows, encoding]        e_r
//   alive          [rows] or null          per-agent weight (1 alive, 0 dead); null: all 1
//   sum            [batch] rows of `sum_stride` elements; E_b is its first `encoding` entries
// Ops (rows r, feature k):
//   add_action_rows           pre[r, k] += W_a[u_r, k]
//   add_action_rows_backward  d_W_a[u_r, k] += d_pre[r, k]       ACCUMULATES (a parameter gradient)
//   agent_sum                 sum[b, k] = sum_i alive[r] e[r, k]   OVERWRITES
//   agent_sum_backward        d_e[r, k] = alive[r] d_sum[b, k]     OVERWRITES (per-sample input)
// A dead agent (alive 0) contributes nothing to E_b and gets a zero gradient: PyMARL has no such
// mask (its dead agents keep encoding their no-op), ours lets sub-teams and dead agents drop out.
#include "netmarl/core/tensor.hpp"

namespace netmarl::kernels::qtran_joint {

struct shape {
  index batch = 0;
  index agents = 0;
  index actions = 0;   // |A|: rows of W_a
  index width = 0;     // the encoder's first-layer width (columns of W_a and pre)
  index encoding = 0;  // width of e_r and E_b

  index rows() const { return batch * agents; }

  // One add per (row, feature); backward the same in scatter form.
  double action_rows_flops() const { return double(rows()) * double(width); }
  double action_rows_backward_flops() const { return action_rows_flops(); }
  // A multiply by alive and an add per (row, feature); backward one multiply per (row, feature).
  double agent_sum_flops() const { return 2.0 * double(rows()) * double(encoding); }
  double agent_sum_backward_flops() const { return double(rows()) * double(encoding); }
};

}  // namespace netmarl::kernels::qtran_joint
