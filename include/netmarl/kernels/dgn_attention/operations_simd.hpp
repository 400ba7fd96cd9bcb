#pragma once
// SIMD DGN attention (xsimd, float; other types delegate to the reference), vectorised over each
// head's head_dim columns.
//
// Why this shape: each (node, head) touches one contiguous head_dim slice of q_i, and of k_j and
// v_j per neighbour, so dot products and weighted sums run along that slice in whole vectors
// (head_dim 32 is 2 vectors under AVX-512), with a scalar tail for head_dim % W. A node's softmax
// is done for all heads together on its block of the attention buffer (edges x heads floats,
// contiguous in the kernel layout), so the exponentials are one vectorised xsimd::exp pass over
// that block. Edges are walked node by node, every head of one neighbour row at a time, so each k_j
// / v_j row is read once per edge while it is in L1.
//
// Backward is the reference's scatter form (node i pushes into d_k and d_v of each j in N(i)).
// Instead of zeroing d_k and d_v first (a full pass over buffers that are mostly out of cache at
// N = 1225), the first write to a row stores and later ones accumulate; a per-node flag records
// which rows were written and rows no node reads from are zeroed at the end (as in
// neighbor_aggregate). d_q's row i is only written by node i, so its first edge stores.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>
#include <xsimd/xsimd.hpp>

#include "netmarl/backend/tags.hpp"
#include "netmarl/kernels/dgn_attention/operations_generic.hpp"
#include "netmarl/kernels/dgn_attention/spec.hpp"
#include "netmarl/kernels/simd_blas/transpose.hpp"

namespace netmarl::kernels::dgn_attention {

namespace simd_detail {

struct per_head_t;  // scratch owner tag: one float per head (row maxima, reciprocals, row terms)

// Neighbour rows are gathered at random (k-nearest ids follow positions, not memory), so at N =
// 1225 (5 MB of q, k, v and gradients per sample) each edge would wait on L3 or DRAM; the rows of
// the node this many nodes ahead are prefetched instead.
constexpr index prefetch_distance = 2;

// Touches every cache line of row[0 : n) (for writing when Write), without waiting for it.
template <bool Write = false>
inline void prefetch_row(const float* row, index n) {
  for (index f = 0; f < n; f += 16) __builtin_prefetch(row + f, Write ? 1 : 0, 3);
}

template <class Arch>
struct kernels {
  using vec = xsimd::batch<float, Arch>;
  static constexpr index W = static_cast<index>(vec::size);

  static vec load(const float* p) { return vec::load_unaligned(p); }

  // <a, b> over n floats: two accumulators (the FMA latency chain), one horizontal sum.
  static float dot(const float* a, const float* b, index n) {
    vec acc0(0.0f), acc1(0.0f);
    index f = 0;
    for (; f + 2 * W <= n; f += 2 * W) {
      acc0 = xsimd::fma(load(a + f), load(b + f), acc0);
      acc1 = xsimd::fma(load(a + f + W), load(b + f + W), acc1);
    }
    if (f + W <= n) {
      acc0 = xsimd::fma(load(a + f), load(b + f), acc0);
      f += W;
    }
    float sum = xsimd::hadd(acc0 + acc1);
    for (; f < n; ++f) sum += a[f] * b[f];
    return sum;
  }

  // y = w * x (first) or y += w * x, over n floats.
  static void axpy(float w, const float* x, float* y, index n, bool first) {
    const vec wv(w);
    index f = 0;
    if (first) {
      for (; f + W <= n; f += W) (wv * load(x + f)).store_unaligned(y + f);
      for (; f < n; ++f) y[f] = w * x[f];
    } else {
      for (; f + W <= n; f += W) xsimd::fma(wv, load(x + f), load(y + f)).store_unaligned(y + f);
      for (; f < n; ++f) y[f] += w * x[f];
    }
  }

