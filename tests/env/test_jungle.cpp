#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/env/concept.hpp"
#include "netmarl/env/jungle.hpp"
#include "netmarl/graph/csr.hpp"
#include "netmarl/topology/models.hpp"

// Counts heap allocations in this binary, so "step allocates nothing" is measured.
#include "support/count_allocations.hpp"

namespace env = netmarl::env;
using Catch::Contains;
using netmarl::invalid_argument;
using idx = netmarl::index;
using J = env::jungle;
using cell = J::cell;

static_assert(env::Environment<J>);
static_assert(env::SpatialEnvironment<J>);
static_assert(env::HasEpisodeMetric<J>);

namespace {
constexpr int stay = J::stay, up = J::up, down = J::down, left = J::left, right = J::right;
constexpr int attack_up = J::attack_up, attack_down = J::attack_down, attack_left = J::attack_left,
              attack_right = J::attack_right;

// A 10 x 10 map (8 x 8 inside the wall) with `agents` agents and `foods` foods.
J small(idx agents, idx foods, J::settings s = {}) {
  s.width = 10;
  s.height = 10;
  s.agents = agents;
  s.foods = foods;
  return J(s);
}

// View entry at offset (dx, dy) from the agent (radius 5: an 11 x 11 view, row = dy).
float view(const env::step_result& r, idx agent, int dx, int dy) {
  return r.observations(agent, (dy + 5) * 11 + (dx + 5));
}

cell at(const J& e, idx i) {
  return {static_cast<int>(e.positions()(i, 0)), static_cast<int>(e.positions()(i, 1))};
}
bool same(cell a, cell b) { return a.x == b.x && a.y == b.y; }
}  // namespace

TEST_CASE("jungle: sizes at the default settings", "[env][jungle]") {
  J e;
  CHECK(e.name() == "jungle");
  CHECK(e.num_agents() == 20);
  CHECK(e.num_foods() == 12);
  CHECK(e.width() == 30);
  CHECK(e.height() == 30);
  CHECK(e.observation_size() == 123);
  CHECK(e.num_actions() == 9);
  CHECK(e.state_size() == 3 * (20 + 12));
  CHECK(e.state().size() == static_cast<std::size_t>(3 * 32));
  CHECK(e.episode_limit() == 120);
  CHECK(e.positions().rows() == 20);
  CHECK(e.positions().cols() == 2);
  CHECK(e.food_positions().rows() == 12);

  J wide({.view_radius = 3, .attack_radius = 2});
  CHECK(wide.observation_size() == 7 * 7 + 2);
  CHECK(wide.num_actions() == 5 + 12);  // cells at distance <= 2, the own cell excluded
}

TEST_CASE("jungle: random placement on distinct cells inside the wall", "[env][jungle]") {
  J e;
  netmarl::rng g(1);
  std::set<std::pair<int, int>> previous;
  for (int episode = 0; episode < 20; ++episode) {
    const env::step_result& r = e.reset(g);
    std::set<std::pair<int, int>> cells;
    for (idx i = 0; i < 20; ++i) {
      const float x = e.positions()(i, 0), y = e.positions()(i, 1);
      CHECK(x >= 1);
      CHECK(x <= 28);
      CHECK(y >= 1);
      CHECK(y <= 28);
      cells.insert({static_cast<int>(x), static_cast<int>(y)});
      CHECK(e.agent_hp(i) == 400.0);
      CHECK(r.agent_done[static_cast<std::size_t>(i)] == 0);
      CHECK(r.rewards[static_cast<std::size_t>(i)] == 0.0f);
    }
    for (idx j = 0; j < 12; ++j) {
      const float x = e.food_positions()(j, 0), y = e.food_positions()(j, 1);
      CHECK(x >= 1);
      CHECK(x <= 28);
      CHECK(y >= 1);
      CHECK(y <= 28);
      cells.insert({static_cast<int>(x), static_cast<int>(y)});
      CHECK(e.food_hp(j) == 500.0);
    }
    CHECK(cells.size() == 32);
    CHECK(cells != previous);  // a new layout every episode
    previous = cells;
  }
  // A full map: every inside cell holds a unit.
  J full({.width = 5, .height = 5, .agents = 5, .foods = 4});
  full.reset(g);
  std::set<std::pair<int, int>> cells;
  for (idx i = 0; i < 5; ++i)
    cells.insert(
        {static_cast<int>(full.positions()(i, 0)), static_cast<int>(full.positions()(i, 1))});
  for (idx j = 0; j < 4; ++j)
    cells.insert({static_cast<int>(full.food_positions()(j, 0)),
                  static_cast<int>(full.food_positions()(j, 1))});
  CHECK(cells.size() == 9);
}

