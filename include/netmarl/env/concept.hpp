#pragma once
// The Environment concept (DESIGN.md section 5). Environments are deterministic given the rng
// passed to reset, allocate nothing per step (step returns a reference to a buffer they own) and
// reject bad actions with netmarl::invalid_argument naming the agent and the value.
#include <algorithm>
#include <concepts>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"

namespace netmarl::env {

// What reset and step return. Sizes are fixed per environment instance.
struct step_result {
  matrix<float> observations;            // [agents, observation_size]
  std::vector<float> rewards;            // [agents]: r_i, the reward each agent receives
  float global_reward = 0;               // the team's reward this step (the metric's reward)
  std::vector<std::uint8_t> agent_done;  // [agents]: 1 once an agent is dead or finished
  bool episode_done = false;             // the episode ended (time limit or terminal state)

  void resize(index agents, index observation_size) {
    ensure_shape(observations, agents, observation_size);
    rewards.assign(static_cast<std::size_t>(agents), 0.0f);
    agent_done.assign(static_cast<std::size_t>(agents), 0);
  }

  // What every environment's reset does to the per-step fields (observations are its own).
  void begin_episode() {
    std::fill(rewards.begin(), rewards.end(), 0.0f);
    std::fill(agent_done.begin(), agent_done.end(), std::uint8_t{0});
    global_reward = 0;
    episode_done = false;
    started = true;
  }

  // What every environment's step checks first: an episode is running.
  void check_can_step(std::string_view env_name) const {
    if (!started || episode_done)
      throw invalid_argument(std::string(env_name) + ": step called " +
                             (started ? "after the episode ended" : "before reset") +
                             "; call reset first");
  }

  bool started = false;  // reset has been called at least once
};

template <class E>
concept Environment = requires(E e, const E ce, rng& g, std::span<const int> actions) {
  { ce.name() } -> std::convertible_to<std::string>;
  { ce.num_agents() } -> std::convertible_to<index>;
  { ce.observation_size() } -> std::convertible_to<index>;
  { ce.num_actions() } -> std::convertible_to<index>;
  { ce.state_size() } -> std::convertible_to<index>;
  { ce.episode_limit() } -> std::convertible_to<index>;
  { e.reset(g) } -> std::same_as<const step_result&>;
  { e.step(actions) } -> std::same_as<const step_result&>;
  { ce.state() } -> std::convertible_to<std::span<const float>>;  // global state, state_size floats
};

// Spatial environments also give agent positions [agents, 2] (for k-nearest graphs, k-means).
template <class E>
concept SpatialEnvironment = Environment<E> && requires(const E ce) {
  { ce.positions() } -> std::convertible_to<const matrix<float>&>;
};

// The per-step metric a paper reports, when it is not the sum of global rewards (GS(zeta),
// completed orders, kill count). Absent: the metric is the episode's summed global reward.
template <class E>
concept HasEpisodeMetric = Environment<E> && requires(const E ce) {
  { ce.episode_metric() } -> std::convertible_to<double>;
};

// Checks a joint action: the right count and every entry in [0, num_actions).
// Takes the name as a view so that the check itself never allocates: only a failure builds a
// string.
inline void check_actions(std::span<const int> actions, index agents, index num_actions,
                          std::string_view env_name_view) {
  if (static_cast<index>(actions.size()) == agents) {
    bool all_in_range = true;
    for (int a : actions) all_in_range = all_in_range && a >= 0 && a < num_actions;
    if (all_in_range) return;
  }
  const std::string env_name(env_name_view);
  if (static_cast<index>(actions.size()) != agents)
    throw invalid_argument(env_name + ": expected " + std::to_string(agents) + " actions, got " +
                           std::to_string(actions.size()));
  for (std::size_t i = 0; i < actions.size(); ++i)
    if (actions[i] < 0 || actions[i] >= num_actions)
      throw invalid_argument(env_name + ": action " + std::to_string(actions[i]) + " of agent " +
                             std::to_string(i) + " is out of range [0, " +
                             std::to_string(num_actions) + ")");
}

}  // namespace netmarl::env

namespace netmarl::env {

// The sizes a learner is built for: what the slots need to know of an environment.
struct spec {
  index agents = 0;
  index observation_size = 0;
  index actions = 0;
  index state_size = 0;
  index episode_limit = 0;
};

template <Environment E>
spec spec_of(const E& e) {
  return {e.num_agents(), e.observation_size(), e.num_actions(), e.state_size(), e.episode_limit()};
}

}  // namespace netmarl::env
