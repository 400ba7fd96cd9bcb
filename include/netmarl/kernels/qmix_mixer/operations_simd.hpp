#pragma once
// SIMD QMIX mixer for float (other types delegate to the reference), vectorised over embed.
//
// Why this shape: per sample, pre = b1 + sum_i q_i W1[i, :] is a sum of whole W1 rows, so the
// vector runs along embed, with up to 8 vectors of pre (128 floats under AVX-512; PyMARL's 32 is
// two) in registers while the agent loop streams W1 once; ELU and the dot with w_final follow on
// the registers. Backward keeps d_pre's chunk in registers and streams W1 and d_w1 once per chunk:
// each agent gives one product vector for d_q_i, and W of them are reduced together (lane_sums,
// one transposing reduction instead of W horizontal sums).
//
// ELU and its derivative share one expm1 (ELU'(x) = expm1(x) + 1 for x <= 0), taken of min(x, 0)
// so the unused branch never overflows.
//
// Tail strategy: the last embed % W entries use scalar loops; chunks of 8, 4, 2 and 1 vectors are
// separate instantiations, so any embed size works. Every output entry is stored (OVERWRITES).
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <xsimd/xsimd.hpp>

#include "netmarl/backend/tags.hpp"
#include "netmarl/kernels/qmix_mixer/operations_generic.hpp"
#include "netmarl/kernels/qmix_mixer/spec.hpp"

namespace netmarl::kernels::qmix_mixer {

namespace simd_detail {

// Lane sums of W vectors, as one vector: xsimd::haddp, except on AVX-512, where xsimd 8.1's haddp
// returns wrong lanes: there each row's halves are added and AVX2's haddp reduces 8 rows at a time.
template <class Arch>
xsimd::batch<float, Arch> lane_sums(const xsimd::batch<float, Arch>* rows) {
#if XSIMD_WITH_AVX512F
  if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>) {
    using half = xsimd::batch<float, xsimd::avx2>;
    auto halves_added = [](__m512 x) {
      const __m256 lo = _mm512_castps512_ps256(x);
      const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1));
      return half(_mm256_add_ps(lo, hi));
    };
    half low_rows[8], high_rows[8];
    for (int k = 0; k < 8; ++k) {
      low_rows[k] = halves_added(rows[k]);
      high_rows[k] = halves_added(rows[k + 8]);
    }
    const __m256 low = xsimd::haddp(low_rows), high = xsimd::haddp(high_rows);
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(low)),
                                               _mm256_castps_pd(high), 1));
  } else
#endif
  {
    return xsimd::haddp(rows);
  }
}

template <class Arch>
struct kernels {
  using batch = xsimd::batch<float, Arch>;
  static constexpr index W = static_cast<index>(batch::size);
  static constexpr int max_vectors = 8;

  // Forward over embed [f, f + NV*W) of one sample: writes pre there and returns
  // sum_e ELU(pre_e) w_final_e over the chunk.
  template <int NV>
  static float forward_chunk(index n, index e_size, index f, const float* qb, const float* w1b,
                             const float* b1b, const float* wfb, float* preb) {
    batch acc[NV], acc_odd[NV];  // two agents per step: two independent FMA chains
    for (int v = 0; v < NV; ++v) {
      acc[v] = batch::load_unaligned(b1b + f + v * W);
      acc_odd[v] = batch(0.0f);
    }
    index i = 0;
    for (; i + 1 < n; i += 2) {
      const batch q0(qb[i]), q1(qb[i + 1]);
      const float* row0 = w1b + i * e_size + f;
      const float* row1 = row0 + e_size;
      for (int v = 0; v < NV; ++v) {
        acc[v] = xsimd::fma(q0, batch::load_unaligned(row0 + v * W), acc[v]);
        acc_odd[v] = xsimd::fma(q1, batch::load_unaligned(row1 + v * W), acc_odd[v]);
      }
    }
    if (i < n) {
      const batch qi(qb[i]);
      const float* row = w1b + i * e_size + f;
      for (int v = 0; v < NV; ++v)
        acc[v] = xsimd::fma(qi, batch::load_unaligned(row + v * W), acc[v]);
    }
    batch total(0.0f);
    const batch zero(0.0f);
    for (int v = 0; v < NV; ++v) {
      const batch x = acc[v] + acc_odd[v];
      x.store_unaligned(preb + f + v * W);
      const batch elu = xsimd::select(x > zero, x, xsimd::expm1(xsimd::min(x, zero)));
      total = xsimd::fma(elu, batch::load_unaligned(wfb + f + v * W), total);
    }
    return xsimd::hadd(total);
  }

