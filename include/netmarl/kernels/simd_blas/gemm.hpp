#pragma once
// A register-blocked single-precision GEMM in xsimd, shared by every SIMD kernel that multiplies
// matrices (dense, the mean-field and loopy-BP hops, the mixers):
//   C[M, N] (= 0 | bias row | C) + A(M, K) . B[K, N]
// where A is read through a (row stride, column stride) pair, so A^T is free.
//
// Why this blocking: the micro-kernel keeps an MR x NV*W tile of C in registers (W = lanes per
// vector) and, for each k, loads NV vectors of B's row k once and broadcasts MR scalars of A:
// MR*NV FMAs per NV loads + MR broadcasts. With 32 AVX-512 registers, 6 x 4 uses 24 accumulators
// + 4 B vectors + 1 broadcast; with 16 (AVX2/SSE) 6 x 2 uses 12 + 2 + 1. Around it, GotoBLAS-style
// loops cut n into NC columns and k into KC steps, and sweep one B panel (KC x NV*W floats,
// 32 KiB under AVX-512) down MC rows of A before moving to the next panel, so the panel is reused
// from L1/L2 by MC/MR micro-kernel calls. B is read in place, not packed: packing it per call
// cost more than it saved at batch 32 and gained only a few percent at 1024+ rows (measured).
//
// Tail strategy: rows left over from MR use a micro-kernel instantiated for 1..MR-1 rows (chosen
// through a table of function pointers); whole vectors left over from NV use one instantiated for
// 1..NV-1 vectors. The last n % W columns (fewer than one vector) are packed per k-chunk into a
// zero-padded KC x W stack buffer and computed as one full vector into a small C buffer, whose
// valid columns are copied back, so no load or store ever touches memory past the caller's
// buffers and no scalar loop is needed.
#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>
#include <xsimd/xsimd.hpp>

#include "netmarl/core/tensor.hpp"

namespace netmarl::kernels::simd_blas {


// How the C tile starts: zero (d_in), broadcast bias row (forward), or C's current values
// (accumulation: d_W, and every k-chunk after the first).
enum class init { zero, bias, load };

template <class Arch>
struct gemm {
  using batch = xsimd::batch<float, Arch>;
  static constexpr index W = static_cast<index>(batch::size);
  static constexpr int MR = 6;
  static constexpr int NV = W >= 16 ? 4 : 2;
  static constexpr index KC = 128;
  static constexpr index MC = 192;                   // a multiple of MR
  static constexpr index NC = 256 - 256 % (NV * W);  // a multiple of the panel width

  using micro_fn = void (*)(index kc, const float* a, index rsa, index csa, const float* b,
                            index ldb, float* c, index ldc, init mode, const float* bias);

  // C[0:M, 0:N*W] from A(r, k) = a[r*rsa + k*csa] and B row k = b + k*ldb.
  template <int M, int N>
  static void micro(index kc, const float* a, index rsa, index csa, const float* b, index ldb,
                    float* c, index ldc, init mode, const float* bias) {
    batch acc[M][N];
    if (mode == init::load) {
      for (int r = 0; r < M; ++r)
        for (int v = 0; v < N; ++v) acc[r][v] = batch::load_unaligned(c + r * ldc + v * W);
    } else if (mode == init::bias) {
      for (int v = 0; v < N; ++v) {
        const batch bv = batch::load_unaligned(bias + v * W);
        for (int r = 0; r < M; ++r) acc[r][v] = bv;
      }
    } else {
      for (int r = 0; r < M; ++r)
        for (int v = 0; v < N; ++v) acc[r][v] = batch(0.0f);
    }
    for (index k = 0; k < kc; ++k) {
      const float* bk = b + k * ldb;
      const float* ak = a + k * csa;
      batch bv[N];
      for (int v = 0; v < N; ++v) bv[v] = batch::load_unaligned(bk + v * W);
      for (int r = 0; r < M; ++r) {
        const batch ar(ak[r * rsa]);
        for (int v = 0; v < N; ++v) acc[r][v] = xsimd::fma(ar, bv[v], acc[r][v]);
      }
    }
    for (int r = 0; r < M; ++r)
      for (int v = 0; v < N; ++v) acc[r][v].store_unaligned(c + r * ldc + v * W);
  }

  template <int M, std::size_t... Ns>
  static constexpr std::array<micro_fn, NV> row_table(std::index_sequence<Ns...>) {
    return {{&micro<M, static_cast<int>(Ns) + 1>...}};
  }
  template <std::size_t... Ms>
  static constexpr std::array<std::array<micro_fn, NV>, MR> make_table(std::index_sequence<Ms...>) {
    return {{row_table<static_cast<int>(Ms) + 1>(std::make_index_sequence<NV>{})...}};
  }
  // table[m - 1][n - 1]: the micro-kernel for an m-row, n-vector tile.
  static constexpr std::array<std::array<micro_fn, NV>, MR> table =
      make_table(std::make_index_sequence<MR>{});

