#pragma once
// sharing::leader_incentive<Leader> (EBPG, Li et al. 2020, section 3 and appendix D.1 "reward
// design"): the reward-sharing slot of a leader-follower game. The topology is a star: node 0 is
// the leader, nodes 1..K the followers. Each step the leader offers follower k a contract
// omega^k = (goal g, bonus level b); the follower signs when it pursues g. Money moves along the
// star's edges:
//   - signing pays the follower the bonus's cost, b + 1 (M3RL's cost weights 1..L), at once, and
//     the leader never gets it back (EBPG's change to M3RL, where the leader paid on completion);
//   - a follower that collects g while signed earns the leader the goal's value v (M3RL:
//     min(L + 1, 5), so 3 with 2 bonus levels and 5 with 4) and fulfils the contract, so pursuing
//     g again is a new signing;
//   - a follower that drops a signed, unfulfilled contract the leader still offers pays the
//     betrayal penalty (environments.md 4.1: default 1); a leader that changes its offer frees it.
// So the leader's reward is r^l_t = sum_k (gains - bonuses paid), and summed over an episode
// r^l + sum of bonuses = the total incentive R^in (EBPG appendix D.3.1).
//
// Leader is the policy type that makes the offers; it must expose them as a span of contracts
// (`offers()`), which settle(leader, ...) reads. The world's own rewards (a follower's payoff for
// collecting what it desires) pass through shape() unchanged and the transfers are added.
#include <algorithm>
#include <concepts>
#include <span>
#include <string>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/graph/csr.hpp"

namespace netmarl::sharing {

// The leader's offer to one follower: a goal (resource type) and a bonus level.
struct contract {
  int goal = -1;  // -1: no offer yet
  int bonus = 0;  // level in [0, bonus_levels)
  friend bool operator==(const contract&, const contract&) = default;
};

template <class L>
concept OffersContracts = requires(const L& leader) {
  { leader.offers() } -> std::convertible_to<std::span<const contract>>;
};

template <OffersContracts Leader>
struct leader_incentive {
  struct settings {
    int bonus_levels = 2;
    double goal_value = 0;  // v; 0 means M3RL's min(bonus_levels + 1, 5)
    double betrayal_penalty = 1;
  };

  // What one step moved, per follower (index k = node k + 1).
  struct ledger {
    std::vector<float> bonus_paid;         // b + 1 on a signing step, else 0
    std::vector<float> gain;               // v when a signed follower collected its goal, else 0
    std::vector<std::uint8_t> signed_now;  // pursuing the offered goal this step
    std::vector<std::uint8_t> signing;     // a new signing (paid) this step
    std::vector<std::uint8_t> betrayed;    // dropped a signed contract
  };

  template <class T>
  class model {
   public:
    model(index agents, const settings& s, rng&) : settings_(s), followers_(agents - 1) {
      if (agents < 2)
        throw invalid_argument(
            "sharing::leader_incentive: needs the leader and at least one "
            "follower (agents >= 2), got " +
            std::to_string(agents));
      if (s.bonus_levels < 1)
        throw invalid_argument("sharing::leader_incentive: bonus_levels must be >= 1, got " +
                               std::to_string(s.bonus_levels));
      if (!(s.goal_value >= 0) || !(s.betrayal_penalty >= 0))
        throw invalid_argument(
            "sharing::leader_incentive: goal_value and betrayal_penalty must "
            "be >= 0");
      value_ = s.goal_value > 0 ? s.goal_value : std::min(s.bonus_levels + 1, 5);
      const auto n = static_cast<std::size_t>(followers_);
      for (auto* v : {&ledger_.bonus_paid, &ledger_.gain}) v->assign(n, 0.0f);
      for (auto* v : {&ledger_.signed_now, &ledger_.signing, &ledger_.betrayed}) v->assign(n, 0);
      previous_offer_.assign(n, contract{});
      previous_signed_.assign(n, 0);
      previous_fulfilled_.assign(n, 0);
    }

    index followers() const { return followers_; }
    double goal_value() const { return value_; }
    double bonus_cost(int level) const { return level + 1; }

