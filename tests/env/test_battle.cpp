#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <new>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/env/battle.hpp"
#include "netmarl/env/concept.hpp"

// Counts heap allocations in this binary, so "step allocates nothing" is measured.
#include "support/count_allocations.hpp"

namespace env = netmarl::env;
using Catch::Contains;
using netmarl::invalid_argument;
using cells = std::set<std::pair<int, int>>;

static_assert(env::Environment<env::battle>);
static_assert(env::SpatialEnvironment<env::battle>);
static_assert(env::HasEpisodeMetric<env::battle>);

namespace {
constexpr int noop = env::battle::noop, north = env::battle::north, south = env::battle::south,
              west = env::battle::west, east = env::battle::east, attack = env::battle::attack;

cells cells_of(const netmarl::matrix<float>& at) {
  cells out;
  for (netmarl::index i = 0; i < at.rows(); ++i)
    out.insert({static_cast<int>(at(i, 0)), static_cast<int>(at(i, 1))});
  return out;
}

// Observation entry of channel c at offset (dx, dy) from the agent, 7x7 view.
float obs(const env::step_result& r, int agent, int c, int dx, int dy) {
  return r.observations(agent, c * 49 + (3 + dx) * 7 + (3 + dy));
}

float channel_sum(const env::step_result& r, int agent, int c) {
  float sum = 0;
  for (int k = 0; k < 49; ++k) sum += r.observations(agent, c * 49 + k);
  return sum;
}

// Four agents around one opponent at (1, 1) and a second opponent far east on row 1, out of
// everyone's sight for the first 20-odd steps (it drifts one cell west per step).
std::string four_around_one(int width) {
  std::string top(width, '.'), middle(width, '.'), bottom(width, '.');
  top[1] = 'A';
  middle[0] = 'A';
  middle[1] = 'O';
  middle[2] = 'A';
  middle[width - 1] = 'O';
  bottom[1] = 'A';
  return top + "\n" + middle + "\n" + bottom + "\n";
}
}  // namespace

TEST_CASE("battle: sizes of the three VAST maps", "[env][battle]") {
  struct expected {
    int n, side;
  };
  for (const auto [n, side] : {expected{20, 10}, expected{40, 14}, expected{80, 18}}) {
    env::battle e({.agents = n});
    CHECK(e.name() == "battle");
    CHECK(e.num_agents() == n);
    CHECK(e.num_opponents() == n);
    CHECK(e.width() == side);
    CHECK(e.height() == side);
    CHECK(e.num_actions() == 6);
    CHECK(e.observation_size() == 196);
    CHECK(e.state_size() == 2 * side * side);
    CHECK(e.episode_limit() == 100);
    CHECK(e.state().size() == static_cast<std::size_t>(2 * side * side));
  }
}

