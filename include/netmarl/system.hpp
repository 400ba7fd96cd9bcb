#pragma once
// netmarl::system<Config>: composes the six slots of a named config and runs the training loop.
//
// Each slot is checked once here against its concept. A wrong slot fails with one sentence that
// names it; the system then continues with that slot's stand-in model, so the sentence is the only
// error the user reads instead of pages of template backtrace.
//
// Action spaces: the learner's act overloads say what it produces (learn/concept.hpp); train and
// evaluate check once, in a sentence, that it can drive the environment's kind (an Environment
// with int actions, a ContinuousEnvironment with float actions). Where both could (an environment
// and a learner that have both kinds), the spec's action space picks the loop at run time.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "netmarl/backend/concept.hpp"
#include "netmarl/config.hpp"
#include "netmarl/core/assert.hpp"
#include "netmarl/core/checkpoint.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/env/concept.hpp"
#include "netmarl/factor/concept.hpp"
#include "netmarl/learn/concept.hpp"
#include "netmarl/message/concept.hpp"
#include "netmarl/sharing/concept.hpp"
#include "netmarl/topology/concept.hpp"

namespace netmarl {

// Training budgets.
struct epochs {
  std::int64_t count;
};
struct steps {
  std::int64_t count;
};

namespace detail {
template <bool ok, class Slot, class Fallback>
using checked_slot = std::conditional_t<ok, Slot, Fallback>;
}  // namespace detail

// The slots of Config after the concept checks: what learner models are instantiated with.
template <class Config>
struct resolved_slots {
  static_assert(std::is_floating_point_v<typename Config::scalar>,
                "netmarl::system: Config::scalar must be a floating-point type (float or double)");
  static_assert(Topology<typename Config::topology>,
                "netmarl::system: Config::topology is not a Topology (it needs `static constexpr "
                "bool dynamic`, reset(env), update(env) and graph())");
  static_assert(RewardSharing<typename Config::sharing>,
                "netmarl::system: Config::sharing is not a RewardSharing (it needs `settings` and "
                "`model<T>` with shape(graph, rewards, shaped))");
  static_assert(
      Factorization<typename Config::factor>,
      "netmarl::system: Config::factor is not a Factorization (it needs `settings` and "
      "`model<T>` with outputs(), per_agent, forward(b, q, state, out), backward(b, d_out, "
      "d_q))");
  static_assert(
      MessagePassing<typename Config::message>,
      "netmarl::system: Config::message is not a MessagePassing (it needs `settings` and "
      "`model<T>` with output_size(), uses_graph, forward(b, x, graphs, out), backward(b, "
      "d_out, d_x))");
  static_assert(Learner<typename Config::learner>,
                "netmarl::system: Config::learner is not a Learner (it needs `settings` and "
                "`model<Slots>` with act, observe, end_episode, end_epoch)");
  static_assert(Backend<typename Config::backend>,
                "netmarl::system: Config::backend is not a Backend (use backend::reference, "
                "backend::simd<Arch> or backend::cuda)");

  using scalar = std::conditional_t<std::is_floating_point_v<typename Config::scalar>,
                                    typename Config::scalar, float>;
  using topology = detail::checked_slot<Topology<typename Config::topology>,
                                        typename Config::topology, graph::environment_graph>;
  using sharing = detail::checked_slot<RewardSharing<typename Config::sharing>,
                                       typename Config::sharing, sharing::stand_in>;
  using factor = detail::checked_slot<Factorization<typename Config::factor>,
                                      typename Config::factor, factor::stand_in>;
  using message = detail::checked_slot<MessagePassing<typename Config::message>,
                                       typename Config::message, message::stand_in>;
  using learner = detail::checked_slot<Learner<typename Config::learner>, typename Config::learner,
                                       learn::stand_in>;
  using backend = detail::checked_slot<Backend<typename Config::backend>, typename Config::backend,
                                       backend::reference>;
};

// Everything a system is built with besides the slot types.
template <class Config>
struct settings : learn::slot_settings<resolved_slots<Config>> {
  std::int64_t episodes_per_epoch = 10;  // training episodes between two end_epoch calls (VAST: 10)
  std::int64_t evaluation_episodes = 10;  // episodes per epoch that measure the metric (VAST: 10)
  learn::mode evaluation_mode = learn::mode::explore;  // VAST evaluates with the policy sampled
};

// One line of a learning curve.
struct epoch_report {
  std::int64_t epoch = 0;      // 1-based
  std::int64_t env_steps = 0;  // training steps so far
  std::int64_t episodes = 0;   // training episodes so far
  double metric = 0;           // mean metric of the evaluation episodes (or training ones if none)
  double metric_std = 0;
  double train_metric = 0;  // mean metric of this epoch's training episodes
  learn::update_stats stats;
  double wall_seconds = 0;  // since train() started
};

struct train_result {
  std::vector<epoch_report> curve;
  double wall_seconds = 0;
};

struct no_callback {
  void operator()(const epoch_report&) const {}
};
struct no_step_callback {
  void operator()(const env::step_result&) const {}
};

template <class Config>
class system {
 public:
  using slots = resolved_slots<Config>;
  using scalar = typename slots::scalar;
  using topology_type = typename slots::topology;
  using sharing_model = typename slots::sharing::template model<scalar>;
  using learner_model = typename slots::learner::template model<slots>;
  using settings_type = settings<Config>;

