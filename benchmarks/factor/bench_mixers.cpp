// Mixer (value factorization) forward and backward, float, backend::reference against
// backend::simd<> (the default xsimd architecture), at N = 20, 200, 800 agents over a batch of
// B = 32 samples (the VAST authors' GaussianSqueeze epoch batch is 10; 32 is the usual minibatch).
// Models, all with default settings:
//   vdn              Q_tot = sum_i Q_i (no parameters; it ignores the backend tag, so both backends
//                    run the same code);
//   qmix             PyMARL's QMixer (embed 32, two-layer hypernetworks of 64 ReLU units);
//   vast_vdn_fixed   factor::vast<vdn, assign::fixed>, eta = 0.25, so K = ceil(N / 4) sub-teams;
//   vast_qmix_fixed  factor::vast<qmix, assign::fixed>, eta = 0.25 (QMIX over the K sub-teams);
//   qtran_joint      QTRAN-base's joint network: hidden features H = 64 per agent, A = 5 actions,
//                    embed 64, two hidden layers, encoder width H + A = 69.
// The global state has S = 2N floats for every model (a stand-in size: the environments' states
// are N for GaussianSqueeze, 450..3510 for Warehouse, 200..648 for Battle); q, state and the
// upstream gradients are deterministic fills in [-1, 1). VAST's prepare(backend, context) (the
// sub-team assignment, fixed: agent i joins sub-team i mod K) runs once before timing.
// What one iteration times:
//   mixer_forward   forward(backend, q, state, q_tot); for qtran_joint forward_q at the taken
//                   actions (uniform in [0, A), drawn once; all agents alive), without V(s).
//   mixer_backward  backward(backend, d_q_tot, d_q) after one untimed forward (parameter
//                   gradients accumulate across iterations, as between optimizer steps); for
//                   qtran_joint the full loss() (L_td + L_opt + L_nopt and the backward through
//                   Q_jt, the encoder and V) after one untimed forward_q and forward_v.
// simd<> runs the xsimd dense layers and the qmix_mixer and qtran_joint kernels; subteam_sum has
// only its reference version.
// Names: mixer_<pass>/<model>/<backend>/N:<agents>. items_processed counts samples (B per
// iteration), so items_per_second is samples mixed per second.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "netmarl/backend/tags.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/factor/assign/fixed.hpp"
#include "netmarl/factor/concept.hpp"
#include "netmarl/factor/qmix.hpp"
#include "netmarl/factor/qtran_joint.hpp"
#include "netmarl/factor/vast.hpp"
#include "netmarl/factor/vdn.hpp"

namespace backend = netmarl::backend;
namespace factor = netmarl::factor;
using idx = netmarl::index;
template <class T>
using matrix = netmarl::matrix<T>;