TEST_CASE("battle: initial placement", "[env][battle]") {
  netmarl::rng rng(1);
  SECTION("N = 20: agents in columns 0-3, opponents in 6-9, rows 2-7") {
    env::battle e;
    e.reset(rng);
    cells agents{{1, 2}, {2, 2}, {1, 7}, {2, 7}}, opponents{{7, 2}, {8, 2}, {7, 7}, {8, 7}};
    for (int y = 3; y <= 6; ++y)
      for (int x = 0; x <= 3; ++x) {
        agents.insert({x, y});
        opponents.insert({9 - x, y});
      }
    CHECK(cells_of(e.positions()) == agents);
    CHECK(cells_of(e.opponent_positions()) == opponents);
    // Agents are numbered in reading order: row by row, west to east.
    CHECK(e.positions()(0, 0) == 1.0f);
    CHECK(e.positions()(0, 1) == 2.0f);
    CHECK(e.positions()(2, 0) == 0.0f);
    CHECK(e.positions()(2, 1) == 3.0f);
    CHECK(e.positions()(19, 0) == 2.0f);
    CHECK(e.positions()(19, 1) == 7.0f);
    for (int i = 0; i < 20; ++i) {
      CHECK(e.agent_hp(i) == 3.0);
      CHECK(e.opponent_hp(i) == 3.0);
    }
  }
  SECTION("N = 40 and 80: the same pattern scaled, mirrored east-west and north-south") {
    struct expected {
      int n, side, army_width;
      std::vector<int> row_counts;  // agents per row, from the first occupied row
      int first_row;
    };
    for (const auto& [n, side, army_width, row_counts, first_row] :
         {expected{40, 14, 6, {4, 4, 6, 6, 6, 6, 4, 4}, 3},
          expected{80, 18, 8, {4, 6, 6, 8, 8, 8, 8, 8, 8, 6, 6, 4}, 3}}) {
      env::battle e({.agents = n});
      e.reset(rng);
      const cells agents = cells_of(e.positions());
      const cells opponents = cells_of(e.opponent_positions());
      REQUIRE(agents.size() == static_cast<std::size_t>(n));  // one unit per start cell
      REQUIRE(opponents.size() == static_cast<std::size_t>(n));
      std::vector<int> counts(static_cast<std::size_t>(side), 0);
      for (const auto& [x, y] : agents) {
        CHECK(x < army_width);
        CHECK(opponents.count({side - 1 - x, y}) == 1);  // mirrored east-west
        CHECK(agents.count({x, side - 1 - y}) == 1);     // symmetric north-south
        ++counts[static_cast<std::size_t>(y)];
      }
      for (int y = 0; y < side; ++y) {
        const int k = y - first_row;
        const int want = k >= 0 && k < static_cast<int>(row_counts.size()) ? row_counts[k] : 0;
        CHECK(counts[static_cast<std::size_t>(y)] == want);
      }
      // The two-column gap between the armies.
      for (const auto& [x, y] : opponents) CHECK(x >= side - army_width);
    }
  }
}

TEST_CASE("battle: observation at reset on the N = 20 map", "[env][battle]") {
  env::battle e;
  netmarl::rng rng(0);
  const auto& r = e.reset(rng);
  REQUIRE(r.observations.rows() == 20);
  REQUIRE(r.observations.cols() == 196);
  CHECK_FALSE(r.episode_done);
  for (const auto d : r.agent_done) CHECK(d == 0);
  // Agent 0 at (1, 2): columns x < 0 (dx = -3, -2) and the row y < 0 (dy = -3, dx = -1..3) are off
  // the map: 14 + 5 cells.
  CHECK(channel_sum(r, 0, 3) == 19.0f);
  CHECK(obs(r, 0, 0, 0, 0) == 1.0f);
  CHECK(channel_sum(r, 0, 0) == 1.0f);
  // Agent 1 at (2, 2) is east of it at full health; opponents (x >= 6) are out of its view.
  CHECK(obs(r, 0, 1, 1, 0) == 1.0f);
  CHECK(channel_sum(r, 0, 2) == 0.0f);
  // Agent 5 at (3, 3), on the army's east edge, sees the opponent at (6, 3).
  CHECK(obs(r, 5, 2, 3, 0) == 1.0f);
  // The state: every start cell holds one unit at full health.
  const auto s = e.state();
  float agents = 0, opponents = 0;
  for (int k = 0; k < 100; ++k) {
    agents += s[static_cast<std::size_t>(k)];
    opponents += s[static_cast<std::size_t>(100 + k)];
  }
  CHECK(agents == 20.0f);
  CHECK(opponents == 20.0f);
  CHECK(s[1 * 10 + 2] == 1.0f);        // agent at (1, 2): [channel 0][x = 1][y = 2]
  CHECK(s[100 + 9 * 10 + 3] == 1.0f);  // opponent at (9, 3)
  CHECK(s[1 * 10 + 3] == 1.0f);
  CHECK(s[5 * 10 + 5] == 0.0f);  // the gap
}

