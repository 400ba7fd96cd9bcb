#pragma once
// What the peer benchmarks share: their names,
// <kernel>_<fwd|fwd_bwd>/<backend>/N:<agents>/B:<batch> (benchmarks/peers/compare_torch.py parses
// them), and their registration on both host backends.
#include <benchmark/benchmark.h>

#include <string>

#include "netmarl/backend/tags.hpp"
#include "netmarl/core/tensor.hpp"

namespace netmarl::bench {

// Registers run(state, backend, with_backward) for backend::reference and backend::simd<>, each as
// a forward and a forward-plus-backward benchmark of one shape.
template <class Run>
void register_peer(const std::string& kernel, index agents, index batch, benchmark::TimeUnit unit,
                   Run run) {
  const std::string shape = "/N:" + std::to_string(agents) + "/B:" + std::to_string(batch);
  for (const bool with_backward : {false, true}) {
    const std::string mode = kernel + (with_backward ? "_fwd_bwd/" : "_fwd/");
    benchmark::RegisterBenchmark((mode + "reference" + shape).c_str(), [=](benchmark::State& st) {
      run(st, backend::reference{}, with_backward);
    })->Unit(unit);
    benchmark::RegisterBenchmark((mode + "simd" + shape).c_str(), [=](benchmark::State& st) {
      run(st, backend::simd<>{}, with_backward);
    })->Unit(unit);
  }
}

}  // namespace netmarl::bench
