// neighbor_aggregate forward and backward, sum and mean, reference (plain loops) against simd
// (xsimd), on square grid graphs (7x7, 15x15, 35x35; 4-neighbour plus self) with B graphs per
// batch and H features per node.
// Names: neighbor_aggregate_<pass>/<backend>/<reduction>/B:<batch>/N:<nodes>/H:<features>.
// FLOPS is the shape's flop count per second; bytes_per_second counts one read of the input and
// one write of the output (the least traffic the op can cause: it is memory-bound).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "netmarl/graph/generators.hpp"
#include "netmarl/kernels/neighbor_aggregate.hpp"

namespace na = netmarl::kernels::neighbor_aggregate;
namespace backend = netmarl::backend;
using idx = netmarl::index;

namespace {

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
void run(benchmark::State& state, Backend b, bool backward_pass, na::reduction r, idx batch,
         int side, idx features) {
  const netmarl::graph::csr g = netmarl::graph::grid2d(side, side);  // 4-neighbour plus self
  const na::shape s{batch, netmarl::graph::num_nodes(g), features};
  const auto in = filled(s.elements(), 1);
  std::vector<float> out(static_cast<std::size_t>(s.elements()));
  for (auto _ : state) {
    if (backward_pass)
      na::backward(b, s, g.view(), r, in.data(), out.data());
    else
      na::forward(b, s, g.view(), r, in.data(), out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  const double flops = backward_pass ? s.backward_flops(g.view().edges(), r)
                                     : s.forward_flops(g.view().edges(), r);
  state.counters["FLOPS"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
  state.SetBytesProcessed(state.iterations() * 2 * s.elements() * idx(sizeof(float)));
}

const bool registered = [] {
  for (bool backward_pass : {false, true})
    for (idx batch : {32, 1024})
      for (int side : {7, 15, 35})
        for (idx h : {64, 128})
          for (na::reduction r : {na::reduction::sum, na::reduction::mean}) {
            const std::string suffix = std::string(r == na::reduction::sum ? "/sum" : "/mean") +
                                       "/B:" + std::to_string(batch) +
                                       "/N:" + std::to_string(side * side) +
                                       "/H:" + std::to_string(h);
            const std::string pass =
                backward_pass ? "neighbor_aggregate_backward/" : "neighbor_aggregate_forward/";
            // MinTime keeps the binary short: the largest shapes (160M floats) run one iteration.
            benchmark::RegisterBenchmark((pass + "reference" + suffix).c_str(),
                                         [=](benchmark::State& st) {
                                           run(st, backend::reference{}, backward_pass, r, batch,
                                               side, h);
                                         })
                ->MinTime(0.05)
                ->Unit(benchmark::kMicrosecond);
            benchmark::RegisterBenchmark((pass + "simd" + suffix).c_str(),
                                         [=](benchmark::State& st) {
                                           run(st, backend::simd<>{}, backward_pass, r, batch,
                                               side, h);
                                         })
                ->MinTime(0.05)
                ->Unit(benchmark::kMicrosecond);
          }
  return true;
}();

}  // namespace
