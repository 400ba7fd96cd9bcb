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
#include "run_steps.hpp"
#include "netmarl/env/concept.hpp"
#include "netmarl/env/cooperative_navigation.hpp"

namespace env = netmarl::env;
using idx = netmarl::index;

namespace {

using netmarl::benchmarks::run_steps;

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
