#pragma once
// BF16 matrix products on Intel AMX tiles with FP32 accumulation, and the run-time check that says
// whether they may run: the base of the opt-in bf16 compute policy.
//   C[M, N] (ldc) (= 0 | bias row | C) + A(M, K) . B[K, N]
// A and B are FP32 and are rounded to BF16 (round to nearest even) while packing; C stays FP32.
//
// Availability: CPUID leaf 7 must report AMX-TILE and AMX-BF16, the OS must enable the tile state
// in XCR0, and Linux must grant this process the tile data state through
// arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA); a tile instruction before that grant is
// SIGILL. The check runs once (a function-local static) and never faults. Anything but x86-64
// Linux with GCC or Clang compiles the same API with amx_bf16_available() == false.
//
// Why inline asm instead of GCC 12's _tile_* macros: those macros tell the compiler neither that
// tileloadd reads memory nor (for _tile_loadconfig) that all 64 bytes of the configuration are
// read, so stores that fill a packing buffer could legally be moved after the tile load. The
// wrappers below are the same instructions with honest memory operands. They need no -mamx flags
// (the assembler accepts them anywhere), so no compiler option of the library changes and machines
// without AMX are unaffected: nothing executes them unless amx_bf16_available() said yes. Only
// the AVX-512F packing functions carry a target attribute.
//
// Blocking: the eight tile registers hold a 2 x 2 block of 16 x 16 FP32 C tiles (tmm0-3), two A
// tiles of 16 rows x 32 BF16 (tmm4-5) and two B tiles of 16 K-pairs x 16 columns (tmm6-7), so each
// 32-wide K step is four tile loads and four TDPBF16PS. B is packed once into 1 KiB tiles in the
// VNNI pair layout TDPBF16PS reads (row p of a tile holds B[2p][n], B[2p + 1][n] for 16 columns);
// `packed_b` keeps them so a layer packs its weights once per optimizer step. A is converted 32
// rows at a time into a panel of 1 KiB tiles that stays in L1 while it sweeps every column of B.
// Tails: K is zero-padded to a multiple of 32 in both packs; rows past M are zero in the A panel;
// columns past N are zero in packed B; C tiles that overhang M or N go through a 16 x 16 staging
// buffer, so no tile load or store touches memory outside the caller's buffers. One
// configuration (every tile 16 rows x 64 bytes) serves the whole call.
//
// A is read through (row stride, column stride) as in simd_blas::gemm: contiguous rows use
// masked loads, other strides (A^T, say) an AVX-512 gather, a few times slower on the packing
// only.
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "netmarl/core/assert.hpp"
#include "netmarl/core/error.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/kernels/simd_blas/gemm.hpp"
#include "netmarl/kernels/simd_blas/transpose.hpp"  // scratch()

#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__))
#define NETMARL_AMX_CODE 1
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>
#define NETMARL_AVX512_TARGET __attribute__((target("avx512f")))
#else
#define NETMARL_AMX_CODE 0
#endif

