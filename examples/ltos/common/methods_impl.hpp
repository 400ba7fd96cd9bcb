#pragma once
// How a method_<name>.cpp builds and trains its systems: one config per (sharing, message,
// factor, topology). Prisoner and traffic bring their own graphs; jungle uses each agent's 3
// nearest agents, rebuilt every step (LToS section 5.2).
#include <type_traits>

#include "ltos/common/methods.hpp"
#include "netmarl/env/jungle.hpp"
#include "netmarl/env/prisoner.hpp"
#include "netmarl/env/traffic_grid.hpp"
#include "netmarl/factor/independent.hpp"
#include "netmarl/learn/dqn.hpp"
#include "netmarl/sharing/learned.hpp"
#include "netmarl/system.hpp"
#include "netmarl/topology/models.hpp"

namespace netmarl::examples::ltos {

inline constexpr int jungle_neighbours = 3;

template <class Sharing, class Message, class Factor, class Topology>
struct ltos_config : default_config {
  using sharing = Sharing;  // default_config names the slots, so the types below are qualified
  using message = Message;
  using factor = Factor;
  using learner = learn::dqn;
  using topology = Topology;
  using backend = netmarl::backend::simd<>;
};

template <class Config>
settings<Config> make_settings(const method_options& m) {
  settings<Config> s;
  s.episodes_per_epoch = m.episodes_per_epoch;
  s.evaluation_episodes = m.evaluation_episodes;
  s.evaluation_mode = m.evaluation == "greedy" ? learn::mode::greedy : learn::mode::explore;
  auto& l = s.learner;
  l.learning_rate = m.learning_rate;
  l.gamma = m.gamma;
  l.batch_size = m.batch;
  l.buffer_capacity = m.buffer;
  l.updates_per_step = m.updates_per_step;
  l.target_tau = m.tau;
  l.epsilon = {m.epsilon_start, m.epsilon_finish, m.epsilon_anneal_steps};
  if constexpr (requires { s.message.heads; }) {  // DGN: the units are the encoder's
    s.message.encoder = m.units;
    s.message.dim = m.units.back();
    s.message.heads = m.heads;
    l.hidden = m.units.back();
    l.hidden_layers = 1;
  } else {  // DQN and QMIX: the units are the Q network's hidden layers
    l.hidden = m.units.front();
    l.hidden_layers = static_cast<index>(m.units.size());
  }
  if constexpr (requires { s.factor.embed; }) s.factor.embed = m.qmix_embed;
  if constexpr (requires { s.sharing.selfishness; }) s.sharing.selfishness = m.selfishness;
  if constexpr (netmarl::sharing::LearnsWeights<typename system<Config>::sharing_model>) {
    auto& h = s.sharing;
    h.encoder = m.units;
    h.pair_width = m.units.back();
    h.learning_rate = m.high_learning_rate;
    h.update_interval_steps = m.high_update_steps;
    h.update_interval_episodes = m.high_update_episodes;
    h.action_interval = m.action_interval;
    h.sample_size = m.high_sample;
    h.batch_size = m.high_batch;
    h.noise = m.noise == "ou" ? netmarl::sharing::learned::noise_kind::ornstein_uhlenbeck
                              : netmarl::sharing::learned::noise_kind::epsilon_gaussian;
    h.noise_sigma = m.noise_sigma;
    h.epsilon = {m.high_epsilon_start, m.high_epsilon_finish, m.high_epsilon_anneal_steps};
  }
  return s;
}

// Each agent's w_ii over one greedy episode, read while the agents act.
template <class Config, class Env>
selfishness_trace trace_selfishness(system<Config>& sys, Env& env) {
  selfishness_trace trace;
  if constexpr (requires { sys.sharing().weights(); }) {
    sys.evaluate(env, 1, learn::mode::greedy, [&](const env::step_result&) {
      const auto& w = sys.sharing().weights();
      std::vector<float> row;
      for (index i = 0; i < w.agents(); ++i) row.push_back(w.selfishness(i));
      trace.push_back(std::move(row));
    });
  }
  return trace;
}

template <class Config, class Env>
method_result train_system(Env& env, const method_options& m, std::uint64_t seed,
                           std::int64_t steps, const epoch_callback& on_epoch) {
  system<Config> sys(env::spec_of(env), make_settings<Config>(m), seed);
  method_result r;
  r.training = sys.train(env, netmarl::steps{steps}, [&](const epoch_report& e) { on_epoch(e); });
  r.selfishness = trace_selfishness(sys, env);
  return r;
}

template <class Sharing, class Message, class Factor>
method_result train_with(const task& t, const method_options& m, std::uint64_t seed,
                         std::int64_t steps, const epoch_callback& on_epoch) {
  if (t.env == "prisoner") {
    env::prisoner_settings s;
    s.length = t.corridor;
    s.goals = {0, (t.corridor - 1) / 2, t.corridor - 1};
    s.start_a = (t.corridor - 1) / 2 - 1;
    s.start_b = (t.corridor - 1) / 2 + 1;
    env::prisoner env(s);
    using config = ltos_config<Sharing, Message, Factor, graph::environment_graph>;
    return train_system<config>(env, m, seed, steps, on_epoch);
  }
  if (t.env == "jungle") {
    env::jungle_settings s;
    s.width = s.height = t.map_size;
    s.agents = t.agents;
    s.foods = t.foods;
    s.episode_limit = t.episode_length;
    env::jungle env(s);
    using config = ltos_config<Sharing, Message, Factor, graph::k_nearest<jungle_neighbours>>;
    return train_system<config>(env, m, seed, steps, on_epoch);
  }
  if (t.env == "traffic") {
    env::traffic_grid_settings s;
    s.rows = t.rows;
    s.cols = t.cols;
    env::traffic_grid env(s);
    using config = ltos_config<Sharing, Message, Factor, graph::environment_graph>;
    return train_system<config>(env, m, seed, steps, on_epoch);
  }
  throw invalid_argument("unknown environment '" + t.env + "' (expected prisoner, jungle or traffic)");
}

}  // namespace netmarl::examples::ltos