TEST_CASE("jungle: attack rewards", "[env][jungle]") {
  netmarl::rng g(2);
  SECTION("attacking food: +1, minus the attack cost") {
    J e = small(2, 1);
    e.reset_to(g, std::vector<cell>{{2, 2}, {6, 6}}, std::vector<cell>{{2, 1}});
    const env::step_result& r = e.step(std::vector<int>{attack_up, stay});
    CHECK(r.rewards[0] == Approx(0.99f));
    CHECK(r.rewards[1] == 0.0f);
    CHECK(r.global_reward == Approx(0.99f));
    CHECK(e.food_hp(0) == 499.0);
    CHECK(e.food_alive(0));
  }
  SECTION("attacking an agent: +2 to the attacker (minus the cost), -4 to the victim") {
    J e = small(2, 0);
    e.reset_to(g, std::vector<cell>{{2, 2}, {3, 2}}, {});
    const env::step_result& r = e.step(std::vector<int>{attack_right, stay});
    CHECK(r.rewards[0] == Approx(1.99f));
    CHECK(r.rewards[1] == Approx(-4.0f));
    CHECK(r.global_reward == Approx(-2.01f));
    CHECK(e.agent_hp(1) == 399.0);
    CHECK(e.agent_hp(0) == 400.0);
    // Both at each other: each is attacker and victim.
    const env::step_result& both = e.step(std::vector<int>{attack_right, attack_left});
    CHECK(both.rewards[0] == Approx(-2.01f));
    CHECK(both.rewards[1] == Approx(-2.01f));
    CHECK(e.agent_hp(0) == 399.0);
    CHECK(e.agent_hp(1) == 398.0);
  }
  SECTION("an attack on an empty cell or a wall pays the cost only") {
    J e = small(2, 1);
    e.reset_to(g, std::vector<cell>{{1, 1}, {5, 5}}, std::vector<cell>{{7, 7}});
    const env::step_result& r = e.step(std::vector<int>{attack_up, attack_down});  // wall, empty
    CHECK(r.rewards[0] == Approx(-0.01f));
    CHECK(r.rewards[1] == Approx(-0.01f));
    const env::step_result& r2 = e.step(std::vector<int>{attack_left, attack_right});
    CHECK(r2.rewards[0] == Approx(-0.01f));
    CHECK(r2.rewards[1] == Approx(-0.01f));
    CHECK(e.food_hp(0) == 500.0);
  }
  SECTION("the four attack directions") {
    J e = small(1, 4);
    e.reset_to(g, std::vector<cell>{{4, 4}},
               std::vector<cell>{{4, 3}, {4, 5}, {3, 4}, {5, 4}});  // up, down, left, right
    for (int k = 0; k < 4; ++k) {
      const env::step_result& r = e.step(std::vector<int>{attack_up + k});
      CHECK(r.rewards[0] == Approx(0.99f));
      for (idx j = 0; j < 4; ++j) CHECK(e.food_hp(j) == (j == k ? 499.0 : 500.0));
      e.reset_to(g, std::vector<cell>{{4, 4}}, std::vector<cell>{{4, 3}, {4, 5}, {3, 4}, {5, 4}});
    }
  }
  SECTION("a larger attack radius adds the farther cells after the four adjacent ones") {
    J e = small(1, 1, {.attack_radius = 2});
    REQUIRE(e.num_actions() == 17);
    e.reset_to(g, std::vector<cell>{{4, 4}}, std::vector<cell>{{4, 2}});
    // Action 9 is the first cell in reading order: (dx, dy) = (0, -2).
    const env::step_result& r = e.step(std::vector<int>{9});
    CHECK(r.rewards[0] == Approx(0.99f));
    CHECK(e.food_hp(0) == 499.0);
  }
  SECTION("other reward settings") {
    J e = small(
        2, 1,
        {.food_reward = 3, .agent_attack_reward = 5, .victim_reward = -7, .attack_cost = 0.5});
    e.reset_to(g, std::vector<cell>{{2, 2}, {3, 2}}, std::vector<cell>{{2, 3}});
    const env::step_result& r = e.step(std::vector<int>{attack_down, attack_left});
    CHECK(r.rewards[0] == Approx(2.5 - 7));
    CHECK(r.rewards[1] == Approx(4.5f));
  }
}

