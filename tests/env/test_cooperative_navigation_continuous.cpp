// Cooperative navigation with continuous actions (settings.continuous_actions): the force is
// accel * (a_x, a_y) (MPE environment.py _set_action, continuous branch), physics by hand, the
// same trajectory as the discrete actions where they coincide, range checks, the wrong-overload
// error and the concepts it meets.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "netmarl/env/cooperative_navigation.hpp"

namespace env = netmarl::env;
using nav = env::cooperative_navigation;
using idx = netmarl::index;

static_assert(env::Environment<nav>);
static_assert(env::ContinuousEnvironment<nav>);
static_assert(env::SelectsActionSpace<nav>);
static_assert(env::SpatialEnvironment<nav>);

namespace {
netmarl::matrix<double> rows(std::initializer_list<std::pair<double, double>> xy) {
  netmarl::matrix<double> m(static_cast<idx>(xy.size()), 2);
  idx i = 0;
  for (auto [x, y] : xy) {
    m(i, 0) = x;
    m(i, 1) = y;
    ++i;
  }
  return m;
}

// Two agents far apart (no contact force), one landmark, fixed starts.
nav::settings two_agents(bool continuous) {
  nav::settings s;
  s.agents = 2;
  s.landmarks = 1;
  s.observed_landmarks = 1;
  s.observed_agents = 1;
  s.episode_length = 5;
  s.continuous_actions = continuous;
  s.initial_agent_positions = rows({{-0.5, 0.0}, {0.5, 0.25}});
  s.initial_landmark_positions = rows({{0.0, 0.0}});
  return s;
}
}  // namespace

TEST_CASE("cooperative_navigation: the action space follows settings.continuous_actions",
          "[env][cooperative_navigation][continuous]") {
  nav discrete(two_agents(false)), continuous(two_agents(true));
  CHECK(discrete.num_actions() == 5);
  CHECK(discrete.action_size() == 0);
  CHECK_FALSE(discrete.continuous_actions());
  CHECK(continuous.num_actions() == 0);
  CHECK(continuous.action_size() == 2);
  CHECK(continuous.continuous_actions());

  const env::spec d = env::spec_of(discrete), c = env::spec_of(continuous);
  CHECK(d.actions == 5);
  CHECK(d.action_size == 0);
  CHECK_FALSE(d.continuous_actions());
  CHECK(c.actions == 0);
  CHECK(c.action_size == 2);
  CHECK(c.continuous_actions());
  CHECK(c.observation_size == d.observation_size);
}

TEST_CASE("cooperative_navigation: a continuous action is the force accel * a (by hand)",
          "[env][cooperative_navigation][continuous]") {
  nav e(two_agents(true));
  netmarl::rng g(1);
  e.reset(g);
  const double accel = 5, dt = 0.1, keep = 0.75;  // MPE defaults: mass 1, damping 0.25
  const std::vector<std::vector<float>> actions = {{0.5f, -1.0f, 0.25f, 0.75f},
                                                   {-0.2f, 0.0f, 1.0f, -0.6f}};
  double p[2][2] = {{-0.5, 0.0}, {0.5, 0.25}}, v[2][2] = {{0, 0}, {0, 0}};
  for (const auto& a : actions) {
    const auto& r = e.step(std::span<const float>(a));
    for (int i = 0; i < 2; ++i)
      for (int k = 0; k < 2; ++k) {
        v[i][k] = v[i][k] * keep + accel * static_cast<double>(a[2 * i + k]) * dt;
        p[i][k] += v[i][k] * dt;
        CHECK(e.velocities()(i, k) == Approx(v[i][k]).margin(1e-6));
        CHECK(e.positions()(i, k) == Approx(p[i][k]).margin(1e-6));
      }
    // Team reward: minus the landmark's distance to the nearer agent (no collisions).
    const double d0 = std::hypot(p[0][0], p[0][1]), d1 = std::hypot(p[1][0], p[1][1]);
    CHECK(r.global_reward == Approx(-std::min(d0, d1)).margin(1e-6));
    CHECK(r.rewards[0] == Approx(r.global_reward / 2).margin(1e-6));
  }
}

