// assign::random (VAST table 1, X_Random): ids in range, uniform over sub-teams, one draw per
// agent in agent order (the authors' RandomAssignment), reproducible from the rng.
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "netmarl/factor/assign/random.hpp"

namespace nm = netmarl;
namespace assign = netmarl::factor::assign;
using idx = nm::index;

namespace {

assign::random::model<double> make() {
  nm::rng g(0);
  return assign::random::model<double>({}, {}, g);
}

std::vector<std::int32_t> draw(std::uint64_t seed, idx agents, idx subteams) {
  nm::rng g(seed);
  std::vector<std::int32_t> groups(static_cast<std::size_t>(agents));
  make().assign(g, assign::assignment_input<double>{.agents = agents}, subteams, groups);
  return groups;
}

}  // namespace

TEST_CASE("random: every id is in [0, K) and the draws follow rng::below per agent",
          "[assign][random]") {
  const auto strategy = make();
  nm::rng g(3), replay(3);
  std::vector<std::int32_t> groups(50);
  const assign::assignment_input<double> input{.agents = 50};
  for (int call = 0; call < 100; ++call) {
    strategy.assign(g, input, 7, groups);
    for (std::size_t i = 0; i < groups.size(); ++i) {
      REQUIRE(groups[i] >= 0);
      REQUIRE(groups[i] < 7);
      REQUIRE(groups[i] == static_cast<std::int32_t>(replay.below(7)));
    }
  }
}

TEST_CASE("random: roughly uniform over sub-teams, for every agent", "[assign][random]") {
  const auto strategy = make();
  nm::rng g(5);
  const idx agents = 10, subteams = 4;
  const int calls = 20000;
  std::vector<std::int32_t> groups(agents);
  std::vector<std::vector<int>> counts(agents, std::vector<int>(subteams, 0));
  for (int call = 0; call < calls; ++call) {
    strategy.assign(g, assign::assignment_input<double>{.agents = agents}, subteams, groups);
    for (idx i = 0; i < agents; ++i) ++counts[i][groups[i]];
  }
  // Each count is Binomial(20000, 1/4): mean 5000, sd 61; allow 5 sd per cell.
  for (idx i = 0; i < agents; ++i)
    for (idx k = 0; k < subteams; ++k) {
      INFO("agent " << i << ", sub-team " << k);
      CHECK(std::abs(counts[i][k] - calls / 4) < 5 * 61);
    }
}

TEST_CASE("random: same rng, same groups; another seed or call, other groups", "[assign][random]") {
  CHECK(draw(42, 40, 6) == draw(42, 40, 6));
  CHECK(draw(42, 40, 6) != draw(43, 40, 6));  // equal with probability 6^-40
  const auto strategy = make();
  nm::rng g(42);
  std::vector<std::int32_t> first(40), second(40);
  strategy.assign(g, assign::assignment_input<double>{.agents = 40}, 6, first);
  strategy.assign(g, assign::assignment_input<double>{.agents = 40}, 6, second);
  CHECK(first != second);  // redrawn at every call (every time step)
}

TEST_CASE("random: more sub-teams than agents draws over min(K, N), as the authors' code",
          "[assign][random]") {
  const auto strategy = make();
  nm::rng g(9);
  std::vector<std::int32_t> groups(3);
  for (int call = 0; call < 200; ++call) {
    strategy.assign(g, assign::assignment_input<double>{.agents = 3}, 10, groups);
    for (auto k : groups) REQUIRE((k >= 0 && k < 3));
  }
  std::vector<std::int32_t> none;
  strategy.assign(g, assign::assignment_input<double>{.agents = 0}, 2, none);  // nothing to do
}

TEST_CASE("random: bad calls throw with the value", "[assign][random]") {
  using Catch::Matchers::Message;
  const auto strategy = make();
  nm::rng g(1);
  std::vector<std::int32_t> groups(4);
  REQUIRE_THROWS_MATCHES(
      strategy.assign(g, assign::assignment_input<double>{.agents = 4}, 0, groups),
      nm::invalid_argument, Message("assign::random: subteams must be >= 1, got 0"));
  REQUIRE_THROWS_MATCHES(
      strategy.assign(g, assign::assignment_input<double>{.agents = 5}, 2, groups), nm::shape_error,
      Message("assign::random: groups has 4 entries, expected one per agent (5)"));
}
