// message::attention (DGN) forward and forward+backward, and the bare dgn_attention kernel, at
// N in {20, 100, 1225} agents, B = 32 samples, each sample with its own k-nearest graph (self plus
// the 4 nearest agents of random positions, as DGN's Jungle builds them each step), 4 heads.
// Model: input 26 -> encoder {128} (ReLU) -> 2 convolutions of width 128; float. Backward asks for
// d_x too (what a learner needs when something upstream trains). The kernel benchmark runs the
// attention alone on random Q, K, V [B * N, 128], one call per sample graph as the model does.
// Names: attention/<pass>/<backend>/N:<agents>/B:<batch> and dgn_attention/<pass>/... .
// FLOPS counts the dense products and the attention's multiply-adds (shape::forward_flops); the
// softmax exponentials are not counted. samples_per_second is B per call.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/graph/k_nearest.hpp"
#include "netmarl/kernels/dgn_attention.hpp"
#include "netmarl/message/attention.hpp"

namespace backend = netmarl::backend;
namespace da = netmarl::kernels::dgn_attention;
using idx = netmarl::index;
using netmarl::matrix;

namespace {

constexpr idx batch = 32, input_size = 26, width = 128, heads = 4, neighbours = 4;

// B k-nearest graphs over `agents` uniform random positions in the unit square.
std::vector<netmarl::graph::csr> knn_graphs(idx agents, std::uint64_t seed) {
  netmarl::rng g(seed);
  std::vector<netmarl::graph::csr> graphs(batch);
  netmarl::graph::k_nearest_workspace workspace;
  matrix<float> positions(agents, 2);
  for (auto& graph : graphs) {
    for (idx i = 0; i < positions.size(); ++i) positions.data()[i] = float(g.uniform());
    netmarl::graph::build_k_nearest(graph, positions, neighbours, workspace);
  }
  return graphs;
}

matrix<float> random_matrix(idx rows, idx cols, netmarl::rng& g) {
  matrix<float> m(rows, cols);
  for (idx i = 0; i < m.size(); ++i) m.data()[i] = float(g.uniform(-1.0, 1.0));
  return m;
}

idx total_edges(const std::vector<netmarl::csr_view>& views) {
  idx edges = 0;
  for (const auto& v : views) edges += v.edges();
  return edges;
}

std::vector<netmarl::csr_view> views_of(const std::vector<netmarl::graph::csr>& graphs) {
  std::vector<netmarl::csr_view> views;
  for (const auto& g : graphs) views.push_back(g.view());
  return views;
}

template <class Backend>
void run_model(benchmark::State& state, Backend b, bool with_backward, idx agents) {
  netmarl::rng g(1);
  const netmarl::message::attention::settings s{{width}, width, heads, 2};
  netmarl::message::attention::model<float> model(agents, input_size, s, g);
  const auto graphs = knn_graphs(agents, 2);
  const auto views = views_of(graphs);
  const idx rows = batch * agents;
  const matrix<float> x = random_matrix(rows, input_size, g);
  const matrix<float> d_out = random_matrix(rows, model.output_size(), g);
  netmarl::bench::time_passes(state, b, model, x, views, d_out, with_backward, /*warm_up=*/false);
  // Per sample: encoder, then per convolution Q, K, V and the output dense plus the attention.
  const da::shape ks{1, agents, heads, width / heads};
  const idx edges = total_edges(views);
  double forward = 2.0 * rows * input_size * width;
  double backward = 2.0 * forward;
  for (idx l = 0; l < s.layers; ++l) {
    const double dense = 4 * 2.0 * rows * width * width;
    forward += dense + ks.forward_flops(edges);
    backward += 2 * dense + ks.backward_flops(edges);
  }
  state.counters["FLOPS"] = benchmark::Counter(with_backward ? forward + backward : forward,
                                               benchmark::Counter::kIsIterationInvariantRate);
  state.counters["samples_per_second"] =
      benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
}

template <class Backend>
void run_kernel(benchmark::State& state, Backend b, bool with_backward, idx agents) {
  netmarl::rng g(3);
  const auto graphs = knn_graphs(agents, 4);
  const auto views = views_of(graphs);
  const idx rows = batch * agents, per_sample = agents * width;
  const matrix<float> q = random_matrix(rows, width, g), k = random_matrix(rows, width, g),
                      v = random_matrix(rows, width, g), d_out = random_matrix(rows, width, g);
  matrix<float> out(rows, width), d_q(rows, width), d_k(rows, width), d_v(rows, width);
  matrix<float> weights(total_edges(views), heads);
  const da::shape ks{1, agents, heads, width / heads};
  for (auto _ : state) {
    idx edge = 0;
    for (idx s = 0; s < batch; ++s) {
      const idx first = s * per_sample;
      da::forward(b, ks, views[std::size_t(s)], q.data() + first, k.data() + first,
                  v.data() + first, weights.data() + edge * heads, out.data() + first);
      if (with_backward)
        da::backward(b, ks, views[std::size_t(s)], q.data() + first, k.data() + first,
                     v.data() + first, weights.data() + edge * heads, out.data() + first,
                     d_out.data() + first, d_q.data() + first, d_k.data() + first,
                     d_v.data() + first);
      edge += views[std::size_t(s)].edges();
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::DoNotOptimize(d_q.data());
    benchmark::ClobberMemory();
  }
  const idx edges = total_edges(views);
  const double flops = ks.forward_flops(edges) + (with_backward ? ks.backward_flops(edges) : 0.0);
  state.counters["FLOPS"] =
      benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["samples_per_second"] =
      benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
}

const bool registered = [] {
  for (const bool with_backward : {false, true})
    for (const idx agents : {20, 100, 1225}) {
      const std::string pass = with_backward ? "forward_backward/" : "forward/";
      const std::string suffix = "/N:" + std::to_string(agents) + "/B:" + std::to_string(batch);
      benchmark::RegisterBenchmark(
          ("attention/" + pass + "reference" + suffix).c_str(),
          [=](benchmark::State& st) { run_model(st, backend::reference{}, with_backward, agents); })
          ->MinTime(0.05)
          ->Unit(benchmark::kMicrosecond);
      // simd: the dense products get the xsimd GEMM; the attention falls back to the reference.
      benchmark::RegisterBenchmark(
          ("attention/" + pass + "simd" + suffix).c_str(),
          [=](benchmark::State& st) { run_model(st, backend::simd<>{}, with_backward, agents); })
          ->MinTime(0.05)
          ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(("dgn_attention/" + pass + "reference" + suffix).c_str(),
                                   [=](benchmark::State& st) {
                                     run_kernel(st, backend::reference{}, with_backward, agents);
                                   })
          ->MinTime(0.05)
          ->Unit(benchmark::kMicrosecond);
    }
  return true;
}();

}  // namespace
