#include <algorithm>
#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <map>
#include <new>
#include <numeric>
#include <utility>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/env/concept.hpp"
#include "netmarl/env/warehouse.hpp"

// Counts heap allocations in this binary, so "step allocates nothing" is measured.
#include "support/count_allocations.hpp"

namespace env = netmarl::env;
using Catch::Contains;
using netmarl::invalid_argument;
using cell = std::array<int, 2>;
using order = env::warehouse_order;

static_assert(env::SpatialEnvironment<env::warehouse>);
static_assert(env::HasEpisodeMetric<env::warehouse>);

namespace {

// Rewards are sums of +1, -0.5 and -0.01: compare them in hundredths.
long hundredths(float r) { return std::lround(static_cast<double>(r) * 100.0); }

order items(int t1, int t2, int t3, int t4) { return {{t1, t2, t3, t4}, false}; }
const order returning{{0, 0, 0, 0}, true};

cell where(const env::warehouse& e, int robot) {
  return {static_cast<int>(e.positions()(robot, 0)), static_cast<int>(e.positions()(robot, 1))};
}

// The most robots on any one cell.
int most_on_one_cell(const env::warehouse& e) {
  std::map<cell, int> count;
  int most = 0;
  for (int i = 0; i < e.num_agents(); ++i) most = std::max(most, ++count[where(e, i)]);
  return most;
}

// Robots beyond the first on each cell: 0 when no two share a cell.
int surplus(const env::warehouse& e) {
  std::map<cell, int> count;
  for (int i = 0; i < e.num_agents(); ++i) ++count[where(e, i)];
  int extra = 0;
  for (const auto& [c, k] : count) extra += k - 1;
  return extra;
}

float obs(const env::step_result& r, int robot, int channel, int dx, int dy) {
  return r.observations(robot, env::warehouse::observation_index(channel, dx, dy));
}

float channel_sum(const env::step_result& r, int robot, int channel) {
  float total = 0;
  for (int k = 0; k < 25; ++k) total += r.observations(robot, channel * 25 + k);
  return total;
}

float state_at(const env::warehouse& e, int channel, int x, int y) {
  return e.state()[static_cast<std::size_t>(e.state_index(channel, x, y))];
}

float state_channel_sum(const env::warehouse& e, int channel) {
  float total = 0;
  for (int x = 0; x < e.layout().width; ++x)
    for (int y = 0; y < e.layout().height; ++y) total += state_at(e, channel, x, y);
  return total;
}

}  // namespace

TEST_CASE("warehouse: sizes for the three maps", "[env][warehouse]") {
  const std::array<std::array<long, 4>, 3> expected = {{
      {4, 3, 5, 450},  // N, width, height, state size (the authors' dimensions)
      {8, 5, 5, 750},
      {16, 13, 9, 3510},
  }};
  for (const auto& [n, width, height, state_size] : expected) {
    env::warehouse e({.agents = n});
    CHECK(e.name() == "warehouse");
    CHECK(e.num_agents() == n);
    CHECK(e.observation_size() == 125);
    CHECK(e.num_actions() == 6);
    CHECK(e.state_size() == state_size);
    CHECK(e.episode_limit() == 50);
    CHECK(e.layout().width == width);
    CHECK(e.layout().height == height);
    netmarl::rng rng(1);
    const auto& r = e.reset(rng);
    CHECK(r.observations.rows() == n);
    CHECK(r.observations.cols() == 125);
    CHECK(static_cast<long>(e.state().size()) == state_size);
    CHECK(e.positions().rows() == n);
    CHECK(e.positions().cols() == 2);
    CHECK(e.episode_metric() == 0.0);
  }
}