TEST_CASE("jungle: dead units are removed", "[env][jungle]") {
  netmarl::rng g(3);
  SECTION("a food killed disappears and frees its cell") {
    J e = small(1, 1, {.food_hp = 1});
    const env::step_result& start =
        e.reset_to(g, std::vector<cell>{{2, 2}}, std::vector<cell>{{2, 1}});
    CHECK(view(start, 0, 0, -1) == J::food_value);
    CHECK(e.state()[3 + 2] == 1.0f);
    const env::step_result& r = e.step(std::vector<int>{attack_up});
    CHECK(r.rewards[0] == Approx(0.99f));
    CHECK_FALSE(e.food_alive(0));
    CHECK(e.food_hp(0) == 0.0);
    CHECK(view(r, 0, 0, -1) == 0.0f);
    CHECK(e.state()[3 + 2] == 0.0f);  // its hp share in the state
    // Attacking the empty cell pays the cost only; then the agent can walk in.
    CHECK(e.step(std::vector<int>{attack_up}).rewards[0] == Approx(-0.01f));
    e.step(std::vector<int>{up});
    CHECK(same(at(e, 0), {2, 1}));
  }
  SECTION("two attackers on a dying food: the second hits an empty cell") {
    J e = small(2, 1, {.food_hp = 1});
    int first_wins = 0;
    for (int k = 0; k < 200; ++k) {
      e.reset_to(g, std::vector<cell>{{3, 2}, {3, 4}}, std::vector<cell>{{3, 3}});
      const env::step_result& r = e.step(std::vector<int>{attack_down, attack_up});
      const bool first = r.rewards[0] > 0.5f;
      first_wins += first ? 1 : 0;
      CHECK(r.rewards[0] == Approx(first ? 0.99f : -0.01f));
      CHECK(r.rewards[1] == Approx(first ? -0.01f : 0.99f));
      CHECK_FALSE(e.food_alive(0));
    }
    // The attack order is shuffled every step.
    CHECK(first_wins > 60);
    CHECK(first_wins < 140);
  }
  SECTION("an agent killed is done, leaves the map and stays dead") {
    J e = small(3, 0, {.agent_hp = 1});
    e.reset_to(g, std::vector<cell>{{2, 2}, {3, 2}, {6, 6}}, {});
    const env::step_result& r = e.step(std::vector<int>{attack_right, stay, stay});
    CHECK(r.rewards[0] == Approx(1.99f));
    CHECK(r.rewards[1] == Approx(-4.0f));
    CHECK(r.agent_done == std::vector<std::uint8_t>{0, 1, 0});
    CHECK_FALSE(r.episode_done);
    CHECK_FALSE(e.agent_alive(1));
    CHECK(e.agent_hp(1) == 0.0);
    CHECK(e.alive_agents() == 2);
    for (idx k = 0; k < e.observation_size(); ++k) CHECK(r.observations(1, k) == 0.0f);
    CHECK(view(r, 0, 1, 0) == 0.0f);  // gone from agent 0's view
    CHECK(same(at(e, 1), {3, 2}));    // it reports the cell it died on
    CHECK(e.state()[3 * 1 + 2] == 0.0f);
    // Its actions are ignored (still range-checked): it neither attacks nor moves.
    const env::step_result& next = e.step(std::vector<int>{right, attack_left, up});
    CHECK(next.rewards[1] == 0.0f);
    CHECK(next.rewards[0] == 0.0f);
    CHECK(next.agent_done == std::vector<std::uint8_t>{0, 1, 0});
    CHECK(same(at(e, 0), {3, 2}));  // agent 0 walked into the freed cell
    CHECK(same(at(e, 1), {3, 2}));
    CHECK(same(at(e, 2), {6, 5}));
    CHECK_THROWS_AS(e.step(std::vector<int>{stay, 9, stay}), invalid_argument);
  }
  SECTION("a freed cell is free for moves in the same step") {
    J e = small(3, 0, {.agent_hp = 1});
    e.reset_to(g, std::vector<cell>{{2, 2}, {3, 2}, {4, 2}}, {});
    e.step(std::vector<int>{attack_right, stay, left});
    CHECK(same(at(e, 2), {3, 2}));
  }
  SECTION("an agent killed earlier in the attack order does not attack") {
    J e = small(2, 0, {.agent_hp = 1});
    int zero_wins = 0;
    for (int k = 0; k < 200; ++k) {
      e.reset_to(g, std::vector<cell>{{2, 2}, {3, 2}}, {});
      const env::step_result& r = e.step(std::vector<int>{attack_right, attack_left});
      const bool zero_first = e.agent_alive(0);
      zero_wins += zero_first ? 1 : 0;
      CHECK(e.agent_alive(0) != e.agent_alive(1));
      CHECK(r.rewards[0] == Approx(zero_first ? 1.99f : -4.0f));
      CHECK(r.rewards[1] == Approx(zero_first ? -4.0f : 1.99f));
    }
    CHECK(zero_wins > 60);
    CHECK(zero_wins < 140);
  }
}

