// Environment steps per second of env::cooperative_navigation (IP appendix D.2) at the paper's
// sizes N = 15, 30, 200 (L = N landmarks, default settings: 26-float observations, 25-step
// episodes), and at N = 200 with the F.3 assumption-violation term on (its log over all N(N-1)/2
// agent pairs is the one part that is not limited to nearby pairs).
// As in bench_steps.cpp: one iteration is one step(actions) call; joint actions are uniform over
// [0, 5), drawn with netmarl::rng before the timed loop (a pool of 64 used in turn); when a step
// ends the episode, reset(g) runs inside the timed loop, as a rollout would (one per 25 steps).
// Names: env_step/cooperative_navigation[_violation]/N:<agents>. items_per_second = steps/s; the
// counter agent_steps/s is steps * N per second.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "netmarl/core/rng.hpp"
#include "netmarl/env/concept.hpp"
#include "netmarl/env/cooperative_navigation.hpp"

namespace env = netmarl::env;
using idx = netmarl::index;

namespace {

constexpr std::size_t action_pool = 64;  // joint actions drawn up front and used in turn

void run_steps(benchmark::State& state, env::cooperative_navigation e) {
  const idx agents = e.num_agents();
  netmarl::rng g(2024);
  std::vector<std::vector<int>> pool(action_pool);
  for (auto& joint : pool) {
    joint.resize(static_cast<std::size_t>(agents));
    for (int& a : joint) a = static_cast<int>(g.below(static_cast<std::uint64_t>(e.num_actions())));
  }
  e.reset(g);
  std::size_t next = 0;
  std::int64_t resets = 0;
  for (auto _ : state) {
    const env::step_result& r = e.step(pool[next]);
    benchmark::DoNotOptimize(r.global_reward);
    next = next + 1 == action_pool ? 0 : next + 1;
    if (r.episode_done) {
      e.reset(g);
      ++resets;
    }
    benchmark::ClobberMemory();
  }
  const auto steps = static_cast<std::int64_t>(state.iterations());
  state.SetItemsProcessed(steps);
  state.counters["agent_steps/s"] =
      benchmark::Counter(static_cast<double>(steps * agents), benchmark::Counter::kIsRate);
  state.counters["steps/episode"] =
      benchmark::Counter(resets > 0 ? static_cast<double>(steps) / static_cast<double>(resets) : 0);
}

void register_env(const std::string& name, const env::cooperative_navigation::settings& s) {
  const std::string full = "env_step/" + name + "/N:" + std::to_string(s.agents);
  benchmark::RegisterBenchmark(full.c_str(), [s](benchmark::State& st) {
    run_steps(st, env::cooperative_navigation(s));
  })->Unit(benchmark::kMicrosecond);
}

const bool registered = [] {
  for (idx n : {15, 30, 200}) register_env("cooperative_navigation", {.agents = n});
  register_env("cooperative_navigation_violation", {.agents = 200, .violation_weight = 0.01});
  return true;
}();

}  // namespace
