// Peer-matched QMIX: the network ../shared/peers/torch_kernels.py (bench_qmix, hypernet_layers 2)
// times in PyTorch eager, built from factor::qmix: PyMARL's QMixer with embed E = 32, two-layer
// hypernetworks of H = 64 ReLU units, hyper_b1 one linear layer, V = Linear(S, E) -> ReLU ->
// Linear(E, 1), state S = 16 N floats (16 per agent), over N in {4, 8, 20, 80, 200, 800} agents
// and B in {32, 1600} samples, float, on backend::reference and backend::simd<>.
// What one iteration times:
//   qmix_fwd      forward(backend, q, state, q_tot)                  (torch: under no_grad)
//   qmix_fwd_bwd  forward, then backward with d_q_tot = 1 (the gradient of sum(Q_tot)): every
//                 parameter's gradient and d_q; none w.r.t. the state (torch: autograd.grad of
//                 sum(output) w.r.t. the parameters and agent_qs). Parameter gradients accumulate
//                 across iterations instead of being returned fresh; the work is the same.
// FLOPS is the torch script's qmix_flops (GEMM and bmm multiply-adds x 2, elementwise ops not
// counted), so GFLOP/s compare directly with ../shared/peers/RESULTS.md.
// Names: qmix_<mode>/<backend>/N:<agents>/B:<batch>.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <utility>

#include "netmarl/backend/tags.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/factor/qmix.hpp"
#include "register_peer.hpp"

namespace backend = netmarl::backend;
namespace factor = netmarl::factor;
using idx = netmarl::index;
template <class T>
using matrix = netmarl::matrix<T>;

namespace {

constexpr idx state_per_agent = 16, embed = 32, hypernet_hidden = 64;

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

double linear_flops(double rows, double in, double out) { return 2.0 * rows * in * out; }

// torch_kernels.py qmix_flops(B, N, S, E, layers = 2, H): (forward, backward).
std::pair<double, double> qmix_flops(double b, double n) {
  const double s = double(state_per_agent) * n, e = embed, h = hypernet_hidden;
  const double first = linear_flops(b, s, h) * 2 + linear_flops(b, s, e) * 2;  // read the state
  const double second = linear_flops(b, h, e * n) + linear_flops(b, h, e) + linear_flops(b, e, 1);
  const double fwd = first + second + 2.0 * b * n * e + 2.0 * b * e;
  const double bwd = first + 2.0 * second + 2.0 * (2.0 * b * n * e) + 2.0 * (2.0 * b * e);
  return {fwd, bwd};
}

factor::qmix::model<float> make_model(idx agents) {
  netmarl::rng g(7);
  factor::qmix::settings settings;  // PyMARL defaults: embed 32, 2 hypernet layers of 64, ReLU
  settings.embed = embed;
  settings.hypernet_layers = 2;
  settings.hypernet_hidden = hypernet_hidden;
  settings.hypernet_activation = netmarl::nn::activation::relu;
  return factor::qmix::model<float>(agents, state_per_agent * agents, settings, g);
}

template <class Backend>
void run(benchmark::State& st, Backend b, idx agents, idx batch, bool with_backward) {
  auto m = make_model(agents);
  const auto q = filled(batch, agents, 1), s = filled(batch, state_per_agent * agents, 2);
  const matrix<float> d_q_tot = matrix<float>::Ones(batch, 1);
  matrix<float> q_tot, d_q;
  // Warm-up: sizes every buffer, so the timed loop does not allocate.
  m.forward(b, q, s, q_tot);
  m.backward(b, d_q_tot, d_q);
  for (auto _ : st) {
    m.forward(b, q, s, q_tot);
    if (with_backward) m.backward(b, d_q_tot, d_q);
    benchmark::DoNotOptimize(q_tot.data());
    benchmark::DoNotOptimize(d_q.data());
    benchmark::ClobberMemory();
  }
  const auto [fwd, bwd] = qmix_flops(double(batch), double(agents));
  st.counters["FLOPS"] = benchmark::Counter(with_backward ? fwd + bwd : fwd,
                                            benchmark::Counter::kIsIterationInvariantRate);
}

const bool registered = [] {
  for (idx batch : {32, 1600})
    for (idx agents : {4, 8, 20, 80, 200, 800})
      netmarl::bench::register_peer("qmix", agents, batch, benchmark::kMicrosecond,
                                    [=](benchmark::State& st, auto b, bool with_backward) {
                                      run(st, b, agents, batch, with_backward);
                                    });
  return true;
}();

}  // namespace
