#pragma once
// SIMD loopy-BP message update for float (other types delegate to the reference), on
// simd_blas's GEMM, vectorised over H everywhere else.
//
// Why this shape: every product is [entries, H] x [H, H], and the passes around it (gather,
// add node term and ReLU, mask, scatters) each touch a whole entry-aligned buffer, far larger
// than cache at the sizes (35x35 grid, batch 32: 98 MB per buffer). So both ops walk
// each sample's rows in ranges of about `range_entries` entries and run every pass of a range
// back to back on packed per-thread scratch that stays in L2:
//   forward   gather -> gathered . W2 (GEMM) -> + node term, ReLU, unpacked into v
//   backward  mask (+ d_node_term scatter) -> gather -> d_w2 += gathered^T . d_pre (GEMM) ->
//             d_gathered = d_pre . W2^T (GEMM) -> d arriving scatter, d_gathered kept in
//             `gathered`
// Packing keeps only the non-self entries: a self-loop row's message and gathered row are 0,
// so it adds nothing to any product (a fifth of a grid's rows, with graph::csr's self entries),
// and the caller's `gathered` (forward) and `d_pre` are never written back to memory.
// A sample's `arriving` (the gather's input) is computed before its ranges, and the adjoint
// gather's d arriving is complete only after them, so it lives in a per-thread scratch of one
// sample's rows and d_v_prev is written in one pass per sample at the end.
//
// d_v_prev: the reference scatters -d_gathered[e] into d_v_prev[reverse[e]]. When reverse is an
// involution on its entries (reverse[reverse[e]] == e wherever reverse[e] >= 0: undirected
// graphs and directed ones without repeated ids) the entry e' receiving from e is reached from
// e' itself (e = reverse[e']), so each d_v_prev row is written once, d arriving minus one
// d_gathered row, with no zeroing pass. Otherwise (repeated ids) it takes the scatter.
//
// Tail strategy: row helpers run whole xsimd batches over H and a scalar loop over the last
// H % W features; the GEMM handles its own tails.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <xsimd/xsimd.hpp>

#include "netmarl/backend/tags.hpp"
#include "netmarl/kernels/loopy_bp_step/operations_generic.hpp"
#include "netmarl/kernels/loopy_bp_step/spec.hpp"
#include "netmarl/kernels/simd_blas/gemm.hpp"
#include "netmarl/kernels/simd_blas/transpose.hpp"

namespace netmarl::kernels::loopy_bp_step {

namespace simd_detail {

// Scratch owners (simd_blas::scratch): W2^T and one sample's d arriving (backward), and one
// range's packed rows: gathered, its product (forward), d_pre (backward).
struct packed_w2_t;
struct arriving_grad_t;
struct packed_gathered_t;
struct packed_product_t;
struct packed_d_pre_t;
// Rows per range: about one GEMM row block, so a range's packed rows, v (or d_v) rows
// stay in L2 across its passes.
inline constexpr index range_entries = 192;

// Operations on one feature row of length H.
template <class Arch>
struct row {
  using batch = xsimd::batch<float, Arch>;
  static constexpr index W = static_cast<index>(batch::size);
  static constexpr int max_vectors = 8;  // accumulators kept in registers by sum_excluding

  static void zero(float* d, index H) { std::fill(d, d + H, 0.0f); }

  static void copy(const float* s, float* d, index H) {
    index f = 0;
    for (; f + W <= H; f += W) batch::load_unaligned(s + f).store_unaligned(d + f);
    for (; f < H; ++f) d[f] = s[f];
  }

  // d = a - b
  static void sub(const float* a, const float* b, float* d, index H) {
    index f = 0;
    for (; f + W <= H; f += W)
      (batch::load_unaligned(a + f) - batch::load_unaligned(b + f)).store_unaligned(d + f);
    for (; f < H; ++f) d[f] = a[f] - b[f];
  }