namespace netmarl::kernels::simd_blas {

// FP32 -> BF16 bits, round to nearest even; NaN stays NaN (quieted), as VCVTNEPS2BF16 does.
inline std::uint16_t to_bf16(float x) {
  std::uint32_t u = std::bit_cast<std::uint32_t>(x);
  if ((u & 0x7fffffffu) > 0x7f800000u) return std::uint16_t((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return std::uint16_t(u >> 16);
}

inline float from_bf16(std::uint16_t h) { return std::bit_cast<float>(std::uint32_t(h) << 16); }

namespace amx_detail {

constexpr index tile_rows = 16;    // rows of every tile
constexpr index tile_k = 32;       // BF16 values of K per A tile row (64 bytes)
constexpr index tile_n = 16;       // FP32 columns of a C tile, K-pairs' columns of a B tile
constexpr index tile_elems = 512;  // BF16 values in one 1 KiB A or B tile
constexpr index tile_bytes = 64;   // bytes per tile row

struct availability {
  bool ok;
  const char* reason;
};

inline availability probe() {
  if (const char* off = std::getenv("NETMARL_NO_AMX");
      off != nullptr && *off != '\0' && *off != '0')
    return {false, "AMX disabled by the NETMARL_NO_AMX environment variable"};
#if NETMARL_AMX_CODE
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid_max(0, nullptr) < 7)
    return {false, "AMX unavailable: the CPU has no CPUID leaf 7"};
  __cpuid_count(7, 0, a, b, c, d);
  if (((d >> 24) & 1u) == 0 || ((d >> 22) & 1u) == 0)
    return {false,
            "AMX unavailable: the CPU does not report AMX-TILE and AMX-BF16 (CPUID.7.0:EDX)"};
  if (((b >> 16) & 1u) == 0)
    return {false, "AMX unavailable: the CPU lacks AVX-512F, which the bf16 packing uses"};
  __cpuid(1, a, b, c, d);
  if (((c >> 27) & 1u) == 0) return {false, "AMX unavailable: the OS has not enabled XSAVE"};
  unsigned xcr0_lo = 0, xcr0_hi = 0;
  __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0u));
  constexpr unsigned avx512_state = 0xe6u;                  // SSE, AVX, opmask, ZMM halves
  constexpr unsigned tile_state = (1u << 17) | (1u << 18);  // XTILECFG, XTILEDATA
  if ((xcr0_lo & avx512_state) != avx512_state || (xcr0_lo & tile_state) != tile_state)
    return {false, "AMX unavailable: the OS does not enable the AVX-512 and tile states in XCR0"};
  constexpr long arch_get_xcomp_perm = 0x1022, arch_req_xcomp_perm = 0x1023;
  constexpr unsigned long xfeature_xtiledata = 18;
  if (syscall(SYS_arch_prctl, arch_req_xcomp_perm, xfeature_xtiledata) != 0)
    return {false,
            "AMX unavailable: Linux refused arch_prctl(ARCH_REQ_XCOMP_PERM, XTILEDATA) (kernel "
            "older than 5.16, or the signal stack is too small for the tile state)"};
  unsigned long granted = 0;
  if (syscall(SYS_arch_prctl, arch_get_xcomp_perm, &granted) != 0 ||
      ((granted >> xfeature_xtiledata) & 1u) == 0)
    return {false, "AMX unavailable: Linux did not grant the tile data state to this process"};
  return {true, "AMX-BF16 available: bf16 products run on AMX tiles with FP32 accumulation"};
#else
  return {false, "AMX unavailable: not an x86-64 Linux build with GCC or Clang"};
#endif
}

inline const availability& cached_availability() {
  static const availability result = probe();  // thread-safe, once per process
  return result;
}

// The packing runs with AVX-512F where the CPU has it, else the scalar loops (tests compare both).
inline bool avx512f_available() {
#if NETMARL_AMX_CODE
  static const bool result = __builtin_cpu_supports("avx512f");
  return result;
#else
  return false;
#endif
}

template <class T>
struct aligned_allocator {
  using value_type = T;
  static constexpr std::align_val_t alignment{64};
  aligned_allocator() = default;
  template <class U>
  aligned_allocator(const aligned_allocator<U>&) {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), alignment)); }
  void deallocate(T* p, std::size_t) { ::operator delete(p, alignment); }
  template <class U>
  bool operator==(const aligned_allocator<U>&) const {
    return true;
  }
};

// ---- Packing: scalar (portable, the definition) and AVX-512F (same bits) ----

// dst[kb * dst_step + 0 : 32] = bf16(src[(kb * 32 + t) * stride]) for kb < k_blocks, zero past n.
inline void convert_row_scalar(const float* src, index stride, index n, index k_blocks,
                               std::uint16_t* dst, index dst_step) {
  for (index kb = 0; kb < k_blocks; ++kb)
    for (index t = 0; t < tile_k; ++t) {
      const index k = kb * tile_k + t;
      dst[kb * dst_step + t] = k < n ? to_bf16(src[k * stride]) : std::uint16_t(0);
    }
}

// One B tile: row p = (B[k0 + 2p][n0 + j], B[k0 + 2p + 1][n0 + j]) for j < 16, zero outside K, N.
inline void pack_b_tile_scalar(const float* b, index ldb, index K, index N, index k0, index n0,
                               std::uint16_t* dst) {
  for (index p = 0; p < tile_rows; ++p)
    for (index j = 0; j < tile_n; ++j)
      for (index h = 0; h < 2; ++h) {
        const index k = k0 + 2 * p + h, n = n0 + j;
        dst[p * 2 * tile_n + 2 * j + h] = k < K && n < N ? to_bf16(b[k * ldb + n]) : 0;
      }
}

