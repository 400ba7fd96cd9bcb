#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/env/resource_collection.hpp"
#include "netmarl/env/resource_collection_rule_follower.hpp"
#include "support/resource_collection_access.hpp"

namespace env = netmarl::env;
using Catch::Contains;
using netmarl::invalid_argument;
using idx = netmarl::index;
using rc = env::resource_collection;

namespace {
using access = env::resource_collection_test_access;

using netmarl::test::follower;

// One resource of each type in the corners, all reachable from the middle.
std::vector<rc::resource> corners() {
  return {{1, 1, 0, -1}, {1, 9, 1, -1}, {9, 1, 2, -1}, {9, 9, 3, -1}};
}

// A one-follower environment (reset once so its buffers are sized) with a hand-made state.
rc make(rc::follower_state f, std::vector<rc::resource> resources, int bonus_levels = 2) {
  env::resource_collection_settings s;
  s.followers = 1;
  s.bonus_levels = bonus_levels;
  rc e(s);
  netmarl::rng g(1);
  e.reset(g);
  access::place(e, {f}, std::move(resources));
  return e;
}

std::string message_of(auto&& call) {
  try {
    call();
  } catch (const invalid_argument& e) {
    return e.what();
  }
  return "no invalid_argument thrown";
}
}  // namespace

TEST_CASE("rule follower: without an offer it pursues its desire", "[env][rule_follower]") {
  netmarl::rng g(1);
  for (int desire = 0; desire < 4; ++desire) {
    const rc e = make(follower(5, 5, 0, /*skill*/ 3 - desire, desire), corners());
    const env::rule_decision d = env::rule_follower_decide(e, 0, -1, 0, 0.0, g);
    CHECK(d.goal == desire);
    CHECK(d.action == e.plan(0, desire));
  }
  // Facing its desire: it digs.
  const rc facing = make(follower(1, 2, 1, 0, 0), corners());
  const env::rule_decision d = env::rule_follower_decide(facing, 0, -1, 0, 0.0, g);
  CHECK(d.goal == 0);
  CHECK(d.action == rc::dig);
}

TEST_CASE("rule follower: a bonus above its desire's value makes it sign", "[env][rule_follower]") {
  netmarl::rng g(2);
  const rc e = make(follower(5, 5, 0, 0, /*desire*/ 0), corners());
  for (int goal = 1; goal < 4; ++goal) {
    // Level 1 is worth 2 > 1: it takes the assigned goal (it signs).
    const env::rule_decision d = env::rule_follower_decide(e, 0, goal, 1, 0.0, g);
    CHECK(d.goal == goal);
    CHECK(d.action == e.plan(0, goal));
  }
  // Multi-bonus: level 3 on a goal it does not desire.
  const rc multi = make(follower(5, 5, 0, 0, 0), corners(), 4);
  CHECK(env::rule_follower_decide(multi, 0, 2, 3, 0.0, g).goal == 2);
  // An offer on its own desire is the unique best at any level.
  CHECK(env::rule_follower_decide(e, 0, 0, 0, 0.0, g).goal == 0);
  // It signs for a type it cannot dig: the rule ignores skills (skill type 0, goal 3).
  CHECK(env::rule_follower_decide(e, 0, 3, 1, 0.0, g).goal == 3);
}

TEST_CASE("rule follower: a tie goes to the other goal", "[env][rule_follower]") {
  // Level 0 on a goal it does not desire is worth 1, as much as its desire: it keeps its desire,
  // whatever the rng.
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    netmarl::rng g(seed);
    for (int desire = 0; desire < 4; ++desire) {
      const rc e = make(follower(5, 5, 0, 0, desire), corners());
      const int offered = (desire + 1 + static_cast<int>(seed % 3)) % 4;
      const env::rule_decision d = env::rule_follower_decide(e, 0, offered, 0, 0.0, g);
      CHECK(d.goal == desire);
      CHECK(d.action == e.plan(0, desire));
    }
  }
}

