// assign::fixed (VAST table 1, X_Fixed): agent i in sub-team i mod K, deterministic.
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "netmarl/factor/assign/fixed.hpp"

namespace nm = netmarl;
namespace assign = netmarl::factor::assign;
using idx = nm::index;

TEST_CASE("fixed: k = i mod K for any K, drawing nothing", "[assign][fixed]") {
  nm::rng g(0);
  const assign::fixed::model<float> strategy({}, {}, g);
  for (idx subteams : {1, 2, 3, 10, 12, 20}) {
    std::vector<std::int32_t> groups(10, -7);
    const auto before = g.position();
    strategy.assign(g, assign::assignment_input<float>{.agents = 10}, subteams, groups);
    CHECK(g.position() == before);
    for (idx i = 0; i < 10; ++i) {
      INFO("K = " << subteams << ", agent " << i);
      CHECK(groups[i] == i % subteams);
    }
  }
  std::vector<std::int32_t> groups(7);
  strategy.assign(g, assign::assignment_input<float>{.agents = 7}, 3, groups);
  CHECK(groups == std::vector<std::int32_t>{0, 1, 2, 0, 1, 2, 0});
}

TEST_CASE("fixed: bad calls throw with the value", "[assign][fixed]") {
  using Catch::Matchers::Message;
  nm::rng g(0);
  const assign::fixed::model<double> strategy({}, {}, g);
  std::vector<std::int32_t> groups(4);
  REQUIRE_THROWS_MATCHES(
      strategy.assign(g, assign::assignment_input<double>{.agents = 4}, -2, groups),
      nm::invalid_argument, Message("assign::fixed: subteams must be >= 1, got -2"));
  REQUIRE_THROWS_MATCHES(
      strategy.assign(g, assign::assignment_input<double>{.agents = 3}, 2, groups), nm::shape_error,
      Message("assign::fixed: groups has 4 entries, expected one per agent (3)"));
  REQUIRE_THROWS_MATCHES(
      strategy.assign(g, assign::assignment_input<double>{.agents = -1}, 2, groups),
      nm::invalid_argument, Message("assign::fixed: agents must be >= 0, got -1"));
}