TEST_CASE("cooperative_navigation: axis-aligned continuous actions replay the discrete ones",
          "[env][cooperative_navigation][continuous]") {
  nav discrete(two_agents(false)), continuous(two_agents(true));
  netmarl::rng g1(3), g2(3);
  discrete.reset(g1);
  continuous.reset(g2);
  const std::vector<std::vector<int>> moves = {
      {nav::plus_x, nav::minus_y}, {nav::noop, nav::plus_y}, {nav::minus_x, nav::plus_x}};
  for (const auto& m : moves) {
    std::vector<float> a;
    for (int action : m) {
      a.push_back(action == nav::plus_x ? 1.0f : action == nav::minus_x ? -1.0f : 0.0f);
      a.push_back(action == nav::plus_y ? 1.0f : action == nav::minus_y ? -1.0f : 0.0f);
    }
    const auto& rd = discrete.step(std::span<const int>(m));
    const float reward = rd.global_reward;
    const auto& rc = continuous.step(std::span<const float>(a));
    CHECK(rc.global_reward == reward);
    CHECK(continuous.positions() == discrete.positions());
    CHECK(continuous.velocities() == discrete.velocities());
    CHECK(rc.observations == rd.observations);
  }
}

TEST_CASE("cooperative_navigation: continuous actions outside [-1, 1], non-finite or miscounted "
          "are rejected with the agent and the value",
          "[env][cooperative_navigation][continuous]") {
  nav e(two_agents(true));
  netmarl::rng g(0);
  e.reset(g);
  using Catch::Contains;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> a = {0.0f, 0.0f, 1.5f, 0.0f};
  CHECK_THROWS_AS(e.step(std::span<const float>(a)), netmarl::invalid_argument);
  CHECK_THROWS_WITH(e.step(std::span<const float>(a)),
                    Contains("agent 1") && Contains("1.5") && Contains("outside [-1, 1]"));
  a = {-1.01f, 0.0f, 0.0f, 0.0f};
  CHECK_THROWS_WITH(e.step(std::span<const float>(a)),
                    Contains("agent 0") && Contains("-1.01") && Contains("dimension 0"));
  a = {0.0f, nan, 0.0f, 0.0f};
  CHECK_THROWS_WITH(e.step(std::span<const float>(a)),
                    Contains("agent 0") && Contains("nan") && Contains("not finite"));
  a = {0.0f, 0.0f, 0.0f, -inf};
  CHECK_THROWS_WITH(e.step(std::span<const float>(a)),
                    Contains("agent 1") && Contains("dimension 1") && Contains("not finite"));
  a = {0.0f, 0.0f, 0.0f};
  CHECK_THROWS_WITH(e.step(std::span<const float>(a)),
                    Contains("expected 4 continuous action values") && Contains("got 3"));
  // The box's corners are allowed, and a rejected step changed nothing.
  a = {-1.0f, 1.0f, 1.0f, -1.0f};
  CHECK(e.positions()(0, 0) == -0.5f);
  CHECK_NOTHROW(e.step(std::span<const float>(a)));
}

TEST_CASE("cooperative_navigation: the step overload of the other action space throws",
          "[env][cooperative_navigation][continuous]") {
  netmarl::rng g(0);
  using Catch::Contains;
  nav continuous(two_agents(true));
  continuous.reset(g);
  const std::vector<int> ints = {1, 2};
  CHECK_THROWS_AS(continuous.step(std::span<const int>(ints)), netmarl::invalid_argument);
  CHECK_THROWS_WITH(continuous.step(std::span<const int>(ints)),
                    Contains("discrete (int) actions") &&
                        Contains("continuous_actions is true"));
  nav discrete(two_agents(false));
  discrete.reset(g);
  const std::vector<float> floats = {0.0f, 0.0f, 0.0f, 0.0f};
  CHECK_THROWS_WITH(discrete.step(std::span<const float>(floats)),
                    Contains("continuous (float) actions") &&
                        Contains("continuous_actions is false"));
  // Before reset, the usual message comes first.
  nav fresh(two_agents(true));
  CHECK_THROWS_WITH(fresh.step(std::span<const float>(floats)), Contains("before reset"));
}