#if NETMARL_AMX_CODE
// 16 lanes rounded to BF16 in their upper halves (the scalar to_bf16, lane-wise).
NETMARL_AVX512_TARGET inline __m512i round_bf16_high(__m512 x) {
  const __m512i u = _mm512_castps_si512(x);
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  const __m512i rounded = _mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff)));
  const __m512i quiet = _mm512_or_si512(u, _mm512_set1_epi32(0x00400000));
  return _mm512_mask_blend_epi32(_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), rounded, quiet);
}

NETMARL_AVX512_TARGET inline __mmask16 first_lanes(index n) {
  return n >= 16 ? __mmask16(0xffff) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1u);
}

// Up to 16 floats src[t * stride], t < n, zero beyond; never reads past the n-th.
NETMARL_AVX512_TARGET inline __m512 load_strided(const float* src, index stride, index n,
                                                 __m512i offsets) {
  const __mmask16 m = first_lanes(n);
  if (stride == 1) return _mm512_maskz_loadu_ps(m, src);
  return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, offsets, src, 4);
}

NETMARL_AVX512_TARGET inline void convert_row_avx512(const float* src, index stride, index n,
                                                     index k_blocks, std::uint16_t* dst,
                                                     index dst_step) {
  // A gather takes 32-bit offsets: wider strides take the scalar loop.
  if (stride != 1 && (stride > (index(1) << 26) || stride < -(index(1) << 26))) {
    convert_row_scalar(src, stride, n, k_blocks, dst, dst_step);
    return;
  }
  const __m512i offsets =
      _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                         _mm512_set1_epi32(static_cast<int>(stride)));
  for (index kb = 0; kb < k_blocks; ++kb) {
    const index k0 = kb * tile_k, left = n - k0;
    std::uint16_t* out = dst + kb * dst_step;
    for (index half = 0; half < 2; ++half) {
      const index here = left - 16 * half;
      const __m512 x = here > 0
                           ? load_strided(src + (k0 + 16 * half) * stride, stride, here, offsets)
                           : _mm512_setzero_ps();
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 16 * half),
                          _mm512_cvtepi32_epi16(_mm512_srli_epi32(round_bf16_high(x), 16)));
    }
  }
}

NETMARL_AVX512_TARGET inline void pack_b_tile_avx512(const float* b, index ldb, index K, index N,
                                                     index k0, index n0, std::uint16_t* dst) {
  const __mmask16 cols = first_lanes(N - n0);
  const __m512i high_half = _mm512_set1_epi32(static_cast<int>(0xffff0000u));
  for (index p = 0; p < tile_rows; ++p) {
    const index k = k0 + 2 * p;
    const __m512 even = k < K ? _mm512_maskz_loadu_ps(cols, b + k * ldb + n0) : _mm512_setzero_ps();
    const __m512 odd =
        k + 1 < K ? _mm512_maskz_loadu_ps(cols, b + (k + 1) * ldb + n0) : _mm512_setzero_ps();
    // Lane j = (bf16 of B[k][j]) | (bf16 of B[k + 1][j]) << 16: the pair layout.
    const __m512i pair = _mm512_or_si512(_mm512_srli_epi32(round_bf16_high(even), 16),
                                         _mm512_and_si512(round_bf16_high(odd), high_half));
    _mm512_storeu_si512(dst + p * 2 * tile_n, pair);
  }
}
#endif

inline void convert_row(bool vector, const float* src, index stride, index n, index k_blocks,
                        std::uint16_t* dst, index dst_step) {
#if NETMARL_AMX_CODE
  if (vector) return convert_row_avx512(src, stride, n, k_blocks, dst, dst_step);
#endif
  convert_row_scalar(src, stride, n, k_blocks, dst, dst_step);
}

inline void pack_b_tile(bool vector, const float* b, index ldb, index K, index N, index k0,
                        index n0, std::uint16_t* dst) {
#if NETMARL_AMX_CODE
  if (vector) return pack_b_tile_avx512(b, ldb, K, N, k0, n0, dst);
#endif
  pack_b_tile_scalar(b, ldb, K, N, k0, n0, dst);
}

