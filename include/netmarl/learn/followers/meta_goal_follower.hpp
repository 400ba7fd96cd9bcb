#pragma once
// The action-abstraction RL follower of the resource-collection leader-follower game (EBPG section
// 4.3, lemma 3, appendix B.2), learning with head_policy (learn/followers/head_policy.hpp).
//
// meta_goal_follower: the action-abstraction follower (lemma 3). Its one head chooses a meta action
// z in {goal 0..3, idle}; the lower policy is the environment's deterministic planner
// (resource_collection::plan; idle stops), so grad log pi(a | s) = grad log pi_meta(z | s) and the
// update is REINFORCE on z alone.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "netmarl/backend/tags.hpp"
#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/env/resource_collection.hpp"
#include "netmarl/learn/followers/follower_input.hpp"
#include "netmarl/learn/followers/head_policy.hpp"
#include "netmarl/nn/activation.hpp"
#include "netmarl/nn/mlp.hpp"
#include "netmarl/nn/parameter.hpp"
#include "netmarl/optim/adam.hpp"

namespace netmarl::learn::followers {
template <class T = float, class Backend = netmarl::backend::simd<>>
class meta_goal_follower {
 public:
  using settings = follower_settings;
  static constexpr int idle = env::resource_collection::resource_types;  // z = 4: stop
  static constexpr int meta_actions = idle + 1;
  struct decision {
    int action;  // the primitive action to execute
    int goal;    // the meta action's goal (the follower signs iff it equals the offer), -1 idle
  };

  meta_goal_follower(int bonus_levels, index max_followers, const settings& s, rng& init)
      : bonus_levels_(checked_levels(bonus_levels)),
        policy_(follower_input_size(bonus_levels), 1, meta_actions, max_followers, s, init,
                "meta_goal_follower"),
        input_(static_cast<std::size_t>(follower_input_size(bonus_levels))),
        signed_last_step_(static_cast<std::size_t>(max_followers), 0) {}

  // Chooses follower `slot`'s meta action under the offer (offered_goal, offered_bonus) and
  // returns the planner's action for it; while training, records the step for end_episode.
  decision decide(const env::resource_collection& world, index slot, int offered_goal,
                  int offered_bonus, rng& g) {
    policy_.check_slot(slot);
    check_offer(world, slot, offered_goal, offered_bonus, "meta_goal_follower::decide");
    if (world.settings().bonus_levels != bonus_levels_)
      throw invalid_argument("meta_goal_follower::decide: the environment has " +
                             std::to_string(world.settings().bonus_levels) +
                             " bonus levels, the follower was built for " +
                             std::to_string(bonus_levels_));
    auto& signed_before = signed_last_step_[std::size_t(slot)];
    write_follower_input(world, slot, offered_goal, offered_bonus, signed_before != 0, input_);
    int z = 0;
    policy_.act(input_, training, g, std::span<int>(&z, 1));
    if (training) policy_.record(slot, input_, std::span<const int>(&z, 1));
    decision d{env::resource_collection::stop, -1};
    if (z != idle) d = {world.plan(slot, z), z};
    d.action = with_execution_noise(d.action, policy_.settings().noise, g);
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

  // pi_meta(. | s) at the latest decide (softmax, no epsilon): goals 0..3, then idle.
  std::span<const T> meta_probabilities() const { return policy_.probabilities(0); }
  index recorded_steps() const { return policy_.recorded_steps(); }
  head_policy<T, Backend>& policy() { return policy_; }

  bool training = true;  // false: greedy, nothing recorded

 private:
  static int checked_levels(int levels) {
    require(levels >= 1,
            "meta_goal_follower: bonus_levels must be >= 1, got " + std::to_string(levels));
    return levels;
  }

  int bonus_levels_;
  head_policy<T, Backend> policy_;
  std::vector<float> input_;
  std::vector<std::uint8_t> signed_last_step_;
};

}  // namespace netmarl::learn::followers