  // `topology` is needed only for topologies built at run time (graph::fixed from a file, say).
  system(const env::spec& spec, const settings_type& s, std::uint64_t seed,
         topology_type topology = topology_type{})
      : spec_(checked(spec)),
        settings_(checked(s)),
        root_(seed),
        init_rng_(root_.split(0)),
        env_rng_(root_.split(1)),
        topology_(std::move(topology)),
        sharing_(make_sharing(spec, s.sharing, init_rng_)),
        learner_(learner_spec(spec, sharing_), s, init_rng_) {
    const rng agents_root = root_.split(2);
    for (index i = 0; i < spec.agents; ++i)
      agent_rngs_.push_back(agents_root.split(static_cast<std::uint64_t>(i)));
    actions_.assign(static_cast<std::size_t>(spec.agents), 0);
    continuous_actions_.assign(static_cast<std::size_t>(spec.agents * spec.action_size), 0.0f);
    shaped_.assign(static_cast<std::size_t>(spec.agents), 0.0f);
  }

  // Trains until the budget is spent, calling on_epoch(const epoch_report&) after each epoch.
  template <class E, class OnEpoch = no_callback>
  train_result train(E& env, epochs budget, OnEpoch&& on_epoch = {}) {
    if constexpr (drivable<E>()) {
      require(budget.count >= 1,
              "system::train: epochs must be >= 1, got " + std::to_string(budget.count));
      return run(env, budget.count, -1, on_epoch);
    } else {
      return {};
    }
  }
  template <class E, class OnEpoch = no_callback>
  train_result train(E& env, steps budget, OnEpoch&& on_epoch = {}) {
    if constexpr (drivable<E>()) {
      require(budget.count >= 1,
              "system::train: steps must be >= 1, got " + std::to_string(budget.count));
      return run(env, -1, budget.count, on_epoch);
    } else {
      return {};
    }
  }

  // Runs `episodes` episodes without learning; returns the mean metric. on_step(const
  // env::step_result&) is called after every step, while the models still hold what the agents
  // acted on (the sharing weights of that step, say).
  template <class E, class OnStep = no_step_callback>
  double evaluate(E& env, std::int64_t episodes, learn::mode m = learn::mode::explore,
                  OnStep&& on_step = {}) {
    if constexpr (drivable<E>()) {
      check_env(env);
      double sum = 0;
      for (std::int64_t e = 0; e < episodes; ++e)
        sum += run_episode(env, m, false, on_step).metric;
      return episodes > 0 ? sum / static_cast<double>(episodes) : 0.0;
    } else {
      return 0.0;
    }
  }

  // Saves the learner's parameters and optimizer state (core/checkpoint.hpp's format); load
  // restores them into a system of the same config and sizes, or throws io_error naming what
  // differs and leaves this system unchanged.
  void save_checkpoint(const std::string& path) requires requires(learner_model& l) {
    l.checkpoint_tensors();
  }
  { netmarl::save_checkpoint(path, learner_.checkpoint_tensors()); }
  void load_checkpoint(const std::string& path) requires requires(learner_model& l) {
    l.checkpoint_tensors();
  }
  { netmarl::load_checkpoint(path, learner_.checkpoint_tensors()); }

