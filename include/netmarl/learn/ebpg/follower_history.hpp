#pragma once
// What the EBPG leader remembers of each follower within an episode, as the per-step input x^k_t
// of its follower-aware LSTM (EBPG section 4.2: h^k_t is the history of states, the follower's
// actions and the leader's options; appendix D.2.2 adds M3RL's "statistical information"):
//
//   [ follower's cell and heading (26) | its last action one-hot (5) | signed last step (1)
//   | the option in force: goal one-hot (4), bonus one-hot (L) | per type: digs tried / 5, digs
//   that collected / 5 (8) | type collected last step one-hot (4) ]
//
// The dig counts are how a leader can tell a follower's skill: a dig on a type it lacks fails.
#include <algorithm>
#include <span>
#include <vector>

#include "netmarl/core/tensor.hpp"
#include "netmarl/env/resource_collection.hpp"
#include "netmarl/sharing/leader_incentive.hpp"

namespace netmarl::learn::ebpg {

class follower_history {
 public:
  using world = env::resource_collection;
  static constexpr index digs_scale = 5;

  follower_history(index followers, int bonus_levels)
      : followers_(followers), bonus_levels_(bonus_levels) {
    reset();
  }
  static index features(int bonus_levels) {
    return world::follower_features + world::actions + 1 + world::resource_types + bonus_levels +
           2 * world::resource_types + world::resource_types;
  }
  index features() const { return features(bonus_levels_); }

  void reset() {
    const auto n = static_cast<std::size_t>(followers_);
    last_action_.assign(n, -1);
    signed_.assign(n, 0);
    offer_.assign(n, sharing::contract{});
    tried_.assign(n * world::resource_types, 0);
    collected_count_.assign(n * world::resource_types, 0);
    collected_last_.assign(n, -1);
  }

  // After a step: what each follower did, whether it signed, what its dig hit and collected.
  void record(std::span<const sharing::contract> offers, std::span<const int> actions,
              std::span<const std::uint8_t> signed_now, std::span<const int> dug,
              std::span<const int> collected) {
    for (std::size_t k = 0; k < static_cast<std::size_t>(followers_); ++k) {
      last_action_[k] = actions[k];
      signed_[k] = signed_now[k];
      offer_[k] = offers[k];
      if (dug[k] >= 0) ++tried_[k * world::resource_types + static_cast<std::size_t>(dug[k])];
      if (collected[k] >= 0)
        ++collected_count_[k * world::resource_types + static_cast<std::size_t>(collected[k])];
      collected_last_[k] = collected[k];
    }
  }

  // x^k_t for every follower slot, as rows of out [followers, features()].
  template <class T>
  void write(const world& env, matrix<T>& out) const {
    ensure_shape(out, followers_, features());
    out.setZero();
    std::vector<float> own(static_cast<std::size_t>(world::follower_features));
    for (index k = 0; k < followers_; ++k) {
      const auto kk = static_cast<std::size_t>(k);
      env.follower_observation(k, own);
      index c = 0;
      for (float v : own) out(k, c++) = static_cast<T>(v);
      if (last_action_[kk] >= 0) out(k, c + last_action_[kk]) = 1;
      c += world::actions;
      out(k, c++) = signed_[kk] ? T(1) : T(0);
      if (offer_[kk].goal >= 0) {
        out(k, c + offer_[kk].goal) = 1;
        out(k, c + world::resource_types + offer_[kk].bonus) = 1;
      }
      c += world::resource_types + bonus_levels_;
      for (int type = 0; type < world::resource_types; ++type) {
        const auto i = kk * world::resource_types + static_cast<std::size_t>(type);
        out(k, c + type) = static_cast<T>(tried_[i]) / digs_scale;
        out(k, c + world::resource_types + type) = static_cast<T>(collected_count_[i]) / digs_scale;
      }
      c += 2 * world::resource_types;
      if (collected_last_[kk] >= 0) out(k, c + collected_last_[kk]) = 1;
    }
  }

 private:
  index followers_;
  int bonus_levels_;
  std::vector<int> last_action_, collected_last_;
  std::vector<std::uint8_t> signed_;
  std::vector<sharing::contract> offer_;
  std::vector<int> tried_, collected_count_;
};

}  // namespace netmarl::learn::ebpg