TEST_CASE("warehouse: map cell codes and start cells", "[env][warehouse]") {
  const auto& m4 = env::warehouse_layout_for(4);
  CHECK(m4.code(0, 0) == -1);
  CHECK(m4.code(1, 0) == 0);
  CHECK(m4.code(1, 1) == 2);
  CHECK(m4.code(0, 1) == 1);
  CHECK(m4.code(0, 2) == 4);
  CHECK(m4.code(1, 2) == -1);
  CHECK(m4.code(2, 2) == 5);
  CHECK(m4.code(1, 3) == 3);
  CHECK(m4.code(1, 4) == 0);
  CHECK(m4.code(3, 0) == -1);  // off the map reads as an obstacle
  CHECK(m4.code(0, -1) == -1);

  const auto& m8 = env::warehouse_layout_for(8);
  CHECK(m8.code(0, 0) == 1);
  CHECK(m8.code(3, 0) == 0);
  CHECK(m8.code(1, 1) == 2);
  CHECK(m8.code(3, 1) == 3);
  CHECK(m8.code(0, 2) == 4);
  CHECK(m8.code(2, 2) == 5);
  CHECK(m8.code(3, 2) == -1);
  CHECK(m8.code(4, 2) == 4);
  CHECK(m8.code(1, 3) == 3);
  CHECK(m8.code(3, 3) == 2);
  CHECK(m8.code(3, 4) == 0);

  const auto& m16 = env::warehouse_layout_for(16);
  CHECK(m16.code(0, 0) == -1);
  CHECK(m16.code(3, 0) == 0);
  CHECK(m16.code(4, 0) == -1);
  CHECK(m16.code(1, 1) == 1);
  CHECK(m16.code(0, 1) == -1);
  CHECK(m16.code(3, 2) == 2);
  CHECK(m16.code(5, 2) == 3);
  CHECK(m16.code(0, 3) == 0);
  CHECK(m16.code(2, 3) == 4);
  CHECK(m16.code(3, 3) == -1);
  CHECK(m16.code(4, 3) == 5);
  CHECK(m16.code(12, 3) == 0);
  CHECK(m16.code(3, 4) == 3);
  CHECK(m16.code(5, 4) == 2);
  CHECK(m16.code(10, 5) == 4);
  CHECK(m16.code(11, 7) == 1);
  CHECK(m16.code(9, 8) == 0);

  // Start cells as listed; each is a work station, and they are all the work stations.
  const std::vector<cell> starts_16 = {{0, 3}, {0, 5}, {12, 3}, {12, 5}, {3, 0}, {5, 0},
                                       {7, 0}, {9, 0}, {3, 8},  {5, 8},  {7, 8}, {9, 8}};
  const std::vector<std::pair<const env::warehouse_layout*, std::vector<cell>>> starts = {
      {&m4, {{1, 0}, {1, 4}}},
      {&m8, {{1, 0}, {1, 4}, {3, 0}, {3, 4}}},
      {&m16, starts_16},
  };
  for (const auto& [m, listed] : starts) {
    REQUIRE(m->starts.size() == listed.size());
    for (std::size_t k = 0; k < listed.size(); ++k) {
      CHECK(m->starts[k][0] == listed[k][0]);
      CHECK(m->starts[k][1] == listed[k][1]);
      CHECK(m->code(listed[k][0], listed[k][1]) == 0);
    }
    long stations = 0;
    for (const auto c : m->codes) stations += (c == 0);
    CHECK(stations == static_cast<long>(listed.size()));
  }

  // State channel 0 is the map.
  env::warehouse e({.agents = 16});
  netmarl::rng rng(0);
  e.reset(rng);
  for (int x = 0; x < 13; ++x)
    for (int y = 0; y < 9; ++y) REQUIRE(state_at(e, 0, x, y) == static_cast<float>(m16.code(x, y)));
}

TEST_CASE("warehouse: the code's starts share work stations; the paper's do not",
          "[env][warehouse]") {
  netmarl::rng rng(3);
  for (const long n : {4, 8, 16}) {
    env::warehouse code_starts({.agents = n});
    env::warehouse paper_starts({.agents = n, .no_overlap_start = true});
    const auto& m = code_starts.layout();
    for (int episode = 0; episode < 20; ++episode) {
      code_starts.reset(rng);
      for (int i = 0; i < n; ++i)
        REQUIRE(m.code(where(code_starts, i)[0], where(code_starts, i)[1]) == 0);
      // More robots than work stations: some always share.
      CHECK(most_on_one_cell(code_starts) > 1);

      paper_starts.reset(rng);
      REQUIRE(surplus(paper_starts) == 0);
      int on_stations = 0;
      for (int i = 0; i < n; ++i) {
        const auto [x, y] = where(paper_starts, i);
        REQUIRE(m.code(x, y) >= 0);
        on_stations += (m.code(x, y) == 0);
      }
      CHECK(on_stations == static_cast<int>(m.starts.size()));  // every work station is used
    }
  }
}