  learner_model& learner() { return learner_; }
  sharing_model& sharing() { return sharing_; }
  const env::spec& spec() const { return spec_; }
  std::int64_t env_steps() const { return env_steps_; }

 private:
  struct episode_outcome {
    double metric = 0;
    std::int64_t steps = 0;
  };

  // A sharing model whose weights are learned (LToS): its w^in widens every observation the
  // learner sees, and it learns against the learner's critic.
  static constexpr bool learned_sharing = sharing::LearnsWeights<sharing_model>;
  static_assert(!learned_sharing || requires(learner_model& l, const matrix<scalar>& x,
                                             std::span<const csr_view> g, matrix<scalar>& d) {
    { l.max_q_input_gradient(x, g, d) } -> std::convertible_to<double>;
  }, "netmarl::system: a learned reward sharing (sharing::learned) needs a learner whose Q network "
     "is its critic (max_q_input_gradient), such as learn::dqn");

  static sharing_model make_sharing(const env::spec& spec, const typename slots::sharing::settings& s,
                                    rng& g) {
    if constexpr (learned_sharing)
      return sharing_model(spec.agents, spec.observation_size, s, g);
    else
      return sharing_model(spec.agents, s, g);
  }
  // The spec the learner is built for: with learned sharing each observation carries w^in too.
  static env::spec learner_spec(env::spec spec, const sharing_model& sm) {
    if constexpr (learned_sharing) spec.observation_size += sm.incoming_size();
    return spec;
  }
  // observations beside the sharing model's current w^in: what the learner sees.
  void widen(const matrix<float>& observations, matrix<float>& out) const {
    if constexpr (learned_sharing) {
      const matrix<float>& in = sharing_.incoming();
      ensure_shape(out, observations.rows(), observations.cols() + in.cols());
      out.leftCols(observations.cols()) = observations;
      out.rightCols(in.cols()) = in;
    }
  }
  auto critic() {
    return [this](const matrix<scalar>& x, std::span<const csr_view> g, matrix<scalar>& d) {
      return learner_.max_q_input_gradient(x, g, d);
    };
  }

  static constexpr bool learner_discrete = learn::ActsDiscrete<learner_model>;
  static constexpr bool learner_continuous = learn::ActsContinuous<learner_model>;
  // The learner and environment E share an action space this system can drive.
  template <class E>
  static constexpr bool drives_discrete = env::Environment<E> && learner_discrete;
  template <class E>
  static constexpr bool drives_continuous = env::ContinuousEnvironment<E> && learner_continuous;

  // The compile-time pairing check: at most one sentence, naming what does not fit.
  template <class E>
  static constexpr bool drivable() {
    static_assert(env::AnyEnvironment<E>,
                  "netmarl::system: the environment is neither an Environment (step(std::span<const "
                  "int>), num_actions()) nor a ContinuousEnvironment (step(std::span<const "
                  "float>), action_size())");
    static_assert(!env::AnyEnvironment<E> || !env::Environment<E> ||
                      env::ContinuousEnvironment<E> || learner_discrete,
                  "netmarl::system: Config::learner acts only with continuous actions "
                  "(act(decision, std::span<float>, mode)) but the environment takes discrete ones "
                  "(step(std::span<const int>)): use a learner with a discrete head");
    static_assert(!env::AnyEnvironment<E> || !env::ContinuousEnvironment<E> ||
                      env::Environment<E> || learner_continuous,
                  "netmarl::system: Config::learner acts only with discrete actions (act(decision, "
                  "std::span<int>, mode)) but the environment is a ContinuousEnvironment "
                  "(step(std::span<const float>)): use a learner with a continuous head, such as "
                  "learn::soft_actor_critic");
    return drives_discrete<E> || drives_continuous<E>;
  }

