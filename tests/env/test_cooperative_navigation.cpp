#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <utility>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/env/concept.hpp"
#include "netmarl/env/cooperative_navigation.hpp"
#include "netmarl/graph/csr.hpp"
#include "netmarl/topology/models.hpp"

// Counts heap allocations in this binary, so "step allocates nothing" is measured.
#include "support/count_allocations.hpp"

namespace env = netmarl::env;
namespace graph = netmarl::graph;
using Catch::Contains;
using netmarl::invalid_argument;
using idx = netmarl::index;
using nav = env::cooperative_navigation;
using nav_settings = env::cooperative_navigation_settings;

static_assert(env::Environment<nav>);
static_assert(env::SpatialEnvironment<nav>);
static_assert(!env::HasEpisodeMetric<nav>);  // the metric is the summed global reward
static_assert(netmarl::TopologyFor<graph::k_nearest<3>, nav>);

namespace {
constexpr int noop = nav::noop, plus_x = nav::plus_x, minus_x = nav::minus_x, plus_y = nav::plus_y,
              minus_y = nav::minus_y;

netmarl::matrix<double> points(std::initializer_list<std::pair<double, double>> xy) {
  netmarl::matrix<double> m(static_cast<idx>(xy.size()), 2);
  idx i = 0;
  for (const auto& [x, y] : xy) {
    m(i, 0) = x;
    m(i, 1) = y;
    ++i;
  }
  return m;
}

// A scene with fixed agents and landmarks.
nav_settings scene(netmarl::matrix<double> agents, netmarl::matrix<double> landmarks) {
  nav_settings s;
  s.agents = agents.rows();
  s.landmarks = landmarks.rows();
  s.initial_agent_positions = std::move(agents);
  s.initial_landmark_positions = std::move(landmarks);
  return s;
}

void check_agent(const nav& e, idx i, double x, double y, double vx, double vy) {
  INFO("agent " << i);
  CHECK(e.positions()(i, 0) == Approx(x).margin(1e-6));
  CHECK(e.positions()(i, 1) == Approx(y).margin(1e-6));
  CHECK(e.velocities()(i, 0) == Approx(vx).margin(1e-6));
  CHECK(e.velocities()(i, 1) == Approx(vy).margin(1e-6));
}

float reward_sum(const env::step_result& r) {
  double sum = 0;
  for (const float ri : r.rewards) sum += ri;
  return static_cast<float>(sum);
}

// The 7-agent scene of the collision tests: agents 0-2 overlap pairwise (3 pairs), 3-4 overlap (1
// pair), 5-6 are 0.11 apart (no collision at size 0.05). Landmarks: the nearest agent of
// landmark 0 is agent 1 at 0.24, of landmark 1 agent 5 at 0.5, of landmark 2 agents 3 and 4 at
// 0.04.
nav_settings seven_agents() {
  nav_settings s = scene(
      points(
          {{0, 0}, {0.06, 0}, {0.03, 0.05}, {0.5, 0.5}, {0.5, 0.58}, {-0.5, -0.5}, {-0.5, -0.39}}),
      points({{0.3, 0}, {-0.8, -0.9}, {0.5, 0.54}}));
  s.contact_force = 0;  // no contacts: no-op steps keep every agent where it was put
  return s;
}

// sum_{i<j} log(max(d_ij, floor)) over the rows of `p`, computed directly.
double log_distance_sum(const netmarl::matrix<double>& p, double floor) {
  double sum = 0;
  for (idx i = 0; i < p.rows(); ++i)
    for (idx j = i + 1; j < p.rows(); ++j)
      sum += std::log(std::max(std::hypot(p(i, 0) - p(j, 0), p(i, 1) - p(j, 1)), floor));
  return sum;
}
}  // namespace