TEST_CASE("warehouse: delivering items and completing an order", "[env][warehouse]") {
  env::warehouse e({.agents = 4});
  netmarl::rng rng(5);
  e.reset(rng);
  // Robot 0 on the type-1 drop-off (1, 1), one item of type 1 and one of type 3 to go; robot 3 on
  // the type-2 drop-off (1, 3).
  const std::vector<cell> cells{{1, 1}, {0, 3}, {2, 3}, {1, 3}};
  e.arrange(cells, std::vector<order>{items(1, 0, 1, 0), items(5, 0, 0, 0), items(0, 0, 0, 5),
                                      items(1, 1, 1, 1)});

  // Delivering the type-1 item: +1 - 0.01 for robot 0, -0.01 for each of the others.
  const auto& r = e.step(std::vector<int>{5, 0, 0, 0});
  CHECK(hundredths(r.global_reward) == 100 - 4);
  for (const float ri : r.rewards) CHECK(ri == r.global_reward);  // cooperative: the team sum
  CHECK(e.order(0).items == std::array<int, 4>{0, 0, 1, 0});
  CHECK_FALSE(e.order(0).returning);

  // A second action 5 there: no type-1 item left, only the time penalty.
  CHECK(hundredths(e.step(std::vector<int>{5, 0, 0, 0}).global_reward) == -4);
  // A work station does not take an order with items left.
  CHECK(hundredths(e.step(std::vector<int>{2, 0, 0, 0}).global_reward) == -4);  // to (1, 0)
  CHECK(where(e, 0) == cell{1, 0});
  CHECK(hundredths(e.step(std::vector<int>{5, 0, 0, 0}).global_reward) == -4);
  CHECK(e.episode_metric() == 0.0);

  // Action 5 on a floor cell does nothing (robots 1 and 2); robot 3 delivers its type-2 item.
  const auto& both = e.step(std::vector<int>{0, 5, 5, 5});
  CHECK(hundredths(both.global_reward) == 100 - 4);  // only robot 3's type-2 delivery counts
  CHECK(e.order(3).items == std::array<int, 4>{1, 0, 1, 1});

  // Robot 0: walk to the type-3 drop-off (0, 2) = up to (1, 1), west to (0, 1), north to (0, 2).
  CHECK(hundredths(e.step(std::vector<int>{1, 0, 0, 0}).global_reward) == -4);
  CHECK(hundredths(e.step(std::vector<int>{3, 0, 0, 0}).global_reward) == -4);
  CHECK(hundredths(e.step(std::vector<int>{1, 0, 0, 0}).global_reward) == -4);
  REQUIRE(where(e, 0) == cell{0, 2});
  CHECK(hundredths(e.step(std::vector<int>{5, 0, 0, 0}).global_reward) == 100 - 4);
  CHECK(e.order(0).returning);  // the bucket is empty: back to a work station

  // A returning robot gets nothing for action 5 away from a work station.
  CHECK(hundredths(e.step(std::vector<int>{5, 0, 0, 0}).global_reward) == -4);
  // Back to (1, 0): south to (0, 1), east to (1, 1), south to (1, 0).
  e.step(std::vector<int>{2, 0, 0, 0});
  e.step(std::vector<int>{4, 0, 0, 0});
  e.step(std::vector<int>{2, 0, 0, 0});
  REQUIRE(where(e, 0) == cell{1, 0});
  // Completing the order: +1 and no time penalty for robot 0; -0.01 for each of the other three.
  const auto& done = e.step(std::vector<int>{5, 0, 0, 0});
  CHECK(hundredths(done.global_reward) == 100 - 3);
  CHECK(e.episode_metric() == 1.0);
  // A new order at once: 5 items, none delivered.
  CHECK_FALSE(e.order(0).returning);
  const auto& fresh = e.order(0).items;
  CHECK(std::accumulate(fresh.begin(), fresh.end(), 0) == 5);
  // The new order is not yet complete: action 5 again earns nothing.
  CHECK(hundredths(e.step(std::vector<int>{5, 0, 0, 0}).global_reward) == -4);
  CHECK(e.episode_metric() == 1.0);

  // Any work station completes an order, and two completions in one step count twice.
  e.arrange(std::vector<cell>{{1, 0}, {1, 4}, {0, 1}, {2, 1}},
            std::vector<order>{returning, returning, items(1, 0, 0, 0), items(1, 0, 0, 0)});
  CHECK(hundredths(e.step(std::vector<int>{5, 5, 0, 0}).global_reward) == 200 - 2);
  CHECK(e.episode_metric() == 3.0);
  // The metric restarts with the episode.
  e.reset(rng);
  CHECK(e.episode_metric() == 0.0);
}