  // x = exp(x) in place over n floats; the tail goes through a padded vector, so every entry gets
  // the same exponential.
  static void exp_in_place(float* x, index n) {
    index t = 0;
    for (; t + W <= n; t += W) xsimd::exp(load(x + t)).store_unaligned(x + t);
    if (t < n) {
      alignas(64) float tail[W] = {};
      std::copy(x + t, x + n, tail);
      xsimd::exp(vec::load_aligned(tail)).store_aligned(tail);
      std::copy(tail, tail + (n - t), x + t);
    }
  }
};

}  // namespace simd_detail

// Writes out and attention (the softmax weights, which backward reads).
template <class Arch, class T>
void forward(backend::simd<Arch>, const shape& s, const csr_view& g, const T* q, const T* k,
             const T* v, T* attention, T* out) {
  if constexpr (!std::is_same_v<T, float>) {
    forward(backend::reference{}, s, g, q, k, v, attention, out);
  } else {
#if defined(NETMARL_ENABLE_ASSERTS) && NETMARL_ENABLE_ASSERTS
    validate(s, g);
#endif
    using kern = simd_detail::kernels<Arch>;
    const index F = s.features(), D = s.head_dim, H = s.heads, E = g.edges();
    const float scale = float(s.scale());
    const std::int32_t* ids = g.indices;
    float* head_max = simd_blas::scratch<simd_detail::per_head_t, 0>(std::size_t(2 * H));
    float* head_inv = head_max + H;
    for (index b = 0; b < s.batch; ++b) {
      const float* qb = q + b * s.nodes * F;
      const float* kb = k + b * s.nodes * F;
      const float* vb = v + b * s.nodes * F;
      float* ob = out + b * s.nodes * F;
      float* ab = attention + b * E * H;
      for (index i = 0; i < s.nodes; ++i) {
        if (i + simd_detail::prefetch_distance < s.nodes) {
          const index ahead = i + simd_detail::prefetch_distance;
          for (index e = g.offsets[ahead]; e < g.offsets[ahead + 1]; ++e) {
            simd_detail::prefetch_row(kb + index(ids[e]) * F, F);
            simd_detail::prefetch_row(vb + index(ids[e]) * F, F);
          }
        }
        float* o = ob + i * F;
        const index beg = g.offsets[i], end = g.offsets[i + 1];
        if (beg == end) {  // nothing to attend to: a zero row
          std::fill(o, o + F, 0.0f);
          continue;
        }
        const float* qi = qb + i * F;
        float* a = ab + beg * H;  // this node's [edges, heads] block
        const index degree = end - beg;
        // Scores, and each head's row maximum for a stable softmax.
        std::fill(head_max, head_max + H, -std::numeric_limits<float>::infinity());
        for (index e = 0; e < degree; ++e) {
          const float* kj = kb + index(ids[beg + e]) * F;
          for (index h = 0; h < H; ++h) {
            const float score = scale * kern::dot(qi + h * D, kj + h * D, D);
            a[e * H + h] = score;
            head_max[h] = std::max(head_max[h], score);
          }
        }
        for (index e = 0; e < degree; ++e)
          for (index h = 0; h < H; ++h) a[e * H + h] -= head_max[h];
        kern::exp_in_place(a, degree * H);
        std::fill(head_inv, head_inv + H, 0.0f);
        for (index e = 0; e < degree; ++e)
          for (index h = 0; h < H; ++h) head_inv[h] += a[e * H + h];
        for (index h = 0; h < H; ++h) head_inv[h] = 1.0f / head_inv[h];
        for (index e = 0; e < degree; ++e)
          for (index h = 0; h < H; ++h) a[e * H + h] *= head_inv[h];
        // Weighted sum of the neighbours' v rows; the first edge stores, so out needs no zeroing.
        for (index e = 0; e < degree; ++e) {
          const float* vj = vb + index(ids[beg + e]) * F;
          for (index h = 0; h < H; ++h) kern::axpy(a[e * H + h], vj + h * D, o + h * D, D, e == 0);
        }
      }
    }
  }
}

// Overwrites d_q, d_k and d_v.
template <class Arch, class T>
void backward(backend::simd<Arch>, const shape& s, const csr_view& g, const T* q, const T* k,
              const T* v, const T* attention, const T* out, const T* d_out, T* d_q, T* d_k,
              T* d_v) {
  if constexpr (!std::is_same_v<T, float>) {
    backward(backend::reference{}, s, g, q, k, v, attention, out, d_out, d_q, d_k, d_v);
  } else {
#if defined(NETMARL_ENABLE_ASSERTS) && NETMARL_ENABLE_ASSERTS
    validate(s, g);
#endif
    using kern = simd_detail::kernels<Arch>;
    using vec = typename kern::vec;
    constexpr index W = kern::W;
    const index F = s.features(), D = s.head_dim, H = s.heads, E = g.edges();
    const float scale = float(s.scale());
    const std::int32_t* ids = g.indices;
    float* row_term = simd_blas::scratch<simd_detail::per_head_t, 1>(std::size_t(H));
    // written[j]: rows j of d_k and d_v of the current sample have been stored to.
    thread_local std::vector<unsigned char> written;
    written.resize(std::size_t(s.nodes));
    for (index b = 0; b < s.batch; ++b) {
      const index base = b * s.nodes * F;
      const float* ab = attention + b * E * H;
      std::fill(written.begin(), written.end(), static_cast<unsigned char>(0));
      for (index i = 0; i < s.nodes; ++i) {
        if (i + simd_detail::prefetch_distance < s.nodes) {
          const index ahead = i + simd_detail::prefetch_distance;
          for (index e = g.offsets[ahead]; e < g.offsets[ahead + 1]; ++e) {
            const index row = base + index(ids[e]) * F;
            simd_detail::prefetch_row(k + row, F);
            simd_detail::prefetch_row(v + row, F);
            simd_detail::prefetch_row<true>(d_k + row, F);
            simd_detail::prefetch_row<true>(d_v + row, F);
          }
        }
        const index beg = g.offsets[i], end = g.offsets[i + 1];
        float* dqi = d_q + base + i * F;
        if (beg == end) {
          std::fill(dqi, dqi + F, 0.0f);
          continue;
        }
        const float* gi = d_out + base + i * F;
        const float* qi = q + base + i * F;
        // The softmax Jacobian's row term sum_e a_e <g, v_j>, which is <g, out_i>.
        for (index h = 0; h < H; ++h)
          row_term[h] = kern::dot(gi + h * D, out + base + i * F + h * D, D);
        for (index e = beg; e < end; ++e) {
          const index row_j = base + index(ids[e]) * F;
          const bool first_j = !written[std::size_t(ids[e])];
          written[std::size_t(ids[e])] = 1;
          const bool first_i = e == beg;
          for (index h = 0; h < H; ++h) {
            const index c = h * D;
            const float* vj = v + row_j + c;
            const float* kj = k + row_j + c;
            float* dkj = d_k + row_j + c;
            float* dvj = d_v + row_j + c;
            const float w = ab[e * H + h];
            const float d_score = scale * w * (kern::dot(gi + c, vj, D) - row_term[h]);
            const vec wv(w), dv(d_score);
            index f = 0;
            for (; f + W <= D; f += W) {
              const vec gv = kern::load(gi + c + f), qv = kern::load(qi + c + f),
                        kv = kern::load(kj + f);
              if (first_j) {
                (wv * gv).store_unaligned(dvj + f);
                (dv * qv).store_unaligned(dkj + f);
              } else {
                xsimd::fma(wv, gv, kern::load(dvj + f)).store_unaligned(dvj + f);
                xsimd::fma(dv, qv, kern::load(dkj + f)).store_unaligned(dkj + f);
              }
              if (first_i)
                (dv * kv).store_unaligned(dqi + c + f);
              else
                xsimd::fma(dv, kv, kern::load(dqi + c + f)).store_unaligned(dqi + c + f);
            }
            for (; f < D; ++f) {
              dvj[f] = (first_j ? 0.0f : dvj[f]) + w * gi[c + f];
              dkj[f] = (first_j ? 0.0f : dkj[f]) + d_score * qi[c + f];
              dqi[c + f] = (first_i ? 0.0f : dqi[c + f]) + d_score * kj[f];
            }
          }
        }
      }
      // Rows nobody reads from get no gradient.
      for (index j = 0; j < s.nodes; ++j)
        if (!written[std::size_t(j)]) {
          std::fill(d_k + base + j * F, d_k + base + (j + 1) * F, 0.0f);
          std::fill(d_v + base + j * F, d_v + base + (j + 1) * F, 0.0f);
        }
    }
  }
}

}  // namespace netmarl::kernels::dgn_attention