TEST_CASE("cooperative_navigation: sizes and defaults", "[env][cooperative_navigation]") {
  nav e;
  CHECK(e.name() == "cooperative_navigation");
  CHECK(e.num_agents() == 15);
  CHECK(e.num_landmarks() == 15);
  CHECK(e.num_actions() == 5);
  CHECK(e.observation_size() == 26);  // the paper's observation size
  CHECK(e.state_size() == 4 * 15 + 2 * 15);
  CHECK(e.episode_limit() == 25);
  CHECK(e.state().size() == 90u);
  CHECK(e.positions().rows() == 15);
  CHECK(e.positions().cols() == 2);
  CHECK(e.config().agent_size == 0.05);
  CHECK(e.config().violation_weight == 0.0);
  const auto s = env::spec_of(e);
  CHECK(s.agents == 15);
  CHECK(s.observation_size == 26);

  nav sized({.agents = 30, .landmarks = 10, .observed_landmarks = 0, .observed_agents = 0});
  CHECK(sized.num_agents() == 30);
  CHECK(sized.num_landmarks() == 10);
  CHECK(sized.observation_size() == 4);
  CHECK(sized.state_size() == 4 * 30 + 2 * 10);
  nav pic_counts({.agents = 200, .observed_landmarks = 6, .observed_agents = 5});
  CHECK(pic_counts.num_landmarks() == 200);
  CHECK(pic_counts.observation_size() == 26);
}

TEST_CASE("cooperative_navigation: reset draws positions in the box, velocities 0",
          "[env][cooperative_navigation]") {
  netmarl::rng rng(1);
  for (const double radius : {1.0, 2.2}) {
    nav e({.agents = 200, .world_radius = radius});
    const auto& r = e.reset(rng);
    CHECK_FALSE(r.episode_done);
    float largest = 0;
    for (idx i = 0; i < 200; ++i)
      for (idx c = 0; c < 2; ++c) {
        REQUIRE(std::abs(e.positions()(i, c)) <= radius);
        REQUIRE(std::abs(e.landmark_positions()(i, c)) <= radius);
        REQUIRE(e.velocities()(i, c) == 0.0f);
        largest = std::max(largest, std::abs(e.positions()(i, c)));
      }
    CHECK(largest > 0.9 * radius);  // the draws fill the box, not a corner of it
    // The state: per agent (x, y, vx, vy), then per landmark (x, y); observations start with the
    // agent's own position and velocity.
    const auto s = e.state();
    for (idx i = 0; i < 200; ++i) {
      CHECK(s[static_cast<std::size_t>(4 * i)] == e.positions()(i, 0));
      CHECK(s[static_cast<std::size_t>(4 * i + 1)] == e.positions()(i, 1));
      CHECK(s[static_cast<std::size_t>(4 * i + 2)] == 0.0f);
      CHECK(s[static_cast<std::size_t>(800 + 2 * i + 1)] == e.landmark_positions()(i, 1));
      CHECK(r.observations(i, 0) == e.positions()(i, 0));
      CHECK(r.observations(i, 1) == e.positions()(i, 1));
    }
  }
  // Fixed landmarks with random agents: only the agents move between resets.
  nav_settings s;
  s.agents = 3;
  s.landmarks = 2;
  s.initial_landmark_positions = points({{0.25, -0.5}, {3, 4}});
  nav e(s);
  e.reset(rng);
  const netmarl::matrix<float> first = e.positions();
  e.reset(rng);
  CHECK(e.positions() != first);
  CHECK(e.landmark_positions()(0, 0) == 0.25f);
  CHECK(e.landmark_positions()(1, 1) == 4.0f);
}