TEST_CASE("warehouse: moves, blocked moves and moves without an edge", "[env][warehouse]") {
  env::warehouse e({.agents = 4});
  netmarl::rng rng(7);
  e.reset(rng);
  const std::vector<order> orders(4, items(1, 1, 1, 1));
  e.arrange(std::vector<cell>{{1, 1}, {0, 1}, {0, 3}, {2, 3}}, orders);

  // Robot 0 moves west into robot 1: -0.5 - 0.01, and it stays.
  CHECK(hundredths(e.step(std::vector<int>{3, 0, 0, 0}).global_reward) == -50 - 4);
  CHECK(where(e, 0) == cell{1, 1});
  CHECK(where(e, 1) == cell{0, 1});

  // Off the map (robots 1 and 2 west) and into an obstacle (robot 0 north to (1, 2), robot 3 north
  // to (2, 4)): moves without an edge, so the robots stay and pay only the time penalty.
  CHECK(hundredths(e.step(std::vector<int>{1, 3, 3, 1}).global_reward) == -4);
  CHECK(where(e, 0) == cell{1, 1});
  CHECK(where(e, 1) == cell{0, 1});
  CHECK(where(e, 2) == cell{0, 3});
  CHECK(where(e, 3) == cell{2, 3});

  // Robot 0 east and robot 3 south move; robot 1 south and robot 2 north face obstacles.
  CHECK(hundredths(e.step(std::vector<int>{4, 2, 1, 2}).global_reward) == -4);
  CHECK(where(e, 0) == cell{2, 1});
  CHECK(where(e, 1) == cell{0, 1});
  CHECK(where(e, 2) == cell{0, 3});
  CHECK(where(e, 3) == cell{2, 2});
  CHECK(e.positions()(3, 0) == 2.0f);
  CHECK(e.positions()(3, 1) == 2.0f);

  // The N = 8 map's odd cell (3, 1): we follow the simple rule, so south reaches the work station
  // and north (an obstacle) is a move without an edge, free of the -0.5 the authors' list gives.
  env::warehouse e8({.agents = 8});
  e8.reset(rng);
  e8.arrange(std::vector<cell>{{3, 1}, {0, 0}, {0, 1}, {0, 3}, {0, 4}, {4, 0}, {4, 1}, {4, 4}},
             std::vector<order>(8, items(1, 1, 1, 1)));
  CHECK(hundredths(e8.step(std::vector<int>{1, 0, 0, 0, 0, 0, 0, 0}).global_reward) == -8);
  CHECK(where(e8, 0) == cell{3, 1});
  CHECK(hundredths(e8.step(std::vector<int>{2, 0, 0, 0, 0, 0, 0, 0}).global_reward) == -8);
  CHECK(where(e8, 0) == cell{3, 0});
}

TEST_CASE("warehouse: robots act one after another in a random order", "[env][warehouse]") {
  env::warehouse e({.agents = 4});
  netmarl::rng rng(11);
  int follows = 0, blocked = 0, first_wins = 0, second_wins = 0;
  for (int trial = 0; trial < 200; ++trial) {
    e.reset(rng);
    // A train: robot 1 at (1, 1) leaves east while robot 0 at (0, 1) moves into its cell. Robots 2
    // and 3 both step into the free cell (1, 3) from (0, 3) and (2, 3).
    e.arrange(std::vector<cell>{{0, 1}, {1, 1}, {0, 3}, {2, 3}},
              std::vector<order>(4, items(1, 1, 1, 1)));
    const long team = hundredths(e.step(std::vector<int>{4, 4, 4, 3}).global_reward);
    // Robot 1 always gets through; robot 0 does when robot 1 went first.
    REQUIRE(where(e, 1) == cell{2, 1});
    if (where(e, 0) == cell{1, 1})
      ++follows;
    else {
      REQUIRE(where(e, 0) == cell{0, 1});
      ++blocked;
    }
    // Exactly one of robots 2 and 3 gets (1, 3); the other is blocked.
    const bool two_first = where(e, 2) == cell{1, 3};
    REQUIRE(two_first != (where(e, 3) == cell{1, 3}));
    (two_first ? first_wins : second_wins) += 1;
    REQUIRE(team == -4 - 50 - (where(e, 0) == cell{0, 1} ? 50 : 0));
    REQUIRE(surplus(e) == 0);
  }
  // Each order happens (each with probability 1/2).
  CHECK(follows > 50);
  CHECK(blocked > 50);
  CHECK(first_wins > 50);
  CHECK(second_wins > 50);
}