TEST_CASE("battle: observation channels in a handcrafted situation", "[env][battle]") {
  // y = 0: agents at (0, 0) and (1, 0); opponent 0 at (1, 1); opponent 1 at (8, 2), out of sight.
  env::battle e({.layout = "AA.......\n.O.......\n........O\n"});
  REQUIRE(e.num_agents() == 2);
  REQUIRE(e.num_opponents() == 2);
  REQUIRE(e.width() == 9);
  REQUIRE(e.height() == 3);
  CHECK(e.state_size() == 54);
  netmarl::rng rng(3);
  const auto& r0 = e.reset(rng);
  CHECK(obs(r0, 0, 0, 0, 0) == 1.0f);
  CHECK(obs(r0, 0, 1, 1, 0) == 1.0f);  // agent 1 east
  CHECK(channel_sum(r0, 0, 1) == 1.0f);
  CHECK(obs(r0, 0, 2, 1, 1) == 1.0f);  // opponent 0 north-east
  CHECK(channel_sum(r0, 0, 2) == 1.0f);
  // Off the map from (0, 0) in a 9x3 grid: x < 0 (21 cells), y < 0 with x >= 0 (12), y >= 3 (4).
  CHECK(channel_sum(r0, 0, 3) == 37.0f);
  CHECK(obs(r0, 0, 3, -1, 0) == 1.0f);
  CHECK(obs(r0, 0, 3, 0, -1) == 1.0f);
  CHECK(obs(r0, 0, 3, 2, 3) == 1.0f);
  CHECK(obs(r0, 0, 3, 3, 2) == 0.0f);
  CHECK(obs(r0, 0, 3, 0, 0) == 0.0f);

  // Agent 1 steps north onto opponent 0, which hits it (the only agent there): 3 -> 2 HP.
  // Opponent 1 sees nobody and drifts west (it is in the east half).
  const auto& r1 = e.step(std::vector<int>{noop, north});
  CHECK(r1.global_reward == Approx(-0.5f));
  for (const float ri : r1.rewards) CHECK(ri == r1.global_reward);
  CHECK(e.agent_hp(1) == 2.0);
  CHECK(e.opponent_hp(0) == 3.0);
  CHECK(e.opponent_positions()(1, 0) == 7.0f);
  CHECK(obs(r1, 0, 1, 1, 1) == Approx(2.0f / 3.0f));  // agent 1, hurt, north-east of agent 0
  CHECK(obs(r1, 0, 2, 1, 1) == 1.0f);                 // opponent 0 in the same cell
  CHECK(obs(r1, 1, 0, 0, 0) == Approx(2.0f / 3.0f));  // agent 1's own health
  CHECK(obs(r1, 1, 1, -1, -1) == 1.0f);               // agent 0
  CHECK(obs(r1, 1, 2, 0, 0) == 1.0f);                 // opponent 0 shares its cell
  CHECK(channel_sum(r1, 1, 1) == 1.0f);               // itself is not in channel 1
  const auto s = e.state();
  CHECK(s[0] == 1.0f);                      // agent 0 at (0, 0)
  CHECK(s[1 * 3 + 1] == Approx(2.0f / 3));  // agent 1 at (1, 1)
  CHECK(s[27 + 1 * 3 + 1] == 1.0f);         // opponent 0 at (1, 1)
  CHECK(s[27 + 7 * 3 + 2] == 1.0f);         // opponent 1 at (7, 2)
  CHECK(e.positions()(1, 0) == 1.0f);
  CHECK(e.positions()(1, 1) == 1.0f);

  // Agent 1 recovers (2.1) and hits opponent 0 (3 -> 2); opponent 0 recovers (2.1) and hits back.
  const auto& r2 = e.step(std::vector<int>{noop, attack});
  CHECK(r2.global_reward == Approx(0.5f));
  CHECK(e.agent_hp(1) == Approx(1.1));
  CHECK(e.opponent_hp(0) == Approx(2.1));
  CHECK(obs(r2, 0, 2, 1, 1) == Approx(2.1f / 3.0f));
  CHECK(e.opponent_positions()(1, 0) == 6.0f);
}