// The A panel for rows [0, rows) (rows <= 32) of A(r, k) = a[r * rsa + k * csa]: row tile t,
// K block kb at panel + (t * k_blocks + kb) * 512, 32 BF16 per row; rows past `rows` are zero.
inline void pack_a_panel(bool vector, index rows, index row_tiles, index K, index k_blocks,
                         const float* a, index rsa, index csa, std::uint16_t* panel) {
  for (index r = 0; r < row_tiles * tile_rows; ++r) {
    std::uint16_t* dst = panel + (r / tile_rows) * k_blocks * tile_elems + (r % tile_rows) * tile_k;
    if (r < rows)
      convert_row(vector, a + r * rsa, csa, K, k_blocks, dst, tile_elems);
    else
      for (index kb = 0; kb < k_blocks; ++kb)
        std::memset(dst + kb * tile_elems, 0, tile_k * sizeof(std::uint16_t));
  }
}

// ---- Tile engines: the hardware, and the same semantics in portable C++ ----

// LDTILECFG's 64-byte memory operand, palette 1.
struct alignas(64) tile_config {
  std::uint8_t palette = 1;
  std::uint8_t start_row = 0;
  std::uint8_t reserved[14] = {};
  std::uint16_t colsb[16] = {};  // bytes per row, per tile
  std::uint8_t rows[16] = {};
};
static_assert(sizeof(tile_config) == 64);

// Every tile 16 rows x 64 bytes: C (16 x 16 FP32), A (16 x 32 BF16), B (16 pairs x 16 columns).
inline tile_config full_tiles() {
  tile_config cfg;
  for (int t = 0; t < 8; ++t) {
    cfg.rows[t] = std::uint8_t(tile_rows);
    cfg.colsb[t] = std::uint16_t(tile_bytes);
  }
  return cfg;
}

// The AMX instructions. Callers must have seen amx_bf16_available() (else SIGILL).
struct hardware_tiles {
  static constexpr bool is_hardware = true;
#if NETMARL_AMX_CODE
  static void configure(const tile_config& cfg) {
    __asm__ volatile("ldtilecfg %0" ::"m"(cfg) : "memory");
  }
  static void release() { __asm__ volatile("tilerelease" ::: "memory"); }
  template <int T>
  static void zero() {
    __asm__ volatile("tilezero %%tmm%c0" ::"i"(T));
  }
  template <int T>
  static void load(const void* base, index stride_bytes) {
    __asm__ volatile("tileloadd (%1,%2,1), %%tmm%c0" ::"i"(T), "r"(base), "r"(stride_bytes)
                     : "memory");
  }
  template <int T>
  static void store(void* base, index stride_bytes) {
    __asm__ volatile("tilestored %%tmm%c0, (%1,%2,1)" ::"i"(T), "r"(base), "r"(stride_bytes)
                     : "memory");
  }
  // tmm[C] += tmm[A] . tmm[B] over BF16 pairs, FP32 accumulation (AT&T operand order).
  template <int C, int A, int B>
  static void dot() {
    __asm__ volatile("tdpbf16ps %%tmm%c2, %%tmm%c1, %%tmm%c0" ::"i"(C), "i"(A), "i"(B));
  }
#else
  // Never reached: run() throws first, since amx_bf16_available() is false here.
  static void configure(const tile_config&) {}
  static void release() {}
  template <int T>
  static void zero() {}
  template <int T>
  static void load(const void*, index) {}
  template <int T>
  static void store(void*, index) {}
  template <int C, int A, int B>
  static void dot() {}
#endif
};