TEST_CASE("warehouse: no move enters an occupied cell", "[env][warehouse]") {
  netmarl::rng rng(13);
  for (const long n : {4, 8, 16})
    for (const bool paper_starts : {false, true}) {
      env::warehouse e({.agents = n, .no_overlap_start = paper_starts});
      std::vector<int> actions(static_cast<std::size_t>(n));
      for (int episode = 0; episode < 20; ++episode) {
        e.reset(rng);
        int shared = surplus(e);
        if (paper_starts) REQUIRE(shared == 0);
        for (int t = 0; t < 50; ++t) {
          for (auto& a : actions) a = static_cast<int>(rng.below(6));
          const auto& r = e.step(actions);
          // Shared start cells (the code's default) may stay shared until a robot leaves, but no
          // robot ever joins another: the surplus never grows, and it stays 0 from distinct starts.
          const int now = surplus(e);
          REQUIRE(now <= shared);
          shared = now;
          for (int i = 0; i < n; ++i) REQUIRE(e.layout().code(where(e, i)[0], where(e, i)[1]) >= 0);
          REQUIRE(r.episode_done == (t == 49));
        }
        if (paper_starts) CHECK(shared == 0);
      }
    }
}

TEST_CASE("warehouse: observation channels in a handcrafted situation", "[env][warehouse]") {
  env::warehouse e({.agents = 4});
  netmarl::rng rng(17);
  e.reset(rng);
  // Robot 0 on (1, 1) (drop-off type 1) with two type-1 items and one type-3 item to deliver.
  e.arrange(std::vector<cell>{{1, 1}, {0, 1}, {2, 3}, {1, 3}},
            std::vector<order>{items(2, 0, 1, 0), items(1, 1, 1, 1), returning, items(0, 5, 0, 0)});
  const env::step_result& r = e.step(std::vector<int>{0, 0, 0, 0});  // observations after a step

  // Channel 0: the robot itself, at the centre only.
  CHECK(obs(r, 0, 0, 0, 0) == 1.0f);
  CHECK(channel_sum(r, 0, 0) == 1.0f);
  // Channel 1: off the map (x = -1 and x = 3: 10 cells; y = -1: 3 more) and the obstacles (0, 0),
  // (2, 0) and (1, 2).
  CHECK(obs(r, 0, 1, -2, 0) == 1.0f);
  CHECK(obs(r, 0, 1, 1, -2) == 1.0f);
  CHECK(obs(r, 0, 1, -1, -1) == 1.0f);
  CHECK(obs(r, 0, 1, 1, -1) == 1.0f);
  CHECK(obs(r, 0, 1, 0, 1) == 1.0f);
  CHECK(obs(r, 0, 1, 0, 0) == 0.0f);
  CHECK(obs(r, 0, 1, -1, 1) == 0.0f);
  CHECK(channel_sum(r, 0, 1) == 16.0f);
  // Channel 2: the other robots, at (0, 1), (2, 3) and (1, 3).
  CHECK(obs(r, 0, 2, -1, 0) == 1.0f);
  CHECK(obs(r, 0, 2, 1, 2) == 1.0f);
  CHECK(obs(r, 0, 2, 0, 2) == 1.0f);
  CHECK(obs(r, 0, 2, 0, 0) == 0.0f);
  CHECK(channel_sum(r, 0, 2) == 3.0f);
  // Channel 3: how many of each drop-off's type the bucket holds: 2 at (1, 1) (type 1), 1 at
  // (0, 2) (type 3), 0 at (2, 2) (type 4) and (1, 3) (type 2).
  CHECK(obs(r, 0, 3, 0, 0) == 2.0f);
  CHECK(obs(r, 0, 3, -1, 1) == 1.0f);
  CHECK(obs(r, 0, 3, 1, 1) == 0.0f);
  CHECK(obs(r, 0, 3, 0, 2) == 0.0f);
  CHECK(channel_sum(r, 0, 3) == 3.0f);
  // Channel 4: the next bucket is the return: the visible work station (1, 0).
  CHECK(obs(r, 0, 4, 0, -1) == 1.0f);
  CHECK(channel_sum(r, 0, 4) == 1.0f);

  // Robot 2 is returning, at (2, 3): its current bucket marks the work station (1, 4) in view, and
  // no drop-off; there is no next bucket.
  CHECK(obs(r, 2, 3, -1, 1) == 1.0f);
  CHECK(channel_sum(r, 2, 3) == 1.0f);
  CHECK(channel_sum(r, 2, 4) == 0.0f);
  // It sees robot 3 west of it and robot 0 at (-1, -2); robot 1 at (0, 1) is 2 west, 2 south.
  CHECK(obs(r, 2, 2, -1, 0) == 1.0f);
  CHECK(obs(r, 2, 2, -1, -2) == 1.0f);
  CHECK(obs(r, 2, 2, -2, -2) == 1.0f);
  CHECK(channel_sum(r, 2, 2) == 3.0f);

  // Robot 3 at (1, 3) with five type-2 items: 5 on its own cell (type 2); of the work stations only
  // (1, 4) is in view ((1, 0) is 3 south).
  CHECK(obs(r, 3, 3, 0, 0) == 5.0f);
  CHECK(channel_sum(r, 3, 3) == 5.0f);
  CHECK(obs(r, 3, 4, 0, 1) == 1.0f);
  CHECK(channel_sum(r, 3, 4) == 1.0f);

  // Robots sharing a start cell (the code's default starts) see each other at the centre.
  for (int episode = 0; episode < 5; ++episode) {
    const auto& start = e.reset(rng);
    for (int i = 0; i < 4; ++i) {
      int others = 0;
      for (int j = 0; j < 4; ++j) others += (j != i && where(e, j) == where(e, i));
      CHECK(obs(start, i, 2, 0, 0) == static_cast<float>(others));
    }
  }
}

