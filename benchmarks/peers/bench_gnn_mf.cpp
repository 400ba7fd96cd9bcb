// The peer script's gnn_mf network (../shared/peers/torch_kernels.py, bench_gnn) built from our
// kernels, so its times compare with PyTorch eager's:
//   h^l = ReLU(x W1_l + b_l + (A h^{l-1}) W2_l),  h^0 = x,  l = 1, 2,  hidden H = 128,
// on a side x side 4-neighbour grid WITHOUT self-loops (torch's grid_edges), B = 32 samples
// sharing it, side in {7, 10, 15, 35}. Per layer, dense::forward computes x W1_l + b_l and
// mean_field_step::forward the hop (aggregation, W2_l product, add, ReLU).
// fwd_bwd adds the gradients of sum(h^2) with respect to W1_l, b_l, W2_l of both layers and x:
// x receives three contributions (both W1 products and layer 1's aggregation), summed at the end.
// Our layout is sample-major [B, N, H] where torch's is node-major [N, B, H]: the same work.
// Names: gnn_mf_<mode>/<backend>/N:<n>/B:32, mode fwd or fwd_bwd. FLOPS is the torch script's
// count (GEMMs 2 m n k, one flop per aggregated entry, backward = 2x GEMMs + the aggregation)
// per second, so GFLOP/s read side by side with RESULTS.md. Parameter gradients accumulate across
// iterations, as between optimizer steps; one untimed call warms up, so nothing is allocated in
// the timed loop.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "../message/common.hpp"
#include "netmarl/kernels/dense.hpp"
#include "netmarl/kernels/mean_field_step.hpp"
#include "register_peer.hpp"

namespace dense = netmarl::kernels::dense;
namespace mf = netmarl::kernels::mean_field_step;
namespace backend = netmarl::backend;
using idx = netmarl::index;
using fmatrix = netmarl::matrix<float>;
using netmarl::bench::filled;

namespace {

constexpr idx batch = 32, hidden = 128;
constexpr int layers = 2;

// graph::grid2d minus each row's leading self-loop: N(i) = the up to 4 grid neighbours.
struct grid_without_self {
  std::vector<std::int32_t> offsets{0}, indices;
  idx nodes = 0;

  explicit grid_without_self(int side) {
    const netmarl::graph::csr g = netmarl::graph::grid2d(side, side);
    nodes = netmarl::graph::num_nodes(g);
    for (idx i = 0; i < nodes; ++i) {
      for (const std::int32_t j : netmarl::graph::neighbors_excluding_self(g, i))
        indices.push_back(j);
      offsets.push_back(std::int32_t(indices.size()));
    }
  }
  netmarl::csr_view view() const { return {offsets.data(), indices.data(), nodes}; }
};

struct gnn_mf {
  idx rows;
  fmatrix x;
  std::array<fmatrix, layers> w1, w2, bias, d_w1, d_w2, d_bias;
  // Per layer: x W1 + b, the aggregated inputs, the layer's output h^l.
  std::array<fmatrix, layers> pre, aggregated, h;
  fmatrix d_h, d_pre, d_aggregated, d_h_prev, d_x, d_x_dense, d_x_aggregated;

  explicit gnn_mf(idx r) : rows(r), x(filled(r, hidden, 1)) {
    for (int l = 0; l < layers; ++l) {
      // Weights of PyTorch's default scale (about 1 / sqrt(H)), so activations stay O(1).
      w1[l] = filled(hidden, hidden, 10 + l) * 0.09f;
      w2[l] = filled(hidden, hidden, 20 + l) * 0.09f;
      bias[l] = filled(1, hidden, 30 + l) * 0.09f;
      d_w1[l] = fmatrix::Zero(hidden, hidden);
      d_w2[l] = fmatrix::Zero(hidden, hidden);
      d_bias[l] = fmatrix::Zero(1, hidden);
      pre[l].resize(r, hidden);
      aggregated[l].resize(r, hidden);
      h[l].resize(r, hidden);
    }
    for (fmatrix* m : {&d_pre, &d_aggregated, &d_h_prev, &d_x, &d_x_dense, &d_x_aggregated})
      m->resize(r, hidden);
    d_h = fmatrix::Ones(r, hidden);  // d sum(h^L) / d h^L
  }

  template <class Backend>
  void forward(Backend b, std::span<const netmarl::csr_view> graphs) {
    const dense::shape ds{rows, hidden, hidden};
    const mf::shape ms{batch, rows / batch, hidden, hidden};
    for (int l = 0; l < layers; ++l) {
      dense::forward(b, ds, x.data(), w1[l].data(), bias[l].data(), pre[l].data());
      const float* h_prev = l == 0 ? x.data() : h[l - 1].data();
      mf::forward(b, ms, graphs, pre[l].data(), h_prev, w2[l].data(), aggregated[l].data(),
                  h[l].data());
    }
  }

  // Backward from d_h = 1 at the last layer: layer 2 writes d h^1 into d_h_prev, layer 1 reads it.
  template <class Backend>
  void backward(Backend b, std::span<const netmarl::csr_view> graphs) {
    const dense::shape ds{rows, hidden, hidden};
    const mf::shape ms{batch, rows / batch, hidden, hidden};
    const float* d_out = d_h.data();
    for (int l = layers - 1; l >= 0; --l) {
      float* d_in = l == 0 ? d_x_aggregated.data() : d_h_prev.data();
      mf::backward(b, ms, graphs, aggregated[l].data(), w2[l].data(), h[l].data(), d_out,
                   d_pre.data(), d_w2[l].data(), d_aggregated.data(), d_in);
      dense::backward(b, ds, x.data(), w1[l].data(), d_pre.data(), d_w1[l].data(), d_bias[l].data(),
                      l == 0 ? d_x.data() : d_x_dense.data());
      d_out = d_h_prev.data();
    }
    d_x += d_x_dense + d_x_aggregated;
  }
};

template <class Backend>
void run(benchmark::State& state, Backend b, int side, bool with_backward) {
  const grid_without_self g(side);
  const std::vector<netmarl::csr_view> graphs = {g.view()};
  gnn_mf net(batch * g.nodes);
  net.forward(b, graphs);  // warm-up: first touch of every buffer and the kernels' scratch
  if (with_backward) net.backward(b, graphs);
  for (auto _ : state) {
    net.forward(b, graphs);
    if (with_backward) net.backward(b, graphs);
    benchmark::DoNotOptimize(net.h[layers - 1].data());
    benchmark::DoNotOptimize(net.d_x.data());
    benchmark::ClobberMemory();
  }
  // The torch script's counts: gemm_f = L * 2 * 2 (N B) H H, agg_f = L * edges * B * H.
  const double rows = double(batch * g.nodes), entries = double(g.view().edges());
  const double gemm_f = layers * 2.0 * (2.0 * rows * hidden * hidden);
  const double agg_f = layers * entries * batch * hidden;
  const double fwd_flop = gemm_f + agg_f, bwd_flop = 2.0 * gemm_f + agg_f;
  state.counters["FLOPS"] = benchmark::Counter(with_backward ? fwd_flop + bwd_flop : fwd_flop,
                                               benchmark::Counter::kIsIterationInvariantRate);
}

const bool registered = [] {
  for (int side : {7, 10, 15, 35})
    netmarl::bench::register_peer(
        "gnn_mf", side * side, batch, benchmark::kMicrosecond,
        [=](benchmark::State& st, auto b, bool with_backward) { run(st, b, side, with_backward); });
  return true;
}();

}  // namespace
