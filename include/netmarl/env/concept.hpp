#pragma once
// The Environment concepts (DESIGN.md section 5). Environments are deterministic given the rng
// passed to reset, allocate nothing per step (step returns a reference to a buffer they own) and
// reject bad actions with netmarl::invalid_argument naming the agent and the value.
//
// Two action spaces: an Environment takes one discrete action per agent (step(span<const int>),
// num_actions() choices); a ContinuousEnvironment takes action_size() floats per agent in [-1, 1]
// (step(span<const float>), agent-major). One class may be both (cooperative navigation): it then
// says which step is live with `bool continuous_actions() const`, and spec_of reads that.
#include <algorithm>
#include <cmath>
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

// Continuous actions: [agents * action_size] floats, agent-major, each in [-1, 1].
template <class E>
concept ContinuousEnvironment = requires(E e, const E ce, rng& g, std::span<const float> actions) {
  { ce.name() } -> std::convertible_to<std::string>;
  { ce.num_agents() } -> std::convertible_to<index>;
  { ce.observation_size() } -> std::convertible_to<index>;
  { ce.action_size() } -> std::convertible_to<index>;
  { ce.state_size() } -> std::convertible_to<index>;
  { ce.episode_limit() } -> std::convertible_to<index>;
  { e.reset(g) } -> std::same_as<const step_result&>;
  { e.step(actions) } -> std::same_as<const step_result&>;
  { ce.state() } -> std::convertible_to<std::span<const float>>;
};

// Either kind: what topologies, metrics and the system's loop accept.
template <class E>
concept AnyEnvironment = Environment<E> || ContinuousEnvironment<E>;

// An environment that is both kinds and chooses at run time (a settings flag) which step is live.
template <class E>
concept SelectsActionSpace = Environment<E> && ContinuousEnvironment<E> && requires(const E ce) {
  { ce.continuous_actions() } -> std::convertible_to<bool>;
};

// Whether the environment's live step is the continuous one.
template <AnyEnvironment E>
bool takes_continuous_actions(const E& e) {
  if constexpr (SelectsActionSpace<E>)
    return static_cast<bool>(e.continuous_actions());
  else
    return !Environment<E>;  // both kinds without a switch: the discrete step is the live one
}

// Spatial environments also give agent positions [agents, 2] (for k-nearest graphs, k-means).
template <class E>
concept SpatialEnvironment = AnyEnvironment<E> && requires(const E ce) {
  { ce.positions() } -> std::convertible_to<const matrix<float>&>;
};

// The per-step metric a paper reports, when it is not the sum of global rewards (GS(zeta),
// completed orders, kill count). Absent: the metric is the episode's summed global reward.
template <class E>
concept HasEpisodeMetric = AnyEnvironment<E> && requires(const E ce) {
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

// Checks a continuous joint action: agents * action_size finite entries, each in [-1, 1]. Like
// check_actions, only a failure builds a string.
inline void check_continuous_actions(std::span<const float> actions, index agents,
                                     index action_size, std::string_view env_name_view) {
  const auto expected = static_cast<std::size_t>(agents * action_size);
  if (actions.size() == expected) {
    bool all_in_range = true;
    for (float a : actions) all_in_range = all_in_range && a >= -1.0f && a <= 1.0f;  // NaN fails
    if (all_in_range) return;
  }
  const std::string env_name(env_name_view);
  if (actions.size() != expected)
    throw invalid_argument(env_name + ": expected " + std::to_string(expected) +
                           " continuous action values (" + std::to_string(agents) + " agents x " +
                           std::to_string(action_size) + "), got " +
                           std::to_string(actions.size()));
  for (std::size_t k = 0; k < actions.size(); ++k)
    if (!(actions[k] >= -1.0f && actions[k] <= 1.0f))
      throw invalid_argument(env_name + ": continuous action " + std::to_string(actions[k]) +
                             " of agent " + std::to_string(k / static_cast<std::size_t>(action_size)) +
                             " (dimension " + std::to_string(k % static_cast<std::size_t>(action_size)) +
                             ") is " + (std::isfinite(actions[k]) ? "outside [-1, 1]" : "not finite"));
}

}  // namespace netmarl::env

namespace netmarl::env {

// The sizes a learner is built for: what the slots need to know of an environment. Discrete
// actions: `actions` choices and action_size 0; continuous: action_size dimensions and actions 0.
struct spec {
  index agents = 0;
  index observation_size = 0;
  index actions = 0;
  index state_size = 0;
  index episode_limit = 0;
  index action_size = 0;

  bool continuous_actions() const { return action_size > 0; }
};

template <AnyEnvironment E>
spec spec_of(const E& e) {
  spec s{.agents = e.num_agents(),
         .observation_size = e.observation_size(),
         .state_size = e.state_size(),
         .episode_limit = e.episode_limit()};
  if (takes_continuous_actions(e)) {
    if constexpr (ContinuousEnvironment<E>) s.action_size = e.action_size();
  } else {
    if constexpr (Environment<E>) s.actions = e.num_actions();
  }
  return s;
}

}  // namespace netmarl::env