  // d += s
  static void add_to(const float* s, float* d, index H) {
    index f = 0;
    for (; f + W <= H; f += W)
      (batch::load_unaligned(d + f) + batch::load_unaligned(s + f)).store_unaligned(d + f);
    for (; f < H; ++f) d[f] += s[f];
  }

  // acc += s and d = s
  static void add_to_and_copy(const float* s, float* acc, float* d, index H) {
    index f = 0;
    for (; f + W <= H; f += W) {
      const batch x = batch::load_unaligned(s + f);
      (batch::load_unaligned(acc + f) + x).store_unaligned(acc + f);
      x.store_unaligned(d + f);
    }
    for (; f < H; ++f) acc[f] += s[f], d[f] = s[f];
  }

  // d -= s
  static void sub_from(const float* s, float* d, index H) {
    index f = 0;
    for (; f + W <= H; f += W)
      (batch::load_unaligned(d + f) - batch::load_unaligned(s + f)).store_unaligned(d + f);
    for (; f < H; ++f) d[f] -= s[f];
  }

  // v = max(t + p, 0)
  static void add_relu(const float* t, const float* p, float* v, index H) {
    const batch zero_v(0.0f);
    index f = 0;
    for (; f + W <= H; f += W)
      xsimd::max(batch::load_unaligned(t + f) + batch::load_unaligned(p + f), zero_v)
          .store_unaligned(v + f);
    for (; f < H; ++f) v[f] = std::max(t[f] + p[f], 0.0f);
  }

  // v = max(t, 0)
  static void relu(const float* t, float* v, index H) {
    const batch zero_v(0.0f);
    index f = 0;
    for (; f + W <= H; f += W)
      xsimd::max(batch::load_unaligned(t + f), zero_v).store_unaligned(v + f);
    for (; f < H; ++f) v[f] = std::max(t[f], 0.0f);
  }

  // dp = v > 0 ? dv : 0, and dt += dp when dt is non-null.
  static void mask(const float* v, const float* dv, float* dp, float* dt, index H) {
    const batch zero_v(0.0f);
    index f = 0;
    for (; f + W <= H; f += W) {
      const batch g = xsimd::select(batch::load_unaligned(v + f) > zero_v,
                                    batch::load_unaligned(dv + f), zero_v);
      g.store_unaligned(dp + f);
      if (dt) (batch::load_unaligned(dt + f) + g).store_unaligned(dt + f);
    }
    for (; f < H; ++f) {
      dp[f] = v[f] > 0.0f ? dv[f] : 0.0f;
      if (dt) dt[f] += dp[f];
    }
  }

  // d[f : f + NV W] = sum of rows e in [beg, end) of m (row length H) with ids[e] != self.
  template <int NV>
  static void sum_chunk(const float* m, const std::int32_t* ids, index beg, index end, index self,
                        index H, index f, float* d) {
    batch acc[NV];
    for (int k = 0; k < NV; ++k) acc[k] = batch(0.0f);
    for (index e = beg; e < end; ++e) {
      if (ids[e] == self) continue;
      const float* me = m + e * H + f;
      for (int k = 0; k < NV; ++k) acc[k] += batch::load_unaligned(me + k * W);
    }
    for (int k = 0; k < NV; ++k) acc[k].store_unaligned(d + f + k * W);
  }