namespace {

constexpr idx batch = 32;
constexpr idx qtran_hidden = 64;
constexpr idx qtran_actions = 5;
constexpr double eta = 0.25;

idx state_size_for(idx agents) { return 2 * agents; }

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

// Builds a Factorization's float model and, for VAST, assigns the sub-teams of the batch.
template <class F, class Backend>
typename F::template model<float> make_model(Backend b, idx agents,
                                             const typename F::settings& settings) {
  netmarl::rng g(7);
  typename F::template model<float> m(agents, state_size_for(agents), settings, g);
  factor::mixing_context<float> context;
  context.batch = batch;
  context.agents = agents;
  context.generator = &g;
  factor::prepare(m, b, context);
  return m;
}

template <class F, class Backend>
void run_forward(benchmark::State& state, Backend b, idx agents, typename F::settings settings) {
  auto m = make_model<F>(b, agents, settings);
  const auto q = filled(batch, agents, 1), s = filled(batch, state_size_for(agents), 2);
  matrix<float> out;
  for (auto _ : state) {
    m.forward(b, q, s, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * batch);
}

template <class F, class Backend>
void run_backward(benchmark::State& state, Backend b, idx agents, typename F::settings settings) {
  auto m = make_model<F>(b, agents, settings);
  const auto q = filled(batch, agents, 1), s = filled(batch, state_size_for(agents), 2);
  matrix<float> out, d_q;
  m.forward(b, q, s, out);
  const auto d_out = filled(batch, m.outputs(), 3);
  for (auto _ : state) {
    m.backward(b, d_out, d_q);
    benchmark::DoNotOptimize(d_q.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * batch);
}

// QTRAN's joint network and its inputs, with forward_q and forward_v run once.
struct qtran_case {
  using model = factor::qtran_joint::model<float>;
  model m;
  matrix<float> s, hidden, q_jt, v;
  std::vector<int> actions;

  explicit qtran_case(idx agents, netmarl::rng g = netmarl::rng(7))
      : m(agents, state_size_for(agents), qtran_hidden, qtran_actions, {}, g),
        s(filled(batch, state_size_for(agents), 2)),
        hidden(filled(batch * agents, qtran_hidden, 4)),
        actions(static_cast<std::size_t>(batch * agents)) {
    for (int& a : actions) a = static_cast<int>(g.below(qtran_actions));
  }
};

template <class Backend>
void run_qtran_forward(benchmark::State& state, Backend b, idx agents) {
  qtran_case c(agents);
  for (auto _ : state) {
    c.m.forward_q(b, c.s, c.hidden, c.actions, std::span<const float>{}, c.q_jt);
    benchmark::DoNotOptimize(c.q_jt.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * batch);
}

template <class Backend>
void run_qtran_backward(benchmark::State& state, Backend b, idx agents) {
  qtran_case c(agents);
  c.m.forward_q(b, c.s, c.hidden, c.actions, std::span<const float>{}, c.q_jt);
  c.m.forward_v(b, c.s, c.v);
  // Loss inputs: y, sum_i max_a Q_i, Q_jt(s, u_bar) and sum_i Q_i(u_i), one per sample.
  const auto td_target = filled(batch, 1, 5), greedy_sum = filled(batch, 1, 6),
             greedy_q_jt = filled(batch, 1, 7), chosen_sum = filled(batch, 1, 8);
  const qtran_case::model::loss_inputs in{.td_target = td_target,
                                          .greedy_utility_sum = greedy_sum,
                                          .greedy_q_jt = greedy_q_jt,
                                          .chosen_utility_sum = chosen_sum};
  qtran_case::model::loss_gradients grads;
  for (auto _ : state) {
    const auto values = c.m.loss(b, in, grads);
    benchmark::DoNotOptimize(values.total);
    benchmark::DoNotOptimize(grads.hidden.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * batch);
}

std::string suffix(const std::string& model, const std::string& backend_name, idx agents) {
  return "/" + model + "/" + backend_name + "/N:" + std::to_string(agents);
}

template <class F, class Backend>
void register_model(const std::string& model, const std::string& backend_name, Backend b,
                    idx agents, typename F::settings settings = {}) {
  const std::string tail = suffix(model, backend_name, agents);
  benchmark::RegisterBenchmark(("mixer_forward" + tail).c_str(), [=](benchmark::State& st) {
    run_forward<F>(st, b, agents, settings);
  })->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark(("mixer_backward" + tail).c_str(), [=](benchmark::State& st) {
    run_backward<F>(st, b, agents, settings);
  })->Unit(benchmark::kMicrosecond);
}

template <class Backend>
void register_backend(const std::string& backend_name, Backend b, idx agents) {
  using vast_vdn = factor::vast<factor::vdn, factor::assign::fixed>;
  using vast_qmix = factor::vast<factor::qmix, factor::assign::fixed>;
  register_model<factor::vdn>("vdn", backend_name, b, agents);
  register_model<factor::qmix>("qmix", backend_name, b, agents);
  typename vast_vdn::settings vast_vdn_settings;
  vast_vdn_settings.eta = eta;
  register_model<vast_vdn>("vast_vdn_fixed", backend_name, b, agents, vast_vdn_settings);
  typename vast_qmix::settings vast_qmix_settings;
  vast_qmix_settings.eta = eta;
  register_model<vast_qmix>("vast_qmix_fixed", backend_name, b, agents, vast_qmix_settings);
  const std::string tail = suffix("qtran_joint", backend_name, agents);
  benchmark::RegisterBenchmark(("mixer_forward" + tail).c_str(), [=](benchmark::State& st) {
    run_qtran_forward(st, b, agents);
  })->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark(("mixer_backward" + tail).c_str(), [=](benchmark::State& st) {
    run_qtran_backward(st, b, agents);
  })->Unit(benchmark::kMicrosecond);
}

const bool registered = [] {
  for (idx agents : {20, 200, 800}) {
    register_backend("reference", backend::reference{}, agents);
    register_backend("simd", backend::simd<>{}, agents);
  }
  return true;
}();

}  // namespace
