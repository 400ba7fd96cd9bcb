#pragma once
// subteam_sum: VAST eq. 4, the sub-team values Q^G_k = sum_{j in G_k} Q_j, over a batch of
// divisions (one assignment of the agents to K sub-teams per sample).
// Buffers (all row-major, contiguous, caller-owned; outputs must not alias inputs):
//   q        [batch, agents]      per-agent utilities (chosen-action Q_i, or max_a Q_i: the
//                                 authors' code sums both with the same call, so does ours)
//   groups   [batch, agents]      std::int32_t sub-team of agent i in sample b, in [0, subteams)
//   q_group  [batch, subteams]    Q^G_k
//   forward   q_group[b, k] = sum_{i : groups[b, i] = k} q[b, i]
//             an empty sub-team gives 0 (VAST algorithm 1 starts each G_k empty; a sum over no
//             agents is 0, so Psi sees a zero input in that slot, as in the authors' code).
//   backward  d_q[b, i] = d_q_group[b, groups[b, i]]
//             the adjoint of forward; it OVERWRITES d_q (no parameters, nothing accumulates).
// A group id outside [0, subteams) would write out of bounds, so the reference kernels check
// every id (one comparison per agent, always on) and throw netmarl::invalid_argument naming it.
#include <cstdint>
#include <string>

#include "netmarl/core/error.hpp"
#include "netmarl/core/tensor.hpp"

namespace netmarl::kernels::subteam_sum {

struct shape {
  index batch = 0;
  index agents = 0;
  index subteams = 0;

  index q_elements() const { return batch * agents; }
  index group_elements() const { return batch * subteams; }
  // One add per agent; backward is one gather per agent (counted as one flop).
  double forward_flops() const { return double(batch) * double(agents); }
  double backward_flops() const { return forward_flops(); }
};

// Throws invalid_argument unless the sizes are usable: batch, agents >= 0 and, when there are
// agents to place, subteams >= 1.
inline void check_shape(const char* where, const shape& s) {
  if (s.batch < 0 || s.agents < 0 || s.subteams < 0 || (s.agents > 0 && s.subteams < 1))
    throw invalid_argument(std::string(where) + ": shape {batch " + std::to_string(s.batch) +
                           ", agents " + std::to_string(s.agents) + ", subteams " +
                           std::to_string(s.subteams) +
                           "} is invalid (sizes must be >= 0 and subteams >= 1 when agents > 0)");
}

// Throws the message for group id `k` of agent i in sample b, out of [0, subteams).
[[noreturn]] inline void throw_bad_group(const char* where, const shape& s, index b, index i,
                                         std::int32_t k) {
  throw invalid_argument(std::string(where) + ": groups[" + std::to_string(b) + ", " +
                         std::to_string(i) + "] = " + std::to_string(k) + " is out of range [0, " +
                         std::to_string(s.subteams) + ")");
}

}  // namespace netmarl::kernels::subteam_sum