TEST_CASE("jungle: moves", "[env][jungle]") {
  netmarl::rng g(4);
  SECTION("the four directions: up is y - 1") {
    J e = small(1, 0);
    e.reset_to(g, std::vector<cell>{{4, 4}}, {});
    e.step(std::vector<int>{up});
    CHECK(same(at(e, 0), {4, 3}));
    e.step(std::vector<int>{down});
    CHECK(same(at(e, 0), {4, 4}));
    e.step(std::vector<int>{left});
    CHECK(same(at(e, 0), {3, 4}));
    e.step(std::vector<int>{right});
    CHECK(same(at(e, 0), {4, 4}));
    const env::step_result& r = e.step(std::vector<int>{stay});
    CHECK(same(at(e, 0), {4, 4}));
    CHECK(r.rewards[0] == 0.0f);  // moves are free
  }
  SECTION("blocked by walls") {
    J e = small(2, 0);
    e.reset_to(g, std::vector<cell>{{1, 1}, {8, 8}}, {});
    e.step(std::vector<int>{up, down});
    e.step(std::vector<int>{left, right});
    CHECK(same(at(e, 0), {1, 1}));
    CHECK(same(at(e, 1), {8, 8}));
  }
  SECTION("blocked by food") {
    J e = small(1, 1);
    e.reset_to(g, std::vector<cell>{{2, 2}}, std::vector<cell>{{3, 2}});
    e.step(std::vector<int>{right});
    CHECK(same(at(e, 0), {2, 2}));
  }
  SECTION("blocked by agents, in agent order") {
    J e = small(2, 0);
    // Agent 0 moves first, into agent 1's cell: blocked, though agent 1 then moves away.
    e.reset_to(g, std::vector<cell>{{2, 2}, {3, 2}}, {});
    e.step(std::vector<int>{right, right});
    CHECK(same(at(e, 0), {2, 2}));
    CHECK(same(at(e, 1), {4, 2}));
    // Agent 0 leaves first: agent 1 follows into the freed cell.
    e.reset_to(g, std::vector<cell>{{3, 2}, {2, 2}}, {});
    e.step(std::vector<int>{right, right});
    CHECK(same(at(e, 0), {4, 2}));
    CHECK(same(at(e, 1), {3, 2}));
    // Two agents for one cell: the lower index gets it.
    e.reset_to(g, std::vector<cell>{{2, 2}, {4, 2}}, {});
    e.step(std::vector<int>{right, left});
    CHECK(same(at(e, 0), {3, 2}));
    CHECK(same(at(e, 1), {4, 2}));
  }
  SECTION("attacks happen before moves") {
    J e = small(2, 0);
    e.reset_to(g, std::vector<cell>{{2, 2}, {3, 2}}, {});
    const env::step_result& r = e.step(std::vector<int>{attack_right, right});
    CHECK(r.rewards[0] == Approx(1.99f));
    CHECK(r.rewards[1] == Approx(-4.0f));
    CHECK(same(at(e, 1), {4, 2}));
  }
}