  // Backward over embed [f, f + NV*W) of one sample: writes d_b1 (= d_pre), d_w_final and d_w1
  // there, and stores (first chunk) or adds the chunk's part of d_q.
  template <int NV>
  static void backward_chunk(index n, index e_size, index f, bool first, float g, const float* qb,
                             const float* w1b, const float* wfb, const float* preb, float* d_qb,
                             float* d_w1b, float* d_preb, float* d_wfb) {
    const batch gv(g), zero(0.0f), one(1.0f);
    batch d_pre[NV];
    for (int v = 0; v < NV; ++v) {
      const batch x = batch::load_unaligned(preb + f + v * W);
      const auto positive = x > zero;
      const batch em1 = xsimd::expm1(xsimd::min(x, zero));
      (gv * xsimd::select(positive, x, em1)).store_unaligned(d_wfb + f + v * W);
      d_pre[v] =
          gv * batch::load_unaligned(wfb + f + v * W) * xsimd::select(positive, one, em1 + one);
      d_pre[v].store_unaligned(d_preb + f + v * W);
    }
    // One agent: d_w1 row chunk, and the product vector whose lane sum is this chunk's d_q_i.
    auto agent = [&](index i) {
      const batch qi(qb[i]);
      const float* row = w1b + i * e_size + f;
      float* d_row = d_w1b + i * e_size + f;
      batch dot = batch::load_unaligned(row) * d_pre[0];
      (qi * d_pre[0]).store_unaligned(d_row);
      for (int v = 1; v < NV; ++v) {
        dot = xsimd::fma(batch::load_unaligned(row + v * W), d_pre[v], dot);
        (qi * d_pre[v]).store_unaligned(d_row + v * W);
      }
      return dot;
    };
    index i = 0;
    batch dots[W];
    for (; i + W <= n; i += W) {
      for (index k = 0; k < W; ++k) dots[k] = agent(i + k);
      const batch sums = lane_sums<Arch>(dots);
      (first ? sums : sums + batch::load_unaligned(d_qb + i)).store_unaligned(d_qb + i);
    }
    for (; i < n; ++i) {
      const float sum = xsimd::hadd(agent(i));
      d_qb[i] = first ? sum : d_qb[i] + sum;
    }
  }

  // Calls op.template operator()<NV>(f) over the whole-vector part of [0, E) in chunks of 8, 4,
  // 2, 1 vectors; returns where the scalar tail starts.
  template <class Op>
  static index for_each_chunk(index e_size, Op&& op) {
    index f = 0;
    for (; f + max_vectors * W <= e_size; f += max_vectors * W)
      op.template operator()<max_vectors>(f);
    if (f + 4 * W <= e_size) op.template operator()<4>(f), f += 4 * W;
    if (f + 2 * W <= e_size) op.template operator()<2>(f), f += 2 * W;
    if (f + W <= e_size) op.template operator()<1>(f), f += W;
    return f;
  }
};

}  // namespace simd_detail

template <class Arch, class T>
void forward(backend::simd<Arch>, const shape& s, const T* q, const T* w1, const T* b1,
             const T* w_final, const T* v, T* pre, T* q_tot) {
  if constexpr (!std::is_same_v<T, float>) {
    forward(backend::reference{}, s, q, w1, b1, w_final, v, pre, q_tot);
  } else {
    using k = simd_detail::kernels<Arch>;
    const index n = s.agents, e_size = s.embed;
    for (index b = 0; b < s.batch; ++b) {
      const float* qb = q + b * n;
      const float* w1b = w1 + b * n * e_size;
      const float* b1b = b1 + b * e_size;
      const float* wfb = w_final + b * e_size;
      float* preb = pre + b * e_size;
      float total = v[b];
      const index tail = k::for_each_chunk(e_size, [&]<int NV>(index f) {
        total += k::template forward_chunk<NV>(n, e_size, f, qb, w1b, b1b, wfb, preb);
      });
      for (index e = tail; e < e_size; ++e) {
        float x = b1b[e];
        for (index i = 0; i < n; ++i) x += qb[i] * w1b[i * e_size + e];
        preb[e] = x;
        total += (x > 0.0f ? x : std::expm1(x)) * wfb[e];
      }
      q_tot[b] = total;
    }
  }
}

// d_b1 doubles as d_pre, as in the reference.
template <class Arch, class T>
void backward(backend::simd<Arch>, const shape& s, const T* q, const T* w1, const T* w_final,
              const T* pre, const T* d_q_tot, T* d_q, T* d_w1, T* d_b1, T* d_w_final, T* d_v) {
  if constexpr (!std::is_same_v<T, float>) {
    backward(backend::reference{}, s, q, w1, w_final, pre, d_q_tot, d_q, d_w1, d_b1, d_w_final,
             d_v);
  } else {
    using k = simd_detail::kernels<Arch>;
    const index n = s.agents, e_size = s.embed;
    for (index b = 0; b < s.batch; ++b) {
      const float g = d_q_tot[b];
      const float* qb = q + b * n;
      const float* w1b = w1 + b * n * e_size;
      const float* wfb = w_final + b * e_size;
      const float* preb = pre + b * e_size;
      float* d_preb = d_b1 + b * e_size;
      float* d_wfb = d_w_final + b * e_size;
      float* d_qb = d_q + b * n;
      float* d_w1b = d_w1 + b * n * e_size;
      d_v[b] = g;
      bool first = true;
      const index tail = k::for_each_chunk(e_size, [&]<int NV>(index f) {
        k::template backward_chunk<NV>(n, e_size, f, first, g, qb, w1b, wfb, preb, d_qb, d_w1b,
                                       d_preb, d_wfb);
        first = false;
      });
      if (tail == e_size) continue;
      for (index e = tail; e < e_size; ++e) {
        const float x = preb[e];
        const bool positive = x > 0.0f;
        d_wfb[e] = g * (positive ? x : std::expm1(x));
        d_preb[e] = g * wfb[e] * (positive ? 1.0f : std::exp(x));
      }
      for (index i = 0; i < n; ++i) {
        const float qi = qb[i];
        const float* row = w1b + i * e_size;
        float* d_row = d_w1b + i * e_size;
        float sum = 0.0f;
        for (index e = tail; e < e_size; ++e) {
          d_row[e] = qi * d_preb[e];
          sum += row[e] * d_preb[e];
        }
        d_qb[i] = first ? sum : d_qb[i] + sum;
      }
    }
  }
}

}  // namespace netmarl::kernels::qmix_mixer
