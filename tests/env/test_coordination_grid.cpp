#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <new>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/env/concept.hpp"
#include "netmarl/env/coordination_grid.hpp"
#include "netmarl/graph/generators.hpp"
#include "netmarl/topology/models.hpp"

// Counts heap allocations in this binary, so "step allocates nothing" is measured.
#include "support/count_allocations.hpp"

namespace env = netmarl::env;
namespace graph = netmarl::graph;
using Catch::Contains;
using netmarl::invalid_argument;

static_assert(env::SpatialEnvironment<env::coordination_grid>);
static_assert(graph::ProvidesGraph<env::coordination_grid>);
static_assert(netmarl::TopologyFor<graph::environment_graph, env::coordination_grid>);

TEST_CASE("coordination_grid: agent_ids = false gives every agent the constant state",
          "[env][coordination_grid]") {
  env::coordination_grid e({.side = 3, .agent_ids = false});
  CHECK(e.observation_size() == 1);
  netmarl::rng rng(0);
  const auto& first = e.reset(rng);
  REQUIRE(first.observations.rows() == 9);
  REQUIRE(first.observations.cols() == 1);
  CHECK(first.observations.isZero());
  const std::vector<int> all_ones(9, 1);
  const auto& r = e.step(all_ones);
  CHECK(r.global_reward == 0.0f);
  CHECK(r.observations.isZero());
}

TEST_CASE("coordination_grid: the paper's 3x3 grid", "[env][coordination_grid]") {
  env::coordination_grid e;
  CHECK(e.name() == "coordination_grid");
  CHECK(e.num_agents() == 9);
  CHECK(e.num_actions() == 2);
  CHECK(e.observation_size() == 9);
  CHECK(e.state_size() == 1);
  CHECK(e.episode_limit() == 1);
  CHECK(graph::num_undirected_edges(e.graph()) == 12);
  REQUIRE(e.state().size() == 1);
  CHECK(e.state()[0] == 0.0f);
  // Agent r * 3 + c sits at (c, r).
  CHECK(e.positions()(5, 0) == 2.0f);
  CHECK(e.positions()(5, 1) == 1.0f);

  netmarl::rng rng(0);
  const auto& first = e.reset(rng);
  for (int i = 0; i < 9; ++i)
    for (int j = 0; j < 9; ++j) CHECK(first.observations(i, j) == (i == j ? 1.0f : 0.0f));
  // graph::environment_graph picks up the grid.
  graph::environment_graph topology;
  topology.reset(e);
  CHECK(topology.graph() == e.graph());
}

TEST_CASE("coordination_grid: all equal actions score the optimum 0", "[env][coordination_grid]") {
  env::coordination_grid e;
  netmarl::rng rng(0);
  for (const int a : {0, 1}) {
    e.reset(rng);
    const auto& r = e.step(std::vector<int>(9, a));
    CHECK(r.global_reward == 0.0f);
    for (const float ri : r.rewards) CHECK(ri == 0.0f);
    CHECK(r.episode_done);
  }
}

TEST_CASE("coordination_grid: a checkerboard on 3x3 gives -12", "[env][coordination_grid]") {
  env::coordination_grid e;
  netmarl::rng rng(0);
  e.reset(rng);
  std::vector<int> board(9);
  for (int i = 0; i < 9; ++i) board[i] = (i / 3 + i % 3) % 2;
  const auto& r = e.step(board);
  CHECK(r.global_reward == -12.0f);
  // Corner: 2 neighbours, edge middle: 3, centre: 4, each disagreeing: -1/2 per neighbour.
  CHECK(r.rewards[0] == -1.0f);
  CHECK(r.rewards[1] == -1.5f);
  CHECK(r.rewards[4] == -2.0f);
}

TEST_CASE("coordination_grid: per-agent rewards sum to the global reward",
          "[env][coordination_grid]") {
  netmarl::rng rng(21);
  for (const int side : {1, 2, 3, 5}) {
    env::coordination_grid e({.side = side});
    const int n = side * side;
    for (int trial = 0; trial < 20; ++trial) {
      e.reset(rng);
      std::vector<int> actions(n);
      for (auto& a : actions) a = static_cast<int>(rng.below(2));
      const auto& r = e.step(actions);
      float sum = 0;
      for (const float ri : r.rewards) sum += ri;
      REQUIRE(sum == r.global_reward);
      // And the global reward is minus the number of disagreeing edges.
      int disagreeing = 0;
      for (int i = 0; i < n; ++i)
        for (const auto j : graph::neighbors_excluding_self(e.graph(), i))
          if (j > i && actions[i] != actions[j]) ++disagreeing;
      REQUIRE(r.global_reward == -static_cast<float>(disagreeing));
    }
  }
}

