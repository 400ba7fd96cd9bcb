#pragma once
// The vanilla RL follower of the resource-collection game (EBPG figure 4, "no abstraction"): a
// policy over the 5 primitive actions, learned by the same REINFORCE as the action-abstraction
// follower (head_policy in head_policy.hpp: shared network, epsilon mixture, baseline).
//
// A follower signs a contract when its intended goal equals the offered one. EBPG does not say
// how a follower without abstraction commits to a goal; our reading: a second head on the shared
// trunk chooses the intended goal in {0..3, none} each step, and the loss sums both heads'
// REINFORCE terms (grad log q(action) + grad log q(goal), times the same return).
#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "netmarl/backend/tags.hpp"
#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/env/resource_collection.hpp"
#include "netmarl/learn/followers/follower_input.hpp"
#include "netmarl/learn/followers/head_policy.hpp"

namespace netmarl::learn::followers {

template <class T = float, class Backend = netmarl::backend::simd<>>
class primitive_follower {
 public:
  using settings = follower_settings;
  static constexpr int action_head = 0;
  static constexpr int goal_head = 1;
  static constexpr int no_goal = env::resource_collection::resource_types;  // goal head's 4: none
  static constexpr int head_choices = 5;  // 5 primitive actions; 4 goals + none
  static_assert(env::resource_collection::actions == head_choices);
  struct decision {
    int action;  // the primitive action to execute
    int goal;    // the intended goal (the follower signs iff it equals the offer), -1 none
  };

  primitive_follower(int bonus_levels, index max_followers, const settings& s, rng& init)
      : bonus_levels_(checked_levels(bonus_levels)),
        policy_(follower_input_size(bonus_levels), 2, head_choices, max_followers, s, init,
                "primitive_follower"),
        input_(static_cast<std::size_t>(follower_input_size(bonus_levels))),
        signed_last_step_(static_cast<std::size_t>(max_followers), 0) {}

  // Chooses follower `slot`'s primitive action and intended goal under the offer; while
  // training, records the step for end_episode.
  decision decide(const env::resource_collection& world, index slot, int offered_goal,
                  int offered_bonus, rng& g) {
    policy_.check_slot(slot);
    check_offer(world, slot, offered_goal, offered_bonus, "primitive_follower::decide");
    if (world.settings().bonus_levels != bonus_levels_)
      throw invalid_argument("primitive_follower::decide: the environment has " +
                             std::to_string(world.settings().bonus_levels) +
                             " bonus levels, the follower was built for " +
                             std::to_string(bonus_levels_));
    auto& signed_before = signed_last_step_[std::size_t(slot)];
    write_follower_input(world, slot, offered_goal, offered_bonus, signed_before != 0, input_);
    policy_.act(input_, training, g, chosen_);
    if (training) policy_.record(slot, input_, chosen_);
    const int goal = chosen_[goal_head] == no_goal ? -1 : chosen_[goal_head];
    const decision d{with_execution_noise(chosen_[action_head], policy_.settings().noise, g), goal};
    signed_before = d.goal == offered_goal;
    return d;
  }

  // Follower `slot`'s reward for the step after its latest decide (ignored while not training).
  void observe_reward(index slot, double r) {
    if (training) policy_.reward(slot, r);
  }

  // One REINFORCE + Adam update over every slot's recorded trajectory, then a fresh episode.
  void end_episode() {
    policy_.end_episode();
    std::fill(signed_last_step_.begin(), signed_last_step_.end(), std::uint8_t{0});
  }

  // Softmax (no epsilon) of the action head (primitive actions) and of the goal head (goals 0..3,
  // then none) at the latest decide.
  std::span<const T> action_probabilities() const { return policy_.probabilities(action_head); }
  std::span<const T> goal_probabilities() const { return policy_.probabilities(goal_head); }
  index recorded_steps() const { return policy_.recorded_steps(); }
  head_policy<T, Backend>& policy() { return policy_; }

  bool training = true;  // false: greedy, nothing recorded

 private:
  static int checked_levels(int levels) {
    require(levels >= 1,
            "primitive_follower: bonus_levels must be >= 1, got " + std::to_string(levels));
    return levels;
  }

  int bonus_levels_;
  head_policy<T, Backend> policy_;
  std::vector<float> input_;
  std::vector<std::uint8_t> signed_last_step_;
  std::array<int, 2> chosen_{};
};

}  // namespace netmarl::learn::followers