// The tile instructions' semantics (Intel SDM: LDTILECFG, TILELOADD, TILESTORED, TILEZERO,
// TDPBF16PS) in C++, with their shape rules asserted, so the packing and tiling logic is tested on
// machines without AMX. Slow: for tests only.
struct emulated_tiles {
  static constexpr bool is_hardware = false;
  struct state {
    tile_config cfg;
    bool configured = false;
    alignas(64) unsigned char tile[8][tile_rows][tile_bytes] = {};
  };
  static state& tiles() {
    thread_local state s;
    return s;
  }
  static void check(int t) {
    NETMARL_ASSERT(tiles().configured, "tile instruction before LDTILECFG");
    NETMARL_ASSERT(tiles().cfg.rows[t] > 0 && tiles().cfg.colsb[t] > 0, "unconfigured tile");
  }
  static void configure(const tile_config& cfg) {
    NETMARL_ASSERT(cfg.palette == 1 && cfg.start_row == 0, "palette 1, start_row 0");
    for (int t = 0; t < 8; ++t)
      NETMARL_ASSERT(cfg.rows[t] <= tile_rows && cfg.colsb[t] <= tile_bytes, "tile too large");
    tiles().cfg = cfg;
    tiles().configured = true;
    std::memset(tiles().tile, 0, sizeof(tiles().tile));  // LDTILECFG zeroes the tiles
  }
  static void release() { tiles().configured = false; }
  template <int T>
  static void zero() {
    check(T);
    std::memset(tiles().tile[T], 0, sizeof(tiles().tile[T]));
  }
  template <int T>
  static void load(const void* base, index stride_bytes) {
    check(T);
    auto& s = tiles();
    std::memset(s.tile[T], 0, sizeof(s.tile[T]));
    for (index r = 0; r < s.cfg.rows[T]; ++r)
      std::memcpy(s.tile[T][r], static_cast<const unsigned char*>(base) + r * stride_bytes,
                  s.cfg.colsb[T]);
  }
  template <int T>
  static void store(void* base, index stride_bytes) {
    check(T);
    auto& s = tiles();
    for (index r = 0; r < s.cfg.rows[T]; ++r)
      std::memcpy(static_cast<unsigned char*>(base) + r * stride_bytes, s.tile[T][r],
                  s.cfg.colsb[T]);
  }
  template <int C, int A, int B>
  static void dot() {
    static_assert(C != A && C != B && A != B, "TDPBF16PS needs three distinct tiles");
    check(C);
    check(A);
    check(B);
    auto& s = tiles();
    const index m_rows = s.cfg.rows[C], n_cols = s.cfg.colsb[C] / 4, pairs = s.cfg.colsb[A] / 4;
    NETMARL_ASSERT(s.cfg.rows[A] == m_rows && s.cfg.rows[B] == pairs &&
                       s.cfg.colsb[B] == s.cfg.colsb[C] && s.cfg.colsb[C] % 4 == 0 &&
                       s.cfg.colsb[A] % 4 == 0,
                   "TDPBF16PS tile shapes do not match");
    for (index m = 0; m < m_rows; ++m)
      for (index n = 0; n < n_cols; ++n) {
        float acc;
        std::memcpy(&acc, s.tile[C][m] + 4 * n, 4);
        for (index k = 0; k < pairs; ++k)
          for (index h = 0; h < 2; ++h) {
            std::uint16_t x, y;
            std::memcpy(&x, s.tile[A][m] + 4 * k + 2 * h, 2);
            std::memcpy(&y, s.tile[B][k] + 4 * n + 2 * h, 2);
            acc += from_bf16(x) * from_bf16(y);
          }
        std::memcpy(s.tile[C][m] + 4 * n, &acc, 4);
      }
  }
};

}  // namespace amx_detail

// True when the AMX BF16 GEMM may run here; decided once per process, never faults.
inline bool amx_bf16_available() { return amx_detail::cached_availability().ok; }

// Why (or that) AMX is used: for the one-time "bf16 requested, falling back to FP32" notice.
inline const char* amx_status() { return amx_detail::cached_availability().reason; }

// B[K, N] rounded to BF16 and laid out in the tiles TDPBF16PS reads: K-block kb of column tile nt
// is the 1 KiB tile at tile(nt, kb). Pack once per weight update, reuse for every product.
// Packing needs no AMX, only run() does.
class packed_b {
 public:
  packed_b() = default;
  packed_b(index K, index N, const float* b, index ldb) { pack(K, N, b, ldb); }

  // Reuses the storage when it is large enough: no allocation once warmed up.
  void pack(index K, index N, const float* b, index ldb) {
    pack(amx_detail::avx512f_available(), K, N, b, ldb);
  }
  // `vector` chooses the AVX-512F packing (it must be available) or the scalar loops.
  void pack(bool vector, index K, index N, const float* b, index ldb) {
    using namespace amx_detail;
    k_ = K > 0 ? K : 0;
    n_ = N > 0 ? N : 0;
    k_blocks_ = (k_ + tile_k - 1) / tile_k;
    n_tiles_ = (n_ + tile_n - 1) / tile_n;
    storage_.resize(static_cast<std::size_t>(k_blocks_ * n_tiles_ * tile_elems));
    for (index nt = 0; nt < n_tiles_; ++nt)
      for (index kb = 0; kb < k_blocks_; ++kb)
        pack_b_tile(vector, b, ldb, k_, n_, kb * tile_k, nt * tile_n, mutable_tile(nt, kb));
  }