TEST_CASE("warehouse: global state channels", "[env][warehouse]") {
  env::warehouse e({.agents = 4});
  netmarl::rng rng(19);
  e.reset(rng);
  // Robot 0 on the type-1 drop-off wanting type 1 (and type 3); robot 1 on a floor cell; robot 2
  // returning, on a work station; robot 3 on the type-2 drop-off without a type-2 item.
  e.arrange(std::vector<cell>{{1, 1}, {0, 1}, {1, 4}, {1, 3}},
            std::vector<order>{items(2, 0, 1, 0), items(1, 1, 1, 1), returning, items(1, 0, 0, 4)});
  CHECK(state_at(e, 1, 1, 1) == 1.0f);  // action 5 would succeed: robots 0 and 2
  CHECK(state_at(e, 1, 1, 4) == 1.0f);
  CHECK(state_channel_sum(e, 1) == 2.0f);
  CHECK(state_at(e, 2, 0, 1) == 1.0f);  // it would not: robots 1 and 3
  CHECK(state_at(e, 2, 1, 3) == 1.0f);
  CHECK(state_channel_sum(e, 2) == 2.0f);
  // Channels 5..8: item types 1..4 present in the current bucket, at the robot's cell.
  CHECK(state_at(e, 5, 1, 1) == 1.0f);  // robot 0: types 1 and 3 (2 type-1 items still count 1)
  CHECK(state_at(e, 6, 1, 1) == 0.0f);
  CHECK(state_at(e, 7, 1, 1) == 1.0f);
  CHECK(state_at(e, 8, 1, 1) == 0.0f);
  CHECK(state_at(e, 5, 0, 1) == 1.0f);  // robot 1: all four
  CHECK(state_at(e, 8, 0, 1) == 1.0f);
  CHECK(state_at(e, 5, 1, 3) == 1.0f);  // robot 3: types 1 and 4
  CHECK(state_at(e, 8, 1, 3) == 1.0f);
  CHECK(state_channel_sum(e, 5) == 3.0f);
  CHECK(state_channel_sum(e, 6) == 1.0f);
  CHECK(state_channel_sum(e, 7) == 2.0f);
  CHECK(state_channel_sum(e, 8) == 2.0f);
  // Channel 9: the return, still ahead for every robot (robot 2 included).
  CHECK(state_at(e, 9, 1, 4) == 1.0f);
  CHECK(state_channel_sum(e, 9) == 4.0f);
  // The code never fills 3, 4 and 10..29.
  for (const int c : {3, 4, 10, 15, 20, 29}) CHECK(state_channel_sum(e, c) == 0.0f);

  // The state follows the robots: after robot 1 moves north to the type-3 drop-off (0, 2).
  e.step(std::vector<int>{0, 1, 0, 0});
  CHECK(state_at(e, 2, 0, 1) == 0.0f);
  CHECK(state_at(e, 1, 0, 2) == 1.0f);
  CHECK(state_at(e, 9, 0, 2) == 1.0f);
  CHECK(state_channel_sum(e, 9) == 4.0f);
}

