#pragma once
// Reference sub-team sum (VAST eq. 4): plain loops, written to read like the definitions in
// spec.hpp. The test oracle for every backend.
#include <algorithm>
#include <cstdint>

#include "netmarl/backend/tags.hpp"
#include "netmarl/kernels/subteam_sum/spec.hpp"

namespace netmarl::kernels::subteam_sum {

template <class T>
void forward(backend::reference, const shape& s, const T* q, const std::int32_t* groups,
             T* q_group) {
  check_shape("subteam_sum forward", s);
  const index n = s.agents, k_count = s.subteams;
  std::fill(q_group, q_group + s.group_elements(), T(0));  // empty sub-teams stay 0
  for (index b = 0; b < s.batch; ++b) {
    const T* qb = q + b * n;
    const std::int32_t* gb = groups + b * n;
    T* out = q_group + b * k_count;
    for (index i = 0; i < n; ++i) {
      const std::int32_t k = gb[i];
      if (k < 0 || k >= k_count) throw_bad_group("subteam_sum forward", s, b, i, k);
      out[k] += qb[i];
    }
  }
}

// Each agent receives its sub-team's gradient: dQ^G_k / dQ_j = 1 for j in G_k.
template <class T>
void backward(backend::reference, const shape& s, const std::int32_t* groups, const T* d_q_group,
              T* d_q) {
  check_shape("subteam_sum backward", s);
  const index n = s.agents, k_count = s.subteams;
  for (index b = 0; b < s.batch; ++b) {
    const std::int32_t* gb = groups + b * n;
    const T* db = d_q_group + b * k_count;
    T* out = d_q + b * n;
    for (index i = 0; i < n; ++i) {
      const std::int32_t k = gb[i];
      if (k < 0 || k >= k_count) throw_bad_group("subteam_sum backward", s, b, i, k);
      out[i] = db[k];
    }
  }
}

}  // namespace netmarl::kernels::subteam_sum