  // d = the sum of m's rows [beg, end) whose id is not `self`: one read of each row, with up to
  // max_vectors vectors of d in registers per walk down the rows.
  static void sum_excluding(const float* m, const std::int32_t* ids, index beg, index end,
                            index self, index H, float* d) {
    index f = 0;
    for (; f + max_vectors * W <= H; f += max_vectors * W)
      sum_chunk<max_vectors>(m, ids, beg, end, self, H, f, d);
    if (f + 4 * W <= H) sum_chunk<4>(m, ids, beg, end, self, H, f, d), f += 4 * W;
    if (f + 2 * W <= H) sum_chunk<2>(m, ids, beg, end, self, H, f, d), f += 2 * W;
    if (f + W <= H) sum_chunk<1>(m, ids, beg, end, self, H, f, d), f += W;
    for (; f < H; ++f) {
      float s = 0.0f;
      for (index e = beg; e < end; ++e)
        if (ids[e] != self) s += m[e * H + f];
      d[f] = s;
    }
  }
};

// Cuts g's rows into consecutive ranges [i0, i1) of at most range_entries entries (a row with
// more is a range alone) and calls f(i0, i1).
template <class F>
void for_each_row_range(const csr_view& g, F&& f) {
  index i0 = 0;
  while (i0 < g.nodes) {
    index i1 = i0 + 1;
    while (i1 < g.nodes && g.offsets[i1 + 1] - g.offsets[i0] <= range_entries) ++i1;
    f(i0, i1);
    i0 = i1;
  }
}

// arriving_b[i] = sum of sample b's non-self message rows of row i (m_b: the sample's first
// entry row).
template <class Arch>
void sample_incoming_sum(const csr_view& g, index H, const float* m_b, float* arriving_b) {
  for (index i = 0; i < g.nodes; ++i)
    row<Arch>::sum_excluding(m_b, g.indices, g.offsets[i], g.offsets[i + 1], i, H,
                             arriving_b + i * H);
}

// The gathered rows of the non-self entries of rows [i0, i1) of one sample, packed one after
// another into z (pointers at the sample's first row / entry); returns how many.
template <class Arch>
index gather_packed(const csr_view& g, const std::int32_t* reverse_b, index H, index i0, index i1,
                    const float* arriving_b, const float* v_prev_b, float* z) {
  using r = row<Arch>;
  index k = 0;
  for (index i = i0; i < i1; ++i)
    for (index e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
      const index j = g.indices[e];
      if (j == i) continue;
      const std::int32_t back = reverse_b[e];
      if (back < 0)
        r::copy(arriving_b + j * H, z + k * H, H);
      else
        r::sub(arriving_b + j * H, v_prev_b + index(back) * H, z + k * H, H);
      ++k;
    }
  return k;
}

// reverse[reverse[e]] == e wherever reverse[e] >= 0 (see the header comment).
inline bool reverse_is_involution(const csr_view& g, const std::int32_t* reverse) {
  for (index e = 0; e < g.edges(); ++e)
    if (reverse[e] >= 0 && reverse[reverse[e]] != e) return false;
  return true;
}

}  // namespace simd_detail

template <class Arch, class T>
void incoming_sum(backend::simd<Arch>, const shape& s, std::span<const csr_view> graphs, const T* v,
                  T* arriving) {
  if constexpr (!std::is_same_v<T, float>) {
    incoming_sum(backend::reference{}, s, graphs, v, arriving);
  } else {
#if defined(NETMARL_ENABLE_ASSERTS) && NETMARL_ENABLE_ASSERTS
    validate(s, graphs);
#endif
    const index H = s.hidden;
    detail::for_each_sample(s, graphs, [&](index b, const csr_view& g, index base, index) {
      simd_detail::sample_incoming_sum<Arch>(g, H, v + base * H, arriving + b * s.nodes * H);
    });
  }
}

template <class Arch, class T>
void incoming_sum_backward(backend::simd<Arch>, const shape& s, std::span<const csr_view> graphs,
                           const T* d_arriving, T* d_v) {
  if constexpr (!std::is_same_v<T, float>) {
    incoming_sum_backward(backend::reference{}, s, graphs, d_arriving, d_v);
  } else {
#if defined(NETMARL_ENABLE_ASSERTS) && NETMARL_ENABLE_ASSERTS
    validate(s, graphs);
#endif
    using r = simd_detail::row<Arch>;
    const index H = s.hidden;
    detail::for_each_sample(s, graphs, [&](index b, const csr_view& g, index base, index) {
      for (index i = 0; i < s.nodes; ++i) {
        const float* da = d_arriving + (b * s.nodes + i) * H;
        for (index e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
          float* dv = d_v + (base + e) * H;
          if (g.indices[e] == i)
            r::zero(dv, H);
          else
            r::copy(da, dv, H);
        }
      }
    });
  }
}

template <class Arch, class T>
void forward(backend::simd<Arch>, const shape& s, std::span<const csr_view> graphs,
             const std::int32_t* reverse, const T* node_term, const std::type_identity_t<T>* v_prev,
             const T* w2, T* arriving, T* gathered, T* v) {
  if constexpr (!std::is_same_v<T, float>) {
    forward(backend::reference{}, s, graphs, reverse, node_term, v_prev, w2, arriving, gathered, v);
  } else {
#if defined(NETMARL_ENABLE_ASSERTS) && NETMARL_ENABLE_ASSERTS
    validate(s, graphs);
#endif
    namespace sd = simd_detail;
    using r = sd::row<Arch>;
    const index H = s.hidden, N = s.nodes;
    detail::for_each_sample(s, graphs, [&](index b, const csr_view& g, index base, index rbase) {
      const float* t_b = node_term + b * N * H;
      float* v_b = v + base * H;
      if (!v_prev) {  // the first update: v = ReLU(node term of the sender)
        for (index i = 0; i < N; ++i)
          for (index e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
            const index j = g.indices[e];
            if (j == i)
              r::zero(v_b + e * H, H);
            else
              r::relu(t_b + j * H, v_b + e * H, H);
          }
        return;
      }
      const float* v_prev_b = v_prev + base * H;
      float* arriving_b = arriving + b * N * H;
      sd::sample_incoming_sum<Arch>(g, H, v_prev_b, arriving_b);
      sd::for_each_row_range(g, [&](index i0, index i1) {
        const std::size_t range = static_cast<std::size_t>((g.offsets[i1] - g.offsets[i0]) * H);
        float* z = simd_blas::scratch<sd::packed_gathered_t>(range);
        float* product = simd_blas::scratch<sd::packed_product_t>(range);
        const index n =
            sd::gather_packed<Arch>(g, reverse + rbase, H, i0, i1, arriving_b, v_prev_b, z);
        simd_blas::gemm<Arch>::run(n, H, H, z, H, 1, w2, H, product, H, simd_blas::init::zero,
                                   nullptr);
        // v = ReLU(node term + product), unpacked; self rows 0.
        index k = 0;
        for (index i = i0; i < i1; ++i)
          for (index e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
            const index j = g.indices[e];
            float* ve = v_b + e * H;
            if (j == i) {
              r::zero(ve, H);
            } else {
              r::add_relu(t_b + j * H, product + k * H, ve, H);
              ++k;
            }
          }
      });
    });
  }
}

template <class Arch, class T>
void backward(backend::simd<Arch>, const shape& s, std::span<const csr_view> graphs,
              const std::int32_t* reverse, const std::type_identity_t<T>* v_prev, const T* w2,
              const T* v, const T* d_v, T* d_node_term, T* d_w2, std::type_identity_t<T>* d_v_prev,
              T* arriving, T* gathered, T* d_pre) {
  if constexpr (!std::is_same_v<T, float>) {
    backward(backend::reference{}, s, graphs, reverse, v_prev, w2, v, d_v, d_node_term, d_w2,
             d_v_prev, arriving, gathered, d_pre);
  } else {
#if defined(NETMARL_ENABLE_ASSERTS) && NETMARL_ENABLE_ASSERTS
    validate(s, graphs);
#endif
    namespace sd = simd_detail;
    using r = sd::row<Arch>;
    using gemm = simd_blas::gemm<Arch>;
    const index H = s.hidden, N = s.nodes;
    if (!v_prev) d_v_prev = nullptr;
    const float* w2_t = nullptr;
    float* d_arriving = nullptr;
    if (d_v_prev) {
      float* packed = simd_blas::scratch<sd::packed_w2_t>(static_cast<std::size_t>(H * H));
      simd_blas::transposer<Arch>::run(H, H, w2, packed);
      w2_t = packed;
      d_arriving = simd_blas::scratch<sd::arriving_grad_t>(static_cast<std::size_t>(N * H));
    }
    // Whether each graph's reverse ids pair up (computed once per graph, not per sample).
    bool pairs_shared = false;
    if (d_v_prev && graphs.size() == 1)
      pairs_shared = sd::reverse_is_involution(graphs[0], reverse);

    detail::for_each_sample(s, graphs, [&](index b, const csr_view& g, index base, index rbase) {
      const std::int32_t* reverse_b = reverse + rbase;
      const float* v_b = v + base * H;
      const float* d_v_b = d_v + base * H;
      float* d_t_b = d_node_term + b * N * H;
      const float* v_prev_b = v_prev ? v_prev + base * H : nullptr;
      float* arriving_b = arriving + b * N * H;
      float* gathered_b = gathered + base * H;
      if (v_prev) sd::sample_incoming_sum<Arch>(g, H, v_prev_b, arriving_b);
      if (d_v_prev) std::fill(d_arriving, d_arriving + N * H, 0.0f);

      sd::for_each_row_range(g, [&](index i0, index i1) {
        const std::size_t range = static_cast<std::size_t>((g.offsets[i1] - g.offsets[i0]) * H);
        // Packed d_pre = d_v [v > 0] of the non-self rows (self rows of v are 0, and their
        // gathered rows too, so they add nothing anywhere); each adds to the sender's d node term.
        float* dp = simd_blas::scratch<sd::packed_d_pre_t>(range);
        index n = 0;
        for (index i = i0; i < i1; ++i)
          for (index e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
            const index j = g.indices[e];
            if (j == i) continue;
            r::mask(v_b + e * H, d_v_b + e * H, dp + n * H, d_t_b + j * H, H);
            ++n;
          }
        if (!v_prev) return;
        float* z = simd_blas::scratch<sd::packed_gathered_t>(range);
        sd::gather_packed<Arch>(g, reverse_b, H, i0, i1, arriving_b, v_prev_b, z);
        // d_w2 += gathered^T . d_pre: A(m, k) = z[k, m].
        gemm::run(H, H, n, z, 1, H, dp, H, d_w2, H, simd_blas::init::load, nullptr);
        if (!d_v_prev) return;
        // d_gathered (into z) flows to the sender's arriving sum, and is kept unpacked in
        // `gathered` for the reverse entries' pass below.
        gemm::run(n, H, H, dp, H, 1, w2_t, H, z, H, simd_blas::init::zero, nullptr);
        index k = 0;
        for (index i = i0; i < i1; ++i)
          for (index e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
            const index j = g.indices[e];
            if (j == i) continue;
            r::add_to_and_copy(z + k * H, d_arriving + j * H, gathered_b + e * H, H);
            ++k;
          }
      });
      if (!d_v_prev) return;

      // d_v_prev[e] (row j, non-self) = d arriving[j] minus the d_gathered of the entry whose
      // reverse is e.
      float* d_v_prev_b = d_v_prev + base * H;
      const bool pairs =
          graphs.size() == 1 ? pairs_shared : sd::reverse_is_involution(g, reverse_b);
      for (index j = 0; j < N; ++j)
        for (index e = g.offsets[j]; e < g.offsets[j + 1]; ++e) {
          float* dv = d_v_prev_b + e * H;
          const std::int32_t back = reverse_b[e];
          if (g.indices[e] == j)
            r::zero(dv, H);
          else if (pairs && back >= 0)
            r::sub(d_arriving + j * H, gathered_b + index(back) * H, dv, H);
          else
            r::copy(d_arriving + j * H, dv, H);
        }
      if (pairs) return;
      for (index i = 0; i < N; ++i)
        for (index e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
          const std::int32_t back = reverse_b[e];
          if (g.indices[e] != i && back >= 0)
            r::sub_from(gathered_b + e * H, d_v_prev_b + index(back) * H, H);
        }
    });
  }
}

}  // namespace netmarl::kernels::loopy_bp_step
