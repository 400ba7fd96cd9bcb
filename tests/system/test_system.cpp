// The system loop: reproducibility from a seed, budgets, and errors on bad input.
#include <catch2/catch.hpp>

#include "netmarl/env/coordination_grid.hpp"
#include "netmarl/env/gaussian_squeeze.hpp"
#include "netmarl/system.hpp"

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