  // C[M, N] (ldc) = init + A[M, K] . B[K, N] (ldb); bias is read only when first == init::bias.
  static void run(index M, index N, index K, const float* a, index rsa, index csa, const float* b,
                  index ldb, float* c, index ldc, init first, const float* bias) {
    if (M <= 0 || N <= 0) return;
    const index n_vec = N - N % W;  // columns covered by whole vectors
    const index n_tail = N - n_vec;
    alignas(64) float b_tail[KC * W];     // zero-padded copy of B's last n_tail columns
    alignas(64) float c_tail[MR * W];     // the matching C columns, padded
    alignas(64) float bias_tail[W] = {};  // the matching bias entries, padded
    if (n_tail > 0 && first == init::bias)
      for (index j = 0; j < n_tail; ++j) bias_tail[j] = bias[n_vec + j];

    for (index j0 = 0; j0 < N; j0 += NC) {
      const index j1 = std::min(N, j0 + NC);
      const index j_vec_end = std::min(j1, n_vec);
      const bool has_tail = j1 == N && n_tail > 0;
      // k0 == 0 runs once even when K == 0, so C is still initialised (out = bias).
      for (index k0 = 0; k0 == 0 || k0 < K; k0 += KC) {
        const index kc = std::min(KC, K - k0);
        const init mode = k0 == 0 ? first : init::load;
        const float* bk = b + k0 * ldb;
        const float* ak = a + k0 * csa;
        if (has_tail)
          for (index k = 0; k < kc; ++k)
            for (index j = 0; j < W; ++j)
              b_tail[k * W + j] = j < n_tail ? bk[k * ldb + n_vec + j] : 0.0f;
        for (index i0 = 0; i0 < M; i0 += MC) {
          const index i1 = std::min(M, i0 + MC);
          // One B panel (kc x nv*W) at a time, swept down the MC rows of A while it sits in L1.
          for (index j = j0; j < j_vec_end; j += NV * W) {
            const int nv = static_cast<int>(std::min<index>(NV, (j_vec_end - j) / W));
            const float* bias_j = mode == init::bias ? bias + j : nullptr;
            for (index i = i0; i < i1; i += MR) {
              const int m = static_cast<int>(std::min<index>(MR, i1 - i));
              if (m == MR && nv == NV)
                micro<MR, NV>(kc, ak + i * rsa, rsa, csa, bk + j, ldb, c + i * ldc + j, ldc, mode,
                              bias_j);
              else
                table[m - 1][nv - 1](kc, ak + i * rsa, rsa, csa, bk + j, ldb, c + i * ldc + j, ldc,
                                     mode, bias_j);
            }
          }
          if (has_tail)
            for (index i = i0; i < i1; i += MR) {
              const int m = static_cast<int>(std::min<index>(MR, i1 - i));
              float* ci = c + i * ldc + n_vec;
              if (mode == init::load)
                for (int r = 0; r < m; ++r)
                  for (index jj = 0; jj < n_tail; ++jj) c_tail[r * W + jj] = ci[r * ldc + jj];
              table[m - 1][0](kc, ak + i * rsa, rsa, csa, b_tail, W, c_tail, W, mode, bias_tail);
              for (int r = 0; r < m; ++r)
                for (index jj = 0; jj < n_tail; ++jj) ci[r * ldc + jj] = c_tail[r * W + jj];
            }
        }
      }
    }
  }

  // d_bias[0:N] += column sums of rows [0, M) of d (leading dimension ld).
  static void add_column_sums(index M, index N, const float* d, index ld, float* d_bias) {
    constexpr int G = 8;  // vectors summed per pass over the rows: independent add chains
    index j = 0;
    for (; j + G * W <= N; j += G * W) {
      batch acc[G];
      for (int v = 0; v < G; ++v) acc[v] = batch::load_unaligned(d_bias + j + v * W);
      for (index r = 0; r < M; ++r)
        for (int v = 0; v < G; ++v) acc[v] += batch::load_unaligned(d + r * ld + j + v * W);
      for (int v = 0; v < G; ++v) acc[v].store_unaligned(d_bias + j + v * W);
    }
    for (; j + W <= N; j += W) {
      batch acc = batch::load_unaligned(d_bias + j);
      for (index r = 0; r < M; ++r) acc += batch::load_unaligned(d + r * ld + j);
      acc.store_unaligned(d_bias + j);
    }
    for (; j < N; ++j) {  // fewer than W columns: scalar, O(M) work
      float s = d_bias[j];
      for (index r = 0; r < M; ++r) s += d[r * ld + j];
      d_bias[j] = s;
    }
  }
};

}  // namespace netmarl::kernels::simd_blas