TEST_CASE("cooperative_navigation: one agent's motion, by hand", "[env][cooperative_navigation]") {
  nav e(scene(points({{0.2, -0.3}}), points({{0.5, 0.5}})));
  netmarl::rng rng(0);
  e.reset(rng);
  check_agent(e, 0, 0.2, -0.3, 0, 0);

  SECTION("pushing +x for two steps: v = 0.75 v + 5 * 0.1, p += 0.1 v") {
    const auto& r1 = e.step(std::vector<int>{plus_x});
    check_agent(e, 0, 0.25, -0.3, 0.5, 0);
    CHECK(r1.global_reward == Approx(-std::sqrt(0.25 * 0.25 + 0.8 * 0.8)).margin(1e-6));
    CHECK(r1.rewards[0] == r1.global_reward);
    // Observation: own position, own velocity, the landmark relative to the agent, then zeros for
    // the 4 missing landmarks and the 6 missing other agents.
    const float want[] = {0.25f, -0.3f, 0.5f, 0, 0.25f, 0.8f};
    for (idx k = 0; k < 6; ++k) CHECK(r1.observations(0, k) == Approx(want[k]).margin(1e-6));
    for (idx k = 6; k < 26; ++k) CHECK(r1.observations(0, k) == 0.0f);
    e.step(std::vector<int>{plus_x});
    check_agent(e, 0, 0.3375, -0.3, 0.875, 0);
  }
  SECTION("the other directions") {
    e.step(std::vector<int>{minus_x});
    check_agent(e, 0, 0.15, -0.3, -0.5, 0);
    e.reset(rng);
    e.step(std::vector<int>{plus_y});
    check_agent(e, 0, 0.2, -0.25, 0, 0.5);
    e.reset(rng);
    e.step(std::vector<int>{minus_y});
    check_agent(e, 0, 0.2, -0.35, 0, -0.5);
  }
  SECTION("damping: no-op keeps 75% of the velocity") {
    e.step(std::vector<int>{plus_x});
    e.step(std::vector<int>{noop});
    check_agent(e, 0, 0.2875, -0.3, 0.375, 0);
    e.step(std::vector<int>{noop});
    check_agent(e, 0, 0.315625, -0.3, 0.28125, 0);
    // State holds the same numbers.
    CHECK(e.state()[0] == Approx(0.315625).margin(1e-6));
    CHECK(e.state()[2] == Approx(0.28125).margin(1e-6));
    CHECK(e.state()[4] == 0.5f);  // the landmark
  }
  SECTION("no-op from rest stays put exactly") {
    for (int t = 0; t < 5; ++t) e.step(std::vector<int>{noop});
    check_agent(e, 0, 0.2, -0.3, 0, 0);
    CHECK(e.positions()(0, 0) == 0.2f);
  }
}

TEST_CASE("cooperative_navigation: contacts push overlapping agents apart symmetrically",
          "[env][cooperative_navigation]") {
  netmarl::rng rng(0);
  const std::vector<int> idle{noop, noop};
  SECTION("overlap 0.08 along x: force 100 * 0.08 = 8 each way") {
    nav e(scene(points({{-0.01, 0.3}, {0.01, 0.3}}), points({{0, 0}})));
    e.reset(rng);
    CHECK(e.colliding_pairs() == 1);
    const auto& r = e.step(idle);
    check_agent(e, 0, -0.09, 0.3, -0.8, 0);
    check_agent(e, 1, 0.09, 0.3, 0.8, 0);
    CHECK(e.velocities()(0, 0) + e.velocities()(1, 0) == 0.0f);  // momentum conserved
    // 0.18 apart after the step: no collision is charged; the landmark is |(0.09, 0.3)| away.
    CHECK(e.colliding_pairs() == 0);
    CHECK(r.global_reward == Approx(-std::hypot(0.09, 0.3)).margin(1e-6));
  }
  SECTION("overlap 0.05 on a diagonal: force 5 along (0.6, 0.8)") {
    nav e(scene(points({{0, 0}, {0.03, 0.04}}), points({{0, 0}})));
    e.reset(rng);
    e.step(idle);
    check_agent(e, 0, -0.03, -0.04, -0.3, -0.4);
    check_agent(e, 1, 0.06, 0.08, 0.3, 0.4);
  }
  SECTION("just touching: the soft contact still pushes, 100 * 1e-3 * log 2") {
    nav e(scene(points({{0, 0}, {0.1, 0}}), points({{0, 0}})));
    e.reset(rng);
    CHECK(e.colliding_pairs() == 0);  // distance 0.1 is not < 2 * 0.05
    e.step(idle);
    const double v = 0.1 * std::log(2.0) * 0.1;
    CHECK(e.velocities()(0, 0) == Approx(-v).margin(1e-9));
    CHECK(e.velocities()(1, 0) == Approx(v).margin(1e-9));
    CHECK(e.positions()(0, 0) == Approx(-0.1 * v).margin(1e-9));
  }
  SECTION("far apart: no force at all") {
    nav e(scene(points({{0, 0}, {0.5, 0}}), points({{0, 0}})));
    e.reset(rng);
    e.step(idle);
    CHECK(e.velocities().isZero(0));
    CHECK(e.positions()(1, 0) == 0.5f);
  }
  SECTION("contact adds to the action forces") {
    nav e(scene(points({{-0.01, 0.3}, {0.01, 0.3}}), points({{0, 0}})));
    e.reset(rng);
    e.step(std::vector<int>{plus_x, plus_y});
    check_agent(e, 0, -0.01 + 0.1 * (0.5 - 0.8), 0.3, 0.5 - 0.8, 0);
    check_agent(e, 1, 0.09, 0.35, 0.8, 0.5);
  }
  SECTION("coincident agents get no contact force (MPE would divide by 0) but collide") {
    nav e(scene(points({{0.2, 0.2}, {0.2, 0.2}}), points({{0, 0}})));
    e.reset(rng);
    const auto& r = e.step(idle);
    CHECK(e.velocities().isZero(0));
    CHECK(e.colliding_pairs() == 1);
    CHECK(r.global_reward == Approx(-std::hypot(0.2, 0.2) - 1).margin(1e-6));
  }
}

