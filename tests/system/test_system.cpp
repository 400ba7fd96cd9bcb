// The system loop: reproducibility from a seed, budgets, and errors on bad input.
#include <catch2/catch.hpp>

#include "netmarl/env/coordination_grid.hpp"
#include "netmarl/env/gaussian_squeeze.hpp"
#include "netmarl/learn/dqn.hpp"
#include "netmarl/system.hpp"
#include "netmarl/topology/models.hpp"

namespace nm = netmarl;

namespace {
struct config : nm::default_config {};

std::vector<double> curve(std::uint64_t seed) {
  nm::env::gaussian_squeeze env({.agents = 12, .mu = 20, .sigma = 10});
  nm::system<config> sys(nm::env::spec_of(env), {}, seed);
  std::vector<double> metrics;
  sys.train(env, nm::epochs{15}, [&](const nm::epoch_report& r) {
    metrics.push_back(r.metric);
    metrics.push_back(r.train_metric);
    metrics.push_back(r.stats.critic_loss);
  });
  return metrics;
}
}  // namespace

TEST_CASE("system: the same seed gives the same numbers, another seed others", "[system]") {
  const auto a = curve(3), b = curve(3), c = curve(4);
  REQUIRE(a.size() == 45);
  CHECK(a == b);  // bit-identical
  CHECK(a != c);
}

TEST_CASE("system: budgets count epochs and environment steps", "[system]") {
  nm::env::gaussian_squeeze env({.agents = 5, .mu = 10, .sigma = 5});
  nm::settings<config> s;
  s.episodes_per_epoch = 4;
  nm::system<config> sys(nm::env::spec_of(env), s, 0);
  const auto by_epochs = sys.train(env, nm::epochs{3});
  REQUIRE(by_epochs.curve.size() == 3);
  CHECK(by_epochs.curve.back().env_steps == 12);        // GS episodes last one step
  const auto by_steps = sys.train(env, nm::steps{20});  // continues: 12 -> 20 steps = 2 epochs
  CHECK(by_steps.curve.size() == 2);
  CHECK(sys.env_steps() == 20);
}

TEST_CASE("system: bad input is a clear error", "[system]") {
  nm::env::gaussian_squeeze env({.agents = 5});
  nm::system<config> sys(nm::env::spec_of(env), {}, 0);
  REQUIRE_THROWS_WITH(sys.train(env, nm::epochs{0}), Catch::Contains("epochs must be >= 1, got 0"));
  nm::env::gaussian_squeeze other({.agents = 6});
  REQUIRE_THROWS_WITH(sys.train(other, nm::epochs{1}),
                      Catch::Contains("does not match the spec the system was built for"));
  nm::settings<config> s;
  s.episodes_per_epoch = 0;
  REQUIRE_THROWS_WITH((nm::system<config>(nm::env::spec_of(env), s, 0)),
                      Catch::Contains("episodes_per_epoch must be >= 1, got 0"));
}

namespace {
// A dynamic topology records the graph each step was acted on: a learner that reads graphs
// must see the k-nearest graph of the positions before the step, the next graph after it.
struct recording_learner {
  struct settings {};
  template <class Slots>
  struct model {
    model(const nm::env::spec&, const nm::learn::slot_settings<Slots>&, nm::rng&) {}
    void act(const nm::learn::decision& d, std::span<int> actions, nm::learn::mode) {
      for (auto& a : actions) a = 0;
      acted_degrees.push_back(nm::graph::degree(d.graph, 0));
    }
    void observe(const nm::learn::transition& t) {
      observed_degrees.push_back(nm::graph::degree(t.graph, 0));
      next_degrees.push_back(nm::graph::degree(t.next_graph, 0));
    }
    void end_episode() {}
    nm::learn::update_stats end_epoch() { return {}; }
    std::vector<nm::index> acted_degrees, observed_degrees, next_degrees;
  };
};
struct knn_config : nm::default_config {
  using topology = nm::graph::k_nearest<2>;
  using learner = recording_learner;
};
struct knn_dqn : nm::default_config {
  using topology = nm::graph::k_nearest<2>;
  using learner = nm::learn::dqn;
};
}  // namespace

TEST_CASE("system: a dynamic topology is rebuilt every step and reaches the learner",
          "[system][topology]") {
  nm::env::coordination_grid env({.side = 3});
  nm::settings<knn_config> s;
  s.episodes_per_epoch = 2;
  s.evaluation_episodes = 0;
  nm::system<knn_config> sys(nm::env::spec_of(env), s, 0);
  sys.train(env, nm::epochs{1});
  const auto& l = sys.learner();
  REQUIRE(l.acted_degrees.size() == 2);
  REQUIRE(l.observed_degrees.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(l.acted_degrees[i] == 3);  // self plus its 2 nearest agents
    CHECK(l.observed_degrees[i] == 3);
    CHECK(l.next_degrees[i] == 3);
  }
  // And a real learner trains on it.
  nm::settings<knn_dqn> d;
  d.learner.batch_size = 4;
  d.evaluation_episodes = 0;
  nm::system<knn_dqn> dqn(nm::env::spec_of(env), d, 0);
  const auto result = dqn.train(env, nm::epochs{2});
  CHECK(std::isfinite(result.curve.back().stats.critic_loss));
}
