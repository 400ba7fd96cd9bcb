#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <new>
#include <numeric>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/env/concept.hpp"
#include "netmarl/env/gaussian_squeeze.hpp"

// Counts heap allocations in this binary, so "step allocates nothing" is measured.
#include "support/count_allocations.hpp"

namespace env = netmarl::env;
using Catch::Contains;
using netmarl::invalid_argument;

static_assert(env::Environment<env::gaussian_squeeze>);
static_assert(env::HasEpisodeMetric<env::gaussian_squeeze>);
static_assert(!env::SpatialEnvironment<env::gaussian_squeeze>);

TEST_CASE("gaussian_squeeze: the analytic optimum for the paper's settings",
          "[env][gaussian_squeeze]") {
  // d/dz z exp(-((z - 400) / 200)^2) = 0  <=>  z^2 - 400 z - 20000 = 0  <=>  z = 200 + sqrt(60000).
  const auto best = env::gaussian_squeeze_optimum(200, 10, 400, 200);
  CHECK(best.zeta == 445);
  CHECK(best.value == Approx(423.03).margin(1e-2));
  CHECK(best.value == Approx(445 * std::exp(-0.225 * 0.225)));
  // More agents do not move the optimum (it is reachable with 200 already) ...
  CHECK(env::gaussian_squeeze_optimum(800, 10, 400, 200).zeta == 445);
  // ... but too few cap it at the largest reachable sum.
  const auto capped = env::gaussian_squeeze_optimum(10, 10, 400, 200);
  CHECK(capped.zeta == 90);
  CHECK(capped.value == Approx(env::gaussian_squeeze_value(90, 400, 200)));
  REQUIRE_THROWS_AS(env::gaussian_squeeze_optimum(0, 10, 400, 200), invalid_argument);
  REQUIRE_THROWS_WITH(env::gaussian_squeeze_optimum(10, 10, 400, 0),
                      Contains("sigma 0") && !Contains("0.0"));
}

TEST_CASE("gaussian_squeeze: sizes and one-hot observations", "[env][gaussian_squeeze]") {
  env::gaussian_squeeze e({.agents = 5});
  CHECK(e.name() == "gaussian_squeeze");
  CHECK(e.num_agents() == 5);
  CHECK(e.observation_size() == 5);
  CHECK(e.num_actions() == 10);
  CHECK(e.state_size() == 5);
  CHECK(e.episode_limit() == 1);
  netmarl::rng rng(0);
  const auto& r = e.reset(rng);
  REQUIRE(r.observations.rows() == 5);
  REQUIRE(r.observations.cols() == 5);
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 5; ++j) CHECK(r.observations(i, j) == (i == j ? 1.0f : 0.0f));
  CHECK_FALSE(r.episode_done);
  // Global state: N zeros, as in the authors' code.
  const auto s = e.state();
  REQUIRE(s.size() == 5);
  for (const float x : s) CHECK(x == 0.0f);
}

TEST_CASE("gaussian_squeeze: every agent and the team get GS(zeta)", "[env][gaussian_squeeze]") {
  env::gaussian_squeeze e({.agents = 200});
  netmarl::rng rng(9);
  for (int trial = 0; trial < 5; ++trial) {
    e.reset(rng);
    std::vector<int> actions(200);
    for (auto& a : actions) a = static_cast<int>(rng.below(10));
    const double zeta = std::accumulate(actions.begin(), actions.end(), 0.0);
    const double expected = zeta * std::exp(-std::pow((zeta - 400.0) / 200.0, 2));
    const auto& r = e.step(actions);
    CHECK(r.global_reward == Approx(expected).epsilon(1e-6));
    for (const float ri : r.rewards) REQUIRE(ri == r.global_reward);
    CHECK(e.episode_metric() == Approx(expected).epsilon(1e-12));
    CHECK(r.episode_done);
    for (const auto d : r.agent_done) REQUIRE(d == 1);
    // The observation stays one-hot after the step.
    CHECK(r.observations(7, 7) == 1.0f);
    CHECK(r.observations(7, 8) == 0.0f);
  }
  // The optimum is reachable: 49 * 9 + 4 = 445.
  e.reset(rng);
  std::vector<int> best(200, 0);
  for (int i = 0; i < 49; ++i) best[i] = 9;
  best[49] = 4;
  e.step(best);
  CHECK(e.episode_metric() == Approx(423.03).margin(1e-2));
}

