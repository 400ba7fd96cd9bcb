#pragma once
// Reference QMIX mixer: plain loops, written to read like the definitions in spec.hpp (and to be
// mirrored one sample per thread block by a CUDA version). The test oracle for every backend.
#include <cmath>

#include "netmarl/backend/tags.hpp"
#include "netmarl/kernels/qmix_mixer/spec.hpp"

namespace netmarl::kernels::qmix_mixer {

template <class T>
void forward(backend::reference, const shape& s, const T* q, const T* w1, const T* b1,
             const T* w_final, const T* v, T* pre, T* q_tot) {
  const index n = s.agents, e_size = s.embed;
  for (index b = 0; b < s.batch; ++b) {
    const T* qb = q + b * n;
    const T* w1b = w1 + b * n * e_size;
    const T* b1b = b1 + b * e_size;
    const T* wfb = w_final + b * e_size;
    T* preb = pre + b * e_size;
    for (index e = 0; e < e_size; ++e) preb[e] = b1b[e];
    for (index i = 0; i < n; ++i) {  // row by row over W1_b: contiguous reads
      const T qi = qb[i];
      const T* row = w1b + i * e_size;
      for (index e = 0; e < e_size; ++e) preb[e] += qi * row[e];
    }
    T total = v[b];
    for (index e = 0; e < e_size; ++e) {
      const T x = preb[e];
      total += (x > T(0) ? x : std::expm1(x)) * wfb[e];
    }
    q_tot[b] = total;
  }
}

// d_b1 doubles as the d_pre scratch: the two are equal (pre = ... + b1).
template <class T>
void backward(backend::reference, const shape& s, const T* q, const T* w1, const T* w_final,
              const T* pre, const T* d_q_tot, T* d_q, T* d_w1, T* d_b1, T* d_w_final, T* d_v) {
  const index n = s.agents, e_size = s.embed;
  for (index b = 0; b < s.batch; ++b) {
    const T g = d_q_tot[b];
    const T* qb = q + b * n;
    const T* w1b = w1 + b * n * e_size;
    const T* wfb = w_final + b * e_size;
    const T* preb = pre + b * e_size;
    T* d_preb = d_b1 + b * e_size;
    T* d_wfb = d_w_final + b * e_size;
    d_v[b] = g;
    for (index e = 0; e < e_size; ++e) {
      const T x = preb[e];
      const bool positive = x > T(0);
      d_wfb[e] = g * (positive ? x : std::expm1(x));
      d_preb[e] = g * wfb[e] * (positive ? T(1) : std::exp(x));
    }
    T* d_qb = d_q + b * n;
    T* d_w1b = d_w1 + b * n * e_size;
    for (index i = 0; i < n; ++i) {
      const T qi = qb[i];
      const T* row = w1b + i * e_size;
      T* d_row = d_w1b + i * e_size;
      T sum = T(0);
      for (index e = 0; e < e_size; ++e) {
        d_row[e] = qi * d_preb[e];
        sum += row[e] * d_preb[e];
      }
      d_qb[i] = sum;
    }
  }
}

}  // namespace netmarl::kernels::qmix_mixer
