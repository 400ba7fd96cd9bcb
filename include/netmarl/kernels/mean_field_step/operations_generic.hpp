#pragma once
// Reference mean-field hop: plain loops for the graph, Eigen for the one product over all rows
// (per-sample graphs still share a single GEMM). The test oracle for every backend.
#include <algorithm>
#include <span>
#include <type_traits>

#include "netmarl/backend/tags.hpp"
#include "netmarl/kernels/mean_field_step/spec.hpp"

namespace netmarl::kernels::mean_field_step {

template <class T>
void forward(backend::reference, const shape& s, std::span<const csr_view> graphs,
             const T* pre_state, const T* mu_prev, const T* w2, T* aggregated, T* mu) {
#if defined(NETMARL_ENABLE_ASSERTS) && NETMARL_ENABLE_ASSERTS
  validate(s, graphs);
#endif
  const index D = s.inputs, H = s.hidden;
  for (index b = 0; b < s.batch; ++b) {
    const csr_view& g = graph_of(graphs, b);
    const T* sample = mu_prev + b * s.nodes * D;
    for (index i = 0; i < s.nodes; ++i) {
      T* a = aggregated + (b * s.nodes + i) * D;
      std::fill(a, a + D, T(0));
      for (index e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
        const T* mj = sample + index(g.indices[e]) * D;
        for (index f = 0; f < D; ++f) a[f] += mj[f];
      }
    }
  }
  const_matrix_map<T> agg(aggregated, s.rows(), D);
  const_matrix_map<T> weight(w2, D, H);
  const_matrix_map<T> pre(pre_state, s.rows(), H);
  matrix_map<T> out(mu, s.rows(), H);
  out.noalias() = agg * weight;
  out = (out + pre).cwiseMax(T(0));
}

// d_aggregated and d_mu_prev are non-deduced so a literal nullptr can be passed.
template <class T>
void backward(backend::reference, const shape& s, std::span<const csr_view> graphs,
              const T* aggregated, const T* w2, const T* mu, const T* d_mu, T* d_pre, T* d_w2,
              std::type_identity_t<T>* d_aggregated, std::type_identity_t<T>* d_mu_prev) {
#if defined(NETMARL_ENABLE_ASSERTS) && NETMARL_ENABLE_ASSERTS
  validate(s, graphs);
#endif
  const index D = s.inputs, H = s.hidden;
  const_matrix_map<T> out(mu, s.rows(), H);
  const_matrix_map<T> d_out(d_mu, s.rows(), H);
  matrix_map<T> dp(d_pre, s.rows(), H);
  dp = (out.array() > T(0)).select(d_out.array(), T(0)).matrix();
  const_matrix_map<T> agg(aggregated, s.rows(), D);
  matrix_map<T>(d_w2, D, H).noalias() += agg.transpose() * dp;
  if (!d_mu_prev) return;
  matrix_map<T> d_agg(d_aggregated, s.rows(), D);
  d_agg.noalias() = dp * const_matrix_map<T>(w2, D, H).transpose();
  // Scatter: each i pushes its gradient to every j it read, so directed graphs need no transpose.
  std::fill(d_mu_prev, d_mu_prev + s.rows() * D, T(0));
  for (index b = 0; b < s.batch; ++b) {
    const csr_view& g = graph_of(graphs, b);
    T* sample = d_mu_prev + b * s.nodes * D;
    for (index i = 0; i < s.nodes; ++i) {
      const T* gi = d_aggregated + (b * s.nodes + i) * D;
      for (index e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
        T* dj = sample + index(g.indices[e]) * D;
        for (index f = 0; f < D; ++f) dj[f] += gi[f];
      }
    }
  }
}

}  // namespace netmarl::kernels::mean_field_step
