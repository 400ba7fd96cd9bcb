#pragma once
// On-policy storage for one epoch of episodes, with Monte-Carlo returns computed when each episode
// ends (the VAST authors' EpisodeMemory). Rows are steps; agent rows are agent-major within a step.
// Capacity grows during the first epoch and is then reused: no allocation in steady state.
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "netmarl/core/assert.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/env/concept.hpp"
#include "netmarl/learn/concept.hpp"

namespace netmarl::learn {

template <class T>
class epoch_buffer {
 public:
  epoch_buffer() = default;
  explicit epoch_buffer(const env::spec& spec)
      : spec_(spec), done_before_(static_cast<std::size_t>(spec.agents), 0) {}

  void clear() {
    steps_ = 0;
    episodes_ = 0;
    episode_start_ = 0;
  }

  void push(const transition& t) {
    const index n = spec_.agents;
    NETMARL_CHECK(t.observations.rows() == n && t.observations.cols() == spec_.observation_size,
                  shape_error,
                  "epoch_buffer: observations are " + std::to_string(t.observations.rows()) + "x" +
                      std::to_string(t.observations.cols()) + ", expected " + std::to_string(n) +
                      "x" + std::to_string(spec_.observation_size));
    reserve(steps_ + 1);
    observations_.middleRows(steps_ * n, n) = t.observations.template cast<T>();
    for (index s = 0; s < spec_.state_size; ++s)
      states_(steps_, s) = static_cast<T>(t.state[static_cast<std::size_t>(s)]);
    for (index i = 0; i < n; ++i) {
      actions_[static_cast<std::size_t>(steps_ * n + i)] = t.actions[static_cast<std::size_t>(i)];
      rewards_(steps_, i) = static_cast<T>(t.rewards[static_cast<std::size_t>(i)]);
      // Alive when it acted: done flags mark agents done *after* a step.
      alive_(steps_, i) = done_before_[static_cast<std::size_t>(i)] ? T(0) : T(1);
      done_before_[static_cast<std::size_t>(i)] |= t.agent_done[static_cast<std::size_t>(i)];
    }
    global_rewards_(steps_, 0) = static_cast<T>(t.global_reward);
    has_positions_ = t.positions != nullptr;
    if (has_positions_) positions_.middleRows(steps_ * n, n) = t.positions->template cast<T>();
    ++steps_;
  }

  // Discounted returns G_t = r_t + gamma G_{t+1} for the steps since the last finished episode.
  void finish_episode(T gamma) {
    std::fill(done_before_.begin(), done_before_.end(), std::uint8_t{0});
    if (steps_ == episode_start_) return;
    row_vector<T> agent_return = row_vector<T>::Zero(spec_.agents);
    T global_return = 0;
    for (index t = steps_; t-- > episode_start_;) {
      agent_return = rewards_.row(t) + gamma * agent_return;
      global_return = global_rewards_(t, 0) + gamma * global_return;
      agent_returns_.row(t) = agent_return;
      global_returns_(t, 0) = global_return;
    }
    episode_start_ = steps_;
    ++episodes_;
  }

  index steps() const { return steps_; }
  index episodes() const { return episodes_; }
  index agents() const { return spec_.agents; }

  // Views of the filled part.
  auto observations() const {
    return observations_.topRows(steps_ * spec_.agents);
  }                                                                        // [steps*N, F]
  auto states() const { return states_.topRows(steps_); }                  // [steps, S]
  auto agent_returns() const { return agent_returns_.topRows(steps_); }    // [steps, N]
  auto global_returns() const { return global_returns_.topRows(steps_); }  // [steps, 1]
  auto alive() const { return alive_.topRows(steps_); }                    // [steps, N]
  // [steps*N, 2] agent positions when acting, or null when the environment has none.
  const T* positions() const { return has_positions_ ? positions_.data() : nullptr; }
  std::span<const int> actions() const {  // [steps*N]
    return {actions_.data(), static_cast<std::size_t>(steps_ * spec_.agents)};
  }
  int action(index step, index agent) const {
    return actions_[static_cast<std::size_t>(step * spec_.agents + agent)];
  }

 private:
  void reserve(index steps) {
    if (steps <= capacity_) return;
    const index capacity = std::max<index>(steps, 2 * capacity_);
    const index n = spec_.agents;
    observations_.conservativeResize(capacity * n, spec_.observation_size);
    positions_.conservativeResize(capacity * n, 2);
    states_.conservativeResize(capacity, spec_.state_size);
    rewards_.conservativeResize(capacity, n);
    alive_.conservativeResize(capacity, n);
    agent_returns_.conservativeResize(capacity, n);
    global_rewards_.conservativeResize(capacity, 1);
    global_returns_.conservativeResize(capacity, 1);
    actions_.resize(static_cast<std::size_t>(capacity * n));
    capacity_ = capacity;
  }

  env::spec spec_{};
  index steps_ = 0, episodes_ = 0, episode_start_ = 0, capacity_ = 0;
  bool has_positions_ = false;
  matrix<T> positions_;
  matrix<T> observations_, states_, rewards_, alive_, agent_returns_, global_rewards_,
      global_returns_;
  std::vector<int> actions_;
  std::vector<std::uint8_t> done_before_;  // per agent: done at an earlier step of this episode
};

}  // namespace netmarl::learn
