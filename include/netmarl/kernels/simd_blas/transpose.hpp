#pragma once
// Register-tiled float transpose in xsimd, and per-caller scratch buffers, for the SIMD kernels.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>
#include <xsimd/xsimd.hpp>

#include "netmarl/core/tensor.hpp"

namespace netmarl::kernels::simd_blas {

// Compile-time lane patterns for the transpose: lane i reads lane i ^ D; lanes whose bit D is 0.
template <std::size_t D>
struct xor_lane {
  static constexpr std::uint32_t get(std::size_t i, std::size_t) { return std::uint32_t(i ^ D); }
};
template <std::size_t D>
struct bit_clear {
  static constexpr bool get(std::size_t i, std::size_t) { return (i & D) == 0; }
};

// dst[cols, rows] = src[rows, cols]^T. Packing W^T for d_in costs as much as the product itself
// at batch 32 when done element by element, so full W x W tiles are transposed in registers:
// log2(W) stages, each swapping the off-diagonal D x D blocks of every 2D x 2D block with a
// lane permutation (xsimd::swizzle) and a constant blend (xsimd::select). xsimd 8.1 has float
// swizzles only for AVX2 and AVX-512; other instruction sets, and the edges of every matrix,
// take the scalar loop.
template <class Arch>
struct transposer {
  using batch = xsimd::batch<float, Arch>;
  static constexpr std::size_t W = batch::size;
  static constexpr bool vectorised =
      std::is_base_of_v<xsimd::avx2, Arch> || std::is_base_of_v<xsimd::avx512f, Arch>;

  template <std::size_t D>
  static void stages(batch* x) {
    constexpr auto perm =
        xsimd::make_batch_constant<xsimd::batch<std::uint32_t, Arch>, xor_lane<D>>();
    constexpr auto keep = xsimd::make_batch_bool_constant<batch, bit_clear<D>>();
    for (std::size_t i = 0; i < W; ++i)
      if ((i & D) == 0) {
        const batch lo = x[i], hi = x[i + D];
        x[i] = xsimd::select(keep, lo, xsimd::swizzle(hi, perm));
        x[i + D] = xsimd::select(keep, xsimd::swizzle(lo, perm), hi);
      }
    if constexpr (D > 1) stages<D / 2>(x);
  }

  static void run(index rows, index cols, const float* src, float* dst) {
    const auto scalar = [&](index i0, index i1, index j0, index j1) {
      for (index i = i0; i < i1; ++i)
        for (index j = j0; j < j1; ++j) dst[j * rows + i] = src[i * cols + j];
    };
    if constexpr (vectorised) {
      const index w = index(W), rows_v = rows - rows % w, cols_v = cols - cols % w;
      for (index i0 = 0; i0 < rows_v; i0 += w) {
        for (index j0 = 0; j0 < cols_v; j0 += w) {
          batch x[W];
          for (std::size_t r = 0; r < W; ++r)
            x[r] = batch::load_unaligned(src + (i0 + index(r)) * cols + j0);
          stages<W / 2>(x);
          for (std::size_t r = 0; r < W; ++r)
            x[r].store_unaligned(dst + (j0 + index(r)) * rows + i0);
        }
        scalar(i0, i0 + w, cols_v, cols);
      }
      scalar(rows_v, rows, 0, cols);
    } else {
      constexpr index T = 16;  // tiles keep both sides within a few cache lines
      for (index i0 = 0; i0 < rows; i0 += T)
        for (index j0 = 0; j0 < cols; j0 += T)
          scalar(i0, std::min(rows, i0 + T), j0, std::min(cols, j0 + T));
    }
  }
};

// Per-thread scratch: grows to the largest request seen, then is reused, so a training step
// allocates nothing after warm-up. `Owner` (any tag type, one per call site) gives every user its
// own buffer, so a kernel holding one scratch can call another kernel that takes its own.
template <class Owner, std::size_t Slot = 0>
float* scratch(std::size_t n) {
  thread_local std::vector<float> buffer;
  if (buffer.size() < n) buffer.resize(n);
  return buffer.data();
}

}  // namespace netmarl::kernels::simd_blas
