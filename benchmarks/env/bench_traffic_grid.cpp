// Environment steps per second of env::traffic_grid (LToS section 5.3), our queue-level stand-in
// for the paper's CityFlow grid, at 4x4 (N 16) and the paper's 6x6 (N 36) with default settings:
// the table 2 schedule (2570 vehicles on 6x6, 1713 on 4x4), 10 s decisions simulated second by
// second, 360-step episodes.
// As in bench_steps.cpp: one iteration is one step(actions) call; joint actions are uniform over
// the 4 phases, drawn with netmarl::rng before the timed loop (a pool of 64 used in turn); when a
// step ends the episode, reset(g) runs inside the timed loop, as a rollout would (one per 360
// steps; reset draws the episode's arrivals). Names: env_step/traffic_grid/N:<agents>.
// items_per_second = steps/s; the counter agent_steps/s is steps * N per second.
#include <benchmark/benchmark.h>

#include <string>

#include "netmarl/env/concept.hpp"
#include "netmarl/env/traffic_grid.hpp"
#include "run_steps.hpp"

namespace env = netmarl::env;
using idx = netmarl::index;

namespace {

using netmarl::benchmarks::run_steps;

void register_env(idx side) {
  const env::traffic_grid::settings s{.rows = side, .cols = side};
  const std::string full = "env_step/traffic_grid/N:" + std::to_string(side * side);
  benchmark::RegisterBenchmark(full.c_str(), [s](benchmark::State& st) {
    run_steps(st, env::traffic_grid(s));
  })->Unit(benchmark::kMicrosecond);
}

const bool registered = [] {
  for (idx side : {4, 6}) register_env(side);
  return true;
}();

}  // namespace