TEST_CASE("jungle: observation, circular mask and coordinates", "[env][jungle]") {
  netmarl::rng g(5);
  J e;  // 30 x 30, radius 5
  std::vector<cell> agents(20), foods(12);
  // Agent 0 in the top-left corner, agent 1 and a food near it; the rest far away.
  agents[0] = {1, 1};
  agents[1] = {3, 1};
  foods[0] = {1, 4};
  for (int i = 2; i < 20; ++i) agents[static_cast<std::size_t>(i)] = {20 + i % 5, 15 + i / 5};
  for (int j = 1; j < 12; ++j) foods[static_cast<std::size_t>(j)] = {10 + j, 27};
  const env::step_result& r = e.reset_to(g, agents, foods);
  REQUIRE(r.observations.cols() == 123);

  int inside_circle = 0;
  for (int dy = -5; dy <= 5; ++dy)
    for (int dx = -5; dx <= 5; ++dx) {
      const int x = 1 + dx, y = 1 + dy;
      float expected = 0.0f;
      if (dx * dx + dy * dy <= 25) {
        ++inside_circle;
        if (x < 1 || y < 1 || x > 28 || y > 28)
          expected = J::wall_value;  // the wall ring and the cells off the map
        else if ((x == 1 && y == 1) || (x == 3 && y == 1))
          expected = J::agent_value;  // itself and agent 1
        else if (x == 1 && y == 4)
          expected = J::food_value;
      }
      INFO("dx " << dx << " dy " << dy);
      CHECK(view(r, 0, dx, dy) == expected);
    }
  CHECK(inside_circle == 81);
  CHECK(view(r, 0, -5, -5) == 0.0f);  // off the map but outside the circle
  CHECK(view(r, 0, -3, -4) == J::wall_value);
  CHECK(view(r, 0, 4, 3) == 0.0f);  // inside the map, dx^2 + dy^2 = 25: visible and empty
  // Agent 1 sees agent 0 two cells to its left and the food at (-2, 3).
  CHECK(view(r, 1, -2, 0) == J::agent_value);
  CHECK(view(r, 1, -2, 3) == J::food_value);
  CHECK(view(r, 1, 0, 0) == J::agent_value);
  // Coordinates (y / H, x / W).
  CHECK(r.observations(0, 121) == Approx(1.0 / 30));
  CHECK(r.observations(0, 122) == Approx(1.0 / 30));
  CHECK(r.observations(1, 121) == Approx(1.0 / 30));
  CHECK(r.observations(1, 122) == Approx(3.0 / 30));
  CHECK(r.observations(7, 121) == Approx(16.0 / 30));
  CHECK(r.observations(7, 122) == Approx(22.0 / 30));
  // The state: (y / H, x / W, hp share) per agent, then per food.
  CHECK(e.state()[3 * 1 + 0] == Approx(1.0 / 30));
  CHECK(e.state()[3 * 1 + 1] == Approx(3.0 / 30));
  CHECK(e.state()[3 * 1 + 2] == 1.0f);
  CHECK(e.state()[3 * 20 + 0] == Approx(4.0 / 30));
  CHECK(e.state()[3 * 20 + 1] == Approx(1.0 / 30));
  // After a move the coordinates follow.
  std::vector<int> actions(20, stay);
  actions[0] = down;
  const env::step_result& moved = e.step(actions);
  CHECK(moved.observations(0, 121) == Approx(2.0 / 30));
  CHECK(view(moved, 0, 0, 2) == J::food_value);
}

