// Peer of ../shared/peers/torch_kernels.py's DGNConv, "gather" variant: for B = 32 samples of N
// agents with H = 128 features,
//   q, k, v = ReLU(Linear(H, H)(x))   4 heads of 32, attention of every agent over its K = 4
//   nearest agents (itself included) of random 2-D positions, out = ReLU(Linear(H, H)(attended)),
// built from kernels::dense and kernels::dgn_attention (what message::attention composes).
// fwd_bwd = forward plus the gradients of sum(out) w.r.t. all four Linears (weights and biases) and
// x, as torch.autograd.grad does; the parameter gradients accumulate (the library's convention;
// autograd.grad writes fresh ones: the same products).
// Graphs: one k-nearest graph per sample, as torch builds them; dgn_attention takes one csr shared
// by its batch, so each sample is one kernel call of batch 1 (what message::attention does with
// per-sample graphs). Positions come from our rng, not torch's generator: the same kind of graph.
// Names dgn_<mode>/<backend>/N:<n>/B:32; FLOPS is the torch script's count for the call (GEMM
// multiply-adds plus the attention's score and weighted-sum multiply-adds), so GFLOP/s compare.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <string>
#include <vector>

#include "netmarl/backend/tags.hpp"
#include "netmarl/core/csr_view.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/graph/k_nearest.hpp"
#include "netmarl/kernels/dense.hpp"
#include "netmarl/kernels/dgn_attention.hpp"
#include "netmarl/nn/activation.hpp"
#include "netmarl/nn/dense.hpp"
#include "register_peer.hpp"

namespace backend = netmarl::backend;
namespace da = netmarl::kernels::dgn_attention;
namespace dense = netmarl::kernels::dense;
namespace nn = netmarl::nn;
using idx = netmarl::index;
using netmarl::matrix;

namespace {

constexpr idx batch = 32, width = 128, heads = 4, nearest = 4;  // nearest includes the agent

// The torch script's flop counts: 4 Linears of [B * N, H] x [H, H], and per (agent, neighbour,
// feature) one multiply-add for the score and one for the weighted sum; backward twice each.
double forward_flops(idx agents) {
  const double linear = 4 * 2.0 * batch * agents * width * width;
  const double attention = 2.0 * batch * agents * nearest * width * 2;
  return linear + attention;
}
double forward_backward_flops(idx agents) { return 3.0 * forward_flops(agents); }

struct network {
  idx agents, rows;
  nn::dense<float> query, key, value, output;
  std::vector<netmarl::graph::csr> graphs;  // one per sample
  matrix<float> x, q, k, v, attention, attended, out;
  matrix<float> ones, d_pre, d_attended, d_q, d_k, d_v, d_in, d_x;

  network(idx n, netmarl::rng& g)
      : agents(n),
        rows(batch * n),
        query(width, width, g),
        key(width, width, g),
        value(width, width, g),
        output(width, width, g),
        graphs(std::size_t(batch)),
        x(rows, width),
        q(rows, width),
        k(rows, width),
        v(rows, width),
        attended(rows, width),
        out(rows, width),
        ones(matrix<float>::Ones(rows, width)),
        d_pre(rows, width),
        d_attended(rows, width),
        d_q(rows, width),
        d_k(rows, width),
        d_v(rows, width),
        d_in(rows, width),
        d_x(rows, width) {
    for (idx i = 0; i < x.size(); ++i) x.data()[i] = float(g.normal());
    netmarl::graph::k_nearest_workspace workspace;
    matrix<float> positions(agents, 2);
    idx edges = 0;
    for (auto& graph : graphs) {
      for (idx i = 0; i < positions.size(); ++i) positions.data()[i] = float(g.uniform());
      netmarl::graph::build_k_nearest(graph, positions, nearest - 1, workspace);  // + itself
      edges += graph.view().edges();
    }
    attention.resize(edges, heads);
  }

  da::shape sample_shape() const { return {1, agents, heads, width / heads}; }
  dense::shape dense_shape() const { return {rows, width, width}; }

  template <class B>
  void project(B b, const nn::dense<float>& layer, const matrix<float>& in, matrix<float>& o) {
    dense::forward(b, dense_shape(), in.data(), layer.weight.value.data(), layer.bias.value.data(),
                   o.data());
    nn::activate<float>(nn::activation::relu, o, o);
  }

  // d_pre = d_o * ReLU'(o) (d_pre may be d_o); parameter gradients accumulate, *d_input is written.
  template <class B>
  void project_backward(B b, nn::dense<float>& layer, const matrix<float>& in,
                        const matrix<float>& o, const matrix<float>& d_o, matrix<float>& d_pre_o,
                        matrix<float>& d_input) {
    nn::activation_backward<float>(nn::activation::relu, o, d_o, d_pre_o);
    dense::backward(b, dense_shape(), in.data(), layer.weight.value.data(), d_pre_o.data(),
                    layer.weight.grad.data(), layer.bias.grad.data(), d_input.data());
  }

  template <class B>
  void forward(B b) {
    project(b, query, x, q);
    project(b, key, x, k);
    project(b, value, x, v);
    const idx stride = agents * width;
    idx edge = 0;
    for (idx s = 0; s < batch; ++s) {
      const auto g = graphs[std::size_t(s)].view();
      da::forward(b, sample_shape(), g, q.data() + s * stride, k.data() + s * stride,
                  v.data() + s * stride, attention.data() + edge * heads,
                  attended.data() + s * stride);
      edge += g.edges();
    }
    project(b, output, attended, out);
  }

  template <class B>
  void backward(B b) {
    project_backward(b, output, attended, out, ones, d_pre, d_attended);
    const idx stride = agents * width;
    idx edge = 0;
    for (idx s = 0; s < batch; ++s) {
      const auto g = graphs[std::size_t(s)].view();
      const idx first = s * stride;
      da::backward(b, sample_shape(), g, q.data() + first, k.data() + first, v.data() + first,
                   attention.data() + edge * heads, attended.data() + first,
                   d_attended.data() + first, d_q.data() + first, d_k.data() + first,
                   d_v.data() + first);
      edge += g.edges();
    }
    project_backward(b, query, x, q, d_q, d_q, d_x);
    project_backward(b, key, x, k, d_k, d_k, d_in);
    d_x += d_in;
    project_backward(b, value, x, v, d_v, d_v, d_in);
    d_x += d_in;
  }
};

template <class Backend>
void run(benchmark::State& state, Backend b, bool with_backward, idx agents) {
  netmarl::rng g(0);
  network net(agents, g);
  // Warm-up: first touch of every buffer and the kernels' scratch.
  net.forward(b);
  if (with_backward) net.backward(b);
  for (auto _ : state) {
    net.forward(b);
    if (with_backward) net.backward(b);
    benchmark::DoNotOptimize(net.out.data());
    benchmark::DoNotOptimize(net.d_x.data());
    benchmark::ClobberMemory();
  }
  state.counters["FLOPS"] =
      benchmark::Counter(with_backward ? forward_backward_flops(agents) : forward_flops(agents),
                         benchmark::Counter::kIsIterationInvariantRate);
}

const bool registered = [] {
  for (const idx agents : {20, 100, 1225})
    netmarl::bench::register_peer("dgn", agents, batch, benchmark::kMicrosecond,
                                  [=](benchmark::State& st, auto b, bool with_backward) {
                                    run(st, b, with_backward, agents);
                                  });
  return true;
}();

}  // namespace
