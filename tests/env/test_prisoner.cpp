#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/env/concept.hpp"
#include "netmarl/env/prisoner.hpp"
#include "netmarl/graph/csr.hpp"

// Counts heap allocations in this binary, so "step allocates nothing" is measured.
#include "support/count_allocations.hpp"

namespace env = netmarl::env;
using Catch::Contains;
using netmarl::invalid_argument;
using idx = netmarl::index;

static_assert(env::Environment<env::prisoner>);
static_assert(env::SpatialEnvironment<env::prisoner>);
static_assert(env::HasEpisodeMetric<env::prisoner>);

namespace {
constexpr int L = env::prisoner::left, R = env::prisoner::right;

// Plays one episode with fixed actions per agent until it ends; returns the two returns.
std::vector<double> play(env::prisoner& e, netmarl::rng& g, int a, int b) {
  e.reset(g);
  std::vector<double> returns{0.0, 0.0};
  const std::vector<int> actions{a, b};
  for (idx t = 0; t < e.episode_limit(); ++t) {
    const env::step_result& r = e.step(actions);
    returns[0] += r.rewards[0];
    returns[1] += r.rewards[1];
    if (r.episode_done) break;
  }
  return returns;
}
}  // namespace

TEST_CASE("prisoner: sizes, graph and the first observation", "[env][prisoner]") {
  env::prisoner e;
  CHECK(e.name() == "prisoner");
  CHECK(e.num_agents() == 2);
  CHECK(e.observation_size() == 2);
  CHECK(e.num_actions() == 2);
  CHECK(e.state_size() == 2);
  CHECK(e.episode_limit() == 20);
  CHECK(e.graph().offsets == std::vector<std::int32_t>{0, 2, 4});
  CHECK(e.graph().indices == std::vector<std::int32_t>{0, 1, 1, 0});  // self first

  netmarl::rng g(1);
  const env::step_result& r = e.reset(g);
  CHECK_FALSE(r.episode_done);
  // Own position first, then the other's, each / (length - 1).
  CHECK(r.observations(0, 0) == Approx(2.0 / 6));
  CHECK(r.observations(0, 1) == Approx(4.0 / 6));
  CHECK(r.observations(1, 0) == Approx(4.0 / 6));
  CHECK(r.observations(1, 1) == Approx(2.0 / 6));
  REQUIRE(e.state().size() == 2);
  CHECK(e.state()[0] == Approx(2.0 / 6));
  CHECK(e.state()[1] == Approx(4.0 / 6));
  CHECK(e.positions()(0, 0) == 2.0f);
  CHECK(e.positions()(1, 0) == 4.0f);
  CHECK(e.positions()(0, 1) == 0.0f);
  CHECK(e.cell(0) == 2);
  CHECK(e.cell(1) == 4);
  CHECK(e.episode_metric() == 0.0);
}

TEST_CASE("prisoner: both cooperate, 0.98 each", "[env][prisoner]") {
  env::prisoner e;
  netmarl::rng g(2);
  e.reset(g);
  const std::vector<int> cooperate{L, R};  // A to its left end, B to its right end
  const env::step_result& first = e.step(cooperate);
  CHECK_FALSE(first.episode_done);
  CHECK(first.rewards[0] == Approx(-0.01f));
  CHECK(first.rewards[1] == Approx(-0.01f));
  CHECK(first.global_reward == Approx(-0.02f));
  CHECK(first.observations(0, 0) == Approx(1.0 / 6));
  CHECK(first.observations(0, 1) == Approx(5.0 / 6));
  CHECK(first.agent_done == std::vector<std::uint8_t>{0, 0});
  // Different goals at the same step: both get the +1.
  const env::step_result& second = e.step(cooperate);
  CHECK(second.episode_done);
  CHECK(second.agent_done == std::vector<std::uint8_t>{1, 1});
  CHECK(second.rewards[0] == Approx(0.99f));
  CHECK(second.rewards[1] == Approx(0.99f));
  CHECK(second.global_reward == Approx(1.98f));
  CHECK(e.cell(0) == 0);
  CHECK(e.cell(1) == 6);
  CHECK(e.episode_return(0) == Approx(0.98));
  CHECK(e.episode_return(1) == Approx(0.98));
  CHECK(e.episode_metric() == Approx(0.98));
}