TEST_CASE("battle: an empty attack costs -0.1; opponents drift west, then chase", "[env][battle]") {
  env::battle e({.layout = "A....O"});
  netmarl::rng rng(5);
  e.reset(rng);
  const std::vector<int> strike{attack};
  // The opponent at x = 5 (east half of a 6-wide map, agent out of sight) drifts west; from x = 3
  // it sees the agent and keeps coming; it reaches the agent's cell on step 5.
  for (int expected_x : {4, 3, 2, 1, 0}) {
    const auto& r = e.step(strike);
    CHECK(r.global_reward == Approx(-0.1f));
    CHECK(r.rewards[0] == r.global_reward);
    CHECK(e.opponent_positions()(0, 0) == static_cast<float>(expected_x));
    CHECK(e.opponent_positions()(0, 1) == 0.0f);
    CHECK(e.agent_hp(0) == 3.0);
  }
  // Now both are in one cell: the agent hits (+1), the opponent recovers and hits back (-0.5).
  const auto& r = e.step(strike);
  CHECK(r.global_reward == Approx(0.5f));
  CHECK(e.opponent_hp(0) == Approx(2.1));
  CHECK(e.agent_hp(0) == 2.0);
  CHECK(e.opponents_killed() == 0);
  CHECK(e.agents_killed() == 0);
}

TEST_CASE("battle: scripted attack, kill, HP recovery capped at 3", "[env][battle]") {
  env::battle e({.layout = four_around_one(30)});
  REQUIRE(e.num_agents() == 4);
  netmarl::rng rng(11);
  e.reset(rng);
  // All four step onto the opponent at (1, 1); it hits one of them.
  const auto& r1 = e.step(std::vector<int>{north, east, west, south});
  CHECK(r1.global_reward == Approx(-0.5f));
  for (int i = 0; i < 4; ++i) {
    CHECK(e.positions()(i, 0) == 1.0f);
    CHECK(e.positions()(i, 1) == 1.0f);
  }
  int hurt = -1;
  for (int i = 0; i < 4; ++i)
    if (e.agent_hp(i) < 3) {
      CHECK(hurt == -1);
      hurt = i;
    }
  REQUIRE(hurt >= 0);
  CHECK(e.agent_hp(hurt) == 2.0);
  CHECK(e.opponent_positions()(1, 0) == 28.0f);

  // All four attack: three hits kill it (3 -> 0); the fourth finds the cell emptied during this
  // step and scores 0 (not -0.1), as in the authors' code.
  const auto& r2 = e.step(std::vector<int>(4, attack));
  CHECK(r2.global_reward == Approx(3.0f));
  CHECK(e.opponent_hp(0) == 0.0);
  CHECK(e.opponents_killed() == 1);
  CHECK(e.agents_killed() == 0);
  CHECK(e.episode_metric() == 1.0);
  CHECK_FALSE(r2.episode_done);  // the other opponent lives
  CHECK(e.agent_hp(hurt) == Approx(2.1));
  // A dead opponent leaves the observations and the state.
  CHECK(channel_sum(r2, 0, 2) == 0.0f);
  CHECK(e.state()[90 + 1 * 3 + 1] == 0.0f);

  // Standing still: +0.1 per step up to 3, never above; the healthy ones stay at exactly 3.
  for (int t = 1; t <= 12; ++t) {
    const auto& r = e.step(std::vector<int>(4, noop));
    CHECK(r.global_reward == 0.0f);
    CHECK(e.agent_hp(hurt) == Approx(std::min(3.0, 2.1 + 0.1 * t)));
    CHECK(e.agent_hp(hurt) <= 3.0);
    for (int i = 0; i < 4; ++i)
      if (i != hurt) CHECK(e.agent_hp(i) == 3.0);
  }
  CHECK(e.agent_hp(hurt) == 3.0);
  // No opponent in the cell any more: four empty attacks.
  const auto& r3 = e.step(std::vector<int>(4, attack));
  CHECK(r3.global_reward == Approx(-0.4f));
  CHECK_FALSE(r3.episode_done);
}

