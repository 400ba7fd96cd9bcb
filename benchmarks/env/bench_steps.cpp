// Environment steps per second, one benchmark per environment of include/netmarl/env/ and size:
// gaussian_squeeze (N 200, 800; default settings, one step per episode), coordination_grid (the
// default 3x3 grid, N 9, one step per episode), warehouse (N 4, 8, 16: the three VAST maps,
// 50-step episodes) and battle (N 20, 40, 80: the three VAST maps, at most 100 steps);
// env::stand_in (the concept checks' do-nothing environment) is left out.
// One iteration is one step(actions) call. Joint actions are uniform over [0, num_actions),
// drawn with netmarl::rng before the timed loop: a pool of 64 joint actions used in turn, so the
// timing holds the environment alone (warehouse and battle still draw their own permutations and
// opponent moves inside step). When a step ends the episode, reset(g) is called inside the timed
// loop, as a rollout would: for the one-step environments every iteration is step + reset, for
// warehouse one reset per 50 steps, for battle one per episode (100 steps unless an army dies).
// Names: env_step/<env>/N:<agents>. items_processed counts steps (items_per_second = steps/s);
// the counter agent_steps/s is steps * N per second.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "netmarl/core/rng.hpp"
#include "run_steps.hpp"
#include "netmarl/env/battle.hpp"
#include "netmarl/env/concept.hpp"
#include "netmarl/env/coordination_grid.hpp"
#include "netmarl/env/gaussian_squeeze.hpp"
#include "netmarl/env/warehouse.hpp"

namespace env = netmarl::env;
using idx = netmarl::index;

namespace {

using netmarl::benchmarks::run_steps;

template <env::Environment E>
void register_env(const std::string& name, E e) {
  const std::string full = "env_step/" + name + "/N:" + std::to_string(e.num_agents());
  benchmark::RegisterBenchmark(full.c_str(), [e](benchmark::State& st) {
    run_steps(st, e);
  })->Unit(benchmark::kMicrosecond);
}

const bool registered = [] {
  for (idx n : {200, 800}) {
    env::gaussian_squeeze::settings s;
    s.agents = n;
    register_env("gaussian_squeeze", env::gaussian_squeeze(s));
  }
  register_env("coordination_grid", env::coordination_grid());
  for (idx n : {4, 8, 16}) {
    env::warehouse::settings s;
    s.agents = n;
    register_env("warehouse", env::warehouse(s));
  }
  for (idx n : {20, 40, 80}) {
    env::battle::settings s;
    s.agents = n;
    register_env("battle", env::battle(s));
  }
  return true;
}();

}  // namespace
