// sharing::leader_incentive: EBPG's contract accounting (pay at signing, no refund, a gain per
// fulfilled contract, the betrayal penalty) and the bonus identity r^l + bonuses = total incentive.
#include <catch2/catch.hpp>
#include <span>
#include <string>
#include <vector>

#include "netmarl/env/resource_collection.hpp"
#include "netmarl/env/resource_collection_rule_follower.hpp"
#include "netmarl/graph/generators.hpp"
#include "netmarl/sharing/concept.hpp"
#include "netmarl/sharing/leader_incentive.hpp"

using idx = netmarl::index;
using netmarl::sharing::contract;

namespace {

// The smallest leader: fixed offers.
struct fixed_offers {
  std::vector<contract> table;
  std::span<const contract> offers() const { return table; }
};
using incentive = netmarl::sharing::leader_incentive<fixed_offers>;
static_assert(netmarl::RewardSharing<incentive>);
static_assert(netmarl::sharing::OffersContracts<fixed_offers>);
static_assert(!netmarl::sharing::OffersContracts<int>);

struct step_io {
  std::vector<contract> offers;
  std::vector<int> pursued, collected;
};

std::vector<float> shaped_after(incentive::model<float>& m, const step_io& s,
                                std::vector<float> raw) {
  m.settle(s.offers, s.pursued, s.collected);
  std::vector<float> out(raw.size());
  m.shape(netmarl::graph::star(static_cast<idx>(raw.size())), raw, out);
  return out;
}

}  // namespace

TEST_CASE("signing pays the bonus once, fulfilment earns the goal value", "[sharing][ebpg]") {
  netmarl::rng g(0);
  incentive::settings s;
  s.bonus_levels = 4;  // multi-bonus: v = 5
  incentive::model<float> m(2, s, g);
  CHECK(m.goal_value() == 5);
  const contract offer{2, 1};  // goal 2, level 1: costs 2
  // step 1: signs
  auto r = shaped_after(m, {{offer}, {2}, {-1}}, {0, 0});
  CHECK(r[0] == Approx(-2));
  CHECK(r[1] == Approx(2));
  CHECK(m.last().signing[0] == 1);
  // step 2: keeps working, nothing moves
  r = shaped_after(m, {{offer}, {2}, {-1}}, {0, 0});
  CHECK(r[0] == Approx(0));
  CHECK(r[1] == Approx(0));
  // step 3: collects the goal while signed: the leader gains 5; the follower's own payoff passes
  r = shaped_after(m, {{offer}, {2}, {2}}, {0, 1});
  CHECK(r[0] == Approx(5));
  CHECK(r[1] == Approx(1));
  // step 4: pursuing the same offer again is a new contract: paid again
  r = shaped_after(m, {{offer}, {2}, {-1}}, {0, 0});
  CHECK(r[0] == Approx(-2));
  CHECK(m.last().signing[0] == 1);
}

TEST_CASE("a dropped contract is not refunded and costs the follower the betrayal penalty",
          "[sharing][ebpg]") {
  netmarl::rng g(0);
  incentive::settings s;
  s.betrayal_penalty = 1.5;
  incentive::model<float> m(3, s, g);
  const contract a{0, 0}, b{1, 1};
  auto r = shaped_after(m, {{a, b}, {0, 3}, {-1, -1}}, {0, 0, 0});  // follower 0 signs (cost 1)
  CHECK(r[0] == Approx(-1));
  r = shaped_after(m, {{a, b}, {3, 3}, {-1, -1}}, {0, 0, 0});  // follower 0 walks away
  CHECK(r[0] == Approx(0));                                    // no refund
  CHECK(r[1] == Approx(-1.5));
  CHECK(m.last().betrayed[0] == 1);
  // a leader that changes its offer frees the follower: no penalty for dropping the old one
  shaped_after(m, {{a, b}, {0, -1}, {-1, -1}}, {0, 0, 0});
  r = shaped_after(m, {{b, b}, {-1, -1}, {-1, -1}}, {0, 0, 0});
  CHECK(r[1] == Approx(0));
  CHECK(m.last().betrayed[0] == 0);
  // collecting the goal without signing earns the leader nothing
  r = shaped_after(m, {{a, b}, {2, -1}, {0, -1}}, {0, 0, 0});
  CHECK(r[0] == Approx(0));
}

TEST_CASE("bad input to leader_incentive is a clear error", "[sharing][ebpg]") {
  netmarl::rng g(0);
  incentive::settings s;
  CHECK_THROWS_WITH(incentive::model<float>(1, s, g), Catch::Contains("at least one follower"));
  s.bonus_levels = 0;
  CHECK_THROWS_WITH(incentive::model<float>(3, s, g), Catch::Contains("bonus_levels"));
  s.bonus_levels = 2;
  incentive::model<float> m(3, s, g);
  const std::vector<contract> offers{{0, 2}, {0, 0}};  // level 2 with 2 levels
  const std::vector<int> pursued{0, 0}, collected{-1, -1};
  CHECK_THROWS_WITH(m.settle(offers, pursued, collected), Catch::Contains("bonus level 2"));
  CHECK_THROWS_AS(m.settle(std::vector<contract>{{0, 0}}, pursued, collected),
                  netmarl::shape_error);
  std::vector<float> raw(3, 0), out(3);
  CHECK_THROWS_WITH(m.shape(netmarl::graph::ring(3), raw, out), Catch::Contains("star"));
}

TEST_CASE("over real episodes: leader reward + bonuses = total incentive", "[sharing][ebpg]") {
  // Rule-based followers under random offers in multi-bonus resource collection; the total
  // incentive is counted independently from the world: v for every collection of the offered
  // goal by a follower pursuing it.
  netmarl::env::resource_collection_settings es;
  es.bonus_levels = 4;
  netmarl::env::resource_collection world(es);
  netmarl::rng g(11), env_rng(12);
  incentive::settings s;
  s.bonus_levels = 4;
  incentive::model<float> m(5, s, g);
  fixed_offers leader{std::vector<contract>(4)};
  const auto star = netmarl::graph::star(5);
  double leader_total = 0, bonuses = 0, incentive_count = 0, signings = 0;
  for (int episode = 0; episode < 20; ++episode) {
    world.reset(env_rng);
    m.begin_episode();
    while (!world.done()) {
      std::vector<int> actions(4), pursued(4);
      for (std::size_t k = 0; k < 4; ++k) {
        if (g.bernoulli(0.3))
          leader.table[k] = {static_cast<int>(g.below(4)), static_cast<int>(g.below(4))};
        const auto d = netmarl::env::rule_follower_decide(
            world, static_cast<idx>(k), leader.table[k].goal, leader.table[k].bonus, 0.1, g);
        actions[k] = d.action;
        pursued[k] = d.goal;
      }
      const auto& outcome = world.step(actions, env_rng);
      m.settle(leader, pursued, outcome.collected);
      std::vector<float> raw(5, 0), out(5);
      m.shape(star, raw, out);
      leader_total += out[0];
      for (std::size_t k = 0; k < 4; ++k) {
        bonuses += out[k + 1] + (m.last().betrayed[k] ? 1.0 : 0.0);
        signings += m.last().signing[k];
        if (outcome.collected[k] >= 0 && pursued[k] == leader.table[k].goal &&
            outcome.collected[k] == leader.table[k].goal)
          incentive_count += 5;
      }
    }
  }
  CHECK(signings > 0);
  CHECK(incentive_count > 0);
  CHECK(leader_total + bonuses == Approx(incentive_count));
}