TEST_CASE("battle: the paper's variants (recovery 0.01, kill and death terms)", "[env][battle]") {
  env::battle e({.layout = four_around_one(30), .recovery = 0.01, .kill_reward = 1});
  netmarl::rng rng(11);
  e.reset(rng);
  e.step(std::vector<int>{north, east, west, south});
  const auto& r = e.step(std::vector<int>(4, attack));
  CHECK(r.global_reward == Approx(4.0f));  // three hits and one kill
  int hurt = 0;
  for (int i = 0; i < 4; ++i)
    if (e.agent_hp(i) < 3) hurt = i;
  CHECK(e.agent_hp(hurt) == Approx(2.01));

  env::battle duel({.layout = "AO", .death_reward = -0.5});
  duel.reset(rng);
  duel.step(std::vector<int>{east});
  duel.step(std::vector<int>{attack});
  duel.step(std::vector<int>{attack});
  CHECK(duel.step(std::vector<int>{attack}).global_reward == Approx(0.0f));  // 1 - 0.5 - 0.5
}

TEST_CASE("battle: the episode ends when an army is dead", "[env][battle]") {
  // One agent walks onto one opponent, which strikes first each step: the agent dies on step 4.
  //   step 1: agent moves (0); opponent hits: agent 2.                          -0.5
  //   step 2: agent 2.1, hits: opponent 2; opponent 2.1, hits: agent 1.1.        +0.5
  //   step 3: agent 1.2, hits: opponent 1.1; opponent 1.2, hits: agent 0.2.      +0.5
  //   step 4: agent 0.3, hits: opponent 0.2; opponent 0.3, hits: agent dead.     +0.5
  env::battle e({.layout = "AO"});
  netmarl::rng rng(2);
  e.reset(rng);
  const float expected[] = {-0.5f, 0.5f, 0.5f, 0.5f};
  const int script[] = {east, attack, attack, attack};
  const env::step_result* last = nullptr;
  for (int t = 0; t < 4; ++t) {
    last = &e.step(std::vector<int>{script[t]});
    CHECK(last->global_reward == Approx(expected[t]));
    CHECK(last->episode_done == (t == 3));
  }
  CHECK(e.agent_hp(0) == 0.0);
  CHECK(e.opponent_hp(0) == Approx(0.3));  // hit to 0.2, then its own recovery
  CHECK(e.agents_killed() == 1);
  CHECK(e.opponents_killed() == 0);
  CHECK(e.episode_metric() == -1.0);
  // Dead agents are done, see zeros and keep their last position.
  CHECK(last->agent_done[0] == 1);
  CHECK(last->observations.row(0).isZero());
  CHECK(e.positions()(0, 0) == 1.0f);
  REQUIRE_THROWS_WITH(e.step(std::vector<int>{noop}), Contains("after the episode ended"));
  // Reset brings everyone back.
  const auto& again = e.reset(rng);
  CHECK_FALSE(again.episode_done);
  CHECK(again.agent_done[0] == 0);
  CHECK(e.agent_hp(0) == 3.0);
  CHECK(e.positions()(0, 0) == 0.0f);
  CHECK(e.episode_metric() == 0.0);

  // With no recovery the opponent kills the agent a step sooner.
  env::battle harsh({.layout = "AO", .recovery = 0});
  harsh.reset(rng);
  harsh.step(std::vector<int>{east});
  CHECK_FALSE(harsh.step(std::vector<int>{attack}).episode_done);
  CHECK(harsh.step(std::vector<int>{attack}).episode_done);
  CHECK(harsh.opponent_hp(0) == 1.0);
}

