// The loopy-BP message network of the kernels issue, composed from the kernels (no readout
// layer, so there is no torch peer for it): on a square 4-neighbour grid shared by B = 32
// samples, with s [B N, 128] (input width = H, as torch_kernels.py's gnn_mf),
//   t   = s W1 + b1                          dense::forward
//   v^1 = ReLU(t_sender)                     loopy_bp_step::forward, v_prev null
//   v^2 = ReLU(t_sender + gathered W2)       loopy_bp_step::forward, v_prev = v^1
//   out = incoming_sum(v^2)                  [B N, H]
// fwd_bwd adds the gradients of sum(out) w.r.t. W1, b1, W2 and s (parameter gradients
// accumulate across iterations, as between optimizer steps).
// Graphs are graph::grid2d, whose CSR stores each node's self entry: the message buffers have a
// (zero) row per CSR entry, B (N + 4 N - 4 side) rows, 217 per sample at 7x7, 5985 at 35x35.
// Names: loopy_bp_<mode>/<backend>/N:<n>/B:32, mode fwd or fwd_bwd, backend reference or simd.
//
// FLOPS = GEMM multiply-adds x 2 plus one per element gathered or scattered through the graph,
// counted on the messages only (E = B (4 N - 4 side) directed edges, self entries excluded: they
// carry no message, and the simd kernel skips them), R = B N rows, F = H = 128:
//   fwd      2 R F H  (node term)  + 2 E H^2  (hop 2)
//            + 5 E H  (hop 1 node term; hop 2 arriving sums, gather, node term; readout sums)
//   bwd      4 R F H  (d_W1, d_s)  + 4 E H^2  (hop 2: d_W2, d_gathered)
//            + 7 E H  (readout adjoint; hop 2 mask+node-term scatter, arriving sums and
//                      gather recomputed, d arriving, d_v^1; hop 1 mask+node-term scatter)
//   fwd_bwd  fwd + bwd   (bias sums are not counted)
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "netmarl/backend/tags.hpp"
#include "netmarl/graph/generators.hpp"
#include "netmarl/kernels/dense.hpp"
#include "netmarl/kernels/loopy_bp_step.hpp"
#include "register_peer.hpp"

namespace bp = netmarl::kernels::loopy_bp_step;
namespace dense = netmarl::kernels::dense;
namespace backend = netmarl::backend;
using idx = netmarl::index;

namespace {

constexpr idx batch = 32, hidden = 128, input_size = 128;

std::vector<float> filled(idx n, std::uint32_t seed, float scale = 1.0f) {
  std::vector<float> v(static_cast<std::size_t>(n));
  std::uint32_t s = seed * 2654435761u + 1;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = scale * (float(s >> 8) * (2.0f / 16777216.0f) - 1.0f);
  }
  return v;
}

double forward_flops(double R, double E) {
  const double F = input_size, H = hidden;
  return 2 * R * F * H + 2 * E * H * H + 5 * E * H;
}
double backward_flops(double R, double E) {
  const double F = input_size, H = hidden;
  return 4 * R * F * H + 4 * E * H * H + 7 * E * H;
}

template <class Backend>
void run(benchmark::State& state, Backend b, int side, bool with_backward) {
  const netmarl::graph::csr graph = netmarl::graph::grid2d(side, side);
  const std::vector<netmarl::csr_view> graphs = {graph.view()};
  const std::span<const netmarl::csr_view> span(graphs);
  const idx nodes = idx(side) * side, R = batch * nodes, H = hidden;
  const bp::shape s{batch, nodes, H};
  const idx E = bp::total_entries(s, span);
  const auto sz = [](idx n) { return static_cast<std::size_t>(n); };
  std::vector<std::int32_t> reverse(sz(bp::reverse_entries(span)));
  bp::find_reverse_entries(graph.view(), reverse.data());

  // torch.nn.Linear-like scales, so the ReLUs keep about half their entries.
  const auto x = filled(R * input_size, 1);
  const auto w1 = filled(input_size * H, 2, 0.088f), b1 = filled(H, 3, 0.088f),
             w2 = filled(H * H, 4, 0.088f);
  std::vector<float> node_term(sz(R * H)), arriving(sz(R * H)), out(sz(R * H));
  std::vector<float> v1(sz(E * H)), v2(sz(E * H)), gathered(sz(E * H));
  // Backward.
  const std::vector<float> d_out(sz(R * H), 1.0f);  // d sum(out) / d out
  std::vector<float> d_v2(sz(E * H)), d_v1(sz(E * H)), d_pre(sz(E * H)), d_node_term(sz(R * H)),
      d_x(sz(R * input_size)), d_w1(sz(input_size * H)), d_b1(sz(H)), d_w2(sz(H * H));
  const dense::shape node_shape{R, input_size, H};

  const auto pass = [&] {
    dense::forward(b, node_shape, x.data(), w1.data(), b1.data(), node_term.data());
    bp::forward(b, s, span, reverse.data(), node_term.data(), nullptr, w2.data(), arriving.data(),
                gathered.data(), v1.data());
    bp::forward(b, s, span, reverse.data(), node_term.data(), v1.data(), w2.data(), arriving.data(),
                gathered.data(), v2.data());
    bp::incoming_sum(b, s, span, v2.data(), out.data());
    if (!with_backward) return;
    bp::incoming_sum_backward(b, s, span, d_out.data(), d_v2.data());
    std::fill(d_node_term.begin(), d_node_term.end(), 0.0f);
    bp::backward(b, s, span, reverse.data(), v1.data(), w2.data(), v2.data(), d_v2.data(),
                 d_node_term.data(), d_w2.data(), d_v1.data(), arriving.data(), gathered.data(),
                 d_pre.data());
    bp::backward(b, s, span, reverse.data(), nullptr, w2.data(), v1.data(), d_v1.data(),
                 d_node_term.data(), d_w2.data(), nullptr, arriving.data(), gathered.data(),
                 d_pre.data());
    dense::backward(b, node_shape, x.data(), w1.data(), d_node_term.data(), d_w1.data(),
                    d_b1.data(), d_x.data());
  };
  pass();  // warm-up: scratch sized, pages touched
  for (auto _ : state) {
    pass();
    benchmark::DoNotOptimize(out.data());
    benchmark::DoNotOptimize(d_x.data());
    benchmark::ClobberMemory();
  }
  const double messages = double(E - batch * nodes);  // grid2d lists every node's self once
  const double flops = forward_flops(double(R), messages) +
                       (with_backward ? backward_flops(double(R), messages) : 0.0);
  state.counters["FLOPS"] =
      benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
}

const bool registered = [] {
  for (int side : {7, 10, 15, 35})
    netmarl::bench::register_peer(
        "loopy_bp", side * side, batch, benchmark::kMillisecond,
        [=](benchmark::State& st, auto b, bool with_backward) { run(st, b, side, with_backward); });
  return true;
}();

}  // namespace