TEST_CASE("cooperative_navigation: collisions count once per pair; the landmark term",
          "[env][cooperative_navigation]") {
  netmarl::rng rng(0);
  const std::vector<int> idle(7, noop);
  SECTION("size 0.05: 3 + 1 pairs") {
    nav e(seven_agents());
    e.reset(rng);
    CHECK(e.colliding_pairs() == 4);
    CHECK(e.landmark_distance() == Approx(0.24 + 0.5 + 0.04));
    CHECK(e.occupied_landmarks() == 1);
    const auto& r = e.step(idle);
    CHECK(e.positions()(2, 1) == 0.05f);  // contacts off: nobody moved
    CHECK(e.colliding_pairs() == 4);
    CHECK(r.global_reward == Approx(-0.78 - 4).margin(1e-6));
    for (const float ri : r.rewards) CHECK(ri == Approx(-4.78 / 7).margin(1e-6));
    CHECK(reward_sum(r) == Approx(r.global_reward).margin(1e-5));
  }
  SECTION("size 0.056: the pair 0.11 apart collides too") {
    nav_settings s = seven_agents();
    s.agent_size = 0.056;
    nav e(s);
    e.reset(rng);
    const auto& r = e.step(idle);
    CHECK(e.colliding_pairs() == 5);
    CHECK(r.global_reward == Approx(-0.78 - 5).margin(1e-6));
  }
  SECTION("with contacts on, the overlaps are pushed apart within a step") {
    nav_settings s = seven_agents();
    s.contact_force = 100;
    nav e(s);
    e.reset(rng);
    e.step(idle);
    CHECK(e.colliding_pairs() < 4);
  }
}

TEST_CASE("cooperative_navigation: the assumption-violation reward adds w * sum log d_ij",
          "[env][cooperative_navigation]") {
  netmarl::rng rng(0);
  SECTION("two agents, by hand") {
    nav_settings s = scene(points({{0, 0}, {0.6, 0}}), points({{0, 0}}));
    s.violation_weight = 2;
    nav e(s);
    e.reset(rng);
    const auto& r = e.step(std::vector<int>{noop, noop});
    CHECK(r.global_reward == Approx(2 * std::log(0.6)).margin(1e-6));
    CHECK(e.log_distance_sum() == Approx(std::log(0.6)));
    CHECK(r.rewards[0] == Approx(std::log(0.6)).margin(1e-6));  // shared: team / N
    CHECK(r.rewards[1] == r.rewards[0]);
  }
  SECTION("a colliding pair counts as log(2 size), so the term stays finite") {
    nav_settings s = scene(points({{0, 0}, {0.02, 0}}), points({{0, 0}}));
    s.violation_weight = 2;
    s.contact_force = 0;
    nav e(s);
    e.reset(rng);
    const auto& r = e.step(std::vector<int>{noop, noop});
    CHECK(r.global_reward == Approx(-1 + 2 * std::log(0.1)).margin(1e-6));
    nav_settings coincident = s;
    coincident.initial_agent_positions = points({{0.3, 0.3}, {0.3, 0.3}});
    nav c(coincident);
    c.reset(rng);
    CHECK(std::isfinite(c.step(std::vector<int>{noop, noop}).global_reward));
  }
  SECTION("the seven-agent scene") {
    nav_settings s = seven_agents();
    s.violation_weight = 0.5;
    const double logs = log_distance_sum(*s.initial_agent_positions, 0.1);
    nav e(s);
    e.reset(rng);
    const auto& r = e.step(std::vector<int>(7, noop));
    CHECK(e.log_distance_sum() == Approx(logs));
    CHECK(r.global_reward == Approx(-4.78 + 0.5 * logs).margin(1e-5));
    CHECK(reward_sum(r) == Approx(r.global_reward).margin(1e-5));
    // Off by default: the same scene without the weight gives the plain team reward.
    nav plain(seven_agents());
    plain.reset(rng);
    CHECK(plain.step(std::vector<int>(7, noop)).global_reward == Approx(-4.78).margin(1e-6));
    CHECK(plain.log_distance_sum() == 0.0);
  }
}