TEST_CASE("gaussian_squeeze: longer episodes, configurable mu and sigma",
          "[env][gaussian_squeeze]") {
  env::gaussian_squeeze e({.agents = 3, .actions = 4, .mu = 5, .sigma = 2, .episode_length = 2});
  netmarl::rng rng(0);
  e.reset(rng);
  const std::vector<int> a{3, 1, 1};  // zeta = 5 = mu: GS = 5
  CHECK_FALSE(e.step(a).episode_done);
  const auto& second = e.step(a);
  CHECK(second.global_reward == Approx(5.0));
  CHECK(second.episode_done);
}

TEST_CASE("gaussian_squeeze: bad actions and calls", "[env][gaussian_squeeze]") {
  env::gaussian_squeeze e({.agents = 3});
  netmarl::rng rng(0);
  REQUIRE_THROWS_AS(e.step(std::vector<int>{1, 1, 1}), invalid_argument);
  REQUIRE_THROWS_WITH(e.step(std::vector<int>{1, 1, 1}), Contains("step called before reset"));
  e.reset(rng);
  REQUIRE_THROWS_AS(e.step(std::vector<int>{1, 1}), invalid_argument);
  REQUIRE_THROWS_WITH(e.step(std::vector<int>{1, 1}),
                      Contains("gaussian_squeeze: expected 3 actions, got 2"));
  REQUIRE_THROWS_WITH(e.step(std::vector<int>{1, 10, 1}),
                      Contains("action 10 of agent 1 is out of range [0, 10)"));
  REQUIRE_THROWS_WITH(e.step(std::vector<int>{-1, 0, 1}), Contains("action -1 of agent 0"));
  e.step(std::vector<int>{1, 2, 3});
  REQUIRE_THROWS_WITH(e.step(std::vector<int>{1, 2, 3}), Contains("after the episode ended"));
}

TEST_CASE("gaussian_squeeze: bad settings name the value", "[env][gaussian_squeeze]") {
  using s = env::gaussian_squeeze_settings;
  REQUIRE_THROWS_AS(env::gaussian_squeeze(s{.agents = 0}), invalid_argument);
  REQUIRE_THROWS_WITH(env::gaussian_squeeze(s{.agents = 0}),
                      Contains("agents must be at least 1, got 0"));
  REQUIRE_THROWS_WITH(env::gaussian_squeeze(s{.actions = 1}),
                      Contains("actions must be at least 2, got 1"));
  REQUIRE_THROWS_WITH(env::gaussian_squeeze(s{.sigma = 0}),
                      Contains("sigma must be positive and finite, got 0"));
  REQUIRE_THROWS_WITH(env::gaussian_squeeze(s{.sigma = -3}), Contains("got -3"));
  REQUIRE_THROWS_WITH(env::gaussian_squeeze(s{.mu = NAN}), Contains("mu must be finite, got nan"));
  REQUIRE_THROWS_WITH(env::gaussian_squeeze(s{.episode_length = 0}),
                      Contains("episode_length must be at least 1, got 0"));
}

TEST_CASE("gaussian_squeeze: reset and step allocate nothing", "[env][gaussian_squeeze]") {
  env::gaussian_squeeze e({.agents = 50});
  netmarl::rng rng(4);
  std::vector<int> actions(50, 3);
  e.reset(rng);
  const long before = netmarl::testing::heap_allocations();
  for (int episode = 0; episode < 10; ++episode) {
    e.reset(rng);
    actions[episode % actions.size()] = episode % 2;
    e.step(actions);
  }
  CHECK(netmarl::testing::heap_allocations() == before);
  // The counter does see allocations.
  std::vector<int> copy = actions;
  CHECK(netmarl::testing::heap_allocations() > before);
}
