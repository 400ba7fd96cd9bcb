#pragma once
// The Learner slot: how parameters move. A learner model is built for a set of resolved slots
// (`Slots`: scalar, sharing, factor, message, backend) and an environment spec; the system drives
// it through act -> observe -> end_episode -> end_epoch.
//
// A model declares the actions it produces by its act overloads: act(decision, std::span<int>,
// mode) writes one discrete action per agent, act(decision, std::span<float>, mode) writes
// [agents * action_size] floats in [-1, 1] (agent-major). A model may have both (and pick the head
// from the spec's action space); the system pairs it with an environment of a kind it can drive.
#include <algorithm>
#include <concepts>
#include <cstdint>
#include <limits>
#include <span>

#include "netmarl/backend/concept.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/env/concept.hpp"
#include "netmarl/factor/concept.hpp"
#include "netmarl/graph/csr.hpp"
#include "netmarl/message/concept.hpp"
#include "netmarl/sharing/concept.hpp"

namespace netmarl::learn {

enum class mode { explore, greedy };

// What the agents see when they choose actions.
struct decision {
  const matrix<float>& observations;  // [agents, observation_size]
  std::span<const float> state;       // global state (centralised critics only)
  const graph::csr& graph;            // who talks to whom this step
  std::span<rng> agent_rngs;          // one counter-based stream per agent
};

// One environment step, as the learner records it.
struct transition {
  const matrix<float>& observations;
  std::span<const float> state;
  const graph::csr& graph;
  std::span<const int> actions;  // [agents]; empty for continuous actions
  std::span<const float> rewards;  // per agent, after the reward-sharing slot
  float global_reward;
  const matrix<float>& next_observations;
  std::span<const float> next_state;
  const graph::csr& next_graph;
  std::span<const std::uint8_t> agent_done;
  bool episode_done;
  const matrix<float>* positions = nullptr;  // [agents, 2] when acting; spatial environments only
  std::span<const float> continuous_actions = {};  // [agents * action_size]; empty for discrete
};

// What an update did: NaN where a learner has no such quantity.
struct update_stats {
  double critic_loss = std::numeric_limits<double>::quiet_NaN();
  double actor_loss = std::numeric_limits<double>::quiet_NaN();
  double critic_grad_norm = std::numeric_limits<double>::quiet_NaN();
  double actor_grad_norm = std::numeric_limits<double>::quiet_NaN();
  double epsilon = std::numeric_limits<double>::quiet_NaN();
  std::int64_t updates = 0;  // gradient steps since the last report
};

// The settings of every slot in one place: what a system is constructed with.
template <class Slots>
struct slot_settings {
  typename Slots::sharing::settings sharing{};
  typename Slots::factor::settings factor{};
  typename Slots::message::settings message{};
  typename Slots::learner::settings learner{};
};

}  // namespace netmarl::learn

namespace netmarl {

namespace learn {
// A learner that acts uniformly at random and never learns: the system's stand-in for a wrong
// Config::learner, and the minimal model of the concept.
struct stand_in {
  struct settings {};
  template <class Slots>
  struct model {
    model(const env::spec& spec, const slot_settings<Slots>&, rng&)
        : actions_(spec.actions), action_size_(spec.action_size) {}
    void act(const decision& d, std::span<int> actions, mode) {
      for (std::size_t i = 0; i < actions.size(); ++i)
        actions[i] = static_cast<int>(d.agent_rngs[i].below(static_cast<std::uint64_t>(actions_)));
    }
    void act(const decision& d, std::span<float> actions, mode) {
      const auto dims = static_cast<std::size_t>(std::max<index>(action_size_, 1));
      for (std::size_t k = 0; k < actions.size(); ++k)
        actions[k] = static_cast<float>(d.agent_rngs[k / dims].uniform(-1.0, 1.0));
    }
    void observe(const transition&) {}
    void end_episode() {}
    update_stats end_epoch() { return {}; }
    index actions_, action_size_;
  };
};

// Slots with every other model a stand-in: what the Learner concept checks learner L against.
template <class L>
struct stand_in_slots {
  using scalar = float;
  using sharing = netmarl::sharing::stand_in;
  using factor = netmarl::factor::stand_in;
  using message = netmarl::message::stand_in;
  using learner = L;
  using backend = netmarl::backend::reference;
};
}  // namespace learn

namespace learn {
// What a learner model produces, from its act overloads (see the top).
template <class M>
concept ActsDiscrete = requires(M& m, const decision& d, std::span<int> actions) {
  m.act(d, actions, mode::explore);
};
template <class M>
concept ActsContinuous = requires(M& m, const decision& d, std::span<float> actions) {
  m.act(d, actions, mode::explore);
};
}  // namespace learn

template <class L>
concept Learner = requires {
  typename L::settings;
  typename L::template model<learn::stand_in_slots<L>>;
}
&&std::constructible_from<typename L::template model<learn::stand_in_slots<L>>, const env::spec&,
                          const learn::slot_settings<learn::stand_in_slots<L>>&, rng&> &&
    (learn::ActsDiscrete<typename L::template model<learn::stand_in_slots<L>>> ||
     learn::ActsContinuous<typename L::template model<learn::stand_in_slots<L>>>) &&
    requires(typename L::template model<learn::stand_in_slots<L>>& m, const learn::transition& t) {
  m.observe(t);
  m.end_episode();
  { m.end_epoch() } -> std::same_as<learn::update_stats>;
};

}  // namespace netmarl