TEST_CASE("prisoner: both defect, one of them wins the middle", "[env][prisoner]") {
  env::prisoner e;
  netmarl::rng g(3);
  int a_wins = 0;
  const int episodes = 2000;
  for (int k = 0; k < episodes; ++k) {
    const std::vector<double> ret = play(e, g, R, L);  // both to the middle
    CHECK(e.cell(0) == 3);
    CHECK(e.cell(1) == 3);
    // Exactly one gets +1, each pays one step.
    const bool a_won = ret[0] > 0.5;
    a_wins += a_won ? 1 : 0;
    CHECK(ret[0] == Approx(a_won ? 0.99 : -0.01));
    CHECK(ret[1] == Approx(a_won ? -0.01 : 0.99));
    CHECK(e.episode_metric() == Approx(0.49));
  }
  const double frequency = static_cast<double>(a_wins) / episodes;
  CHECK(frequency > 0.4);
  CHECK(frequency < 0.6);
}

TEST_CASE("prisoner: one defects, the other cooperates", "[env][prisoner]") {
  env::prisoner e;
  netmarl::rng g(4);
  SECTION("A defects") {
    const std::vector<double> ret = play(e, g, R, R);
    CHECK(ret[0] == Approx(0.99));
    CHECK(ret[1] == Approx(-0.01));
    CHECK(e.cell(0) == 3);
    CHECK(e.cell(1) == 5);
  }
  SECTION("B defects") {
    const std::vector<double> ret = play(e, g, L, L);
    CHECK(ret[0] == Approx(-0.01));
    CHECK(ret[1] == Approx(0.99));
  }
  CHECK(e.episode_metric() == Approx(0.49));
}

TEST_CASE("prisoner: walls, overlap, the time limit and other corridors", "[env][prisoner]") {
  netmarl::rng g(5);
  SECTION("moving into a wall stays, and still costs") {
    env::prisoner e({.length = 7, .goals = {6}, .start_a = 0, .start_b = 2, .episode_limit = 3});
    e.reset(g);
    const std::vector<int> into_wall{L, L};
    const env::step_result& r = e.step(into_wall);
    CHECK(e.cell(0) == 0);
    CHECK(e.cell(1) == 1);
    CHECK(r.rewards[0] == Approx(-0.01f));
    CHECK_FALSE(r.episode_done);
    e.step(into_wall);
    CHECK(e.cell(1) == 0);  // agents do not block each other
    CHECK(e.cell(0) == 0);
    const env::step_result& last = e.step(into_wall);
    CHECK(last.episode_done);  // the time limit
    CHECK(last.agent_done == std::vector<std::uint8_t>{1, 1});
    CHECK(e.episode_return(0) == Approx(-0.03));
    CHECK(e.episode_metric() == Approx(-0.03));
    CHECK_THROWS_WITH(e.step(into_wall), Contains("after the episode ended"));
  }
  SECTION("the right wall too") {
    env::prisoner e({.length = 5, .goals = {0}, .start_a = 3, .start_b = 4});
    e.reset(g);
    e.step(std::vector<int>{R, R});
    CHECK(e.cell(0) == 4);
    CHECK(e.cell(1) == 4);
  }
  SECTION("different goals at the same step pay both, with other rewards") {
    env::prisoner e({.length = 5,
                     .goals = {0, 4},
                     .start_a = 1,
                     .start_b = 3,
                     .step_cost = 0.5,
                     .goal_reward = 10});
    e.reset(g);
    const env::step_result& r = e.step(std::vector<int>{L, R});
    CHECK(r.episode_done);
    CHECK(r.rewards[0] == Approx(9.5f));
    CHECK(r.rewards[1] == Approx(9.5f));
  }
  SECTION("one goal reached ends the episode for both") {
    env::prisoner e({.length = 5, .goals = {0, 4}, .start_a = 1, .start_b = 2});
    e.reset(g);
    const env::step_result& r = e.step(std::vector<int>{L, R});
    CHECK(r.episode_done);
    CHECK(r.agent_done == std::vector<std::uint8_t>{1, 1});
    CHECK(r.rewards[0] == Approx(0.99f));
    CHECK(r.rewards[1] == Approx(-0.01f));
  }
}

