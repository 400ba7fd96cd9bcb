#pragma once
// The RewardSharing slot: who gets which reward. A model turns the environment's per-agent rewards
// r_j into the rewards each agent learns from (LToS eq. 2: r_i^w = sum_{j in N(i)} w_ji r_j).
#include <concepts>
#include <span>

#include "netmarl/core/rng.hpp"
#include "netmarl/graph/csr.hpp"

namespace netmarl {

template <class S>
concept RewardSharing = requires {
  typename S::settings;
  typename S::template model<double>;
}
&&(std::constructible_from<typename S::template model<double>, index, const typename S::settings&,
                           rng&> ||
   // a learned sharing policy also reads the observations: (agents, observation_size, ...)
   std::constructible_from<typename S::template model<double>, index, index,
                           const typename S::settings&, rng&>)&& requires(typename S::template model<double>& m,
                                           const graph::csr& g, std::span<const float> rewards,
                                           std::span<float> shaped) {
  m.shape(g, rewards, shaped);
};

namespace sharing {
// A sharing model whose weights are a learned policy's action (sharing::learned, LToS): the system
// appends its w^in to every observation the learner sees, and trains it against the learner's
// critic (system.hpp says when it calls what).
template <class M>
concept LearnsWeights = requires { requires M::learns_weights; };

// The smallest RewardSharing: what the system uses in place of a wrong Config::sharing, so a bad
// composition reports one sentence instead of a cascade.
struct stand_in {
  struct settings {};
  template <class T>
  struct model {
    model(index, const settings&, rng&) {}
    void shape(const graph::csr&, std::span<const float> rewards, std::span<float> shaped) {
      for (std::size_t i = 0; i < rewards.size(); ++i) shaped[i] = rewards[i];
    }
  };
};
}  // namespace sharing

}  // namespace netmarl