  static const env::spec& checked(const env::spec& s) {
    require(s.agents >= 1, "system: the environment has " + std::to_string(s.agents) + " agents");
    if (s.continuous_actions()) {
      require(s.actions == 0, "system: the spec has both discrete actions (" +
                                  std::to_string(s.actions) + ") and an action_size (" +
                                  std::to_string(s.action_size) + "); set one of them");
      require(learner_continuous,
              "system: the environment takes continuous actions (action_size " +
                  std::to_string(s.action_size) +
                  ") but Config::learner acts only with discrete ones");
    } else {
      require(s.action_size == 0, "system: the spec's action_size must not be negative, got " +
                                      std::to_string(s.action_size));
      require(s.actions >= 1,
              "system: the environment has " + std::to_string(s.actions) + " actions");
      require(learner_discrete,
              "system: the environment takes discrete actions (" + std::to_string(s.actions) +
                  " choices) but Config::learner acts only with continuous ones");
    }
    return s;
  }
  static const settings_type& checked(const settings_type& s) {
    require(s.episodes_per_epoch >= 1,
            "system: episodes_per_epoch must be >= 1, got " + std::to_string(s.episodes_per_epoch));
    require(s.evaluation_episodes >= 0, "system: evaluation_episodes must be >= 0, got " +
                                            std::to_string(s.evaluation_episodes));
    return s;
  }

  template <env::AnyEnvironment E>
  void check_env(const E& env) const {
    const env::spec s = env::spec_of(env);
    if (s.agents != spec_.agents || s.observation_size != spec_.observation_size ||
        s.actions != spec_.actions || s.state_size != spec_.state_size ||
        s.action_size != spec_.action_size)
      throw invalid_argument(
          "system: environment '" + std::string(env.name()) +
          "' does not match the spec the system was built for (agents " +
          std::to_string(s.agents) + " vs " + std::to_string(spec_.agents) +
          ", observation size " + std::to_string(s.observation_size) + " vs " +
          std::to_string(spec_.observation_size) + ", actions " + std::to_string(s.actions) +
          " vs " + std::to_string(spec_.actions) + ", continuous action size " +
          std::to_string(s.action_size) + " vs " + std::to_string(spec_.action_size) + ")");
  }

  // The learner acts and the environment steps, in the spec's action space.
  template <env::AnyEnvironment E>
  const env::step_result& act_and_step(E& env, const learn::decision& d, learn::mode m) {
    const auto discrete = [&]() -> const env::step_result& {
      if constexpr (drives_discrete<E>) {
        learner_.act(d, std::span<int>(actions_), m);
        return env.step(std::span<const int>(actions_));
      } else {
        throw internal_error("system: no discrete loop for this environment");
      }
    };
    const auto continuous = [&]() -> const env::step_result& {
      if constexpr (drives_continuous<E>) {
        learner_.act(d, std::span<float>(continuous_actions_), m);
        return env.step(std::span<const float>(continuous_actions_));
      } else {
        throw internal_error("system: no continuous loop for this environment");
      }
    };
    // check_env made the environment's live space the spec's, which the learner can produce.
    return spec_.continuous_actions() ? continuous() : discrete();
  }

  template <env::AnyEnvironment E, class OnEpoch>
  train_result run(E& env, std::int64_t max_epochs, std::int64_t max_steps, OnEpoch& on_epoch) {
    check_env(env);
    const auto start = std::chrono::steady_clock::now();
    train_result result;
    for (std::int64_t epoch = 1;; ++epoch) {
      if (max_epochs >= 0 && epoch > max_epochs) break;
      if (max_steps >= 0 && env_steps_ >= max_steps) break;
      epoch_report report;
      double train_sum = 0;
      for (std::int64_t e = 0; e < settings_.episodes_per_epoch; ++e) {
        const episode_outcome o = run_episode(env, learn::mode::explore, true);
        train_sum += o.metric;
        env_steps_ += o.steps;
        ++episodes_;
      }
      report.stats = learner_.end_epoch();
      report.train_metric = train_sum / static_cast<double>(settings_.episodes_per_epoch);
      if (settings_.evaluation_episodes > 0) {
        double sum = 0, sum_sq = 0;
        for (std::int64_t e = 0; e < settings_.evaluation_episodes; ++e) {
          const double m = run_episode(env, settings_.evaluation_mode, false).metric;
          sum += m;
          sum_sq += m * m;
        }
        const double n = static_cast<double>(settings_.evaluation_episodes);
        report.metric = sum / n;
        report.metric_std = std::sqrt(std::max(0.0, sum_sq / n - report.metric * report.metric));
      } else {
        report.metric = report.train_metric;
      }
      report.epoch = epoch;
      report.env_steps = env_steps_;
      report.episodes = episodes_;
      report.wall_seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      result.curve.push_back(report);
      on_epoch(static_cast<const epoch_report&>(result.curve.back()));
    }
    result.wall_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
  }

