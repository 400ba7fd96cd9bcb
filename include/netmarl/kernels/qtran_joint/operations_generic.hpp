#pragma once
// Reference qtran_joint ops: plain loops, written to read like the definitions in spec.hpp (and
// to be mirrored one sample per thread block by a CUDA version). The test oracle for every backend.
#include <algorithm>

#include "netmarl/backend/tags.hpp"
#include "netmarl/kernels/qtran_joint/spec.hpp"

namespace netmarl::kernels::qtran_joint {

// pre[r, :] += W_a[u_r, :]: the one-hot half of the encoder's first layer.
template <class T>
void add_action_rows(backend::reference, const shape& s, const int* actions, const T* action_weight,
                     T* pre) {
  const index w = s.width;
  for (index r = 0; r < s.rows(); ++r) {
    const T* row = action_weight + index(actions[r]) * w;
    T* p = pre + r * w;
    for (index k = 0; k < w; ++k) p[k] += row[k];
  }
}

// d_W_a[u_r, :] += d_pre[r, :]: the transpose of the gather, a scatter-add.
template <class T>
void add_action_rows_backward(backend::reference, const shape& s, const int* actions,
                              const T* d_pre, T* d_action_weight) {
  const index w = s.width;
  for (index r = 0; r < s.rows(); ++r) {
    T* row = d_action_weight + index(actions[r]) * w;
    const T* d = d_pre + r * w;
    for (index k = 0; k < w; ++k) row[k] += d[k];
  }
}

// sum[b * sum_stride + k] = sum_i alive[b * agents + i] e[b * agents + i, k].
template <class T>
void agent_sum(backend::reference, const shape& s, const T* encodings, const T* alive, T* sum,
               index sum_stride) {
  const index n = s.agents, e_size = s.encoding;
  for (index b = 0; b < s.batch; ++b) {
    T* out = sum + b * sum_stride;
    std::fill(out, out + e_size, T(0));
    for (index i = 0; i < n; ++i) {
      const index r = b * n + i;
      const T weight = alive ? alive[r] : T(1);
      const T* e = encodings + r * e_size;
      for (index k = 0; k < e_size; ++k) out[k] += weight * e[k];
    }
  }
}

// d_e[b * agents + i, k] = alive[b * agents + i] d_sum[b * d_sum_stride + k].
template <class T>
void agent_sum_backward(backend::reference, const shape& s, const T* d_sum, index d_sum_stride,
                        const T* alive, T* d_encodings) {
  const index n = s.agents, e_size = s.encoding;
  for (index b = 0; b < s.batch; ++b) {
    const T* d = d_sum + b * d_sum_stride;
    for (index i = 0; i < n; ++i) {
      const index r = b * n + i;
      const T weight = alive ? alive[r] : T(1);
      T* d_e = d_encodings + r * e_size;
      for (index k = 0; k < e_size; ++k) d_e[k] = weight * d[k];
    }
  }
}

}  // namespace netmarl::kernels::qtran_joint