TEST_CASE("warehouse: the same seed gives the same episode", "[env][warehouse]") {
  for (const long n : {4, 16})
    for (const bool paper_starts : {false, true}) {
      env::warehouse a({.agents = n, .no_overlap_start = paper_starts});
      env::warehouse b({.agents = n, .no_overlap_start = paper_starts});
      netmarl::rng warm(99);
      b.reset(warm);  // b has history; a is fresh
      for (int t = 0; t < 30; ++t) b.step(std::vector<int>(static_cast<std::size_t>(n), 1));

      netmarl::rng ra(42), rb(42), actions_rng(7);
      for (int episode = 0; episode < 3; ++episode) {
        const auto& first_a = a.reset(ra);
        const auto& first_b = b.reset(rb);
        REQUIRE(first_a.observations == first_b.observations);
        std::vector<int> actions(static_cast<std::size_t>(n));
        for (int t = 0; t < 50; ++t) {
          for (auto& x : actions) x = static_cast<int>(actions_rng.below(6));
          const auto& sa = a.step(actions);
          const auto& sb = b.step(actions);
          REQUIRE(sa.observations == sb.observations);
          REQUIRE(sa.rewards == sb.rewards);
          REQUIRE(a.positions() == b.positions());
          REQUIRE(std::equal(a.state().begin(), a.state().end(), b.state().begin()));
        }
        REQUIRE(a.episode_metric() == b.episode_metric());
      }
    }
  // Another seed, other starts or orders.
  env::warehouse a({.agents = 16}), b({.agents = 16});
  netmarl::rng r1(1), r2(2);
  a.reset(r1);
  b.reset(r2);
  CHECK_FALSE(std::equal(a.state().begin(), a.state().end(), b.state().begin()));
}

TEST_CASE("warehouse: the metric counts the orders completed", "[env][warehouse]") {
  // Random play on the small map: each completed order shows as a returning robot that is handed
  // a fresh order, and the metric counts exactly those.
  env::warehouse e({.agents = 4});
  netmarl::rng rng(23);
  std::vector<int> actions(4);
  double seen = 0;
  for (int episode = 0; episode < 200; ++episode) {
    e.reset(rng);
    double completed = 0;
    for (int t = 0; t < 50; ++t) {
      std::array<bool, 4> was_returning{};
      for (int i = 0; i < 4; ++i) {
        was_returning[static_cast<std::size_t>(i)] = e.order(i).returning;
        const auto [x, y] = where(e, i);
        // Deliver when it helps, else move at random (keeps the episode short of pure noise).
        const int code = e.layout().code(x, y);
        const bool wanted =
            e.order(i).returning
                ? code == 0
                : code >= 2 && e.order(i).items[static_cast<std::size_t>(code - 2)] > 0;
        actions[static_cast<std::size_t>(i)] = wanted ? 5 : 1 + static_cast<int>(rng.below(4));
      }
      e.step(actions);
      for (int i = 0; i < 4; ++i)
        completed += (was_returning[static_cast<std::size_t>(i)] && !e.order(i).returning);
      REQUIRE(e.episode_metric() == completed);
    }
    seen += completed;
  }
  CHECK(seen > 0);  // the rule-following random walk does complete orders
}

TEST_CASE("warehouse: episodes end after episode_length steps", "[env][warehouse]") {
  env::warehouse e({.agents = 8, .episode_length = 3});
  CHECK(e.episode_limit() == 3);
  netmarl::rng rng(0);
  const std::vector<int> a(8, 0);
  for (int episode = 0; episode < 2; ++episode) {
    const auto& first = e.reset(rng);
    CHECK_FALSE(first.episode_done);
    for (const auto d : first.agent_done) CHECK(d == 0);
    CHECK_FALSE(e.step(a).episode_done);
    CHECK_FALSE(e.step(a).episode_done);
    const auto& last = e.step(a);
    CHECK(last.episode_done);
    for (const auto d : last.agent_done) CHECK(d == 1);
    CHECK(hundredths(last.global_reward) == -8);  // eight no-ops
  }
}