TEST_CASE("rule follower: only reachable, available goals count", "[env][rule_follower]") {
  netmarl::rng g(3);
  // Its desire (type 0) is not on the map: without an offer it stops, with any offer it signs.
  std::vector<rc::resource> no_zero = corners();
  no_zero.erase(no_zero.begin());
  const rc missing = make(follower(5, 5, 0, 0, 0), no_zero);
  const env::rule_decision idle = env::rule_follower_decide(missing, 0, -1, 0, 0.0, g);
  CHECK(idle.goal == -1);
  CHECK(idle.action == rc::stop);
  CHECK(env::rule_follower_decide(missing, 0, 2, 0, 0.0, g).goal == 2);

  // Its desire walled in by other resources: unreachable, so a level-0 offer wins.
  const rc walled =
      make(follower(5, 5, 0, 0, 0), {{1, 1, 0, -1}, {1, 2, 1, -1}, {2, 1, 1, -1}, {9, 9, 3, -1}});
  CHECK(env::rule_follower_decide(walled, 0, -1, 0, 0.0, g).goal == -1);
  const env::rule_decision offered = env::rule_follower_decide(walled, 0, 3, 0, 0.0, g);
  CHECK(offered.goal == 3);
  CHECK(offered.action == walled.plan(0, 3));
  // An offer for an unreachable goal is worth nothing: it keeps to what it can reach.
  const rc reachable_desire =
      make(follower(5, 5, 0, 0, 1), {{1, 1, 0, -1}, {1, 2, 1, -1}, {2, 1, 1, -1}, {9, 9, 3, -1}});
  CHECK(env::rule_follower_decide(reachable_desire, 0, 0, 1, 0.0, g).goal == 1);

  // Its desire locked to another follower: not pursuable.
  env::resource_collection_settings s;
  s.followers = 2;
  rc two(s);
  two.reset(g);
  access::place(two, {follower(5, 5, 0, 0, 2), follower(8, 1, 2, 2, 2)},
                {{9, 1, 2, /*locked to slot*/ 1}, {1, 9, 1, -1}});
  CHECK(env::rule_follower_decide(two, 0, -1, 0, 0.0, g).goal == -1);
  CHECK(env::rule_follower_decide(two, 1, -1, 0, 0.0, g).goal == 2);
  CHECK(env::rule_follower_decide(two, 1, -1, 0, 0.0, g).action == rc::dig);
}

TEST_CASE("rule follower: noise", "[env][rule_follower]") {
  // Facing its desire: without noise it always digs, the same decision from any generator.
  const rc e = make(follower(1, 2, 1, 0, 0), corners());
  for (std::uint64_t seed = 0; seed < 100; ++seed) {
    netmarl::rng g(seed);
    const env::rule_decision d = env::rule_follower_decide(e, 0, -1, 0, 0.0, g);
    CHECK(d.action == rc::dig);
    CHECK(d.goal == 0);
  }
  // Noise 1: never digs, the 4 other actions uniformly; the goal stays.
  netmarl::rng g(4);
  std::vector<int> counts(5, 0);
  constexpr int draws = 4000;
  for (int k = 0; k < draws; ++k) {
    const env::rule_decision d = env::rule_follower_decide(e, 0, -1, 0, 1.0, g);
    CHECK(d.goal == 0);
    ++counts[static_cast<std::size_t>(d.action)];
  }
  CHECK(counts[rc::dig] == 0);
  for (const int action : {rc::forward, rc::turn_left, rc::turn_right, rc::stop})
    CHECK(std::abs(counts[static_cast<std::size_t>(action)] - draws / 4) < 150);  // ~5 sigma
  // Noise 0.5: it digs about half the time.
  int digs = 0;
  for (int k = 0; k < draws; ++k)
    digs += env::rule_follower_decide(e, 0, -1, 0, 0.5, g).action == rc::dig ? 1 : 0;
  CHECK(std::abs(digs - draws / 2) < 160);  // ~5 sigma
}

TEST_CASE("rule follower: bad input throws naming the value", "[env][rule_follower]") {
  const rc e = make(follower(5, 5, 0, 0, 0), corners());
  netmarl::rng g(5);
  const auto decide = [&](idx slot, int goal, int level, double noise) {
    return message_of([&] { env::rule_follower_decide(e, slot, goal, level, noise, g); });
  };
  CHECK_THAT(decide(1, -1, 0, 0.0), Contains("slot 1"));
  CHECK_THAT(decide(-1, -1, 0, 0.0), Contains("slot -1"));
  CHECK_THAT(decide(0, 4, 0, 0.0), Contains("assigned_goal 4"));
  CHECK_THAT(decide(0, -2, 0, 0.0), Contains("assigned_goal -2"));
  CHECK_THAT(decide(0, 1, 2, 0.0), Contains("bonus_level 2") && Contains("[0, 2)"));
  CHECK_THAT(decide(0, 1, -1, 0.0), Contains("bonus_level -1"));
  CHECK_THAT(decide(0, 1, 0, -0.25), Contains("noise -0.25"));
  CHECK_THAT(decide(0, 1, 0, 1.5), Contains("noise 1.5"));
  CHECK_THAT(decide(0, 1, 0, std::numeric_limits<double>::quiet_NaN()), Contains("noise nan"));
  // Without an offer the bonus level is ignored.
  CHECK(decide(0, -1, 7, 0.0) == "no invalid_argument thrown");
}
