// Environment steps per second for the LToS grid games (include/netmarl/env/prisoner.hpp and
// jungle.hpp): prisoner (default: 2 agents on a 7-cell corridor, at most 20 steps, usually 1-3
// under random actions) and jungle (N 20 on the default 30 x 30 map with 12 foods, 120-step
// episodes; and N 10 on 20 x 20 with 6 foods, the paper's 5 : 3 ratio).
// Same loop as bench_steps.cpp (run_steps.hpp): one iteration is one step(actions) call with
// uniform joint actions from a pool drawn up front; reset(g) runs inside the timed loop when an
// episode ends, so for prisoner most iterations include a reset.
// Names: env_step/<env>/N:<agents>. items_per_second = steps/s; agent_steps/s = steps * N per s.
#include <benchmark/benchmark.h>

#include <string>

#include "netmarl/env/concept.hpp"
#include "netmarl/env/jungle.hpp"
#include "netmarl/env/prisoner.hpp"
#include "run_steps.hpp"

namespace env = netmarl::env;

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
  register_env("prisoner", env::prisoner());
  register_env("jungle", env::jungle());
  register_env("jungle", env::jungle({.width = 20, .height = 20, .agents = 10, .foods = 6}));
  return true;
}();

}  // namespace
