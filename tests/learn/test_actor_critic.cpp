// actor_critic learns GaussianSqueeze to near its analytic optimum (a small instance, fixed seeds).
#include <catch2/catch.hpp>

#include "netmarl/env/gaussian_squeeze.hpp"
#include "netmarl/factor/independent.hpp"
#include "netmarl/system.hpp"

namespace nm = netmarl;

namespace {
struct vdn_config : nm::default_config {
  using backend = nm::backend::reference;
};
struct il_config : nm::default_config {
  using factor = nm::factor::independent;
};

// GS[10] with mu 20, sigma 10: a uniform random policy plays zeta ~ 45, far past the optimum
// zeta* = 22 (GS* = 21.14), so reaching it takes learning.
nm::env::gaussian_squeeze small_squeeze() {
  return nm::env::gaussian_squeeze({.agents = 10, .mu = 20, .sigma = 10});
}

template <class Config>
double final_metric(std::uint64_t seed, std::int64_t epochs) {
  auto env = small_squeeze();
  nm::settings<Config> s;
  s.learner.gamma = 1.0;
  nm::system<Config> sys(nm::env::spec_of(env), s, seed);
  const auto result = sys.train(env, nm::epochs{epochs});
  double sum = 0;  // mean of the last 10 epochs (VAST's smoothing window)
  for (std::size_t i = result.curve.size() - 10; i < result.curve.size(); ++i)
    sum += result.curve[i].metric;
  return sum / 10.0;
}
}  // namespace

TEST_CASE("actor_critic + vdn reaches 90% of the GaussianSqueeze[10] optimum",
          "[learn][actor_critic]") {
  const double optimum = nm::env::gaussian_squeeze_optimum(10, 10, 20, 10).value;
  REQUIRE(optimum == Approx(21.14).epsilon(1e-3));
  auto env = small_squeeze();
  nm::system<vdn_config> untrained(nm::env::spec_of(env), {}, 0);
  const double before = untrained.evaluate(env, 50);
  CHECK(before < 0.5 * optimum);  // the task is not solved by the initial policy
  for (std::uint64_t seed : {0u, 1u}) {
    const double after = final_metric<vdn_config>(seed, 1000);
    INFO("seed " << seed << ": GS " << before << " -> " << after << " (optimum " << optimum << ")");
    CHECK(after >= 0.9 * optimum);
  }
}

TEST_CASE("actor_critic + independent critics also learns GaussianSqueeze[10]",
          "[learn][actor_critic]") {
  const double optimum = nm::env::gaussian_squeeze_optimum(10, 10, 20, 10).value;
  const double after = final_metric<il_config>(0, 1000);
  INFO("GS " << after << " (optimum " << optimum << ")");
  CHECK(after >= 0.9 * optimum);
}

TEST_CASE("actor_critic rejects bad settings with a message", "[learn][actor_critic]") {
  auto env = small_squeeze();
  nm::settings<vdn_config> s;
  s.learner.hidden = 0;
  REQUIRE_THROWS_WITH((nm::system<vdn_config>(nm::env::spec_of(env), s, 0)),
                      Catch::Contains("hidden must be >= 1, got 0"));
  s = {};
  s.learner.gamma = 1.5;
  REQUIRE_THROWS_WITH((nm::system<vdn_config>(nm::env::spec_of(env), s, 0)),
                      Catch::Contains("gamma must be in [0, 1]"));
}
