#pragma once
// How a method_<name>.cpp builds and trains its systems: one config per (backend, message,
// learner, topology). The coordination grid brings its own graph; cooperative navigation uses the
// dynamic k-nearest graph of IP appendix D.2.
#include <type_traits>

#include "common/flags.hpp"
#include "intention_propagation/common/methods.hpp"
#include "netmarl/env/cooperative_navigation.hpp"
#include "netmarl/env/coordination_grid.hpp"
#include "netmarl/factor/independent.hpp"
#include "netmarl/learn/dqn.hpp"
#include "netmarl/learn/soft_actor_critic.hpp"
#include "netmarl/system.hpp"
#include "netmarl/topology/models.hpp"

namespace netmarl::examples::ip {

// Each agent reads its 4 nearest agents (plus itself) in cooperative navigation.
inline constexpr int navigation_neighbours = 4;

template <class Backend, class Message, class Learner, class Topology>
struct ip_config : default_config {
  using backend = Backend;
  using message = Message;
  using learner = Learner;
  using factor = netmarl::factor::independent;  // IP and DGN learn per-agent values
  using topology = Topology;
};

template <class Config>
settings<Config> learner_settings(const method_options& m,
                                  const typename Config::message::settings& message) {
  settings<Config> s;
  s.message = message;
  s.episodes_per_epoch = m.episodes_per_epoch;
  s.evaluation_episodes = m.evaluation_episodes;
  s.evaluation_mode = m.evaluation == "greedy" ? learn::mode::greedy : learn::mode::explore;
  auto& l = s.learner;
  if constexpr (std::is_same_v<typename Config::learner, learn::soft_actor_critic>) {
    l.hidden = m.hidden;
    l.policy_head_layers = m.policy_head_layers;
    l.policy_learning_rate = l.q_learning_rate = l.v_learning_rate = m.learning_rate;
    l.gamma = m.gamma;
    l.alpha = m.alpha;
    l.tau = m.tau;
    l.batch_size = m.batch;
    l.buffer_capacity = m.buffer;
    l.gradient_steps = m.gradient_steps;
    l.train_interval = m.train_interval;
    l.policy_neighbours = m.policy_neighbours == "expected"
                              ? learn::soft_actor_critic::neighbour_actions::expected
                              : learn::soft_actor_critic::neighbour_actions::sampled;
  } else if constexpr (std::is_same_v<typename Config::learner, learn::stand_in>) {
    // uniform random actions, nothing to set
  } else {  // learn::dqn (DGN): same budget knobs, epsilon-greedy instead of entropy
    l.hidden = m.hidden;
    l.hidden_layers = 1;  // DGN's Q head is one layer over the concatenated features
    l.learning_rate = m.learning_rate;
    l.gamma = m.gamma;
    l.batch_size = m.batch;
    l.buffer_capacity = m.buffer;
    l.updates_per_step = m.gradient_steps;
    l.train_interval = m.train_interval;
    l.target_update_interval = m.dgn_target_interval;
    l.epsilon = {.start = 1.0, .finish = 0.05, .anneal_steps = m.epsilon_anneal_steps};
  }
  return s;
}

template <class Config, class Env>
train_result train_system(Env& env, const method_options& m,
                          const typename Config::message::settings& message, std::uint64_t seed,
                          std::int64_t steps, const epoch_callback& on_epoch) {
  system<Config> sys(env::spec_of(env), learner_settings<Config>(m, message), seed);
  return sys.train(env, netmarl::steps{steps}, [&](const epoch_report& e) { on_epoch(e); });
}

template <class Backend, class Message, class Learner>
train_result train_with(const task& t, const method_options& m,
                        const typename Message::settings& message, std::uint64_t seed,
                        std::int64_t steps, const epoch_callback& on_epoch) {
  if (t.env == "coordination_grid") {
    env::coordination_grid env(
        {.side = t.side, .episode_length = t.episode_length, .agent_ids = t.agent_ids});
    using config = ip_config<Backend, Message, Learner, graph::environment_graph>;
    return train_system<config>(env, m, message, seed, steps, on_epoch);
  }
  if (t.env == "cooperative_navigation") {
    env::cooperative_navigation::settings s;
    s.agents = t.agents;
    if (t.landmarks > 0) s.landmarks = t.landmarks;
    s.episode_length = t.episode_length;
    s.violation_weight = t.violation_weight;
    s.continuous_actions = t.continuous_actions;
    env::cooperative_navigation env(s);
    using config =
        ip_config<Backend, Message, Learner, graph::k_nearest<navigation_neighbours>>;
    return train_system<config>(env, m, message, seed, steps, on_epoch);
  }
  throw invalid_argument("unknown environment '" + t.env +
                         "' (expected coordination_grid or cooperative_navigation)");
}

}  // namespace netmarl::examples::ip
