// dqn learns the 3x3 coordination grid (optimum 0) with VDN and with independent utilities.
#include <catch2/catch.hpp>

#include "netmarl/env/coordination_grid.hpp"
#include "netmarl/factor/independent.hpp"
#include "netmarl/learn/dqn.hpp"
#include "netmarl/system.hpp"

namespace nm = netmarl;

namespace {
struct dqn_vdn : nm::default_config {
  using learner = nm::learn::dqn;
};
struct dqn_il : dqn_vdn {
  using factor = nm::factor::independent;
};

template <class Config>
nm::settings<Config> fast_settings() {
  nm::settings<Config> s;
  s.learner.gamma = 0.0;  // one-step episodes
  s.learner.batch_size = 32;
  s.learner.buffer_capacity = 2000;
  s.learner.learning_rate = 1e-3;
  s.learner.target_update_interval = 50;
  // Exploration over most of the budget: with 1500 annealing steps, 1 of seeds 0-9 froze in a
  // domain wall (3 rows of 0 over 6 of 1, reward -3), a Nash equilibrium of the coordination game.
  s.learner.epsilon = {.start = 1.0, .finish = 0.05, .anneal_steps = 2500};
  s.evaluation_episodes = 0;
  return s;
}

template <class Config>
double greedy_reward(std::uint64_t seed) {
  nm::env::coordination_grid env({.side = 3});
  nm::system<Config> sys(nm::env::spec_of(env), fast_settings<Config>(), seed);
  sys.train(env, nm::steps{3000});
  return sys.evaluate(env, 20, nm::learn::mode::greedy);
}
}  // namespace

TEST_CASE("dqn + vdn coordinates the 3x3 grid: greedy reward >= -0.5 (optimum 0)", "[learn][dqn]") {
  for (std::uint64_t seed : {0u, 1u, 2u}) {
    const double reward = greedy_reward<dqn_vdn>(seed);
    INFO("seed " << seed << ": greedy reward " << reward << " (random play: -6, optimum 0)");
    CHECK(reward >= -0.5);
  }
}

TEST_CASE("dqn with independent utilities on the 3x3 grid", "[learn][dqn]") {
  const double reward = greedy_reward<dqn_il>(0);
  INFO("greedy reward " << reward);
  CHECK(reward >= -0.5);
}

TEST_CASE("dqn rejects bad settings with a message", "[learn][dqn]") {
  nm::env::coordination_grid env({.side = 2});
  auto s = fast_settings<dqn_vdn>();
  s.learner.buffer_capacity = 8;
  s.learner.batch_size = 16;
  REQUIRE_THROWS_WITH((nm::system<dqn_vdn>(nm::env::spec_of(env), s, 0)),
                      Catch::Contains("buffer_capacity (8) must be >= batch_size (16)"));
  s = fast_settings<dqn_vdn>();
  s.learner.epsilon.start = 2;
  REQUIRE_THROWS_WITH((nm::system<dqn_vdn>(nm::env::spec_of(env), s, 0)),
                      Catch::Contains("epsilon start and finish must be in [0, 1]"));
}
