// message::loopy_bp forward, and forward plus backward, float, backend::reference against
// backend::simd<> (the default xsimd architecture), on square grid graphs (graph::grid2d 7x7,
// 15x15, 35x35: 4-neighbour plus self) shared by a batch of B = 32 samples. M = 2 message
// updates, hidden 128, input 26 (cooperative navigation's observation). x and d_out are
// deterministic fills in [-1, 1); the parameter gradients accumulate across iterations, as
// between optimizer steps; backward writes d_x. One untimed call warms the cache up.
// Messages live on CSR entries (self-loops included, as zero rows): 7x7 has 217 entries per
// sample, 15x15 1065, 35x35 5985, so the message product is [B entries, 128] x [128, 128].
// The loopy_bp_step kernel has only a reference version so far: simd<> differs from reference in
// the node products (W1, readout) alone.
// Names: loopy_bp_<pass>/<backend>/N:<agents>/B:<batch>, pass = forward or forward_backward.
// items_per_second counts agent rows (N B per iteration); FLOPS is an estimate of the work (the
// dense products and the message kernel's own counts) per second.
#include <benchmark/benchmark.h>

#include "common.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/message/loopy_bp.hpp"

using idx = netmarl::index;
using netmarl::bench::batch;
using netmarl::bench::input_size;

namespace {

// Forward: the node term, the message updates (the first without a product), the readout.
double forward_flops(const netmarl::message::loopy_bp::settings& s, idx rows, idx entries) {
  namespace bp = netmarl::kernels::loopy_bp_step;
  const double H = double(s.hidden);
  const bp::shape shape{batch, rows / batch, s.hidden};
  double f = 2.0 * double(rows) * double(input_size) * H +
             2.0 * double(rows) * double(input_size + s.hidden) * H + double(entries) * H;
  f += 2.0 * double(entries) * H;  // the first update: add and ReLU only
  for (idx m = 1; m < s.hops; ++m) f += shape.forward_flops(entries);
  return f;
}

const bool registered = netmarl::bench::register_grid_benchmarks(
    "loopy_bp", [](benchmark::State& state, auto b, int side, bool with_backward) {
      netmarl::bench::run_on_grid<netmarl::message::loopy_bp::model<float>,
                                  netmarl::message::loopy_bp::settings>(
          state, b, side, with_backward, forward_flops);
    });

}  // namespace