TEST_CASE("coordination_grid: any undirected graph, longer episodes", "[env][coordination_grid]") {
  env::coordination_grid e({.graph = graph::ring(5), .episode_length = 3});
  CHECK(e.num_agents() == 5);
  CHECK(e.positions()(3, 0) == 3.0f);  // (i, 0) without given positions
  CHECK(e.positions()(3, 1) == 0.0f);
  netmarl::rng rng(0);
  e.reset(rng);
  const std::vector<int> one_differs{1, 0, 0, 0, 0};  // breaks edges {0,1} and {4,0}
  CHECK(e.step(one_differs).global_reward == -2.0f);
  CHECK_FALSE(e.step(one_differs).episode_done);
  CHECK(e.step(one_differs).episode_done);

  netmarl::matrix<float> where(5, 2);
  where.setConstant(7.0f);
  env::coordination_grid placed({.graph = graph::ring(5), .positions = where});
  CHECK(placed.positions()(2, 1) == 7.0f);
}

TEST_CASE("coordination_grid: bad actions, calls and settings", "[env][coordination_grid]") {
  env::coordination_grid e;
  netmarl::rng rng(0);
  REQUIRE_THROWS_AS(e.step(std::vector<int>(9, 0)), invalid_argument);
  REQUIRE_THROWS_WITH(e.step(std::vector<int>(9, 0)), Contains("step called before reset"));
  e.reset(rng);
  REQUIRE_THROWS_AS(e.step(std::vector<int>(8, 0)), invalid_argument);
  REQUIRE_THROWS_WITH(e.step(std::vector<int>(8, 0)),
                      Contains("coordination_grid: expected 9 actions, got 8"));
  std::vector<int> bad(9, 0);
  bad[4] = 2;
  REQUIRE_THROWS_WITH(e.step(bad), Contains("action 2 of agent 4 is out of range [0, 2)"));
  e.step(std::vector<int>(9, 1));
  REQUIRE_THROWS_WITH(e.step(std::vector<int>(9, 1)), Contains("after the episode ended"));

  using s = env::coordination_grid_settings;
  REQUIRE_THROWS_AS(env::coordination_grid(s{.side = 0}), invalid_argument);
  REQUIRE_THROWS_WITH(env::coordination_grid(s{.side = 0}),
                      Contains("side must be at least 1, got 0"));
  REQUIRE_THROWS_WITH(env::coordination_grid(s{.episode_length = 0}),
                      Contains("episode_length must be at least 1, got 0"));
  graph::csr directed;
  directed.offsets = {0, 2, 3};
  directed.indices = {0, 1, 1};
  REQUIRE_THROWS_AS(env::coordination_grid(s{.graph = directed}), invalid_argument);
  REQUIRE_THROWS_WITH(env::coordination_grid(s{.graph = directed}), Contains("must be undirected"));
  graph::csr broken = graph::line(3);
  broken.indices[0] = 2;
  REQUIRE_THROWS_WITH(env::coordination_grid(s{.graph = broken}),
                      Contains("settings.graph: node 0's first neighbour is 2"));
  REQUIRE_THROWS_AS(
      env::coordination_grid(s{.graph = graph::line(3), .positions = netmarl::matrix<float>(2, 2)}),
      netmarl::shape_error);
  REQUIRE_THROWS_WITH(
      env::coordination_grid(s{.graph = graph::line(3), .positions = netmarl::matrix<float>(2, 2)}),
      Contains("settings.positions must be [3, 2], got [2, 2]"));
}

TEST_CASE("coordination_grid: reset and step allocate nothing", "[env][coordination_grid]") {
  env::coordination_grid e({.side = 4, .episode_length = 1000});
  netmarl::rng rng(4);
  std::vector<int> actions(16, 1);
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
