#pragma once
// qmix_mixer: the QMIX mixing network applied to a batch, given the hypernetworks' outputs
// (Rashid et al. 2018, the mixing network; VAST section 2.2). Per sample b, with W1_b viewed as
// an [agents, embed] matrix:
//   pre_b   = q_b . W1_b + b1_b                  [1, embed]
//   q_tot_b = ELU(pre_b) . w_final_b + v_b       scalar       (ELU with alpha = 1)
// W1 and w_final are expected non-negative (the caller takes |.| of the hypernetwork outputs,
// which is what makes dQ_tot/dQ_i >= 0, QMIX eq. 5); the kernel neither checks nor enforces it.
//
// Buffers (all row-major, contiguous, caller-owned; outputs must not alias inputs):
//   q        [batch, agents]           chosen-action utilities Q_i
//   w1       [batch, agents * embed]   sample b's W1 at w1[b*agents*embed + i*embed + e]
//   b1       [batch, embed]
//   w_final  [batch, embed]
//   v        [batch]                   V(s_b)
//   pre      [batch, embed]            cache: forward writes the pre-activation, backward reads it
//   q_tot    [batch]
// Backward: every input is per sample (none is a parameter), so every gradient is OVERWRITTEN:
//   d_v = d_q_tot                 d_w_final = d_q_tot * ELU(pre)
//   d_b1 = d_pre = d_q_tot * w_final * ELU'(pre)
//   d_w1[i, e] = q_i * d_pre_e    d_q_i = sum_e W1[i, e] * d_pre_e
// ELU'(x) = 1 for x > 0, exp(x) otherwise: recomputed from `pre`, so the cache holds one buffer.
#include "netmarl/core/tensor.hpp"

namespace netmarl::kernels::qmix_mixer {

struct shape {
  index batch = 0;
  index agents = 0;
  index embed = 0;

  index w1_size() const { return batch * agents * embed; }

  // Per sample: q . W1 (2 N E), + b1 (E), ELU (E, one exp counted as one flop), . w_final (2 E),
  // + v (1).
  double forward_flops() const {
    return double(batch) * (2.0 * double(agents) * double(embed) + 4.0 * double(embed) + 1.0);
  }
  // Per sample: ELU and its derivative (2 E), d_w_final (E), d_pre (2 E), d_w1 (N E), d_q (2 N E).
  double backward_flops() const {
    return double(batch) * (3.0 * double(agents) * double(embed) + 5.0 * double(embed));
  }
};

}  // namespace netmarl::kernels::qmix_mixer
