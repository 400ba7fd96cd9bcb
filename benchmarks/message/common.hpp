#pragma once
// What the message/ benchmarks share: the timed forward (plus backward) loop of a model and, for
// bench_mean_field.cpp and bench_loopy_bp.cpp, the batch and input sizes, the deterministic input
// fill, the run on a square grid graph, and the registration of every pass x backend x grid size.
// Each bench_*.cpp is its own executable, so this header is compiled into one translation unit at a
// time.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "netmarl/backend/tags.hpp"
#include "netmarl/core/csr_view.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/graph/generators.hpp"

namespace netmarl::bench {

constexpr index batch = 32;
constexpr index input_size = 26;

// Cheap deterministic fill in [-1, 1) (as in kernels/bench_dense.cpp).
inline matrix<float> filled(index rows, index cols, std::uint32_t seed) {
  matrix<float> m(rows, cols);
  std::uint32_t s = seed * 2654435761u + 1;
  for (index i = 0; i < m.size(); ++i) {
    s = s * 1664525u + 1013904223u;
    m.data()[i] = float(s >> 8) * (2.0f / 16777216.0f) - 1.0f;
  }
  return m;
}

// The timed loop of a message model: forward, plus backward (gradients accumulating, d_x written)
// when asked. warm_up: one untimed call first sizes the cache and the outputs, so the timed ones
// measure steady state (no allocation and no first-touch page faults).
template <class Backend, class Model>
void time_passes(benchmark::State& state, Backend b, Model& model, const matrix<float>& x,
                 std::span<const csr_view> graphs, const matrix<float>& d_out, bool with_backward,
                 bool warm_up) {
  typename Model::cache cache;
  matrix<float> out, d_x;
  if (warm_up) {
    model.forward(b, x, graphs, out, cache);
    if (with_backward) model.backward(b, cache, d_out, &d_x);
  }
  for (auto _ : state) {
    model.forward(b, x, graphs, out, cache);
    if (with_backward) model.backward(b, cache, d_out, &d_x);
    benchmark::DoNotOptimize(out.data());
    benchmark::DoNotOptimize(d_x.data());
    benchmark::ClobberMemory();
  }
}

// Times Model (default settings) on a side x side grid shared by the batch. forward_flops(
// settings, rows, entries) estimates one forward pass; forward plus backward counts three times
// that.
template <class Model, class Settings, class Backend, class ForwardFlops>
void run_on_grid(benchmark::State& state, Backend b, int side, bool with_backward,
                 ForwardFlops forward_flops) {
  const graph::csr g = graph::grid2d(side, side);
  const std::vector<csr_view> graphs = {g.view()};
  const index agents = index(side) * side, rows = batch * agents;
  const Settings settings;
  rng generator(7);
  Model model(agents, input_size, settings, generator);
  const matrix<float> x = filled(rows, input_size, 1);
  const matrix<float> d_out = filled(rows, model.output_size(), 2);
  time_passes(state, b, model, x, graphs, d_out, with_backward, /*warm_up=*/true);
  const double forward = forward_flops(settings, rows, batch * g.view().edges());
  state.counters["FLOPS"] = benchmark::Counter(with_backward ? 3.0 * forward : forward,
                                               benchmark::Counter::kIsIterationInvariantRate);
  state.SetItemsProcessed(state.iterations() * rows);
}

// Registers <name>_<pass>/<backend>/N:<agents>/B:<batch> for both passes, backend::reference and
// backend::simd<>, and grids 7x7, 15x15, 35x35. run(state, backend, side, with_backward).
template <class Run>
bool register_grid_benchmarks(const std::string& name, Run run) {
  for (bool with_backward : {false, true})
    for (int side : {7, 15, 35}) {
      const std::string pass = name + (with_backward ? "_forward_backward/" : "_forward/");
      const std::string suffix =
          "/N:" + std::to_string(side * side) + "/B:" + std::to_string(batch);
      benchmark::RegisterBenchmark(
          (pass + "reference" + suffix).c_str(),
          [=](benchmark::State& st) { run(st, backend::reference{}, side, with_backward); })
          ->MinTime(0.05)
          ->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(
          (pass + "simd" + suffix).c_str(),
          [=](benchmark::State& st) { run(st, backend::simd<>{}, side, with_backward); })
          ->MinTime(0.05)
          ->Unit(benchmark::kMillisecond);
    }
  return true;
}

}  // namespace netmarl::bench