  template <env::AnyEnvironment E, class OnStep = no_step_callback>
  episode_outcome run_episode(E& env, learn::mode m, bool learn_from_it, OnStep&& on_step = {}) {
    const env::step_result& first = env.reset(env_rng_);
    observations_ = first.observations;
    copy_state(env, state_);
    topology_.reset(env);
    const bool explore = m == learn::mode::explore;
    if constexpr (learned_sharing) {
      sharing_.begin_episode();
      sharing_.decide(observations_, topology_.graph(), explore);
      widen(observations_, seen_);
    }
    // What the learner reads: the observations, widened by w^in under learned sharing.
    const matrix<float>& seen = learned_sharing ? seen_ : observations_;
    episode_outcome outcome;
    double global_return = 0;
    for (;;) {
      if constexpr (topology_type::dynamic) graph_before_ = topology_.graph();
      if constexpr (env::SpatialEnvironment<E>)
        if (learn_from_it) positions_before_ = env.positions();
      const env::step_result& r =
          act_and_step(env, learn::decision{seen, state_, topology_.graph(), agent_rngs_}, m);
      for (float reward : r.rewards)
        if (!std::isfinite(reward))
          throw invalid_argument("system: environment '" + std::string(env.name()) +
                                 "' returned a non-finite reward (" + std::to_string(reward) + ")");
      on_step(r);
      topology_.update(env);
      ++outcome.steps;
      global_return += r.global_reward;
      const graph::csr& acted_on = topology_type::dynamic ? graph_before_ : topology_.graph();
      // Rewards are shared with the weights the agents acted under, over the graph they acted on.
      if (learn_from_it) sharing_.shape(acted_on, r.rewards, shaped_);
      if constexpr (learned_sharing) {
        if (learn_from_it) sharing_.record(observations_, acted_on);
        // phi acts for t + 1 now, so the stored transition carries the w^in of o' (learned.hpp).
        if (!r.episode_done) sharing_.decide(r.observations, topology_.graph(), explore);
        widen(r.observations, next_seen_);
      }
      if (learn_from_it) {
        copy_state(env, next_state_);
        const bool continuous = spec_.continuous_actions();
        learner_.observe(learn::transition{
            seen, state_, acted_on,
            continuous ? std::span<const int>() : std::span<const int>(actions_), shaped_,
            r.global_reward, learned_sharing ? next_seen_ : r.observations, next_state_,
            topology_.graph(), r.agent_done, r.episode_done,
            env::SpatialEnvironment<E> ? &positions_before_ : nullptr,
            continuous ? std::span<const float>(continuous_actions_) : std::span<const float>()});
        if constexpr (learned_sharing) sharing_.end_step(critic());
      }
      if (r.episode_done) break;
      observations_ = r.observations;
      if constexpr (learned_sharing) std::swap(seen_, next_seen_);
      copy_state(env, state_);
    }
    if (learn_from_it) {
      learner_.end_episode();
      if constexpr (learned_sharing) sharing_.end_episode(critic());
    }
    if constexpr (env::HasEpisodeMetric<E>)
      outcome.metric = static_cast<double>(env.episode_metric());
    else
      outcome.metric = global_return;
    return outcome;
  }

  template <env::AnyEnvironment E>
  static void copy_state(const E& env, std::vector<float>& out) {
    const std::span<const float> s = env.state();
    out.assign(s.begin(), s.end());
  }

  env::spec spec_;
  settings_type settings_;
  rng root_, init_rng_, env_rng_;
  std::vector<rng> agent_rngs_;
  topology_type topology_;
  sharing_model sharing_;
  learner_model learner_;
  graph::csr graph_before_;
  matrix<float> observations_, positions_before_;
  matrix<float> seen_, next_seen_;  // observations and w^in (learned sharing only)
  std::vector<float> state_, next_state_, shaped_, continuous_actions_;
  std::vector<int> actions_;
  std::int64_t env_steps_ = 0, episodes_ = 0;
};

}  // namespace netmarl
