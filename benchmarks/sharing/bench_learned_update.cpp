// The LToS high-level update (sharing::learned::update_round) at N = 36 on the 6 x 6 traffic grid:
// the policy forward over a batch of replayed steps, w^in into the observations, the critic's
// max-Q input gradient (learn::dqn over message::attention, LToS table 4's traffic network: 32 &
// 32 units, 1 head), the routing back to the senders, the policy backward and the SGD step.
// One iteration is one gradient step on a batch of 20 samples (table 5: batch 20; a round of
// sample size 1000 is 50 of them). Names end in the grid side: 4 (N = 16) and 6 (N = 36).
// items_processed counts samples.
#include <benchmark/benchmark.h>

#include <string>

#include "netmarl/factor/independent.hpp"
#include "netmarl/graph/generators.hpp"
#include "netmarl/learn/dqn.hpp"
#include "netmarl/message/attention.hpp"
#include "netmarl/sharing/learned.hpp"
#include "netmarl/sharing/none.hpp"

namespace nm = netmarl;
using idx = nm::index;

namespace {

struct slots {
  using scalar = float;
  using sharing = nm::sharing::none;
  using factor = nm::factor::independent;
  using message = nm::message::attention;
  using learner = nm::learn::dqn;
  using backend = nm::backend::simd<>;
};

void high_level_update(benchmark::State& st) {
  const idx side = st.range(0), n = side * side, obs = 8, batch = 20;
  nm::rng g(1);
  nm::sharing::learned::settings hs;
  hs.encoder = {32, 32};
  hs.pair_width = 32;
  hs.sample_size = batch;  // one gradient step per round
  hs.batch_size = batch;
  hs.selfishness = 0.8;
  nm::sharing::learned::model<float> high(n, obs, hs, g);
  nm::learn::slot_settings<slots> ls;
  ls.message.encoder = {32, 32};
  ls.message.dim = 32;
  ls.message.heads = 1;
  ls.learner.hidden = 32;
  ls.learner.hidden_layers = 1;
  nm::learn::dqn::model<slots> low(
      nm::env::spec{.agents = n, .observation_size = obs + hs.incoming_slots, .actions = 4}, ls, g);
  const nm::graph::csr grid = nm::graph::grid2d(side, side);
  nm::matrix<float> o(n, obs);
  for (int step = 0; step < 200; ++step) {
    for (idx k = 0; k < o.size(); ++k) o.data()[k] = static_cast<float>(g.uniform());
    high.record(o, grid);
  }
  auto critic = [&](const nm::matrix<float>& x, std::span<const nm::csr_view> graphs,
                    nm::matrix<float>& d_x) { return low.max_q_input_gradient(x, graphs, d_x); };
  for (auto _ : st) high.update_round(critic);
  st.SetItemsProcessed(st.iterations() * batch);
}

}  // namespace

BENCHMARK(high_level_update)->Name("sharing_learned_update/simd/B:20/grid_side")->Arg(4)->Arg(6)->Unit(benchmark::kMicrosecond);