  index rows() const { return k_; }
  index cols() const { return n_; }
  index k_blocks() const { return k_blocks_; }
  index n_tiles() const { return n_tiles_; }
  const std::uint16_t* tile(index nt, index kb) const {
    return storage_.data() + (nt * k_blocks_ + kb) * amx_detail::tile_elems;
  }

 private:
  std::uint16_t* mutable_tile(index nt, index kb) {
    return storage_.data() + (nt * k_blocks_ + kb) * amx_detail::tile_elems;
  }
  std::vector<std::uint16_t, amx_detail::aligned_allocator<std::uint16_t>> storage_;
  index k_ = 0, n_ = 0, k_blocks_ = 0, n_tiles_ = 0;
};

// The GEMM over a tile engine; use `amx_bf16_gemm` (the hardware). Single-threaded per call, like
// simd_blas::gemm: callers split rows across threads.
template <class Tiles>
struct basic_amx_gemm {
  // C[M, N] (ldc) = init + A(M, K) . B with A(r, k) = a[r * rsa + k * csa] and B packed (K x N).
  // bias (N floats) is read only when first == init::bias.
  static void run(index M, index N, index K, const float* a, index rsa, index csa,
                  const packed_b& b, float* c, index ldc, init first, const float* bias) {
    using namespace amx_detail;
    if constexpr (Tiles::is_hardware)
      NETMARL_CHECK(amx_bf16_available(), internal_error,
                    std::string("amx_bf16_gemm called without AMX: ") + amx_status());
    if (M <= 0 || N <= 0) return;
    NETMARL_CHECK(b.rows() == (K > 0 ? K : 0) && b.cols() == N, shape_error,
                  "amx_bf16_gemm: packed B is not K x N");
    const bool vector = avx512f_available();
    const index k_blocks = b.k_blocks(), n_tiles = b.n_tiles();
    std::uint16_t* panel = panel_scratch(2 * k_blocks * tile_elems);
    alignas(64) float stage[tile_rows * tile_n];
    // The last column tile's bias, zero-padded so a stride-0 tile load reads 64 valid bytes.
    alignas(64) float bias_tail[tile_n] = {};
    if (first == init::bias)
      for (index j = (n_tiles - 1) * tile_n; j < N; ++j) bias_tail[j % tile_n] = bias[j];
    const c_target out{c, ldc, M, N, first, bias, bias_tail, stage};

    const tile_config cfg = full_tiles();
    Tiles::configure(cfg);
    for (index i0 = 0; i0 < M; i0 += 2 * tile_rows) {
      const index rows = std::min<index>(2 * tile_rows, M - i0);
      const index row_tiles = rows > tile_rows ? 2 : 1;
      if (k_blocks > 0)  // with K == 0, `a` may be null
        pack_a_panel(vector, rows, row_tiles, K, k_blocks, a + i0 * rsa, rsa, csa, panel);
      for (index jt = 0; jt < n_tiles; jt += 2) {
        const bool two_cols = jt + 1 < n_tiles;
        if (row_tiles == 2)
          two_cols ? block<2, 2>(out, i0, jt, k_blocks, panel, b)
                   : block<2, 1>(out, i0, jt, k_blocks, panel, b);
        else
          two_cols ? block<1, 2>(out, i0, jt, k_blocks, panel, b)
                   : block<1, 1>(out, i0, jt, k_blocks, panel, b);
      }
    }
    Tiles::release();
  }

  // The same with B[K, N] (ldb) packed on the fly into a per-thread buffer.
  static void run(index M, index N, index K, const float* a, index rsa, index csa, const float* b,
                  index ldb, float* c, index ldc, init first, const float* bias) {
    if constexpr (Tiles::is_hardware)
      NETMARL_CHECK(amx_bf16_available(), internal_error,
                    std::string("amx_bf16_gemm called without AMX: ") + amx_status());
    if (M <= 0 || N <= 0) return;
    thread_local packed_b packed;
    packed.pack(K, N, b, ldb);
    run(M, N, K, a, rsa, csa, packed, c, ldc, first, bias);
  }

 private:
  struct owner {};

  struct c_target {
    float* c;
    index ldc, M, N;
    init first;
    const float* bias;
    const float* bias_tail;
    float* stage;
  };

