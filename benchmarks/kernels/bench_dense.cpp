// dense forward and backward, reference (Eigen) against simd (xsimd), at the layer shapes the
// library uses: 128x128 and 64x64 MLP layers over a batch of B rows, and the per-node layers of the
// graph models, where every node of every sample is a row (B*N rows, H inputs and outputs).
// Names: dense_<pass>/<backend>/B:<batch>/I:<inputs>/O:<outputs> or .../B:<batch>/N:<nodes>/H:<h>.
// The FLOPS counter is the shape's flop count per second.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "netmarl/kernels/dense.hpp"

namespace dense = netmarl::kernels::dense;
namespace backend = netmarl::backend;
using idx = netmarl::index;

namespace {

// Cheap deterministic fill in [-1, 1): the largest buffers hold 160M floats.
std::vector<float> filled(idx n, std::uint32_t seed) {
  std::vector<float> v(static_cast<std::size_t>(n));
  std::uint32_t s = seed * 2654435761u + 1;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = float(s >> 8) * (2.0f / 16777216.0f) - 1.0f;
  }
  return v;
}

template <class Backend>
void run_forward(benchmark::State& state, Backend b, dense::shape s) {
  const auto in = filled(s.batch * s.inputs, 1), w = filled(s.inputs * s.outputs, 2),
             bias = filled(s.outputs, 3);
  std::vector<float> out(static_cast<std::size_t>(s.batch * s.outputs));
  for (auto _ : state) {
    dense::forward(b, s, in.data(), w.data(), bias.data(), out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.counters["FLOPS"] =
      benchmark::Counter(s.forward_flops(), benchmark::Counter::kIsIterationInvariantRate);
}

template <class Backend>
void run_backward(benchmark::State& state, Backend b, dense::shape s) {
  const auto in = filled(s.batch * s.inputs, 1), w = filled(s.inputs * s.outputs, 2),
             d_out = filled(s.batch * s.outputs, 4);
  std::vector<float> d_w(static_cast<std::size_t>(s.inputs * s.outputs)),
      d_b(static_cast<std::size_t>(s.outputs)), d_in(static_cast<std::size_t>(s.batch * s.inputs));
  for (auto _ : state) {
    dense::backward(b, s, in.data(), w.data(), d_out.data(), d_w.data(), d_b.data(), d_in.data());
    benchmark::DoNotOptimize(d_in.data());
    benchmark::DoNotOptimize(d_w.data());
    benchmark::ClobberMemory();
  }
  state.counters["FLOPS"] =
      benchmark::Counter(s.backward_flops(), benchmark::Counter::kIsIterationInvariantRate);
}

template <class Backend>
void register_shape(const std::string& backend_name, Backend b, const std::string& suffix,
                    dense::shape s) {
  // MinTime keeps the binary short: the largest shapes (1.25M rows) run one iteration.
  benchmark::RegisterBenchmark(("dense_forward/" + backend_name + suffix).c_str(),
                               [b, s](benchmark::State& st) { run_forward(st, b, s); })
      ->MinTime(0.05)
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark(("dense_backward/" + backend_name + suffix).c_str(),
                               [b, s](benchmark::State& st) { run_backward(st, b, s); })
      ->MinTime(0.05)
      ->Unit(benchmark::kMicrosecond);
}

void register_all(const std::string& suffix, dense::shape s) {
  register_shape("reference", backend::reference{}, suffix, s);
  register_shape("simd", backend::simd<>{}, suffix, s);
}

const bool registered = [] {
  for (idx batch : {32, 1024}) {
    for (idx h : {128, 64})
      register_all("/B:" + std::to_string(batch) + "/I:" + std::to_string(h) +
                       "/O:" + std::to_string(h),
                   dense::shape{batch, h, h});
    for (idx nodes : {49, 225, 1225})
      for (idx h : {64, 128})
        register_all("/B:" + std::to_string(batch) + "/N:" + std::to_string(nodes) +
                         "/H:" + std::to_string(h),
                     dense::shape{batch * nodes, h, h});
  }
  return true;
}();

}  // namespace
