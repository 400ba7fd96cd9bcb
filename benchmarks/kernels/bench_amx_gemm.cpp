// The AMX BF16 GEMM against the FP32 xsimd GEMM (default arch) on the library's layer shapes:
// C[M, N] = bias + A[M, K] . B[K, N], A and B FP32 row-major.
// Names: gemm/<amx_bf16|simd_fp32>/M:<m>/N:<n>/K:<k>; the amx_bf16 product uses B packed once
// (a layer packs its weights once per optimizer step), gemm/amx_bf16_with_pack_b/... packs B in
// every call, and pack_b/amx_bf16/K:<k>/N:<n> times the packing alone. FLOPS counts 2 M N K
// (for pack_b, those of the M = 1600 product, so its time compares with that product's).
// Without AMX the amx benchmarks report an error naming the reason.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "netmarl/kernels/simd_blas/amx.hpp"
#include "netmarl/kernels/simd_blas/gemm.hpp"

namespace blas = netmarl::kernels::simd_blas;
using idx = netmarl::index;

namespace {

// Cheap deterministic fill in [-1, 1).
std::vector<float> filled(idx n, std::uint32_t seed) {
  std::vector<float> v(static_cast<std::size_t>(n));
  std::uint32_t s = seed * 2654435761u + 1;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = float(s >> 8) * (2.0f / 16777216.0f) - 1.0f;
  }
  return v;
}

struct shape {
  idx M, N, K;
};

benchmark::Counter flops(shape s) {
  return benchmark::Counter(2.0 * double(s.M) * double(s.N) * double(s.K),
                            benchmark::Counter::kIsIterationInvariantRate);
}

struct operands {
  std::vector<float> a, b, bias, c;
  explicit operands(shape s)
      : a(filled(s.M * s.K, 1)),
        b(filled(s.K * s.N, 2)),
        bias(filled(s.N, 3)),
        c(static_cast<std::size_t>(s.M * s.N)) {}
};

void simd_fp32(benchmark::State& state, shape s) {
  operands x(s);
  const auto product = [&] {
    blas::gemm<xsimd::default_arch>::run(s.M, s.N, s.K, x.a.data(), s.K, 1, x.b.data(), s.N,
                                         x.c.data(), s.N, blas::init::bias, x.bias.data());
  };
  product();  // warm-up
  for (auto _ : state) {
    product();
    benchmark::DoNotOptimize(x.c.data());
    benchmark::ClobberMemory();
  }
  state.counters["FLOPS"] = flops(s);
}

bool skip_without_amx(benchmark::State& state) {
  if (blas::amx_bf16_available()) return false;
  state.SkipWithError(blas::amx_status());
  return true;
}

void amx_prepacked(benchmark::State& state, shape s) {
  if (skip_without_amx(state)) return;
  operands x(s);
  const blas::packed_b packed(s.K, s.N, x.b.data(), s.N);
  const auto product = [&] {
    blas::amx_bf16_gemm::run(s.M, s.N, s.K, x.a.data(), s.K, 1, packed, x.c.data(), s.N,
                             blas::init::bias, x.bias.data());
  };
  product();
  for (auto _ : state) {
    product();
    benchmark::DoNotOptimize(x.c.data());
    benchmark::ClobberMemory();
  }
  state.counters["FLOPS"] = flops(s);
}

void amx_with_packing(benchmark::State& state, shape s) {
  if (skip_without_amx(state)) return;
  operands x(s);
  const auto product = [&] {
    blas::amx_bf16_gemm::run(s.M, s.N, s.K, x.a.data(), s.K, 1, x.b.data(), s.N, x.c.data(), s.N,
                             blas::init::bias, x.bias.data());
  };
  product();
  for (auto _ : state) {
    product();
    benchmark::DoNotOptimize(x.c.data());
    benchmark::ClobberMemory();
  }
  state.counters["FLOPS"] = flops(s);
}

// Packing needs no AMX, so it is timed everywhere.
void pack_only(benchmark::State& state, shape s) {
  const auto b = filled(s.K * s.N, 2);
  blas::packed_b packed(s.K, s.N, b.data(), s.N);  // warm-up: storage allocated once
  for (auto _ : state) {
    packed.pack(s.K, s.N, b.data(), s.N);
    benchmark::DoNotOptimize(packed.tile(0, 0));
    benchmark::ClobberMemory();
  }
  state.counters["FLOPS"] = flops(s);
}

std::string dims(shape s) {
  return "/M:" + std::to_string(s.M) + "/N:" + std::to_string(s.N) + "/K:" + std::to_string(s.K);
}

const bool registered = [] {
  for (const shape s : {shape{32, 128, 128}, shape{1600, 128, 128}, shape{39200, 128, 128},
                        shape{1600, 64, 3200}}) {
    benchmark::RegisterBenchmark(("gemm/simd_fp32" + dims(s)).c_str(), [s](benchmark::State& st) {
      simd_fp32(st, s);
    })->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("gemm/amx_bf16" + dims(s)).c_str(), [s](benchmark::State& st) {
      amx_prepacked(st, s);
    })->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("gemm/amx_bf16_with_pack_b" + dims(s)).c_str(),
                                 [s](benchmark::State& st) { amx_with_packing(st, s); })
        ->Unit(benchmark::kMicrosecond);
  }
  // One per distinct B; M only sets the FLOPS counter's scale.
  for (const shape s : {shape{1600, 128, 128}, shape{1600, 64, 3200}})
    benchmark::RegisterBenchmark(
        ("pack_b/amx_bf16/K:" + std::to_string(s.K) + "/N:" + std::to_string(s.N)).c_str(),
        [s](benchmark::State& st) { pack_only(st, s); })
        ->Unit(benchmark::kMicrosecond);
  return true;
}();

}  // namespace