TEST_CASE("cooperative_navigation: observation layout, sorting, ties and zero padding",
          "[env][cooperative_navigation]") {
  // Agent 0 at the origin; landmark 2 is 0.1 away, landmarks 0 and 1 both 0.2 away (a tie: the
  // lower index first), landmark 3 far. 3 landmark slots, 6 agent slots for 3 agents.
  nav_settings s = scene(points({{0, 0}, {0.3, 0.4}, {-0.3, 0}}),
                         points({{0, 0.2}, {0.2, 0}, {-0.1, 0}, {1, 1}}));
  s.observed_landmarks = 3;
  nav e(s);
  REQUIRE(e.observation_size() == 4 + 6 + 12);
  netmarl::rng rng(0);
  const auto& r = e.reset(rng);
  const auto row = [&](idx i) {
    std::vector<float> out;
    for (idx k = 0; k < r.observations.cols(); ++k) out.push_back(r.observations(i, k));
    return out;
  };
  const auto check_row = [&](idx i, const std::vector<double>& want) {
    INFO("agent " << i);
    const auto got = row(i);
    REQUIRE(got.size() == want.size());
    for (std::size_t k = 0; k < want.size(); ++k) {
      INFO("entry " << k);
      CHECK(got[k] == Approx(want[k]).margin(1e-6));
    }
  };
  // clang-format off
  // own (x, y), own (vx, vy), landmarks 2, 0, 1 relative, agents 2, 1 relative, 4 empty slots.
  check_row(0, {0, 0, 0, 0, -0.1, 0, 0, 0.2, 0.2, 0, -0.3, 0, 0.3, 0.4, 0, 0, 0, 0, 0, 0, 0, 0});
  // Agent 1 at (0.3, 0.4): landmarks 0 (d^2 0.13), 1 (0.17), 2 (0.32); agents 0 (0.25), 2 (0.52).
  check_row(1, {0.3, 0.4, 0, 0, -0.3, -0.2, -0.1, -0.4, -0.4, -0.4, -0.3, -0.4, -0.6, -0.4, 0, 0,
                0, 0, 0, 0, 0, 0});
  // Agent 2 at (-0.3, 0): landmarks 2 (0.04), 0 (0.13), 1 (0.25); agents 0 (0.09), 1 (0.52).
  check_row(2, {-0.3, 0, 0, 0, 0.2, 0, 0.3, 0.2, 0.5, 0, 0.3, 0, 0.6, 0.4, 0, 0, 0, 0, 0, 0, 0, 0});
  // clang-format on

  // Agent 0 moves +y twice, to (0, 0.1375) at speed 0.875: landmark 0 becomes its nearest
  // (0.0625), then 2 (d^2 0.0289), then 1 (0.0589); agent 2 (d^2 0.1089) before agent 1 (0.1589).
  e.step(std::vector<int>{plus_y, noop, noop});
  e.step(std::vector<int>{plus_y, noop, noop});
  // clang-format off
  check_row(0, {0, 0.1375, 0, 0.875, 0, 0.0625, -0.1, -0.1375, 0.2, -0.1375, -0.3, -0.1375, 0.3,
                0.2625, 0, 0, 0, 0, 0, 0, 0, 0});
  check_row(1, {0.3, 0.4, 0, 0, -0.3, -0.2, -0.1, -0.4, -0.4, -0.4, -0.3, -0.2625, -0.6, -0.4, 0,
                0, 0, 0, 0, 0, 0, 0});
  // clang-format on

  // No slots at all: just position and velocity.
  nav_settings bare = s;
  bare.observed_landmarks = 0;
  bare.observed_agents = 0;
  nav b(bare);
  const auto& rb = b.reset(rng);
  REQUIRE(rb.observations.cols() == 4);
  CHECK(rb.observations(1, 0) == 0.3f);
  CHECK(rb.observations(1, 1) == 0.4f);
}

