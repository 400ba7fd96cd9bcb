#pragma once
// Reference loopy-BP message update: plain loops over the graph, Eigen for the one product over
// every entry of the batch (per-sample graphs still share a single GEMM). The test oracle for
// every backend.
#include <algorithm>
#include <cstdint>
#include <span>
#include <type_traits>

#include "netmarl/backend/tags.hpp"
#include "netmarl/kernels/loopy_bp_step/spec.hpp"

namespace netmarl::kernels::loopy_bp_step {

namespace detail {
// Calls f(b, graph, first entry of sample b, first reverse id of sample b's graph) per sample.
template <class F>
void for_each_sample(const shape& s, std::span<const csr_view> graphs, F&& f) {
  const bool shared = graphs.size() == 1;
  index entry_base = 0;
  for (index b = 0; b < s.batch; ++b) {
    const csr_view& g = graph_of(graphs, b);
    f(b, g, entry_base, shared ? index(0) : entry_base);
    entry_base += g.edges();
  }
}
}  // namespace detail

template <class T>
void incoming_sum(backend::reference, const shape& s, std::span<const csr_view> graphs, const T* v,
                  T* arriving) {
#if defined(NETMARL_ENABLE_ASSERTS) && NETMARL_ENABLE_ASSERTS
  validate(s, graphs);
#endif
  const index H = s.hidden;
  detail::for_each_sample(s, graphs, [&](index b, const csr_view& g, index base, index) {
    for (index i = 0; i < s.nodes; ++i) {
      T* a = arriving + (b * s.nodes + i) * H;
      std::fill(a, a + H, T(0));
      for (index e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
        if (g.indices[e] == i) continue;
        const T* ve = v + (base + e) * H;
        for (index f = 0; f < H; ++f) a[f] += ve[f];
      }
    }
  });
}

template <class T>
void incoming_sum_backward(backend::reference, const shape& s, std::span<const csr_view> graphs,
                           const T* d_arriving, T* d_v) {
#if defined(NETMARL_ENABLE_ASSERTS) && NETMARL_ENABLE_ASSERTS
  validate(s, graphs);
#endif
  const index H = s.hidden;
  detail::for_each_sample(s, graphs, [&](index b, const csr_view& g, index base, index) {
    for (index i = 0; i < s.nodes; ++i) {
      const T* da = d_arriving + (b * s.nodes + i) * H;
      for (index e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
        T* dv = d_v + (base + e) * H;
        if (g.indices[e] == i)
          std::fill(dv, dv + H, T(0));
        else
          std::copy(da, da + H, dv);
      }
    }
  });
}

namespace detail {
// gathered[b, e] = arriving[b, j] - v_prev[b, reverse[e]] (0 for self-loops), arriving from
// v_prev first.
template <class T>
void gather(const shape& s, std::span<const csr_view> graphs, const std::int32_t* reverse,
            const T* v_prev, T* arriving, T* gathered) {
  incoming_sum(backend::reference{}, s, graphs, v_prev, arriving);
  const index H = s.hidden;
  for_each_sample(s, graphs, [&](index b, const csr_view& g, index base, index reverse_base) {
    for (index i = 0; i < s.nodes; ++i)
      for (index e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
        T* z = gathered + (base + e) * H;
        const index j = g.indices[e];
        if (j == i) {
          std::fill(z, z + H, T(0));
          continue;
        }
        const T* a = arriving + (b * s.nodes + j) * H;
        const std::int32_t r = reverse[reverse_base + e];
        if (r < 0) {
          std::copy(a, a + H, z);
        } else {
          const T* back = v_prev + (base + r) * H;
          for (index f = 0; f < H; ++f) z[f] = a[f] - back[f];
        }
      }
  });
}
}  // namespace detail

// Nullable pointers (v_prev, d_v_prev) are non-deduced so a literal nullptr can be passed.
template <class T>
void forward(backend::reference, const shape& s, std::span<const csr_view> graphs,
             const std::int32_t* reverse, const T* node_term, const std::type_identity_t<T>* v_prev,
             const T* w2, T* arriving, T* gathered, T* v) {
#if defined(NETMARL_ENABLE_ASSERTS) && NETMARL_ENABLE_ASSERTS
  validate(s, graphs);
#endif
  const index H = s.hidden, entries = total_entries(s, graphs);
  matrix_map<T> out(v, entries, H);
  if (v_prev) {
    detail::gather(s, graphs, reverse, v_prev, arriving, gathered);
    out.noalias() = const_matrix_map<T>(gathered, entries, H) * const_matrix_map<T>(w2, H, H);
  } else {
    out.setZero();
  }
  detail::for_each_sample(s, graphs, [&](index b, const csr_view& g, index base, index) {
    for (index i = 0; i < s.nodes; ++i)
      for (index e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
        T* ve = v + (base + e) * H;
        const index j = g.indices[e];
        if (j == i) {
          std::fill(ve, ve + H, T(0));
          continue;
        }
        const T* t = node_term + (b * s.nodes + j) * H;
        for (index f = 0; f < H; ++f) ve[f] = std::max(ve[f] + t[f], T(0));
      }
  });
}

template <class T>
void backward(backend::reference, const shape& s, std::span<const csr_view> graphs,
              const std::int32_t* reverse, const std::type_identity_t<T>* v_prev, const T* w2,
              const T* v, const T* d_v, T* d_node_term, T* d_w2, std::type_identity_t<T>* d_v_prev,
              T* arriving, T* gathered, T* d_pre) {
#if defined(NETMARL_ENABLE_ASSERTS) && NETMARL_ENABLE_ASSERTS
  validate(s, graphs);
#endif
  const index H = s.hidden, entries = total_entries(s, graphs);
  // Self-loop rows of v are 0, so the mask zeroes their gradient too.
  matrix_map<T> dp(d_pre, entries, H);
  dp = (const_matrix_map<T>(v, entries, H).array() > T(0))
           .select(const_matrix_map<T>(d_v, entries, H).array(), T(0))
           .matrix();
  detail::for_each_sample(s, graphs, [&](index b, const csr_view& g, index base, index) {
    for (index i = 0; i < s.nodes; ++i)
      for (index e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
        const index j = g.indices[e];
        if (j == i) continue;
        T* dt = d_node_term + (b * s.nodes + j) * H;
        const T* de = d_pre + (base + e) * H;
        for (index f = 0; f < H; ++f) dt[f] += de[f];
      }
  });
  if (!v_prev) return;
  detail::gather(s, graphs, reverse, v_prev, arriving, gathered);
  matrix_map<T> z(gathered, entries, H);
  matrix_map<T>(d_w2, H, H).noalias() += z.transpose() * dp;
  if (!d_v_prev) return;
  z.noalias() = dp * const_matrix_map<T>(w2, H, H).transpose();  // now d_gathered
  // Adjoint of the gather: d arriving[b, j] collects d_gathered of the entries j sends on, each
  // reverse entry gives back what it took, and d arriving flows to every message into j.
  std::fill(arriving, arriving + s.rows() * H, T(0));
  std::fill(d_v_prev, d_v_prev + entries * H, T(0));
  detail::for_each_sample(s, graphs,
                          [&](index b, const csr_view& g, index base, index reverse_base) {
                            for (index i = 0; i < s.nodes; ++i)
                              for (index e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
                                const index j = g.indices[e];
                                if (j == i) continue;
                                const T* dz = gathered + (base + e) * H;
                                T* da = arriving + (b * s.nodes + j) * H;
                                for (index f = 0; f < H; ++f) da[f] += dz[f];
                                const std::int32_t r = reverse[reverse_base + e];
                                if (r >= 0) {
                                  T* back = d_v_prev + (base + r) * H;
                                  for (index f = 0; f < H; ++f) back[f] -= dz[f];
                                }
                              }
                            for (index j = 0; j < s.nodes; ++j) {
                              const T* da = arriving + (b * s.nodes + j) * H;
                              for (index e = g.offsets[j]; e < g.offsets[j + 1]; ++e) {
                                if (g.indices[e] == j) continue;
                                T* dv = d_v_prev + (base + e) * H;
                                for (index f = 0; f < H; ++f) dv[f] += da[f];
                              }
                            }
                          });
}

}  // namespace netmarl::kernels::loopy_bp_step