TEST_CASE("jungle: the episode limit and the metric", "[env][jungle]") {
  netmarl::rng g(6);
  J e = small(2, 1, {.episode_limit = 4});
  e.reset_to(g, std::vector<cell>{{2, 2}, {3, 2}}, std::vector<cell>{{2, 1}});
  CHECK(e.episode_metric() == 0.0);
  double total = 0;
  const std::vector<std::vector<int>> plan{
      {attack_up, stay}, {attack_right, attack_down}, {stay, attack_left}, {attack_down, stay}};
  for (std::size_t t = 0; t < plan.size(); ++t) {
    const env::step_result& r = e.step(plan[t]);
    total += static_cast<double>(r.rewards[0]) + static_cast<double>(r.rewards[1]);
    CHECK(r.global_reward == Approx(r.rewards[0] + r.rewards[1]));
    CHECK(e.steps() == static_cast<idx>(t + 1));
    CHECK(e.episode_metric() == Approx(total / (2.0 * static_cast<double>(t + 1))));
    CHECK(r.episode_done == (t + 1 == plan.size()));
  }
  // 0.99; 1.99 - 4 and -4 - 0.01 ... : summed by hand.
  CHECK(total == Approx(0.99 + (1.99 - 4.0 - 0.01) + (-4.0 + 1.99) + (-0.01)));
  CHECK(e.config().episode_limit == 4);
  CHECK_THROWS_WITH(e.step(plan[0]), Contains("jungle") && Contains("after the episode ended"));
}

TEST_CASE("jungle: every agent is done at the limit", "[env][jungle]") {
  netmarl::rng g(7);
  J e({.episode_limit = 3});
  e.reset(g);
  const std::vector<int> actions(20, stay);
  CHECK_FALSE(e.step(actions).episode_done);
  CHECK_FALSE(e.step(actions).episode_done);
  const env::step_result& r = e.step(actions);
  CHECK(r.episode_done);
  CHECK(r.agent_done == std::vector<std::uint8_t>(20, 1));
  CHECK(e.episode_metric() == 0.0);
  // A reset starts over.
  const env::step_result& again = e.reset(g);
  CHECK_FALSE(again.episode_done);
  CHECK(again.agent_done == std::vector<std::uint8_t>(20, 0));
  CHECK(e.steps() == 0);
}

TEST_CASE("jungle: bad actions throw naming the agent and the value", "[env][jungle]") {
  netmarl::rng g(8);
  J e = small(3, 1);
  std::vector<int> actions{stay, stay, stay};
  CHECK_THROWS_WITH(e.step(actions), Contains("jungle") && Contains("before reset"));
  e.reset(g);
  actions[2] = 9;
  CHECK_THROWS_AS(e.step(actions), invalid_argument);
  CHECK_THROWS_WITH(e.step(actions),
                    Contains("jungle") && Contains("action 9 of agent 2") && Contains("[0, 9)"));
  actions[2] = -1;
  CHECK_THROWS_WITH(e.step(actions), Contains("action -1 of agent 2"));
  CHECK_THROWS_WITH(e.step(std::vector<int>{stay, stay}), Contains("expected 3 actions, got 2"));
  CHECK_THROWS_WITH(e.agent_hp(3), Contains("agent_hp(3)"));
  CHECK_THROWS_WITH(e.food_hp(1), Contains("food_hp(1)"));
  CHECK_THROWS_WITH(e.agent_alive(-1), Contains("agent_alive(-1)"));
}