TEST_CASE("cooperative_navigation: graph::k_nearest reads positions()",
          "[env][cooperative_navigation]") {
  nav e(scene(points({{0, 0}, {0.3, 0.4}, {-0.3, 0}, {2, 2}}), points({{0, 0}})));
  netmarl::rng rng(0);
  e.reset(rng);
  graph::k_nearest<2> topology;
  topology.reset(e);
  const auto& g = topology.graph();
  REQUIRE(graph::num_nodes(g) == 4);
  CHECK(graph::has_edge(g, 0, 1));
  CHECK(graph::has_edge(g, 0, 2));
  CHECK_FALSE(graph::has_edge(g, 0, 3));
  CHECK(graph::has_edge(g, 3, 0));  // agent 3's nearest: 1 (d^2 5.45), 0 (8); not 2 (9.29)
  CHECK(graph::has_edge(g, 3, 1));
  CHECK_FALSE(graph::has_edge(g, 3, 2));
  // Agent 3 runs -x for 15 steps, to x = -0.41: now agents 1 (d^2 3.06) and 2 (4.01) are its
  // nearest, agent 0 (4.17) is not. The graph follows on update.
  for (int t = 0; t < 15; ++t) e.step(std::vector<int>{noop, noop, noop, minus_x});
  REQUIRE(e.positions()(3, 0) == Approx(-0.408).margin(1e-3));
  topology.update(e);
  CHECK(graph::has_edge(topology.graph(), 3, 1));
  CHECK(graph::has_edge(topology.graph(), 3, 2));
  CHECK_FALSE(graph::has_edge(topology.graph(), 3, 0));
}

TEST_CASE("cooperative_navigation: invariants over many random steps",
          "[env][cooperative_navigation]") {
  netmarl::rng rng(2024), policy(7);
  for (const double weight : {0.0, 0.05}) {
    nav e({.agents = 30, .violation_weight = weight});
    const nav_settings& s = e.config();
    std::vector<int> actions(30);
    int steps = 0;
    for (int episode = 0; episode < 40; ++episode) {
      e.reset(rng);
      netmarl::matrix<float> velocity = e.velocities();
      for (int t = 1; t <= 25; ++t) {
        double push_x = 0, push_y = 0;  // sum of the action forces
        for (auto& a : actions) {
          a = static_cast<int>(policy.below(5));
          push_x += a == plus_x ? 5 : a == minus_x ? -5 : 0;
          push_y += a == plus_y ? 5 : a == minus_y ? -5 : 0;
        }
        const auto& r = e.step(actions);
        ++steps;
        REQUIRE(r.episode_done == (t == 25));
        for (const auto d : r.agent_done) REQUIRE(d == (t == 25 ? 1 : 0));
        REQUIRE(std::isfinite(r.global_reward));
        REQUIRE(reward_sum(r) == Approx(r.global_reward).margin(1e-4));
        for (const float ri : r.rewards) REQUIRE(ri == r.rewards[0]);
        // The team reward recomputed from positions() and landmark_positions().
        const auto& p = e.positions();
        const auto& l = e.landmark_positions();
        double landmark_distance = 0;
        idx occupied = 0, colliding = 0;
        double logs = 0;
        for (idx m = 0; m < l.rows(); ++m) {
          double nearest = std::numeric_limits<double>::infinity();
          for (idx i = 0; i < 30; ++i)
            nearest =
                std::min(nearest, std::hypot(double(p(i, 0)) - l(m, 0), double(p(i, 1)) - l(m, 1)));
          landmark_distance += nearest;
          occupied += nearest < 0.1 ? 1 : 0;
        }
        for (idx i = 0; i < 30; ++i)
          for (idx j = i + 1; j < 30; ++j) {
            const double d = std::hypot(double(p(i, 0)) - p(j, 0), double(p(i, 1)) - p(j, 1));
            colliding += d < 0.1 ? 1 : 0;
            logs += std::log(std::max(d, 0.1));
          }
        REQUIRE(e.landmark_distance() == Approx(landmark_distance).margin(1e-4));
        REQUIRE(e.colliding_pairs() == colliding);
        REQUIRE(e.occupied_landmarks() == occupied);
        REQUIRE(r.global_reward ==
                Approx(-landmark_distance - double(colliding) + weight * logs).margin(1e-3));
        if (weight == 0) REQUIRE(r.global_reward <= 0.0f);
        for (idx k = 0; k < r.observations.size(); ++k)
          REQUIRE(std::isfinite(r.observations.data()[k]));
        for (const float x : e.state()) REQUIRE(std::isfinite(x));
        // Contact forces cancel in pairs, so the total momentum changes by the actions alone.
        REQUIRE(e.velocities().col(0).sum() ==
                Approx((1 - s.damping) * velocity.col(0).sum() + s.dt * push_x).margin(1e-4));
        REQUIRE(e.velocities().col(1).sum() ==
                Approx((1 - s.damping) * velocity.col(1).sum() + s.dt * push_y).margin(1e-4));
        velocity = e.velocities();
        for (idx i = 0; i < 30; ++i) {
          REQUIRE(std::abs(e.positions()(i, 0)) < 100);
          REQUIRE(std::abs(e.positions()(i, 1)) < 100);
          REQUIRE(r.observations(i, 0) == e.positions()(i, 0));
          REQUIRE(r.observations(i, 3) == e.velocities()(i, 1));
          REQUIRE(e.state()[static_cast<std::size_t>(4 * i + 2)] == e.velocities()(i, 0));
          // Slot m holds the m-th nearest landmark / other agent: its distance is the m-th
          // smallest, recomputed here from positions() (distances, not indices, so a near tie
          // that float rounding orders differently cannot fail the test).
          for (const bool of_landmarks : {true, false}) {
            const auto& others = of_landmarks ? l : p;
            std::vector<float> sorted;
            for (idx j = 0; j < others.rows(); ++j)
              if (of_landmarks || j != i)
                sorted.push_back(std::hypot(others(j, 0) - p(i, 0), others(j, 1) - p(i, 1)));
            std::sort(sorted.begin(), sorted.end());
            const idx first = of_landmarks ? 4 : 14, slots = of_landmarks ? 5 : 6;
            for (idx m = 0; m < slots; ++m) {
              const float d = std::hypot(r.observations(i, first + 2 * m),
                                         r.observations(i, first + 2 * m + 1));
              REQUIRE(d == Approx(sorted[static_cast<std::size_t>(m)]).margin(1e-5));
            }
          }
        }
      }
      REQUIRE_THROWS_WITH(e.step(actions), Contains("after the episode ended"));
    }
    CHECK(steps == 1000);
  }
}