TEST_CASE("battle: invariants over many random episodes", "[env][battle]") {
  netmarl::rng rng(2024);
  netmarl::rng policy(7);
  for (const int n : {20, 40, 80}) {
    env::battle e({.agents = n});
    const int side = static_cast<int>(e.width());
    const int episodes = n == 80 ? 10 : 20;
    for (int episode = 0; episode < episodes; ++episode) {
      e.reset(rng);
      std::vector<int> actions(static_cast<std::size_t>(n));
      netmarl::matrix<float> previous = e.positions();
      int steps = 0;
      bool done = false;
      while (!done) {
        for (auto& a : actions) a = static_cast<int>(policy.below(6));
        const auto& r = e.step(actions);
        ++steps;
        done = r.episode_done;
        for (const float ri : r.rewards) REQUIRE(ri == r.global_reward);
        REQUIRE(r.global_reward <= static_cast<float>(n) + 1e-4f);
        REQUIRE(r.global_reward >= -0.6f * static_cast<float>(n) - 1e-4f);
        REQUIRE(e.episode_metric() >= -n);
        REQUIRE(e.episode_metric() <= n);
        int dead = 0;
        float alive_hp = 0;
        for (int i = 0; i < n; ++i) {
          const double hp = e.agent_hp(i);
          REQUIRE(hp >= 0.0);
          REQUIRE(hp <= 3.0);
          REQUIRE(e.opponent_hp(i) >= 0.0);
          REQUIRE(e.opponent_hp(i) <= 3.0);
          const float x = e.positions()(i, 0), y = e.positions()(i, 1);
          REQUIRE(x >= 0);
          REQUIRE(x < side);
          REQUIRE(y >= 0);
          REQUIRE(y < side);
          REQUIRE(std::abs(x - previous(i, 0)) + std::abs(y - previous(i, 1)) <= 1.0f);
          if (hp == 0) {
            ++dead;
            REQUIRE(r.agent_done[static_cast<std::size_t>(i)] == 1);
            REQUIRE(r.observations.row(i).isZero());
          } else {
            alive_hp += static_cast<float>(hp / 3);
            REQUIRE(r.agent_done[static_cast<std::size_t>(i)] == (done ? 1 : 0));
            REQUIRE(obs(r, i, 0, 0, 0) == Approx(hp / 3));
          }
        }
        previous = e.positions();
        REQUIRE(dead == e.agents_killed());
        float state_agents = 0;
        for (int k = 0; k < side * side; ++k)
          state_agents += e.state()[static_cast<std::size_t>(k)];
        REQUIRE(state_agents == Approx(alive_hp).margin(1e-4));
        const bool army_dead = e.agents_killed() == n || e.opponents_killed() == n;
        REQUIRE(done == (steps == 100 || army_dead));
      }
      REQUIRE(steps <= 100);
    }
  }
}

TEST_CASE("battle: random play fights (kills happen on both sides)", "[env][battle]") {
  env::battle e;
  netmarl::rng rng(99);
  netmarl::rng policy(100);
  long opponents_killed = 0, agents_killed = 0;
  std::vector<int> actions(20);
  for (int episode = 0; episode < 20; ++episode) {
    e.reset(rng);
    bool done = false;
    while (!done) {
      for (auto& a : actions) a = static_cast<int>(policy.below(6));
      done = e.step(actions).episode_done;
    }
    opponents_killed += e.opponents_killed();
    agents_killed += e.agents_killed();
  }
  CHECK(agents_killed > 0);
  CHECK(opponents_killed > 0);
}

TEST_CASE("battle: the same seed gives the same trajectory", "[env][battle]") {
  const auto run = [](std::uint64_t seed) {
    env::battle e({.agents = 40});
    netmarl::rng rng(seed), policy(seed + 1);
    std::vector<float> trace;
    const auto record = [&](const env::step_result& r) {
      for (netmarl::index i = 0; i < r.observations.size(); ++i)
        trace.push_back(r.observations.data()[i]);
      trace.push_back(r.global_reward);
      for (const float x : e.state()) trace.push_back(x);
      for (netmarl::index i = 0; i < e.positions().size(); ++i)
        trace.push_back(e.positions().data()[i]);
      for (netmarl::index i = 0; i < e.opponent_positions().size(); ++i)
        trace.push_back(e.opponent_positions().data()[i]);
    };
    for (int episode = 0; episode < 2; ++episode) {
      record(e.reset(rng));
      std::vector<int> actions(40);
      bool done = false;
      while (!done) {
        for (auto& a : actions) a = static_cast<int>(policy.below(6));
        const auto& r = e.step(actions);
        record(r);
        done = r.episode_done;
      }
    }
    return trace;
  };
  const auto a = run(31), b = run(31), c = run(32);
  CHECK(a == b);
  CHECK(a != c);
}

