// The AMX BF16 GEMM (simd_blas/amx.hpp) against an FP64 product. The packing and tiling logic runs
// everywhere on the emulated tile engine (the instructions' semantics in C++); the hardware engine
// runs only where amx_bf16_available(), and the test says why when it is skipped. Every buffer ends
// at an inaccessible page, so a read or write past the caller's data faults.
#include <sys/mman.h>
#include <unistd.h>

#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "netmarl/kernels/simd_blas/amx.hpp"

namespace blas = netmarl::kernels::simd_blas;
namespace amx = netmarl::kernels::simd_blas::amx_detail;
using idx = netmarl::index;  // plain `index` clashes with POSIX index()

namespace {

std::size_t sz(idx n) { return static_cast<std::size_t>(n); }

// n elements whose last one is followed by a PROT_NONE page.
template <class T>
class guarded {
 public:
  explicit guarded(std::size_t n) : n_(n) {
    const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t bytes = (n * sizeof(T) + page - 1) / page * page;
    total_ = bytes + page;
    void* base = mmap(nullptr, total_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(base != MAP_FAILED);
    base_ = static_cast<unsigned char*>(base);
    REQUIRE(mprotect(base_ + bytes, page, PROT_NONE) == 0);
    data_ = reinterpret_cast<T*>(base_ + bytes) - n;
  }
  guarded(const guarded&) = delete;
  guarded& operator=(const guarded&) = delete;
  ~guarded() { munmap(base_, total_); }
  T* data() { return data_; }
  T& operator[](std::size_t i) { return data_[i]; }
  std::size_t size() const { return n_; }

 private:
  std::size_t n_, total_ = 0;
  unsigned char* base_ = nullptr;
  T* data_ = nullptr;
};

float bf16_round(float x) { return blas::from_bf16(blas::to_bf16(x)); }

struct shape {
  idx M, N, K;
};

// Sizes around the tile edges (16 rows and columns, 32 K values, pairs of K), degenerate ones,
// and the library's 1600 x 128 x 128 layer.
const std::vector<shape> shapes = {{1, 1, 1},    {1, 1, 0},    {3, 5, 0},    {1, 200, 70},
                                   {200, 1, 70}, {37, 1, 1},   {17, 33, 31}, {33, 17, 65},
                                   {31, 15, 33}, {32, 16, 32}, {32, 32, 64}, {48, 48, 96},
                                   {16, 16, 16}, {64, 64, 3},  {5, 47, 2},   {100, 130, 257}};

enum class a_layout { rows, transposed };

// C = init + A . B through Gemm, against FP64 on the original inputs (bf16 error bound) and on
// the bf16-rounded inputs (FP32 accumulation only, which catches any layout slip).
template <class Gemm>
void check_gemm(shape s, a_layout layout, blas::init first, bool prepacked, unsigned seed) {
  const idx M = s.M, N = s.N, K = s.K;
  INFO("M " << M << " N " << N << " K " << K << " transposed A " << (layout == a_layout::transposed)
            << " init " << int(first) << " prepacked " << prepacked);
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  // A with padding between rows (or columns, when transposed); B and C with padded rows.
  const idx lda = layout == a_layout::rows ? K + 3 : M + 5;
  const idx rsa = layout == a_layout::rows ? lda : 1, csa = layout == a_layout::rows ? 1 : lda;
  const idx a_outer = layout == a_layout::rows ? M : K, a_inner = layout == a_layout::rows ? K : M;
  const idx ldb = N + 7, ldc = N + 2;
  guarded<float> a(a_outer > 0 ? sz((a_outer - 1) * lda + a_inner) : 0);
  guarded<float> b(K > 0 ? sz((K - 1) * ldb + N) : 0);
  guarded<float> c(sz((M - 1) * ldc + N));
  guarded<float> bias(sz(N));
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = u(gen);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = u(gen);
  for (std::size_t i = 0; i < bias.size(); ++i) bias[i] = u(gen);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<double> start(sz(M * N), 0.0);
  for (idx r = 0; r < M; ++r)
    for (idx j = 0; j < ldc && r * ldc + j < idx(c.size()); ++j) {
      const bool inside = j < N;
      const float v = first == blas::init::load && inside ? u(gen) : nan;  // overwrite: NaN
      c[sz(r * ldc + j)] = v;
      if (inside)
        start[sz(r * N + j)] = first == blas::init::load   ? v
                               : first == blas::init::bias ? double(bias[sz(j)])
                                                           : 0.0;
    }

  if (prepacked) {
    const blas::packed_b packed(K, N, b.data(), ldb);
    Gemm::run(M, N, K, a.data(), rsa, csa, packed, c.data(), ldc, first, bias.data());
  } else {
    Gemm::run(M, N, K, a.data(), rsa, csa, b.data(), ldb, c.data(), ldc, first, bias.data());
  }

  const double u24 = std::ldexp(1.0, -24);
  idx bad = 0;
  double worst_ratio = 0;
  for (idx r = 0; r < M; ++r)
    for (idx j = 0; j < ldc && r * ldc + j < idx(c.size()); ++j) {
      const float got = c[sz(r * ldc + j)];
      if (j >= N) {  // padding between rows: untouched
        if (!std::isnan(got)) ++bad;
        continue;
      }
      double exact = start[sz(r * N + j)], rounded = exact, scale = 0, scale_rounded = 0;
      for (idx k = 0; k < K; ++k) {
        const float x = a[sz(r * rsa + k * csa)], y = b[sz(k * ldb + j)];
        exact += double(x) * double(y);
        rounded += double(bf16_round(x)) * double(bf16_round(y));
        scale += std::abs(double(x) * double(y));
        scale_rounded += std::abs(double(bf16_round(x)) * double(bf16_round(y)));
      }
      const double init_abs = std::abs(start[sz(r * N + j)]);
      // Products of bf16 values are exact in FP32; K + 2 FP32 additions round.
      const double accumulation = double(K + 2) * 2 * u24 * (scale_rounded + init_abs) + 1e-30;
      // bf16 keeps 8 significant bits: each input within 2^-8 relative, a product 2^-7 + 2^-16.
      const double bf16_bound = scale * (std::ldexp(1.0, -7) + std::ldexp(1.0, -16)) +
                                double(K + 2) * 2 * u24 * (scale + init_abs) + 1e-30;
      const double err_rounded = std::abs(double(got) - rounded);
      const double err = std::abs(double(got) - exact);
      if (!(err_rounded <= accumulation) || !(err <= bf16_bound)) {
        if (bad == 0)
          UNSCOPED_INFO("first mismatch at (" << r << ", " << j << "): got " << got
                                              << ", bf16-input product " << rounded << ", exact "
                                              << exact);
        ++bad;
      }
      worst_ratio = std::max(worst_ratio, err / bf16_bound);
    }
  REQUIRE(bad == 0);
  REQUIRE(worst_ratio <= 1.0);
}

template <class Gemm>
void check_all_shapes(unsigned seed) {
  for (const shape s : shapes)
    for (const auto layout : {a_layout::rows, a_layout::transposed})
      for (const auto first : {blas::init::zero, blas::init::bias, blas::init::load}) {
        ++seed;
        check_gemm<Gemm>(s, layout, first, (seed & 1) != 0, seed);
      }
  check_gemm<Gemm>({1600, 128, 128}, a_layout::rows, blas::init::bias, true, seed + 1);
  check_gemm<Gemm>({1600, 128, 128}, a_layout::rows, blas::init::load, false, seed + 2);
}

// Values that exercise every branch of the rounding: ties, carries into the exponent, specials.
std::vector<float> awkward_values(std::mt19937& gen, std::size_t n) {
  const float specials[] = {0.0f,
                            -0.0f,
                            1.0f,
                            std::bit_cast<float>(0x3f808000u),  // tie, even below: down
                            std::bit_cast<float>(0x3f818000u),  // tie, odd below: up
                            std::bit_cast<float>(0x3f7fffffu),  // carries into the exponent
                            std::numeric_limits<float>::max(),
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN(),
                            std::bit_cast<float>(0xff800001u),  // signalling NaN
                            std::numeric_limits<float>::denorm_min()};
  std::uniform_int_distribution<std::uint32_t> bits;
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = i % 3 == 0 ? specials[(i / 3) % std::size(specials)] : std::bit_cast<float>(bits(gen));
  return v;
}

}  // namespace

TEST_CASE("amx availability is decided once and explained", "[kernels][amx]") {
  const std::string status = blas::amx_status();
  REQUIRE(!status.empty());
  REQUIRE(blas::amx_bf16_available() == blas::amx_bf16_available());
  REQUIRE(status == blas::amx_status());
  if (!blas::amx_bf16_available()) {
    WARN("AMX BF16 GEMM hardware tests skipped: " << status);
    // Calling the hardware GEMM anyway must throw, not execute a tile instruction (SIGILL).
    std::vector<float> x(4, 1.0f), y(4, 0.0f);
    REQUIRE_THROWS(blas::amx_bf16_gemm::run(2, 2, 2, x.data(), 2, 1, x.data(), 2, y.data(), 2,
                                            blas::init::zero, nullptr));
  }
}

TEST_CASE("to_bf16 rounds to nearest even", "[kernels][amx]") {
  const auto bits = [](std::uint32_t u) { return blas::to_bf16(std::bit_cast<float>(u)); };
  REQUIRE(blas::to_bf16(1.0f) == 0x3f80);
  REQUIRE(bits(0x3f808000u) == 0x3f80);  // 1 + 2^-8: halfway, even neighbour below
  REQUIRE(bits(0x3f818000u) == 0x3f82);  // 1 + 3 * 2^-8: halfway, even neighbour above
  REQUIRE(bits(0x3f808001u) == 0x3f81);  // just above halfway
  REQUIRE(bits(0x3f807fffu) == 0x3f80);  // just below halfway
  REQUIRE(bits(0xbf818000u) == 0xbf82);  // negative ties are symmetric
  REQUIRE(bits(0x3f7fffffu) == 0x3f80);  // the carry moves into the exponent
  REQUIRE(blas::to_bf16(-0.0f) == 0x8000);
  REQUIRE(blas::to_bf16(std::numeric_limits<float>::infinity()) == 0x7f80);
  REQUIRE(blas::to_bf16(std::numeric_limits<float>::max()) == 0x7f80);  // rounds to infinity
  REQUIRE(bits(0x7f7f7fffu) == 0x7f7f);                                 // stays finite
  REQUIRE(std::isnan(blas::from_bf16(blas::to_bf16(std::numeric_limits<float>::quiet_NaN()))));
  REQUIRE(bits(0x7f800001u) == 0x7fc0);  // a signalling NaN whose payload would round away
  REQUIRE(bits(0xff800001u) == 0xffc0);
  REQUIRE(blas::from_bf16(0x3f82) == 1.015625f);
}

TEST_CASE("AVX-512 packing gives the scalar packing's bits", "[kernels][amx]") {
  if (!amx::avx512f_available()) {
    WARN("no AVX-512F here: only the scalar packing exists and the GEMM tests cover it");
    return;
  }
  std::mt19937 gen(7);
  for (const idx stride : {idx(1), idx(3), idx(40)})
    for (idx n = 0; n <= 70; ++n) {
      INFO("stride " << stride << " n " << n);
      const idx k_blocks = (n + 31) / 32 + 1;  // one block wholly past n: zeros
      const auto values = awkward_values(gen, sz(n > 0 ? (n - 1) * stride + 1 : 0));
      guarded<float> src(values.size());
      std::copy(values.begin(), values.end(), src.data());
      std::vector<std::uint16_t> vec(sz(k_blocks * 40), 0xdead), ref(vec);
      amx::convert_row(true, src.data(), stride, n, k_blocks, vec.data(), 40);
      amx::convert_row(false, src.data(), stride, n, k_blocks, ref.data(), 40);
      REQUIRE(vec == ref);
    }
  for (const shape s :
       {shape{0, 1, 1}, shape{0, 16, 32}, shape{0, 17, 33}, shape{0, 5, 3}, shape{0, 40, 70}}) {
    INFO("K " << s.K << " N " << s.N);
    const idx ldb = s.N + 1;
    const auto values = awkward_values(gen, sz((s.K - 1) * ldb + s.N));
    guarded<float> b(values.size());
    std::copy(values.begin(), values.end(), b.data());
    blas::packed_b vec, ref;
    vec.pack(true, s.K, s.N, b.data(), ldb);
    ref.pack(false, s.K, s.N, b.data(), ldb);
    REQUIRE(vec.k_blocks() == ref.k_blocks());
    REQUIRE(vec.n_tiles() == ref.n_tiles());
    for (idx nt = 0; nt < vec.n_tiles(); ++nt)
      for (idx kb = 0; kb < vec.k_blocks(); ++kb)
        REQUIRE(std::equal(vec.tile(nt, kb), vec.tile(nt, kb) + 512, ref.tile(nt, kb)));
  }
}

TEST_CASE("packed_b holds B in the bf16 pair layout", "[kernels][amx]") {
  std::mt19937 gen(3);
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  blas::packed_b packed;  // one object repacked at several shapes, as a layer reuses it
  for (const shape s :
       {shape{0, 1, 1}, shape{0, 33, 65}, shape{0, 16, 32}, shape{0, 3, 0}, shape{0, 20, 7}}) {
    INFO("K " << s.K << " N " << s.N);
    const idx ldb = s.N + 2;
    std::vector<float> b(sz(s.K * ldb));
    for (auto& x : b) x = u(gen);
    packed.pack(s.K, s.N, b.data(), ldb);
    REQUIRE(packed.rows() == s.K);
    REQUIRE(packed.cols() == s.N);
    REQUIRE(packed.k_blocks() == (s.K + 31) / 32);
    REQUIRE(packed.n_tiles() == (s.N + 15) / 16);
    idx bad = 0;
    for (idx nt = 0; nt < packed.n_tiles(); ++nt)
      for (idx kb = 0; kb < packed.k_blocks(); ++kb)
        for (idx p = 0; p < 16; ++p)
          for (idx j = 0; j < 16; ++j)
            for (idx h = 0; h < 2; ++h) {
              const idx k = kb * 32 + 2 * p + h, n = nt * 16 + j;
              const std::uint16_t want = k < s.K && n < s.N ? blas::to_bf16(b[sz(k * ldb + n)]) : 0;
              if (packed.tile(nt, kb)[p * 32 + 2 * j + h] != want) ++bad;
            }
    REQUIRE(bad == 0);
  }
}

TEST_CASE("bf16 gemm on emulated tiles matches FP64", "[kernels][amx]") {
  check_all_shapes<blas::basic_amx_gemm<amx::emulated_tiles>>(11);
}

TEST_CASE("bf16 gemm on AMX tiles matches FP64", "[kernels][amx]") {
  if (!blas::amx_bf16_available()) {
    WARN("skipped: " << blas::amx_status());
    return;
  }
  check_all_shapes<blas::amx_bf16_gemm>(23);
}

TEST_CASE("AMX tiles and their emulation agree", "[kernels][amx]") {
  if (!blas::amx_bf16_available()) {
    WARN("skipped: " << blas::amx_status());
    return;
  }
  for (const shape s : {shape{33, 47, 95}, shape{64, 128, 128}}) {
    std::mt19937 gen(5);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<float> a(sz(s.M * s.K)), b(sz(s.K * s.N)), bias(sz(s.N));
    for (auto* v : {&a, &b, &bias})
      for (auto& x : *v) x = u(gen);
    std::vector<float> hw(sz(s.M * s.N)), emu(hw.size());
    const blas::packed_b packed(s.K, s.N, b.data(), s.N);
    blas::amx_bf16_gemm::run(s.M, s.N, s.K, a.data(), s.K, 1, packed, hw.data(), s.N,
                             blas::init::bias, bias.data());
    blas::basic_amx_gemm<amx::emulated_tiles>::run(s.M, s.N, s.K, a.data(), s.K, 1, packed,
                                                   emu.data(), s.N, blas::init::bias, bias.data());
    double worst = 0;
    for (std::size_t i = 0; i < hw.size(); ++i)
      worst = std::max(worst, std::abs(double(hw[i]) - double(emu[i])));
    // Same bf16 products; only the FP32 accumulation order may differ.
    REQUIRE(worst <= double(s.K) * 4e-7);
  }
}
