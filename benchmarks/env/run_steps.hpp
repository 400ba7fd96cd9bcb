#pragma once
// The environment-step benchmark loop every bench_env_* binary shares: random joint actions drawn
// up front (so the rng is not timed), reset at episode ends, and the counters docs/benchmarks.md
// reads (items/s = steps/s, agent_steps/s, steps/episode).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "netmarl/core/rng.hpp"
#include "netmarl/env/concept.hpp"

namespace netmarl::benchmarks {

constexpr std::size_t action_pool = 64;  // joint actions drawn up front and used in turn

template <netmarl::env::Environment E>
void run_steps(benchmark::State& state, E e) {
  const netmarl::index agents = e.num_agents();
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
    const netmarl::env::step_result& r = e.step(pool[next]);
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

}  // namespace netmarl::benchmarks
