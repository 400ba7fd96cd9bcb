#pragma once
// SIMD qtran_joint ops for float (other types delegate to the reference), vectorised over the
// feature axis: every op moves whole rows of width `width` or `encoding` (PyMARL's H + A = 80,
// five AVX-512 vectors), so each row is a few contiguous vector loads and stores.
//   add_action_rows / _backward  one gathered (scattered) row per agent row: an add per vector.
//   agent_sum                    per sample, the row is held in up to 8 register accumulators
//                                while the loop walks the sample's agents once per chunk; each
//                                encoding row is read once and the output written once (so
//                                `sum` is overwritten without a zeroing pass, and a sample with
//                                no agents gets zeros).
//   agent_sum_backward           a broadcast of the sample's gradient row, scaled per agent.
// Tail strategy: the last features % W entries (fewer than one vector) use scalar loops; no
// access runs past a row, since rows are packed back to back and the sum rows are strided.
#include <type_traits>
#include <xsimd/xsimd.hpp>

#include "netmarl/backend/tags.hpp"
#include "netmarl/kernels/qtran_joint/operations_generic.hpp"
#include "netmarl/kernels/qtran_joint/spec.hpp"

namespace netmarl::kernels::qtran_joint {

namespace simd_detail {

template <class Arch>
struct rows {
  using batch = xsimd::batch<float, Arch>;
  static constexpr index W = static_cast<index>(batch::size);
  static constexpr int max_vectors = 8;

  // dst[0, n) += src[0, n).
  static void add(const float* src, float* dst, index n) {
    index k = 0;
    for (; k + W <= n; k += W)
      (batch::load_unaligned(dst + k) + batch::load_unaligned(src + k)).store_unaligned(dst + k);
    for (; k < n; ++k) dst[k] += src[k];
  }

  // dst[0, n) = weight * src[0, n).
  static void scale(float weight, const float* src, float* dst, index n) {
    const batch w(weight);
    index k = 0;
    for (; k + W <= n; k += W) (w * batch::load_unaligned(src + k)).store_unaligned(dst + k);
    for (; k < n; ++k) dst[k] = weight * src[k];
  }

  // out[0, NV*W) = sum_i alive[i] e[i * ld, + NV*W) over `count` rows (alive null: weights 1).
  template <int NV>
  static void weighted_sum(const float* e, index ld, const float* alive, index count, float* out) {
    batch acc[NV];
    for (int v = 0; v < NV; ++v) acc[v] = batch(0.0f);
    if (alive) {
      for (index i = 0; i < count; ++i) {
        const batch w(alive[i]);
        const float* row = e + i * ld;
        for (int v = 0; v < NV; ++v)
          acc[v] = xsimd::fma(w, batch::load_unaligned(row + v * W), acc[v]);
      }
    } else {
      for (index i = 0; i < count; ++i) {
        const float* row = e + i * ld;
        for (int v = 0; v < NV; ++v) acc[v] += batch::load_unaligned(row + v * W);
      }
    }
    for (int v = 0; v < NV; ++v) acc[v].store_unaligned(out + v * W);
  }

  // Calls op.template operator()<NV>(f) over the whole-vector part of [0, n) in chunks of 8, 4,
  // 2, 1 vectors; returns where the scalar tail starts.
  template <class Op>
  static index for_each_chunk(index n, Op&& op) {
    index f = 0;
    for (; f + max_vectors * W <= n; f += max_vectors * W) op.template operator()<max_vectors>(f);
    if (f + 4 * W <= n) op.template operator()<4>(f), f += 4 * W;
    if (f + 2 * W <= n) op.template operator()<2>(f), f += 2 * W;
    if (f + W <= n) op.template operator()<1>(f), f += W;
    return f;
  }
};

}  // namespace simd_detail

template <class Arch, class T>
void add_action_rows(backend::simd<Arch>, const shape& s, const int* actions,
                     const T* action_weight, T* pre) {
  if constexpr (!std::is_same_v<T, float>) {
    add_action_rows(backend::reference{}, s, actions, action_weight, pre);
  } else {
    using k = simd_detail::rows<Arch>;
    const index w = s.width;
    for (index r = 0; r < s.rows(); ++r)
      k::add(action_weight + index(actions[r]) * w, pre + r * w, w);
  }
}

template <class Arch, class T>
void add_action_rows_backward(backend::simd<Arch>, const shape& s, const int* actions,
                              const T* d_pre, T* d_action_weight) {
  if constexpr (!std::is_same_v<T, float>) {
    add_action_rows_backward(backend::reference{}, s, actions, d_pre, d_action_weight);
  } else {
    using k = simd_detail::rows<Arch>;
    const index w = s.width;
    // Rows in order, so repeated actions accumulate in the reference's order.
    for (index r = 0; r < s.rows(); ++r)
      k::add(d_pre + r * w, d_action_weight + index(actions[r]) * w, w);
  }
}

template <class Arch, class T>
void agent_sum(backend::simd<Arch>, const shape& s, const T* encodings, const T* alive, T* sum,
               index sum_stride) {
  if constexpr (!std::is_same_v<T, float>) {
    agent_sum(backend::reference{}, s, encodings, alive, sum, sum_stride);
  } else {
    using k = simd_detail::rows<Arch>;
    const index n = s.agents, e_size = s.encoding;
    for (index b = 0; b < s.batch; ++b) {
      const float* e = encodings + b * n * e_size;
      const float* a = alive ? alive + b * n : nullptr;
      float* out = sum + b * sum_stride;
      const index tail = k::for_each_chunk(e_size, [&]<int NV>(index f) {
        k::template weighted_sum<NV>(e + f, e_size, a, n, out + f);
      });
      for (index f = tail; f < e_size; ++f) {
        float acc = 0.0f;
        for (index i = 0; i < n; ++i) acc += (a ? a[i] : 1.0f) * e[i * e_size + f];
        out[f] = acc;
      }
    }
  }
}

template <class Arch, class T>
void agent_sum_backward(backend::simd<Arch>, const shape& s, const T* d_sum, index d_sum_stride,
                        const T* alive, T* d_encodings) {
  if constexpr (!std::is_same_v<T, float>) {
    agent_sum_backward(backend::reference{}, s, d_sum, d_sum_stride, alive, d_encodings);
  } else {
    using k = simd_detail::rows<Arch>;
    const index n = s.agents, e_size = s.encoding;
    for (index b = 0; b < s.batch; ++b) {
      const float* d = d_sum + b * d_sum_stride;
      for (index i = 0; i < n; ++i) {
        const index r = b * n + i;
        k::scale(alive ? alive[r] : 1.0f, d, d_encodings + r * e_size, e_size);
      }
    }
  }
}

}  // namespace netmarl::kernels::qtran_joint
