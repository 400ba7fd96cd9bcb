#pragma once
// Reference DGN attention: plain loops, written to read like the definitions in spec.hpp. The test
// oracle for every backend.
#include <algorithm>
#include <cmath>
#include <limits>

#include "netmarl/backend/tags.hpp"
#include "netmarl/kernels/dgn_attention/spec.hpp"

namespace netmarl::kernels::dgn_attention {

namespace detail {
template <class T>
T dot(const T* a, const T* b, index n) {
  T sum = T(0);
  for (index f = 0; f < n; ++f) sum += a[f] * b[f];
  return sum;
}
}  // namespace detail

// Writes out and attention (the softmax weights, which backward reads).
template <class T>
void forward(backend::reference, const shape& s, const csr_view& g, const T* q, const T* k,
             const T* v, T* attention, T* out) {
#if defined(NETMARL_ENABLE_ASSERTS) && NETMARL_ENABLE_ASSERTS
  validate(s, g);
#endif
  const index F = s.features(), D = s.head_dim, H = s.heads, E = g.edges();
  const T scale = T(s.scale());
  for (index b = 0; b < s.batch; ++b) {
    const T* qb = q + b * s.nodes * F;
    const T* kb = k + b * s.nodes * F;
    const T* vb = v + b * s.nodes * F;
    T* ob = out + b * s.nodes * F;
    T* ab = attention + b * E * H;
    for (index i = 0; i < s.nodes; ++i)
      for (index h = 0; h < H; ++h) {
        const T* qi = qb + i * F + h * D;
        T* o = ob + i * F + h * D;
        std::fill(o, o + D, T(0));
        const index begin = g.offsets[i], end = g.offsets[i + 1];
        if (begin == end) continue;  // nothing to attend to: a zero row
        // Numerically stable softmax: subtract the row's largest score before exponentiating.
        T max = -std::numeric_limits<T>::infinity();
        for (index e = begin; e < end; ++e) {
          const T score = scale * detail::dot(qi, kb + index(g.indices[e]) * F + h * D, D);
          ab[e * H + h] = score;
          max = std::max(max, score);
        }
        T total = T(0);
        for (index e = begin; e < end; ++e) {
          const T w = std::exp(ab[e * H + h] - max);
          ab[e * H + h] = w;
          total += w;
        }
        for (index e = begin; e < end; ++e) {
          const T a = ab[e * H + h] / total;
          ab[e * H + h] = a;
          const T* vj = vb + index(g.indices[e]) * F + h * D;
          for (index f = 0; f < D; ++f) o[f] += a * vj[f];
        }
      }
  }
}

// Scatter form (node i pushes into d_k and d_v of every j in N(i)), so no transposed graph is
// needed and directed graphs work as they are. Overwrites d_q, d_k and d_v.
template <class T>
void backward(backend::reference, const shape& s, const csr_view& g, const T* q, const T* k,
              const T* v, const T* attention, const T* out, const T* d_out, T* d_q, T* d_k,
              T* d_v) {
#if defined(NETMARL_ENABLE_ASSERTS) && NETMARL_ENABLE_ASSERTS
  validate(s, g);
#endif
  const index F = s.features(), D = s.head_dim, H = s.heads, E = g.edges();
  const T scale = T(s.scale());
  std::fill(d_q, d_q + s.elements(), T(0));
  std::fill(d_k, d_k + s.elements(), T(0));
  std::fill(d_v, d_v + s.elements(), T(0));
  for (index b = 0; b < s.batch; ++b) {
    const index base = b * s.nodes * F;
    const T* ab = attention + b * E * H;
    for (index i = 0; i < s.nodes; ++i)
      for (index h = 0; h < H; ++h) {
        const index row_i = base + i * F + h * D;
        const T* gi = d_out + row_i;
        // The softmax Jacobian's row term sum_e a_e <g, v_j>, which is <g, out_i>.
        const T row_term = detail::dot(gi, out + row_i, D);
        T* dqi = d_q + row_i;
        for (index e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
          const index row_j = base + index(g.indices[e]) * F + h * D;
          const T a = ab[e * H + h];
          const T d_score = scale * a * (detail::dot(gi, v + row_j, D) - row_term);
          T* dvj = d_v + row_j;
          T* dkj = d_k + row_j;
          const T* kj = k + row_j;
          const T* qi = q + row_i;
          for (index f = 0; f < D; ++f) {
            dvj[f] += a * gi[f];
            dqi[f] += d_score * kj[f];
            dkj[f] += d_score * qi[f];
          }
        }
      }
  }
}

}  // namespace netmarl::kernels::dgn_attention