TEST_CASE("battle: bad settings, actions and calls", "[env][battle]") {
  using s = env::battle_settings;
  REQUIRE_THROWS_AS(env::battle(s{.agents = 30}), invalid_argument);
  REQUIRE_THROWS_WITH(env::battle(s{.agents = 30}),
                      Contains("no map for N = 30 agents") && Contains("20, 40 or 80"));
  REQUIRE_THROWS_WITH(env::battle(s{.agents = 0}), Contains("N = 0"));
  REQUIRE_THROWS_WITH(env::battle(s{.layout = "A.X.O"}), Contains("settings.layout row 0 has 'X'"));
  REQUIRE_THROWS_WITH(env::battle(s{.layout = "A..O\n..."}),
                      Contains("settings.layout row 1 has 3 cells, row 0 has 4"));
  REQUIRE_THROWS_WITH(env::battle(s{.layout = "A...\n...."}),
                      Contains("at least one 'A' and one 'O', got 1 and 0"));
  REQUIRE_THROWS_WITH(env::battle(s{.hp = 0}), Contains("hp must be positive and finite, got 0"));
  REQUIRE_THROWS_WITH(env::battle(s{.recovery = -0.1}),
                      Contains("recovery must be non-negative and finite, got -0.1"));
  REQUIRE_THROWS_WITH(env::battle(s{.episode_length = 0}),
                      Contains("episode_length must be at least 1, got 0"));
  REQUIRE_THROWS_WITH(env::battle(s{.view_range = 6}),
                      Contains("view_range must be odd and at least 1, got 6"));
  REQUIRE_THROWS_WITH(env::battle(s{.kill_reward = NAN}), Contains("must be finite"));
  // A custom layout ignores `agents` and allows any army sizes.
  env::battle spaced({.agents = 30, .layout = "A . O\nA . .\n"});
  CHECK(spaced.num_agents() == 2);
  CHECK(spaced.num_opponents() == 1);
  CHECK(spaced.width() == 3);

  env::battle e;
  netmarl::rng rng(0);
  REQUIRE_THROWS_AS(e.step(std::vector<int>(20, 0)), invalid_argument);
  REQUIRE_THROWS_WITH(e.step(std::vector<int>(20, 0)), Contains("step called before reset"));
  e.reset(rng);
  REQUIRE_THROWS_AS(e.step(std::vector<int>(19, 0)), invalid_argument);
  REQUIRE_THROWS_WITH(e.step(std::vector<int>(19, 0)),
                      Contains("battle: expected 20 actions, got 19"));
  std::vector<int> bad(20, 0);
  bad[7] = 6;
  REQUIRE_THROWS_WITH(e.step(bad), Contains("action 6 of agent 7 is out of range [0, 6)"));
  bad[7] = -1;
  REQUIRE_THROWS_WITH(e.step(bad), Contains("action -1 of agent 7"));
  REQUIRE_THROWS_WITH(e.agent_hp(20), Contains("agent_hp(20) is out of range [0, 20)"));
  REQUIRE_THROWS_WITH(e.opponent_hp(-1), Contains("opponent_hp(-1)"));
  // A rejected step changes nothing.
  CHECK(e.positions()(0, 0) == 1.0f);

  env::battle short_one({.episode_length = 2});
  short_one.reset(rng);
  CHECK_FALSE(short_one.step(std::vector<int>(20, 0)).episode_done);
  const auto& last = short_one.step(std::vector<int>(20, 0));
  CHECK(last.episode_done);
  for (const auto d : last.agent_done) CHECK(d == 1);
  REQUIRE_THROWS_WITH(short_one.step(std::vector<int>(20, 0)), Contains("after the episode ended"));
}

TEST_CASE("battle: reset and step allocate nothing", "[env][battle]") {
  env::battle e({.agents = 80});
  netmarl::rng rng(4), policy(5);
  std::vector<int> actions(80, 0);
  e.reset(rng);
  const long before = netmarl::testing::heap_allocations();
  for (int episode = 0; episode < 3; ++episode) {
    e.reset(rng);
    bool done = false;
    while (!done) {
      for (auto& a : actions) a = static_cast<int>(policy.below(6));
      done = e.step(actions).episode_done;
    }
  }
  CHECK(netmarl::testing::heap_allocations() == before);
  // The counter does see allocations.
  std::vector<int> copy = actions;
  CHECK(netmarl::testing::heap_allocations() > before);
}