TEST_CASE("jungle: bad settings throw naming the setting and the value", "[env][jungle]") {
  using S = J::settings;
  const auto throws = [](S s, const std::string& text) {
    CHECK_THROWS_AS(J(s), invalid_argument);
    CHECK_THROWS_WITH(J(s), Contains("jungle") && Contains(text));
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  throws({.width = 2}, "width and height must be at least 3");
  throws({.height = 1}, "got 30 x 1");
  throws({.agents = 0}, "agents must be at least 1, got 0");
  throws({.foods = -1}, "foods must not be negative, got -1");
  throws({.width = 5, .height = 5, .agents = 5, .foods = 5},
         "has 9 cells inside its wall, too few for 5 agents and 5 foods");
  throws({.agent_hp = 0}, "agent_hp must be positive and finite, got 0");
  throws({.food_hp = -2}, "food_hp must be positive and finite, got -2");
  throws({.damage = nan}, "damage must be positive and finite");
  throws({.view_radius = 0}, "view_radius must be in [1, 30], got 0");
  throws({.attack_radius = 0}, "attack_radius must be in [1, 30], got 0");
  throws({.attack_radius = 31}, "attack_radius must be in [1, 30], got 31");
  throws({.episode_limit = 0}, "episode_limit must be at least 1, got 0");
  throws({.food_reward = nan}, "food_reward must be finite");
  throws({.victim_reward = std::numeric_limits<double>::infinity()},
         "victim_reward must be finite");
  throws({.attack_cost = nan}, "attack_cost must be finite");
}

TEST_CASE("jungle: reset_to checks its cells", "[env][jungle]") {
  netmarl::rng g(9);
  J e = small(2, 1);
  CHECK_THROWS_WITH(e.reset_to(g, std::vector<cell>{{2, 2}}, std::vector<cell>{{3, 3}}),
                    Contains("reset_to needs 2 agent cells and 1 food cells, got 1 and 1"));
  CHECK_THROWS_WITH(e.reset_to(g, std::vector<cell>{{2, 2}, {0, 3}}, std::vector<cell>{{3, 3}}),
                    Contains("agent 1 at (0, 3) is not inside the wall"));
  CHECK_THROWS_WITH(e.reset_to(g, std::vector<cell>{{2, 2}, {4, 3}}, std::vector<cell>{{9, 3}}),
                    Contains("food 0 at (9, 3) is not inside the wall"));
  CHECK_THROWS_WITH(e.reset_to(g, std::vector<cell>{{2, 2}, {4, 3}}, std::vector<cell>{{2, 2}}),
                    Contains("food 0 at (2, 2) shares its cell"));
  CHECK_THROWS_AS(e.reset_to(g, std::vector<cell>{{4, 3}, {4, 3}}, std::vector<cell>{{2, 2}}),
                  invalid_argument);
}

TEST_CASE("jungle: deterministic from the seed", "[env][jungle]") {
  const auto run = [](std::uint64_t seed) {
    J e;
    netmarl::rng g(seed);
    netmarl::rng actions_rng(99);
    std::vector<float> trace;
    std::vector<int> actions(20);
    for (int episode = 0; episode < 2; ++episode) {
      const env::step_result* r = &e.reset(g);
      for (idx k = 0; k < 20; ++k) trace.push_back(e.positions()(k, 0) + 30 * e.positions()(k, 1));
      while (!r->episode_done) {
        for (int& a : actions) a = static_cast<int>(actions_rng.below(9));
        r = &e.step(actions);
        trace.push_back(r->global_reward);
        for (idx k = 0; k < 123; k += 7) trace.push_back(r->observations(3, k));
      }
      trace.push_back(static_cast<float>(e.episode_metric()));
    }
    return trace;
  };
  const std::vector<float> a = run(11);
  CHECK(a == run(11));
  CHECK(a != run(12));
}

TEST_CASE("jungle: k_nearest<3> builds self plus the 3 nearest from positions()", "[env][jungle]") {
  netmarl::rng g(10);
  J e;
  e.reset(g);
  netmarl::graph::k_nearest<3> topology;
  topology.reset(e);
  const netmarl::graph::csr& graph = topology.graph();
  REQUIRE(netmarl::graph::num_nodes(graph) == 20);
  for (idx i = 0; i < 20; ++i) {
    CHECK(netmarl::graph::degree(graph, i) == 4);
    CHECK(netmarl::graph::neighbors(graph, i)[0] == i);
  }
  std::vector<int> actions(20, right);
  e.step(actions);
  topology.update(e);
  CHECK(netmarl::graph::num_nodes(topology.graph()) == 20);
}

TEST_CASE("jungle: reset and step allocate nothing", "[env][jungle]") {
  J e;
  netmarl::rng g(11);
  std::vector<std::vector<int>> pool(16, std::vector<int>(20));
  for (auto& joint : pool)
    for (int& a : joint) a = static_cast<int>(g.below(9));
  e.reset(g);
  const long before = netmarl::testing::heap_allocations();
  for (int episode = 0; episode < 3; ++episode) {
    e.reset(g);
    for (idx t = 0; t < e.episode_limit(); ++t)
      e.step(pool[static_cast<std::size_t>(t) % pool.size()]);
  }
  CHECK(netmarl::testing::heap_allocations() == before);
}