TEST_CASE("prisoner: bad actions and calls throw with the value", "[env][prisoner]") {
  env::prisoner e;
  netmarl::rng g(6);
  CHECK_THROWS_WITH(e.step(std::vector<int>{L, R}), Contains("before reset"));
  e.reset(g);
  CHECK_THROWS_AS(e.step(std::vector<int>{L, 2}), invalid_argument);
  CHECK_THROWS_WITH(e.step(std::vector<int>{L, 2}),
                    Contains("prisoner") && Contains("action 2 of agent 1"));
  CHECK_THROWS_WITH(e.step(std::vector<int>{-1, L}), Contains("action -1 of agent 0"));
  CHECK_THROWS_WITH(e.step(std::vector<int>{L}), Contains("expected 2 actions, got 1"));
  CHECK_THROWS_WITH(e.cell(2), Contains("cell(2)"));
  CHECK_THROWS_WITH(e.episode_return(-1), Contains("episode_return(-1)"));
  // A rejected step changes nothing.
  CHECK(e.cell(0) == 2);
  CHECK(e.cell(1) == 4);
}

TEST_CASE("prisoner: bad settings throw naming the setting and the value", "[env][prisoner]") {
  using S = env::prisoner::settings;
  const auto throws = [](S s, const std::string& text) {
    CHECK_THROWS_AS(env::prisoner(s), invalid_argument);
    CHECK_THROWS_WITH(env::prisoner(s), Contains("prisoner") && Contains(text));
  };
  throws({.length = 2, .goals = {0}, .start_a = 1, .start_b = 1},
         "length must be at least 3, got 2");
  throws({.goals = {}}, "goals must name at least one cell");
  throws({.goals = {0, 7}}, "goal cell 7 is outside the corridor [0, 7)");
  throws({.goals = {-1}}, "goal cell -1");
  throws({.start_a = 3}, "start_a 3 is a goal cell");
  throws({.start_b = 9}, "start_b 9 is outside the corridor");
  throws({.start_a = 4, .start_b = 4}, "start_a and start_b must differ, both are 4");
  throws({.step_cost = std::numeric_limits<double>::quiet_NaN()}, "step_cost must be finite");
  throws({.goal_reward = std::numeric_limits<double>::infinity()}, "goal_reward must be finite");
  throws({.episode_limit = 0}, "episode_limit must be at least 1, got 0");
}

TEST_CASE("prisoner: deterministic from the seed", "[env][prisoner]") {
  const auto winners = [](std::uint64_t seed) {
    env::prisoner e;
    netmarl::rng g(seed);
    std::vector<int> out;
    for (int k = 0; k < 64; ++k) out.push_back(play(e, g, R, L)[0] > 0.5 ? 0 : 1);
    return out;
  };
  CHECK(winners(7) == winners(7));
  CHECK(winners(7) != winners(8));
}

TEST_CASE("prisoner: reset and step allocate nothing", "[env][prisoner]") {
  env::prisoner e;
  netmarl::rng g(9);
  const std::vector<int> defect{R, L}, cooperate{L, R};
  e.reset(g);
  const long before = netmarl::testing::heap_allocations();
  for (int k = 0; k < 100; ++k) {
    e.reset(g);
    e.step(cooperate);
    e.step(cooperate);
    e.reset(g);
    e.step(defect);
  }
  CHECK(netmarl::testing::heap_allocations() == before);
}
