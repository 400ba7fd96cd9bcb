#pragma once
// The input vector an RL follower of the resource-collection game sees (EBPG section 4.3: the
// augmented state s^ = <s, omega^k>, plus what a follower knows about itself):
//   [ world_observation (7 * 11 * 11) | follower_observation(slot) (11 + 11 + 4)
//   | desire one-hot (4) | skill type one-hot (4)
//   | offered goal one-hot (4) | offered bonus one-hot (bonus_levels) | signed last step (1) ]
// Every RL follower shares one network over the population, so the follower's own traits are part
// of the input: a follower knows what it likes and what it can dig.
#include <algorithm>
#include <span>
#include <string>

#include "netmarl/core/error.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/env/resource_collection.hpp"

namespace netmarl::learn::followers {

constexpr index follower_input_size(int bonus_levels) {
  using world = env::resource_collection;
  return world::world_features + world::follower_features + 3 * world::resource_types +
         bonus_levels + 1;
}

// Throws invalid_argument naming `who` and the bad value unless slot, offered goal and offered
// bonus are in range for `world`.
inline void check_offer(const env::resource_collection& world, index slot, int offered_goal,
                        int offered_bonus, const char* who) {
  const auto followers = static_cast<index>(world.followers().size());
  if (slot < 0 || slot >= followers)
    throw invalid_argument(std::string(who) + ": slot " + std::to_string(slot) +
                           " is out of range [0, " + std::to_string(followers) + ")");
  if (offered_goal < 0 || offered_goal >= env::resource_collection::resource_types)
    throw invalid_argument(std::string(who) + ": offered goal " + std::to_string(offered_goal) +
                           " is out of range [0, " +
                           std::to_string(env::resource_collection::resource_types) + ")");
  const int levels = world.settings().bonus_levels;
  if (offered_bonus < 0 || offered_bonus >= levels)
    throw invalid_argument(std::string(who) + ": offered bonus " + std::to_string(offered_bonus) +
                           " is out of range [0, " + std::to_string(levels) + ")");
}

// Writes follower `slot`'s input into `out` (exactly follower_input_size(bonus_levels) entries).
inline void write_follower_input(const env::resource_collection& world, index slot,
                                 int offered_goal, int offered_bonus, bool signed_last_step,
                                 std::span<float> out) {
  check_offer(world, slot, offered_goal, offered_bonus, "write_follower_input");
  using rc = env::resource_collection;
  const int levels = world.settings().bonus_levels;
  const index size = follower_input_size(levels);
  if (static_cast<index>(out.size()) != size)
    throw invalid_argument("write_follower_input: output span has " + std::to_string(out.size()) +
                           " entries, expected " + std::to_string(size));
  std::fill(out.begin(), out.end(), 0.0f);
  std::size_t at = 0;
  auto take = [&](index n) {
    auto part = out.subspan(at, static_cast<std::size_t>(n));
    at += static_cast<std::size_t>(n);
    return part;
  };
  world.world_observation(take(rc::world_features));
  world.follower_observation(slot, take(rc::follower_features));
  const auto& traits = world.followers()[static_cast<std::size_t>(slot)].traits;
  take(rc::resource_types)[static_cast<std::size_t>(traits.desire)] = 1.0f;
  take(rc::resource_types)[static_cast<std::size_t>(traits.skill_type)] = 1.0f;
  take(rc::resource_types)[static_cast<std::size_t>(offered_goal)] = 1.0f;
  take(levels)[static_cast<std::size_t>(offered_bonus)] = 1.0f;
  take(1)[0] = signed_last_step ? 1.0f : 0.0f;
}

}  // namespace netmarl::learn::followers
