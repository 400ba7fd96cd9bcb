// message::mean_field forward, and forward plus backward, float, backend::reference against
// backend::simd<> (the default xsimd architecture), on square grid graphs (graph::grid2d 7x7,
// 15x15, 35x35: 4-neighbour plus self) shared by a batch of B = 32 samples. The paper's sizes:
// M = 2 hops, hidden 128, intention MLP 128 -> 16; input 26 (cooperative navigation's
// observation). x and d_out are deterministic fills in [-1, 1); the parameter gradients
// accumulate across iterations, as between optimizer steps; backward writes d_x. One untimed
// call warms the cache up.
// The mean_field_step kernel has only a reference version so far: simd<> differs from reference
// in the dense products and the state aggregation.
// Names: mean_field_<pass>/<backend>/N:<agents>/B:<batch>, pass = forward or forward_backward.
// items_per_second counts agent rows (N B per iteration); FLOPS is an estimate of the work (the
// dense products, aggregations and the hop kernel's own counts) per second.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "netmarl/backend/tags.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/graph/generators.hpp"
#include "netmarl/message/mean_field.hpp"

namespace backend = netmarl::backend;
using idx = netmarl::index;
using netmarl::matrix;

namespace {

constexpr idx batch = 32;
constexpr idx input_size = 26;

// Cheap deterministic fill in [-1, 1) (as in kernels/bench_dense.cpp).
matrix<float> filled(idx rows, idx cols, std::uint32_t seed) {
  matrix<float> m(rows, cols);
  std::uint32_t s = seed * 2654435761u + 1;
  for (idx i = 0; i < m.size(); ++i) {
    s = s * 1664525u + 1013904223u;
    m.data()[i] = float(s >> 8) * (2.0f / 16777216.0f) - 1.0f;
  }
  return m;
}

// Forward work: the intention MLP, the state sums, and per hop the state product plus the hop
// kernel. Backward: twice the products (weights and inputs), the same sums transposed.
double forward_flops(const netmarl::message::mean_field::settings& s, idx rows, idx entries) {
  namespace mf = netmarl::kernels::mean_field_step;
  double f = 2.0 * double(rows) *
                 double(input_size * s.intention_hidden + s.intention_hidden * s.intention_size) +
             double(entries) * double(input_size);
  for (idx m = 0; m < s.hops; ++m) {
    const idx width = m == 0 ? s.intention_size : s.hidden;
    f += 2.0 * double(rows) * double(input_size * s.hidden) +
         mf::shape{batch, rows / batch, width, s.hidden}.forward_flops(entries);
  }
  return f;
}

template <class Backend>
void run(benchmark::State& state, Backend b, int side, bool with_backward) {
  const netmarl::graph::csr g = netmarl::graph::grid2d(side, side);
  const std::vector<netmarl::csr_view> graphs = {g.view()};
  const idx agents = idx(side) * side, rows = batch * agents;
  const netmarl::message::mean_field::settings settings;
  netmarl::rng generator(7);
  netmarl::message::mean_field::model<float> model(agents, input_size, settings, generator);
  netmarl::message::mean_field::model<float>::cache cache;
  const matrix<float> x = filled(rows, input_size, 1);
  const matrix<float> d_out = filled(rows, model.output_size(), 2);
  matrix<float> out, d_x;
  // One untimed call sizes the cache, so the timed ones measure steady state (no allocation and
  // no first-touch page faults).
  model.forward(b, x, graphs, out, cache);
  if (with_backward) model.backward(b, cache, d_out, &d_x);
  for (auto _ : state) {
    model.forward(b, x, graphs, out, cache);
    if (with_backward) model.backward(b, cache, d_out, &d_x);
    benchmark::DoNotOptimize(out.data());
    benchmark::DoNotOptimize(d_x.data());
    benchmark::ClobberMemory();
  }
  const double forward = forward_flops(settings, rows, batch * g.view().edges());
  state.counters["FLOPS"] = benchmark::Counter(with_backward ? 3.0 * forward : forward,
                                               benchmark::Counter::kIsIterationInvariantRate);
  state.SetItemsProcessed(state.iterations() * rows);
}

const bool registered = [] {
  for (bool with_backward : {false, true})
    for (int side : {7, 15, 35}) {
      const std::string pass =
          with_backward ? "mean_field_forward_backward/" : "mean_field_forward/";
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
}();

}  // namespace