TEST_CASE("cooperative_navigation: the same seed gives the same trajectory",
          "[env][cooperative_navigation]") {
  const auto run = [](std::uint64_t seed) {
    nav e({.agents = 20, .violation_weight = 0.1});
    netmarl::rng rng(seed), policy(seed + 1);
    std::vector<float> trace;
    const auto record = [&](const env::step_result& r) {
      for (idx k = 0; k < r.observations.size(); ++k) trace.push_back(r.observations.data()[k]);
      trace.push_back(r.global_reward);
      for (const float ri : r.rewards) trace.push_back(ri);
      for (const float x : e.state()) trace.push_back(x);
    };
    std::vector<int> actions(20);
    for (int episode = 0; episode < 2; ++episode) {
      record(e.reset(rng));
      bool done = false;
      while (!done) {
        for (auto& a : actions) a = static_cast<int>(policy.below(5));
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

TEST_CASE("cooperative_navigation: bad settings, actions and calls",
          "[env][cooperative_navigation]") {
  using s = nav_settings;
  REQUIRE_THROWS_AS(nav(s{.agents = 0}), invalid_argument);
  REQUIRE_THROWS_WITH(nav(s{.agents = 0}),
                      Contains("cooperative_navigation: agents must be at least 1, got 0"));
  REQUIRE_THROWS_WITH(nav(s{.landmarks = 0}), Contains("landmarks must be at least 1, got 0"));
  REQUIRE_THROWS_WITH(nav(s{.agent_size = 0}),
                      Contains("agent_size must be positive and finite, got 0"));
  REQUIRE_THROWS_WITH(nav(s{.agent_size = -0.5}), Contains("got -0.5"));
  REQUIRE_THROWS_WITH(nav(s{.agent_size = INFINITY}), Contains("got inf"));
  REQUIRE_THROWS_WITH(nav(s{.observed_landmarks = -1}),
                      Contains("observed_landmarks must not be negative, got -1"));
  REQUIRE_THROWS_WITH(nav(s{.observed_agents = -2}),
                      Contains("observed_agents must not be negative, got -2"));
  REQUIRE_THROWS_WITH(nav(s{.episode_length = 0}),
                      Contains("episode_length must be at least 1, got 0"));
  REQUIRE_THROWS_WITH(nav(s{.violation_weight = NAN}),
                      Contains("violation_weight must be finite, got nan"));
  REQUIRE_THROWS_WITH(nav(s{.violation_weight = -INFINITY}), Contains("got -inf"));
  REQUIRE_THROWS_WITH(nav(s{.world_radius = 0}), Contains("world_radius must be positive"));
  REQUIRE_THROWS_WITH(nav(s{.accel = -5}), Contains("accel must be non-negative and finite"));
  REQUIRE_THROWS_WITH(nav(s{.damping = 1.5}), Contains("damping must be in [0, 1], got 1.5"));
  REQUIRE_THROWS_WITH(nav(s{.dt = 0}), Contains("dt must be positive and finite, got 0"));
  REQUIRE_THROWS_WITH(nav(s{.mass = -1}), Contains("mass must be positive and finite, got -1"));
  REQUIRE_THROWS_WITH(nav(s{.contact_force = -100}),
                      Contains("contact_force must be non-negative and finite, got -100"));
  REQUIRE_THROWS_WITH(nav(s{.contact_margin = 0}), Contains("contact_margin must be positive"));
  s wrong_shape;
  wrong_shape.agents = 3;
  wrong_shape.initial_agent_positions = points({{0, 0}, {1, 1}});
  REQUIRE_THROWS_AS(nav(wrong_shape), netmarl::shape_error);
  REQUIRE_THROWS_WITH(nav(wrong_shape),
                      Contains("settings.initial_agent_positions must be [3, 2], got [2, 2]"));
  s not_finite;
  not_finite.agents = 1;
  not_finite.landmarks = 2;
  not_finite.initial_landmark_positions = points({{0, 0}, {NAN, 1}});
  REQUIRE_THROWS_WITH(nav(not_finite),
                      Contains("settings.initial_landmark_positions row 1 is not finite (nan, 1)"));

  nav e;
  netmarl::rng rng(0);
  REQUIRE_THROWS_AS(e.step(std::vector<int>(15, 0)), invalid_argument);
  REQUIRE_THROWS_WITH(e.step(std::vector<int>(15, 0)), Contains("step called before reset"));
  e.reset(rng);
  const netmarl::matrix<float> before = e.positions();
  REQUIRE_THROWS_WITH(e.step(std::vector<int>(14, 0)),
                      Contains("cooperative_navigation: expected 15 actions, got 14"));
  std::vector<int> bad(15, plus_x);
  bad[4] = 5;
  REQUIRE_THROWS_WITH(e.step(bad), Contains("action 5 of agent 4 is out of range [0, 5)"));
  bad[4] = -1;
  REQUIRE_THROWS_WITH(e.step(bad), Contains("action -1 of agent 4"));
  CHECK(e.positions() == before);  // a rejected step changes nothing
  CHECK(e.velocities().isZero(0));

  nav short_one({.agents = 2, .episode_length = 2});
  short_one.reset(rng);
  CHECK_FALSE(short_one.step(std::vector<int>(2, 0)).episode_done);
  const auto& last = short_one.step(std::vector<int>(2, 0));
  CHECK(last.episode_done);
  for (const auto d : last.agent_done) CHECK(d == 1);
  REQUIRE_THROWS_WITH(short_one.step(std::vector<int>(2, 0)), Contains("after the episode ended"));
  const auto& again = short_one.reset(rng);
  CHECK_FALSE(again.episode_done);
  for (const auto d : again.agent_done) CHECK(d == 0);
  CHECK_FALSE(short_one.step(std::vector<int>(2, 0)).episode_done);
}

TEST_CASE("cooperative_navigation: reset and step allocate nothing",
          "[env][cooperative_navigation]") {
  nav e({.agents = 200, .violation_weight = 0.01});
  netmarl::rng rng(4), policy(5);
  std::vector<int> actions(200, 0);
  e.reset(rng);
  const long before = netmarl::testing::heap_allocations();
  for (int episode = 0; episode < 3; ++episode) {
    e.reset(rng);
    bool done = false;
    while (!done) {
      for (auto& a : actions) a = static_cast<int>(policy.below(5));
      done = e.step(actions).episode_done;
    }
  }
  CHECK(netmarl::testing::heap_allocations() == before);
  // The counter does see allocations.
  std::vector<int> copy = actions;
  CHECK(netmarl::testing::heap_allocations() > before);
}