  static std::uint16_t* panel_scratch(index n_bf16) {
    // scratch() hands out floats: half as many, plus room to align to a cache line.
    float* raw = scratch<owner>(static_cast<std::size_t>(n_bf16 / 2 + 16));
    const auto address = reinterpret_cast<std::uintptr_t>(raw);
    return reinterpret_cast<std::uint16_t*>((address + 63) & ~std::uintptr_t(63));
  }

  // C tile T covers rows [r0, r0 + 16) and columns [j0, j0 + 16) of C.
  template <int T>
  static void init_tile(const c_target& o, index r0, index j0) {
    using namespace amx_detail;
    const index rows = std::min<index>(tile_rows, o.M - r0),
                cols = std::min<index>(tile_n, o.N - j0);
    const index stride = o.ldc * index(sizeof(float));
    if (o.first == init::zero) {
      Tiles::template zero<T>();
    } else if (o.first == init::bias) {
      Tiles::template load<T>(cols == tile_n ? o.bias + j0 : o.bias_tail, 0);  // row broadcast
    } else if (rows == tile_rows && cols == tile_n) {
      Tiles::template load<T>(o.c + r0 * o.ldc + j0, stride);
    } else {
      for (index r = 0; r < tile_rows; ++r)
        for (index j = 0; j < tile_n; ++j)
          o.stage[r * tile_n + j] = r < rows && j < cols ? o.c[(r0 + r) * o.ldc + j0 + j] : 0.0f;
      Tiles::template load<T>(o.stage, tile_bytes);
    }
  }

  template <int T>
  static void store_tile(const c_target& o, index r0, index j0) {
    using namespace amx_detail;
    const index rows = std::min<index>(tile_rows, o.M - r0),
                cols = std::min<index>(tile_n, o.N - j0);
    if (rows == tile_rows && cols == tile_n) {
      Tiles::template store<T>(o.c + r0 * o.ldc + j0, o.ldc * index(sizeof(float)));
      return;
    }
    Tiles::template store<T>(o.stage, tile_bytes);
    for (index r = 0; r < rows; ++r)
      for (index j = 0; j < cols; ++j) o.c[(r0 + r) * o.ldc + j0 + j] = o.stage[r * tile_n + j];
  }

  // C rows [i0, i0 + 16 MT), column tiles [jt, jt + NT): C tile (i, j) in tmm(2i + j), A row tile
  // i in tmm(4 + i), B column tile j in tmm(6 + j).
  template <int MT, int NT>
  static void block(const c_target& o, index i0, index jt, index k_blocks,
                    const std::uint16_t* panel, const packed_b& b) {
    using namespace amx_detail;
    const index j0 = jt * tile_n, j1 = j0 + tile_n, i1 = i0 + tile_rows;
    init_tile<0>(o, i0, j0);
    if constexpr (NT == 2) init_tile<1>(o, i0, j1);
    if constexpr (MT == 2) init_tile<2>(o, i1, j0);
    if constexpr (MT == 2 && NT == 2) init_tile<3>(o, i1, j1);
    const std::uint16_t* a0 = panel;
    const std::uint16_t* a1 = panel + k_blocks * tile_elems;
    const std::uint16_t* b0 = b.tile(jt, 0);
    const std::uint16_t* b1 = NT == 2 ? b.tile(jt + 1, 0) : b0;
    for (index kb = 0; kb < k_blocks; ++kb) {
      const index at = kb * tile_elems;
      Tiles::template load<4>(a0 + at, tile_bytes);
      if constexpr (MT == 2) Tiles::template load<5>(a1 + at, tile_bytes);
      Tiles::template load<6>(b0 + at, tile_bytes);
      if constexpr (NT == 2) Tiles::template load<7>(b1 + at, tile_bytes);
      Tiles::template dot<0, 4, 6>();
      if constexpr (NT == 2) Tiles::template dot<1, 4, 7>();
      if constexpr (MT == 2) Tiles::template dot<2, 5, 6>();
      if constexpr (MT == 2 && NT == 2) Tiles::template dot<3, 5, 7>();
    }
    store_tile<0>(o, i0, j0);
    if constexpr (NT == 2) store_tile<1>(o, i0, j1);
    if constexpr (MT == 2) store_tile<2>(o, i1, j0);
    if constexpr (MT == 2 && NT == 2) store_tile<3>(o, i1, j1);
  }
};

using amx_bf16_gemm = basic_amx_gemm<amx_detail::hardware_tiles>;

}  // namespace netmarl::kernels::simd_blas
