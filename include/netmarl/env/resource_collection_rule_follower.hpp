#pragma once
// The rule-based follower of resource collection (M3RL agents/worker_agents.py, Collector's
// select_action; specs/environments.md 4.1): the population the EBPG leader learns to incentivise.
//
// Given the leader's offer (a goal type and a bonus level), each goal type t is worth
//   (t == desire ? 1 : 0) + (t == assigned goal ? bonus level + 1 : 0);
// worthless goals and goals env.plan cannot reach are dropped. The follower pursues the assigned
// goal only when it is the unique best; on a tie it pursues the other goal (a uniform draw among
// the tied ones without the assigned goal). Its action is the first step of env.plan towards the
// pursued goal (dig when it faces one); with no pursuable goal it stops. With probability `noise`
// the action is replaced by a uniform one of {forward, turn left, turn right, stop}; the goal is
// kept. The follower signs the contract (commits) iff it made an offer's goal its own: an offer was
// made and goal == assigned goal.
//
// Like M3RL, the rule ignores skills: a follower may sign for a type it cannot dig and then dig in
// vain.
//
// Randomness: one uniform draw among tied goals when more than one is tied, then always one
// bernoulli(noise), then one draw of the noisy action when the bernoulli succeeds.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/env/resource_collection.hpp"

namespace netmarl::env {

struct rule_decision {
  int action;  // resource_collection::action
  int goal;    // the resource type pursued, -1 none
};

// The follower in `slot` given the leader's offer (assigned_goal in 0..3, or -1 for no offer;
// bonus_level in 0..bonus_levels-1, ignored and unchecked without an offer) and action noise p in
// [0, 1]. Throws invalid_argument for a slot, goal, bonus level or noise out of range.
inline rule_decision rule_follower_decide(const resource_collection& env, index slot,
                                          int assigned_goal, int bonus_level, double noise,
                                          rng& g) {
  using rc = resource_collection;
  const auto bad = [](const std::string& what) {
    throw invalid_argument("rule_follower_decide: " + what);
  };
  const auto followers = static_cast<index>(env.followers().size());
  if (slot < 0 || slot >= followers)
    bad("slot " + std::to_string(slot) + " is outside [0, " + std::to_string(followers) + ")");
  if (assigned_goal < -1 || assigned_goal >= rc::resource_types)
    bad("assigned_goal " + std::to_string(assigned_goal) + " is outside [-1, " +
        std::to_string(rc::resource_types) + ") (-1: no offer)");
  const int levels = env.settings().bonus_levels;
  if (assigned_goal != -1 && (bonus_level < 0 || bonus_level >= levels))
    bad("bonus_level " + std::to_string(bonus_level) + " is outside [0, " + std::to_string(levels) +
        ")");
  if (!(noise >= 0.0 && noise <= 1.0)) {  // also rejects NaN
    std::ostringstream text;
    text << "noise " << noise << " is outside [0, 1]";
    bad(text.str());
  }

  const int desire = env.followers()[static_cast<std::size_t>(slot)].traits.desire;
  std::array<double, rc::resource_types> value{};
  std::array<bool, rc::resource_types> pursuable{};
  double best = 0;
  for (int goal = 0; goal < rc::resource_types; ++goal) {
    const double v = (goal == desire ? 1.0 : 0.0) +
                     (goal == assigned_goal ? static_cast<double>(bonus_level) + 1.0 : 0.0);
    if (v < 1e-6) continue;
    int steps = -1;
    env.plan(slot, goal, &steps);
    if (steps <= -1) continue;
    value[static_cast<std::size_t>(goal)] = v;
    pursuable[static_cast<std::size_t>(goal)] = true;
    best = std::max(best, v);
  }

  // The best goals; the assigned one wins only alone, a tie goes to the other goal.
  std::array<int, rc::resource_types> tied{};
  int tied_count = 0;
  bool assigned_is_best = false;
  for (int goal = 0; goal < rc::resource_types; ++goal) {
    const auto k = static_cast<std::size_t>(goal);
    if (!pursuable[k] || value[k] < best) continue;
    if (goal == assigned_goal)
      assigned_is_best = true;
    else
      tied[static_cast<std::size_t>(tied_count++)] = goal;
  }
  int goal = -1;
  if (assigned_is_best && tied_count == 0)
    goal = assigned_goal;
  else if (tied_count == 1)
    goal = tied[0];
  else if (tied_count > 1)
    goal = tied[static_cast<std::size_t>(g.below(static_cast<std::uint64_t>(tied_count)))];

  int action = goal == -1 ? rc::stop : env.plan(slot, goal);
  if (g.bernoulli(noise)) {
    constexpr std::array<int, 4> noisy{rc::forward, rc::turn_left, rc::turn_right, rc::stop};
    action = noisy[static_cast<std::size_t>(g.below(noisy.size()))];
  }
  return {action, goal};
}

}  // namespace netmarl::env
