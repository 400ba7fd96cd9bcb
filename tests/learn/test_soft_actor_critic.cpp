// soft_actor_critic (IP algorithm 1, eq. 17): each loss's gradient against finite differences on
// a fixed replayed batch, learning the 3x3 coordination grid (optimum 0), bad settings.
#include <catch2/catch.hpp>

#include <numeric>
#include <vector>

#include "netmarl/env/coordination_grid.hpp"
#include "netmarl/factor/independent.hpp"
#include "netmarl/learn/soft_actor_critic.hpp"
#include "netmarl/message/none.hpp"
#include "netmarl/system.hpp"
#include "support/gradient_check.hpp"

namespace nm = netmarl;
using sac = nm::learn::soft_actor_critic;

// ReLU networks on one-hot observations repeat each pre-activation across the batch, so one near 0
// sits within the default step (1e-4) of its kink for every row at once; a 1e-6 step clears it.

namespace {
struct sac_independent : nm::default_config {
  using learner = sac;
  using factor = nm::factor::independent;
  using message = nm::message::none;
  using backend = nm::backend::reference;
};
struct sac_independent_double : sac_independent {
  using scalar = double;
};

template <class Config>
nm::settings<Config> small_settings() {
  nm::settings<Config> s;
  s.learner.hidden = 32;
  s.learner.batch_size = 32;
  s.learner.buffer_capacity = 2000;
  s.learner.policy_learning_rate = s.learner.q_learning_rate = s.learner.v_learning_rate = 3e-3;
  s.learner.gradient_steps = 1;
  s.learner.gamma = 0.0;  // one-step episodes
  s.episodes_per_epoch = 50;
  s.evaluation_episodes = 0;
  return s;
}

// Settings under which one epoch fills the replay with 10 episodes of a 2-step grid game (so
// V_bar(s') matters) and runs no update.
template <class Config>
nm::settings<Config> fill_only_settings(double alpha, sac::neighbour_actions neighbours) {
  auto s = small_settings<Config>();
  s.learner.gamma = 0.9;
  s.learner.alpha = alpha;
  s.learner.policy_neighbours = neighbours;
  s.learner.learning_starts = 1'000'000;
  s.episodes_per_epoch = 10;
  return s;
}
}  // namespace

TEST_CASE("soft_actor_critic is a Learner", "[learn][sac]") {
  STATIC_REQUIRE(nm::Learner<sac>);
}

TEST_CASE("soft_actor_critic: every loss's gradient matches finite differences",
          "[learn][sac][gradient]") {
  nm::env::coordination_grid env({.side = 3, .episode_length = 2});
  for (auto neighbours : {sac::neighbour_actions::expected, sac::neighbour_actions::sampled}) {
    nm::system<sac_independent_double> sys(
        nm::env::spec_of(env), fill_only_settings<sac_independent_double>(0.3, neighbours), 7);
    sys.train(env, nm::epochs{1});
    auto& learner = sys.learner();
    REQUIRE(learner.replay_size() == 20);
    std::vector<std::int64_t> batch(6);
    std::iota(batch.begin(), batch.end(), std::int64_t{3});
    learner.load_batch(batch);
    learner.forward_policy();
    learner.draw_neighbour_actions();

    SECTION("J(kappa), the Q loss") {
      learner.q_loss(true);
      auto report = nm::testing::check_parameter_gradients(learner.q_parameters(),
                                                           [&] { return learner.q_loss(false); }, {.step = 1e-6});
      INFO(report);
      CHECK(report.max_relative_error <= 1e-6);
    }
    SECTION("J(eta), the V loss") {
      learner.v_loss(true);
      auto report = nm::testing::check_parameter_gradients(learner.v_parameters(),
                                                           [&] { return learner.v_loss(false); }, {.step = 1e-6});
      INFO(report);
      CHECK(report.max_relative_error <= 1e-6);
    }
    SECTION("J(theta), the policy loss, through q_i and (expected) the neighbours' Q_j") {
      learner.policy_loss(true);
      auto report = nm::testing::check_parameter_gradients(learner.policy_parameters(), [&] {
        learner.forward_policy();
        return learner.policy_loss(false);
      }, {.step = 1e-6});
      INFO(report);
      CHECK(report.max_relative_error <= 1e-6);
    }
  }
}

TEST_CASE("soft_actor_critic coordinates the 3x3 grid: greedy reward >= -0.5 (optimum 0)",
          "[learn][sac]") {
  for (std::uint64_t seed : {0u, 1u, 2u}) {
    nm::env::coordination_grid env({.side = 3});
    nm::system<sac_independent> sys(nm::env::spec_of(env), small_settings<sac_independent>(), seed);
    sys.train(env, nm::steps{3000});
    const double reward = sys.evaluate(env, 20, nm::learn::mode::greedy);
    INFO("seed " << seed << ": greedy reward " << reward << " (random play: -6, optimum 0)");
    CHECK(reward >= -0.5);
  }
}

TEST_CASE("soft_actor_critic rejects bad settings with a message", "[learn][sac]") {
  nm::env::coordination_grid env({.side = 2});
  auto s = small_settings<sac_independent>();
  s.learner.buffer_capacity = 8;
  REQUIRE_THROWS_WITH((nm::system<sac_independent>(nm::env::spec_of(env), s, 0)),
                      Catch::Contains("buffer_capacity (8) must be >= batch_size (32)"));
  s = small_settings<sac_independent>();
  s.learner.tau = 0;
  REQUIRE_THROWS_WITH((nm::system<sac_independent>(nm::env::spec_of(env), s, 0)),
                      Catch::Contains("tau must be in (0, 1]"));
  s = small_settings<sac_independent>();
  s.learner.alpha = -1;
  REQUIRE_THROWS_WITH((nm::system<sac_independent>(nm::env::spec_of(env), s, 0)),
                      Catch::Contains("alpha must be finite and >= 0"));
}