TEST_CASE("warehouse: bad settings, actions and calls", "[env][warehouse]") {
  using s = env::warehouse_settings;
  for (const long n : {0, 1, 5, 12, 32}) {
    REQUIRE_THROWS_AS(env::warehouse(s{.agents = n}), invalid_argument);
    REQUIRE_THROWS_WITH(
        env::warehouse(s{.agents = n}),
        "warehouse: no layout hosts " + std::to_string(n) + " robots; layouts exist for 4, 8, 16");
  }
  REQUIRE_THROWS_WITH(env::warehouse(s{.episode_length = 0}),
                      Contains("episode_length must be at least 1, got 0"));

  env::warehouse e({.agents = 4});
  netmarl::rng rng(0);
  REQUIRE_THROWS_AS(e.step(std::vector<int>{0, 0, 0, 0}), invalid_argument);
  REQUIRE_THROWS_WITH(e.step(std::vector<int>{0, 0, 0, 0}),
                      Contains("warehouse: step called before reset"));
  REQUIRE_THROWS_WITH(e.arrange(std::vector<cell>(4), std::vector<order>(4)),
                      Contains("arrange called before reset"));
  e.reset(rng);
  REQUIRE_THROWS_WITH(e.step(std::vector<int>{0, 0, 0}),
                      Contains("warehouse: expected 4 actions, got 3"));
  REQUIRE_THROWS_WITH(e.step(std::vector<int>{0, 6, 0, 0}),
                      Contains("warehouse: action 6 of agent 1 is out of range [0, 6)"));
  REQUIRE_THROWS_WITH(e.step(std::vector<int>{0, 0, 0, -1}), Contains("action -1 of agent 3"));
  REQUIRE_THROWS_WITH(e.order(4), Contains("warehouse: robot 4 is out of range [0, 4)"));

  const std::vector<order> ok(4, items(1, 0, 0, 0));
  REQUIRE_THROWS_WITH(e.arrange(std::vector<cell>{{0, 1}, {2, 1}, {0, 3}}, ok),
                      Contains("arrange needs 4 cells and orders, got 3 and 4"));
  REQUIRE_THROWS_WITH(e.arrange(std::vector<cell>{{0, 1}, {2, 1}, {0, 3}, {1, 2}}, ok),
                      Contains("robot 3 at (1, 2) is off the map or an obstacle"));
  REQUIRE_THROWS_WITH(e.arrange(std::vector<cell>{{0, 1}, {2, 1}, {0, 3}, {5, 1}}, ok),
                      Contains("robot 3 at (5, 1) is off the map"));
  REQUIRE_THROWS_WITH(e.arrange(std::vector<cell>{{0, 1}, {2, 1}, {0, 1}, {2, 3}}, ok),
                      Contains("robot 2 at (0, 1) shares the cell of robot 0"));
  REQUIRE_THROWS_WITH(e.arrange(std::vector<cell>{{0, 1}, {2, 1}, {0, 3}, {2, 3}},
                                std::vector<order>{items(1, 0, 0, 0), items(0, 0, 0, 0),
                                                   items(1, 0, 0, 0), items(1, 0, 0, 0)}),
                      Contains("robot 1 at (2, 1) holds 0 items"));
  REQUIRE_THROWS_WITH(e.arrange(std::vector<cell>{{0, 1}, {2, 1}, {0, 3}, {2, 3}},
                                std::vector<order>{items(1, 0, 0, 0), items(3, 3, 0, 0),
                                                   items(1, 0, 0, 0), items(1, 0, 0, 0)}),
                      Contains("holds 6 items"));
  REQUIRE_THROWS_WITH(
      e.arrange(std::vector<cell>{{0, 1}, {2, 1}, {0, 3}, {2, 3}},
                std::vector<order>{
                    items(1, 0, 0, 0), {{1, 0, 0, 0}, true}, items(1, 0, 0, 0), items(1, 0, 0, 0)}),
      Contains("or none when returning"));

  env::warehouse short_episode({.agents = 4, .episode_length = 1});
  short_episode.reset(rng);
  short_episode.step(std::vector<int>{0, 0, 0, 0});
  REQUIRE_THROWS_WITH(short_episode.step(std::vector<int>{0, 0, 0, 0}),
                      Contains("warehouse: step called after the episode ended"));
}

TEST_CASE("warehouse: reset and step allocate nothing", "[env][warehouse]") {
  for (const bool paper_starts : {false, true}) {
    env::warehouse e({.agents = 16, .no_overlap_start = paper_starts});
    netmarl::rng rng(4);
    std::vector<int> actions(16, 0);
    e.reset(rng);
    const long before = netmarl::testing::heap_allocations();
    for (int episode = 0; episode < 3; ++episode) {
      e.reset(rng);
      for (int t = 0; t < 50; ++t) {
        for (auto& a : actions) a = static_cast<int>(rng.below(6));
        e.step(actions);
      }
    }
    CHECK(netmarl::testing::heap_allocations() == before);
  }
  // The counter does see allocations.
  const long before = netmarl::testing::heap_allocations();
  std::vector<int> copy(3);
  CHECK(netmarl::testing::heap_allocations() > before);
}
