// Peer-matched QTRAN: the network ../shared/peers/torch_kernels.py (bench_qtran) times in PyTorch
// eager, PyMARL's QTranBase with qtran_arch "qtran_paper" and network_size "small", built from
// factor::qtran_joint: hidden features R = 64 per agent, A = 16 actions, state S = 16 N floats,
//   encoder  Linear(R + A, R + A) -> ReLU -> Linear(R + A, R + A)       per agent, then summed
//   Q_jt     Linear(S + R + A, 64) -> ReLU -> Linear(64, 64) -> ReLU -> Linear(64, 1)
//   V        Linear(S, 64) -> ReLU -> Linear(64, 64) -> ReLU -> Linear(64, 1)
// over N in {4, 8, 20, 80, 200, 800} agents and B in {32, 1600} samples, float, on
// backend::reference and backend::simd<>. Torch multiplies the one-hot actions in; ours gathers
// W_a's rows (kernels/qtran_joint/spec.hpp), the same function with a fifth fewer encoder flops.
// What one iteration times:
//   qtran_fwd      forward_q(taken actions, all alive) and forward_v        (torch: no_grad)
//   qtran_fwd_bwd  both forwards, then backward_q with d_q_jt = 1 into d_hidden and backward_v
//                  with d_v = 1: the gradients of sum(Q_jt) + sum(V) w.r.t. every parameter and
//                  the agent hidden states (torch: autograd.grad of the same). Parameter
//                  gradients accumulate across iterations instead of being returned fresh; the
//                  work is the same.
// FLOPS is the torch script's qtran_flops (linear layers' multiply-adds x 2, plus the agent-sum
// adds), so GFLOP/s compare directly with ../shared/peers/RESULTS.md.
// Names: qtran_<mode>/<backend>/N:<agents>/B:<batch>.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "netmarl/backend/tags.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/factor/qtran_joint.hpp"
#include "register_peer.hpp"

namespace backend = netmarl::backend;
namespace factor = netmarl::factor;
using idx = netmarl::index;
template <class T>
using matrix = netmarl::matrix<T>;

namespace {

constexpr idx state_per_agent = 16, actions = 16, rnn_hidden = 64, embed = 64;

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

// torch_kernels.py qtran_flops(B, N, S, A, R, E): (forward, backward).
std::pair<double, double> qtran_flops(double b, double n) {
  const double s = double(state_per_agent) * n, ae = double(rnn_hidden + actions), e = embed;
  const double layers[8] = {linear_flops(b * n, ae, ae), linear_flops(b * n, ae, ae),
                            linear_flops(b, s + ae, e),  linear_flops(b, e, e),
                            linear_flops(b, e, 1),       linear_flops(b, s, e),
                            linear_flops(b, e, e),       linear_flops(b, e, 1)};
  double all = 0;
  for (double f : layers) all += f;
  const double agent_sum = b * n * ae;
  // Backward: weight gradients of every layer, input gradients of all but V's first.
  return {all + agent_sum, all + (all - layers[5]) + agent_sum};
}

struct qtran_case {
  using model = factor::qtran_joint::model<float>;
  model m;
  matrix<float> state, hidden, q_jt, v, d_hidden;
  std::vector<int> taken;
  matrix<float> d_q_jt, d_v;

  qtran_case(idx agents, idx batch, netmarl::rng g = netmarl::rng(7))
      : m(agents, state_per_agent * agents, rnn_hidden, actions, settings(), g),
        state(filled(batch, state_per_agent * agents, 2)),
        hidden(filled(batch * agents, rnn_hidden, 4)),
        taken(static_cast<std::size_t>(batch * agents)),
        d_q_jt(matrix<float>::Ones(batch, 1)),
        d_v(matrix<float>::Ones(batch, 1)) {
    for (int& a : taken) a = static_cast<int>(g.below(actions));
  }

  // PyMARL qtran_paper small: embed 64, two hidden layers, ReLU; encoder widths R + A.
  static factor::qtran_joint::settings settings() {
    factor::qtran_joint::settings s;
    s.embed = embed;
    s.hidden_layers = 2;
    s.activation = netmarl::nn::activation::relu;
    return s;
  }

  template <class Backend>
  void step(Backend b, bool with_backward) {
    m.forward_q(b, state, hidden, taken, std::span<const float>{}, q_jt);
    m.forward_v(b, state, v);
    if (with_backward) {
      m.backward_q(b, d_q_jt, &d_hidden);
      m.backward_v(b, d_v);
    }
  }
};

template <class Backend>
void run(benchmark::State& st, Backend b, idx agents, idx batch, bool with_backward) {
  qtran_case c(agents, batch);
  c.step(b, true);  // warm-up: sizes every buffer, so the timed loop does not allocate
  for (auto _ : st) {
    c.step(b, with_backward);
    benchmark::DoNotOptimize(c.q_jt.data());
    benchmark::DoNotOptimize(c.v.data());
    benchmark::DoNotOptimize(c.d_hidden.data());
    benchmark::ClobberMemory();
  }
  const auto [fwd, bwd] = qtran_flops(double(batch), double(agents));
  st.counters["FLOPS"] = benchmark::Counter(with_backward ? fwd + bwd : fwd,
                                            benchmark::Counter::kIsIterationInvariantRate);
}

const bool registered = [] {
  for (idx batch : {32, 1600})
    for (idx agents : {4, 8, 20, 80, 200, 800})
      netmarl::bench::register_peer("qtran", agents, batch, benchmark::kMicrosecond,
                                    [=](benchmark::State& st, auto b, bool with_backward) {
                                      run(st, b, agents, batch, with_backward);
                                    });
  return true;
}();

}  // namespace
