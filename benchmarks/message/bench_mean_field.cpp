// message::mean_field forward, and forward plus backward, float, backend::reference against
// backend::simd<> (the default xsimd architecture), on square grid graphs (graph::grid2d 7x7,
// 15x15, 35x35: 4-neighbour plus self) shared by a batch of B = 32 samples. The paper's sizes:
// M = 2 hops, hidden 128, intention MLP 128 -> 16; input 26 (cooperative navigation's
// observation). x and d_out are deterministic fills in [-1, 1); the parameter gradients
// accumulate across iterations, as between optimizer steps; backward writes d_x. One untimed
// call warms the cache up.
// simd<> runs every kernel of the model in its xsimd version (dense, neighbor_aggregate,
// mean_field_step).
// Names: mean_field_<pass>/<backend>/N:<agents>/B:<batch>, pass = forward or forward_backward.
// items_per_second counts agent rows (N B per iteration); FLOPS is an estimate of the work (the
// dense products, aggregations and the hop kernel's own counts) per second.
#include <benchmark/benchmark.h>

#include "common.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/message/mean_field.hpp"

using idx = netmarl::index;
using netmarl::bench::batch;
using netmarl::bench::input_size;

namespace {

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

const bool registered = netmarl::bench::register_grid_benchmarks(
    "mean_field", [](benchmark::State& state, auto b, int side, bool with_backward) {
      netmarl::bench::run_on_grid<netmarl::message::mean_field::model<float>,
                                  netmarl::message::mean_field::settings>(
          state, b, side, with_backward, forward_flops);
    });

}  // namespace