    // A new episode: no contract is running.
    void begin_episode() {
      std::fill(previous_offer_.begin(), previous_offer_.end(), contract{});
      std::fill(previous_signed_.begin(), previous_signed_.end(), 0);
      std::fill(previous_fulfilled_.begin(), previous_fulfilled_.end(), 0);
    }

    // One step's contracts: the offers in force, the goal each follower pursued (-1 none) and the
    // type each collected (-1 none). Fills ledger(); shape() then applies it.
    void settle(std::span<const contract> offers, std::span<const int> pursued,
                std::span<const int> collected) {
      const auto n = static_cast<std::size_t>(followers_);
      if (offers.size() != n || pursued.size() != n || collected.size() != n)
        throw shape_error("sharing::leader_incentive::settle: expected " + std::to_string(n) +
                          " offers, pursued goals and collections, got " +
                          std::to_string(offers.size()) + ", " + std::to_string(pursued.size()) +
                          ", " + std::to_string(collected.size()));
      for (std::size_t k = 0; k < n; ++k) {
        const contract& offer = offers[k];
        if (offer.goal >= 0 && (offer.bonus < 0 || offer.bonus >= settings_.bonus_levels))
          throw invalid_argument("sharing::leader_incentive: follower " + std::to_string(k) +
                                 " was offered bonus level " + std::to_string(offer.bonus) +
                                 ", allowed 0.." + std::to_string(settings_.bonus_levels - 1));
        const bool is_signed = offer.goal >= 0 && pursued[k] == offer.goal;
        const bool running =
            previous_signed_[k] && !previous_fulfilled_[k] && offer == previous_offer_[k];
        const bool signing = is_signed && !running;
        const bool fulfilled = is_signed && collected[k] == offer.goal;
        ledger_.signed_now[k] = is_signed;
        ledger_.signing[k] = signing;
        ledger_.betrayed[k] = running && !is_signed;
        ledger_.bonus_paid[k] = signing ? static_cast<float>(bonus_cost(offer.bonus)) : 0.0f;
        ledger_.gain[k] = fulfilled ? static_cast<float>(value_) : 0.0f;
        previous_offer_[k] = offer;
        previous_signed_[k] = is_signed;
        previous_fulfilled_[k] = fulfilled;
      }
    }
    void settle(const Leader& leader, std::span<const int> pursued,
                std::span<const int> collected) {
      settle(leader.offers(), pursued, collected);
    }

    // shaped[0] = rewards[0] + gains - bonuses paid; shaped[k + 1] = rewards[k + 1] + bonus paid
    // to k - betrayal penalty. `g` must be the star on 1 + followers nodes with the leader at 0.
    void shape(const graph::csr& g, std::span<const float> rewards, std::span<float> shaped) const {
      const index nodes = followers_ + 1;
      bool star = graph::num_nodes(g) == nodes && graph::degree(g, 0) == nodes;  // + self-loop
      for (index k = 1; star && k < nodes; ++k) star = graph::degree(g, k) == 2;
      if (!star)
        throw shape_error("sharing::leader_incentive: expects the star on " +
                          std::to_string(nodes) + " nodes with the leader at node 0");
      if (static_cast<index>(rewards.size()) != nodes || static_cast<index>(shaped.size()) != nodes)
        throw shape_error("sharing::leader_incentive::shape: expected " + std::to_string(nodes) +
                          " rewards");
      float leader = rewards[0];
      for (std::size_t k = 0; k < static_cast<std::size_t>(followers_); ++k) {
        leader += ledger_.gain[k] - ledger_.bonus_paid[k];
        shaped[k + 1] =
            rewards[k + 1] + ledger_.bonus_paid[k] -
            (ledger_.betrayed[k] ? static_cast<float>(settings_.betrayal_penalty) : 0.0f);
      }
      shaped[0] = leader;
    }

    const ledger& last() const { return ledger_; }

   private:
    settings settings_;
    index followers_;
    double value_ = 0;
    ledger ledger_;
    std::vector<contract> previous_offer_;
    std::vector<std::uint8_t> previous_signed_, previous_fulfilled_;
  };
};

}  // namespace netmarl::sharing
