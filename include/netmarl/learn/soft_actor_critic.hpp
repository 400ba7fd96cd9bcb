#pragma once
// learn::soft_actor_critic: Intention Propagation's learner (IP algorithm 1, appendix I.2 eq. 17),
// with the two action heads of IP appendix B.1: a softmax for discrete actions and a Gaussian with
// the reparametrization trick for continuous ones. The spec picks the head: discrete for an
// Environment (spec.actions choices), Gaussian for a ContinuousEnvironment (spec.action_size
// dimensions); act has an overload for each (std::span<int>, std::span<float>).
//
// ---- Discrete (softmax) head ----
// Policy: the message-passing slot over the observations and the graph (the intention propagation
// network), then a dense head and a softmax: q_i(a_i|s). Critics, per agent and shared across
// agents:
//   V_i(s)                     an MLP on o_i, with a Polyak-averaged target copy V_bar;
//   Q_i(s, a_i, a_N(i))        an MLP on [o_i, c_i] giving one value per a_i, where
//                              c_i = sum_{j in N(i), j != i} onehot(a_j) counts the neighbours'
//                              actions (a permutation-invariant summary; neighbourhoods vary).
// Losses on a replayed batch (rows of alive agents; means over them):
//   J(kappa) = 1/2 (Q_i(s, a_i, c_i) - (r_i + gamma (1 - done) V_bar_i(s')))^2
//   J(eta)   = 1/2 (V_i(s) - sum_a q_i(a|s) (Q_i(s, a, c~_i) - alpha log q_i(a|s)))^2
//              with c~_i the counts of neighbour actions drawn once from the current policy
//              (IP appendix C, remark: sample a state, then all actions once);
//   J(theta) = sum_a q_i(a|s) (alpha log q_i(a|s) - Q_i(s, a, c^_i)),  c^_i = sum_j q_j(.|s).
// The expectation over a_i is exact (a discrete head needs no sampling). The neighbours' actions
// enter the policy loss as their expected counts c^_i, so the gradient reaches each q_j through
// every Q_i it appears in: the mean-field reading of E_{a_N ~ q_N}[Q_i], exact when Q_i is linear
// in the counts (the coordination grid's reward is). `policy_neighbours = sampled` uses c~_i
// instead (no gradient through the neighbours' policies).
//
// ---- Continuous (Gaussian, reparameterised) head ----
// The same network's head gives, per action dimension, a mean mu and a log-std clamped to
// [-20, 2] (the clamp of SpinningUp's and rlkit's SAC; zero gradient outside). Actions are
// tanh-squashed: u = mu + sigma eps, eps ~ N(0, I), a = tanh(u), with the change of variables
//   log q_i(a|s) = sum_d log N(u_d; mu_d, sigma_d) - sum_d log(1 - tanh(u_d)^2 + 1e-6)
// (Haarnoja et al. 2018, appendix C; the 1e-6 guard is its reference code's and rlkit's EPS). The
// log-std clamp is a hard clamp (not tanh-rescaled). IP does not say how to bound a
// Gaussian; the squashing keeps actions in the ContinuousEnvironment's box [-1, 1]. Critics:
//   V_i(s)                     as above;
//   Q_i(s, a_i, a_N(i))        an MLP on [o_i, a_i, m_i] giving one value, where
//                              m_i = mean_{j in N(i), j != i} a_j (0 without neighbours): the
//                              analogue of the discrete head's counts of one-hot actions (the
//                              counts are |N(i)| times the mean one-hot), averaged so that the input
//                              stays in [-1, 1] whatever the degree.
// Losses (a~ = reparameterised draws; draw_neighbour_actions draws eps once per batch and holds it):
//   J(kappa) = 1/2 (Q_i(s, a_i, m_i) - (r_i + gamma (1 - done) V_bar_i(s')))^2 on replayed actions;
//   J(eta)   = 1/2 (V_i(s) - (Q_i(s, a~_i, m~_i) - alpha log q_i(a~_i|s)))^2 (no gradient into
//              the policy);
//   J(theta) = alpha log q_i(a~_i|s) - Q_i(s, a~_i, m~_i), a~ recomputed from the current mu, sigma
//              and the held eps, so the gradient reaches the policy through a~_i and log q_i and,
//              with policy_neighbours = expected (the default), through every neighbour's a~_j
//              inside Q_i (d/dm_i routed back to each j); `sampled` holds the neighbours' a~_j
//              fixed instead.
//
// The factorization slot is not used (IP has none): it must be per-agent (factor::independent).
// Defaults are IP table 2; its learning rate 0.01 is high against its own tuning grid
// {1, 5, 10, 100}e-4, so every rate is a setting.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "netmarl/core/assert.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/learn/concept.hpp"
#include "netmarl/learn/replay.hpp"
#include "netmarl/nn/activation.hpp"
#include "netmarl/nn/mlp.hpp"
#include "netmarl/nn/mlp_sizes.hpp"
#include "netmarl/nn/softmax.hpp"
#include "netmarl/optim/adam.hpp"
#include "netmarl/optim/clip.hpp"
#include "netmarl/optim/target.hpp"

namespace netmarl::learn {

struct soft_actor_critic {
  enum class neighbour_actions { expected, sampled };

  // Gaussian head: log-std bounds (SpinningUp sac/core.py LOG_STD_MIN/MAX, rlkit LOG_SIG_MIN/MAX)
  // and the squashing correction's guard (Haarnoja et al.'s reference code, EPS).
  static constexpr double log_std_min = -20, log_std_max = 2, squash_guard = 1e-6;

  struct settings {
    index hidden = 128;                  // units per hidden layer (IP table 2)
    index critic_hidden_layers = 2;      // V and Q
    index policy_head_layers = 0;        // hidden layers between the embedding and the logits
    double policy_learning_rate = 0.01;  // Adam, all three (IP table 2)
    double q_learning_rate = 0.01;
    double v_learning_rate = 0.01;
    double gamma = 0.95;
    double alpha = 0.2;   // entropy weight ("regularizer factor")
    double tau = 0.01;    // V_bar <- tau V + (1 - tau) V_bar after every gradient step
    std::int64_t buffer_capacity = 1'000'000;
    std::int64_t batch_size = 1024;     // transitions per gradient step
    std::int64_t gradient_steps = 8;    // per update round
    std::int64_t train_interval = 1;    // environment steps between update rounds
    std::int64_t learning_starts = 0;   // transitions stored before the first round (>= batch)
    double clip_norm = 0;               // > 0: clip each network's gradient norm (IP: none)
    neighbour_actions policy_neighbours = neighbour_actions::expected;
  };

  template <class Slots>
  class model {
   public:
    using T = typename Slots::scalar;
    using B = typename Slots::backend;
    using message_model = typename Slots::message::template model<T>;
    using factor_model = typename Slots::factor::template model<T>;
    static constexpr bool per_agent_factor() {
      if constexpr (requires { factor_model::per_agent; })
        return factor_model::per_agent;
      else
        return true;  // decided at run time (factor::any): not read, so not checked
    }
    static_assert(per_agent_factor(),
                  "learn::soft_actor_critic uses no factorization (Intention Propagation has per-"
                  "agent critics): set Config::factor to factor::independent");

    model(const env::spec& spec, const slot_settings<Slots>& s, rng& g)
        : spec_(spec),
          settings_(validated(s.learner)),
          continuous_(spec.continuous_actions()),
          dims_(spec.action_size),
          message_(spec.agents, spec.observation_size, s.message, g),
          head_(nn::mlp_sizes(message_.output_size(), settings_.hidden,
                              settings_.policy_head_layers,
                              continuous_ ? 2 * spec.action_size : spec.actions),
                nn::activation::relu, nn::activation::identity, g),
          q_net_(nn::mlp_sizes(spec.observation_size +
                                   (continuous_ ? 2 * spec.action_size : spec.actions),
                               settings_.hidden, settings_.critic_hidden_layers,
                               continuous_ ? 1 : spec.actions),
                 nn::activation::relu, nn::activation::identity, g),
          v_net_(nn::mlp_sizes(spec.observation_size, settings_.hidden,
                               settings_.critic_hidden_layers, 1),
                 nn::activation::relu, nn::activation::identity, g),
          v_target_(v_net_),
          policy_params_(collect_policy()),
          q_params_(collect(q_net_, "q.")),
          v_params_(collect(v_net_, "v.")),
          v_target_params_(collect(v_target_, "v_target.")),
          policy_optimizer_(policy_params_, {.learning_rate = T(settings_.policy_learning_rate)}),
          q_optimizer_(q_params_, {.learning_rate = T(settings_.q_learning_rate)}),
          v_optimizer_(v_params_, {.learning_rate = T(settings_.v_learning_rate)}),
          replay_(spec, settings_.buffer_capacity, /*store_graphs=*/true),
          sample_rng_(g.split(0x5ac)),
          indices_(static_cast<std::size_t>(settings_.batch_size)) {}

    // Samples a_i ~ q_i(.|s) with agent i's own stream (explore), or takes the argmax (greedy).
    void act(const decision& d, std::span<int> actions, mode m) {
      if (continuous_)
        throw invalid_argument("soft_actor_critic: act was given a discrete (int) action buffer "
                               "but the spec has continuous actions (action_size " +
                               std::to_string(dims_) + "); pass std::span<float>");
      act_input_ = d.observations.template cast<T>();
      const csr_view graph = d.graph.view();
      message_.forward(B{}, act_input_, std::span<const csr_view>(&graph, 1), act_embedding_,
                       act_message_cache_);
      nn::forward(B{}, head_, act_embedding_, act_head_cache_, act_logits_);
      ensure_shape(act_probs_, act_logits_.rows(), act_logits_.cols());
      nn::softmax_rows<T>(act_logits_, act_probs_);
      for (index i = 0; i < spec_.agents; ++i) {
        auto row = act_probs_.row(i);
        index a = 0;
        if (m == mode::greedy)
          row.maxCoeff(&a);
        else
          a = static_cast<index>(d.agent_rngs[static_cast<std::size_t>(i)].categorical(
              std::span<const T>(row.data(), static_cast<std::size_t>(row.size()))));
        actions[static_cast<std::size_t>(i)] = static_cast<int>(a);
      }
    }

    // Gaussian head: a_i = tanh(mu + sigma eps) with eps from agent i's own stream (explore), or
    // tanh(mu) (greedy); `actions` is [agents * action_size], agent-major.
    void act(const decision& d, std::span<float> actions, mode m) {
      if (!continuous_)
        throw invalid_argument("soft_actor_critic: act was given a continuous (float) action "
                               "buffer but the spec has discrete actions (" +
                               std::to_string(spec_.actions) + " choices); pass std::span<int>");
      NETMARL_CHECK(static_cast<index>(actions.size()) == spec_.agents * dims_, shape_error,
                    "soft_actor_critic: act needs " + std::to_string(spec_.agents * dims_) +
                        " action values (agents x action_size), got " +
                        std::to_string(actions.size()));
      const matrix<T>& head = policy(d.observations, d.graph);
      for (index i = 0; i < spec_.agents; ++i) {
        rng& stream = d.agent_rngs[static_cast<std::size_t>(i)];
        for (index k = 0; k < dims_; ++k) {
          T u = head(i, k);
          if (m == mode::explore) u += std::exp(head(i, dims_ + k)) * T(stream.normal());
          actions[static_cast<std::size_t>(i * dims_ + k)] = static_cast<float>(std::tanh(u));
        }
      }
    }

    void observe(const transition& t) {
      replay_.push(t);
      ++steps_;
      const std::int64_t starts = std::max(settings_.learning_starts, settings_.batch_size);
      if (replay_.size() < starts || steps_ % settings_.train_interval != 0) return;
      for (std::int64_t u = 0; u < settings_.gradient_steps; ++u) update();
    }

    void end_episode() {}

    update_stats end_epoch() {
      update_stats s;
      s.updates = updates_since_report_;
      if (updates_since_report_ > 0) {
        const double n = static_cast<double>(updates_since_report_);
        s.critic_loss = q_loss_sum_ / n;
        s.actor_loss = policy_loss_sum_ / n;
        s.critic_grad_norm = q_norm_sum_ / n;
        s.actor_grad_norm = policy_norm_sum_ / n;
      }
      last_v_loss_ = updates_since_report_ > 0
                         ? v_loss_sum_ / static_cast<double>(updates_since_report_)
                         : last_v_loss_;
      updates_since_report_ = 0;
      q_loss_sum_ = policy_loss_sum_ = v_loss_sum_ = q_norm_sum_ = policy_norm_sum_ = 0;
      return s;
    }

    // Everything a checkpoint must hold to resume (the replay buffer is refilled, not saved).
    netmarl::tensor_list<T> checkpoint_tensors() {
      netmarl::tensor_list<T> t = nn::values_of(policy_params_);
      for (auto& c : nn::values_of(q_params_)) t.push_back(c);
      for (auto& c : nn::values_of(v_params_)) t.push_back(c);
      for (auto& c : nn::values_of(v_target_params_)) t.push_back(c);
      for (auto& c : policy_optimizer_.state("policy_adam")) t.push_back(c);
      for (auto& c : q_optimizer_.state("q_adam")) t.push_back(c);
      for (auto& c : v_optimizer_.state("v_adam")) t.push_back(c);
      return t;
    }

    const nn::parameter_list<T>& policy_parameters() const { return policy_params_; }
    const nn::parameter_list<T>& q_parameters() const { return q_params_; }
    const nn::parameter_list<T>& v_parameters() const { return v_params_; }
    std::int64_t gradient_steps() const { return gradient_steps_; }
    double last_v_loss() const { return last_v_loss_; }  // mean V loss of the last reported epoch

    // Discrete head: q_i(.|o) for every agent of one joint observation (explore-mode
    // probabilities), [agents, actions]. Gaussian head: per agent the means of u, then the clamped
    // log-stds, [agents, 2 action_size].
    const matrix<T>& policy(const matrix<float>& observations, const graph::csr& graph) {
      act_input_ = observations.template cast<T>();
      const csr_view view = graph.view();
      message_.forward(B{}, act_input_, std::span<const csr_view>(&view, 1), act_embedding_,
                       act_message_cache_);
      nn::forward(B{}, head_, act_embedding_, act_head_cache_, act_logits_);
      ensure_shape(act_probs_, act_logits_.rows(), act_logits_.cols());
      if (continuous_) {
        act_probs_.leftCols(dims_) = act_logits_.leftCols(dims_);
        act_probs_.rightCols(dims_) =
            act_logits_.rightCols(dims_).cwiseMax(T(log_std_min)).cwiseMin(T(log_std_max));
      } else {
        nn::softmax_rows<T>(act_logits_, act_probs_);
      }
      return act_probs_;
    }

    bool continuous_actions() const { return continuous_; }

    // One gradient step is: load_batch, forward_policy, draw_neighbour_actions, then q_loss,
    // v_loss and policy_loss, each followed by its optimizer's step (so V's target reads the
    // updated Q, and the policy the updated Q). The pieces are public so tests can check each
    // loss's gradient against finite differences on a fixed batch.

    std::int64_t replay_size() const { return replay_.size(); }

    // Gathers the replayed transitions `indices` (any count) into the batch the losses read.
    void load_batch(std::span<const std::int64_t> indices) {
      const index n = spec_.agents, b = static_cast<index>(indices.size());
      batch_ = b;
      batch_slots_.assign(indices.begin(), indices.end());
      ensure_shape(x_, b * n, spec_.observation_size);
      ensure_shape(x_next_, b * n, spec_.observation_size);
      graphs_.clear();
      alive_.resize(static_cast<std::size_t>(b * n));
      if (continuous_)
        ensure_shape(stored_continuous_, b * n, dims_);
      else
        stored_actions_.resize(static_cast<std::size_t>(b * n));
      T acted = 0;
      for (index k = 0; k < b; ++k) {
        const std::int64_t slot = indices[static_cast<std::size_t>(k)];
        require(slot >= 0 && slot < replay_.size(),
                "soft_actor_critic::load_batch: replay index " + std::to_string(slot) +
                    " is not stored (size " + std::to_string(replay_.size()) + ")");
        x_.middleRows(k * n, n) = replay_.observations().middleRows(slot * n, n);
        x_next_.middleRows(k * n, n) = replay_.next_observations().middleRows(slot * n, n);
        graphs_.push_back(replay_.graph(slot).view());
        for (index i = 0; i < n; ++i) {
          alive_[static_cast<std::size_t>(k * n + i)] = replay_.alive()(slot, i);
          acted += replay_.alive()(slot, i);
          if (continuous_)
            stored_continuous_.row(k * n + i) = replay_.continuous_actions().row(slot * n + i);
          else
            stored_actions_[static_cast<std::size_t>(k * n + i)] = replay_.action(slot, i);
        }
      }
      weight_ = T(1) / std::max(acted, T(1));
    }

    // The current policy q_i(.|s) on the batch; its caches are what policy_loss differentiates.
    // Gaussian head: logits_ holds mu and the raw log-std; log_std_ and std_ the clamped ones.
    void forward_policy() {
      message_.forward(B{}, x_, graphs_, embedding_, message_cache_);
      nn::forward(B{}, head_, embedding_, head_cache_, logits_);
      if (continuous_) {
        log_std_ = logits_.rightCols(dims_).cwiseMax(T(log_std_min)).cwiseMin(T(log_std_max));
        std_ = log_std_.array().exp().matrix();
        return;
      }
      ensure_shape(log_probs_, logits_.rows(), logits_.cols());
      nn::log_softmax_rows<T>(logits_, log_probs_);
      probs_ = log_probs_.array().exp().matrix();
    }

    // Every agent's action drawn once from forward_policy's q (IP appendix C, remark). Gaussian
    // head: the noise eps ~ N(0, I) of every agent, held until the next call, and the actions
    // a~ = tanh(mu + sigma eps) and log q(a~) it gives under forward_policy's mu, sigma (the V
    // target's; policy_loss recomputes a~ from the current mu, sigma and the same eps).
    void draw_neighbour_actions() {
      if (continuous_) {
        ensure_shape(noise_, logits_.rows(), dims_);
        for (index r = 0; r < noise_.rows(); ++r)
          for (index k = 0; k < dims_; ++k) noise_(r, k) = T(sample_rng_.normal());
        reparameterise(sampled_u_, sampled_continuous_, sampled_log_q_);
        return;
      }
      sampled_actions_.resize(static_cast<std::size_t>(probs_.rows()));
      for (index r = 0; r < probs_.rows(); ++r)
        sampled_actions_[static_cast<std::size_t>(r)] = static_cast<int>(sample_rng_.categorical(
            std::span<const T>(probs_.row(r).data(), static_cast<std::size_t>(spec_.actions))));
    }

    // J(kappa) on the batch; with `gradient`, Q's gradients are zeroed and then filled.
    double q_loss(bool gradient) {
      const index n = spec_.agents, rows = batch_ * n;
      const T gamma = T(settings_.gamma);
      nn::forward(B{}, v_target_, x_next_, v_target_cache_, v_next_);
      if (continuous_) {
        gaussian_critic_input(stored_continuous_, q_input_);
      } else {
        one_hot(stored_actions_, one_hot_);
        critic_input(one_hot_, q_input_);
      }
      nn::forward(B{}, q_net_, q_input_, q_cache_, q_all_);
      ensure_shape(d_q_all_, rows, q_all_.cols());
      d_q_all_.setZero();
      double loss = 0;
      for (index k = 0; k < batch_; ++k) {
        const std::int64_t slot = batch_slots_[static_cast<std::size_t>(k)];
        const T continues = T(1) - replay_.done()(slot, 0);
        for (index i = 0; i < n; ++i) {
          const index r = k * n + i;
          const T target = replay_.rewards()(slot, i) +
                           gamma * continues * replay_.next_alive()(slot, i) * v_next_(r, 0);
          // The discrete head's Q has a column per action; the Gaussian head's one value.
          const index column = continuous_ ? 0 : stored_actions_[static_cast<std::size_t>(r)];
          const T error = alive_[static_cast<std::size_t>(r)] * (q_all_(r, column) - target);
          loss += 0.5 * static_cast<double>(error * error * weight_);
          d_q_all_(r, column) = error * weight_;
        }
      }
      if (gradient) {
        q_optimizer_.zero_grad();
        nn::backward(B{}, q_net_, q_cache_, d_q_all_, nullptr);
      }
      return loss;
    }

    // J(eta) on the batch: the target sum_a q(a) (Q(s, a, c~) - alpha log q(a)) reads the current
    // Q, forward_policy's q and draw_neighbour_actions' draws.
    double v_loss(bool gradient) {
      const index rows = batch_ * spec_.agents;
      const T alpha = T(settings_.alpha);
      if (continuous_) {
        gaussian_critic_input(sampled_continuous_, q_input_);
      } else {
        one_hot(sampled_actions_, one_hot_);
        critic_input(one_hot_, q_input_);
      }
      nn::forward(B{}, q_net_, q_input_, q_target_cache_, q_all_);
      nn::forward(B{}, v_net_, x_, v_cache_, v_values_);
      ensure_shape(d_v_, rows, 1);
      double loss = 0;
      for (index r = 0; r < rows; ++r) {
        // Discrete: the exact expectation over a_i; Gaussian: the one reparameterised draw.
        const T target =
            continuous_
                ? q_all_(r, 0) - alpha * sampled_log_q_(r, 0)
                : (probs_.row(r).array() *
                   (q_all_.row(r).array() - alpha * log_probs_.row(r).array()))
                      .sum();
        const T error = alive_[static_cast<std::size_t>(r)] * (v_values_(r, 0) - target);
        loss += 0.5 * static_cast<double>(error * error * weight_);
        d_v_(r, 0) = error * weight_;
      }
      if (gradient) {
        v_optimizer_.zero_grad();
        nn::backward(B{}, v_net_, v_cache_, d_v_, nullptr);
      }
      return loss;
    }

    // J(theta) on the batch, from forward_policy's q and the current Q; with `gradient`, the
    // policy's gradients are zeroed and then filled (Q's are left zero).
    double policy_loss(bool gradient) {
      if (continuous_) return gaussian_policy_loss(gradient);
      const index n = spec_.agents, rows = batch_ * n;
      const T alpha = T(settings_.alpha);
      const bool expected = settings_.policy_neighbours == neighbour_actions::expected;
      if (expected) {
        critic_input(probs_, q_input_);
      } else {
        one_hot(sampled_actions_, one_hot_);
        critic_input(one_hot_, q_input_);
      }
      nn::forward(B{}, q_net_, q_input_, q_policy_cache_, q_all_);
      // d/dq_i(a) of sum_a q(a) (alpha log q(a) - Q(a)) is alpha (log q(a) + 1) - Q(a).
      ensure_shape(d_probs_, rows, spec_.actions);
      double loss = 0;
      for (index r = 0; r < rows; ++r) {
        const T w = alive_[static_cast<std::size_t>(r)] * weight_;
        loss += static_cast<double>(
            w * (probs_.row(r).array() * (alpha * log_probs_.row(r).array() - q_all_.row(r).array()))
                    .sum());
        d_probs_.row(r) =
            (w * (alpha * (log_probs_.row(r).array() + T(1)) - q_all_.row(r).array())).matrix();
      }
      if (!gradient) return loss;
      if (expected) {
        // Through Q_i's input c^_i = sum_j q_j: dL/dc^_i = -w q_i^T dQ_i/dc^_i, then to every j.
        ensure_shape(d_q_all_, rows, spec_.actions);
        for (index r = 0; r < rows; ++r)
          d_q_all_.row(r) = -alive_[static_cast<std::size_t>(r)] * weight_ * probs_.row(r);
        q_optimizer_.zero_grad();
        nn::backward(B{}, q_net_, q_policy_cache_, d_q_all_, &d_q_input_);
        q_optimizer_.zero_grad();  // that pass only routed gradients; Q is not trained here
        for (index k = 0; k < batch_; ++k) {
          const csr_view& g = graphs_[static_cast<std::size_t>(k)];
          for (index i = 0; i < n; ++i)
            for (index e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
              const index j = g.indices[e];
              if (j != i) d_probs_.row(k * n + j) += d_q_input_.row(k * n + i).tail(spec_.actions);
            }
        }
      }
      ensure_shape(d_logits_, rows, spec_.actions);
      for (index r = 0; r < rows; ++r) {
        const T inner = d_probs_.row(r).dot(probs_.row(r));
        d_logits_.row(r) = (probs_.row(r).array() * (d_probs_.row(r).array() - inner)).matrix();
      }
      policy_optimizer_.zero_grad();
      nn::backward(B{}, head_, head_cache_, d_logits_, &d_embedding_);
      message_.backward(B{}, message_cache_, d_embedding_, nullptr);
      return loss;
    }

   private:
    // ---- Gaussian head ----

    // From forward_policy's mu, sigma and the held noise_: u = mu + sigma eps, a = tanh(u) and
    // log q(a) = sum_d (log N(u_d; mu_d, sigma_d) - log(1 - a_d^2 + guard)), where
    // log N(u; mu, sigma) = -eps^2 / 2 - log sigma - log(2 pi) / 2.
    void reparameterise(matrix<T>& u, matrix<T>& a, matrix<T>& log_q) const {
      const index rows = logits_.rows();
      NETMARL_CHECK(noise_.rows() == rows && noise_.cols() == dims_, shape_error,
                    "soft_actor_critic: call draw_neighbour_actions after forward_policy and "
                    "before the losses (the held noise is " + std::to_string(noise_.rows()) +
                        " rows, the batch " + std::to_string(rows) + ")");
      const T half_log_two_pi = T(0.5 * std::log(2 * 3.14159265358979323846));
      ensure_shape(u, rows, dims_);
      ensure_shape(a, rows, dims_);
      ensure_shape(log_q, rows, 1);
      for (index r = 0; r < rows; ++r) {
        T sum = 0;
        for (index k = 0; k < dims_; ++k) {
          const T e = noise_(r, k);
          u(r, k) = logits_(r, k) + std_(r, k) * e;
          a(r, k) = std::tanh(u(r, k));
          sum += -T(0.5) * e * e - log_std_(r, k) - half_log_two_pi -
                 std::log(T(1) - a(r, k) * a(r, k) + T(squash_guard));
        }
        log_q(r, 0) = sum;
      }
    }

    // critic input [o_i, a_i, m_i], m_i = mean over i's neighbours (not i) of their rows of
    // `actions` ([B*N, action_size]) in the same sample; 0 without neighbours.
    void gaussian_critic_input(const matrix<T>& actions, matrix<T>& out) const {
      const index n = spec_.agents, b = batch_, f = spec_.observation_size;
      ensure_shape(out, b * n, f + 2 * dims_);
      out.leftCols(f) = x_;
      out.middleCols(f, dims_) = actions;
      out.rightCols(dims_).setZero();
      for (index k = 0; k < b; ++k) {
        const csr_view& g = graphs_[static_cast<std::size_t>(k)];
        for (index i = 0; i < n; ++i) {
          const index others = neighbours_besides_self(g, i);
          if (others == 0) continue;
          for (index e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
            const index j = g.indices[e];
            if (j != i) out.row(k * n + i).tail(dims_) += actions.row(k * n + j) / T(others);
          }
        }
      }
    }

    static index neighbours_besides_self(const csr_view& g, index i) {
      index others = 0;
      for (index e = g.offsets[i]; e < g.offsets[i + 1]; ++e) others += g.indices[e] != i;
      return others;
    }


    double gaussian_policy_loss(bool gradient) {
      const index n = spec_.agents, rows = batch_ * n, f = spec_.observation_size;
      const T alpha = T(settings_.alpha);
      reparameterise(policy_u_, policy_continuous_, policy_log_q_);
      gaussian_critic_input(policy_continuous_, q_input_);
      nn::forward(B{}, q_net_, q_input_, q_policy_cache_, q_all_);
      double loss = 0;
      for (index r = 0; r < rows; ++r)
        loss += static_cast<double>(alive_[static_cast<std::size_t>(r)] * weight_ *
                                    (alpha * policy_log_q_(r, 0) - q_all_(r, 0)));
      if (!gradient) return loss;
      // dL/dQ_i = -w_i; Q's input gradient gives dL/da~_i (own column block) and dL/dm_i.
      ensure_shape(d_q_all_, rows, 1);
      for (index r = 0; r < rows; ++r)
        d_q_all_(r, 0) = -alive_[static_cast<std::size_t>(r)] * weight_;
      q_optimizer_.zero_grad();
      nn::backward(B{}, q_net_, q_policy_cache_, d_q_all_, &d_q_input_);
      q_optimizer_.zero_grad();  // that pass only routed gradients; Q is not trained here
      d_actions_ = d_q_input_.middleCols(f, dims_);
      if (settings_.policy_neighbours == neighbour_actions::expected) {
        // m_i = mean_j a~_j: each neighbour j gets dL/dm_i / |N(i) \ {i}|.
        for (index k = 0; k < batch_; ++k) {
          const csr_view& g = graphs_[static_cast<std::size_t>(k)];
          for (index i = 0; i < n; ++i) {
            const index others = neighbours_besides_self(g, i);
            for (index e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
              const index j = g.indices[e];
              if (j != i)
                d_actions_.row(k * n + j) += d_q_input_.row(k * n + i).tail(dims_) / T(others);
            }
          }
        }
      }
      // a = tanh(u), u = mu + sigma eps, sigma = exp(clamp(raw)): with t = tanh(u),
      // d log q / du = 2 t (1 - t^2) / (1 - t^2 + guard), d log q / d log sigma (direct) = -1.
      ensure_shape(d_logits_, rows, 2 * dims_);
      for (index r = 0; r < rows; ++r) {
        const T w = alive_[static_cast<std::size_t>(r)] * weight_;
        for (index k = 0; k < dims_; ++k) {
          const T t = policy_continuous_(r, k), slope = T(1) - t * t;
          const T d_u = d_actions_(r, k) * slope +
                        alpha * w * T(2) * t * slope / (slope + T(squash_guard));
          const T raw = logits_(r, dims_ + k);
          const bool inside = raw > T(log_std_min) && raw < T(log_std_max);
          d_logits_(r, k) = d_u;
          d_logits_(r, dims_ + k) =
              inside ? d_u * std_(r, k) * noise_(r, k) - alpha * w : T(0);
        }
      }
      policy_optimizer_.zero_grad();
      nn::backward(B{}, head_, head_cache_, d_logits_, &d_embedding_);
      message_.backward(B{}, message_cache_, d_embedding_, nullptr);
      return loss;
    }

    static settings validated(const settings& s) {
      const std::string who = "soft_actor_critic";
      require(s.hidden >= 1, who + ": hidden must be >= 1, got " + std::to_string(s.hidden));
      require(s.critic_hidden_layers >= 0 && s.policy_head_layers >= 0,
              who + ": hidden layer counts must be >= 0");
      require(s.policy_learning_rate > 0 && s.q_learning_rate > 0 && s.v_learning_rate > 0,
              who + ": learning rates must be positive");
      require(s.gamma >= 0 && s.gamma <= 1,
              who + ": gamma must be in [0, 1], got " + std::to_string(s.gamma));
      require(s.alpha >= 0 && std::isfinite(s.alpha),
              who + ": alpha must be finite and >= 0, got " + std::to_string(s.alpha));
      require(s.tau > 0 && s.tau <= 1, who + ": tau must be in (0, 1], got " + std::to_string(s.tau));
      require(s.batch_size >= 1,
              who + ": batch_size must be >= 1, got " + std::to_string(s.batch_size));
      require(s.buffer_capacity >= s.batch_size,
              who + ": buffer_capacity (" + std::to_string(s.buffer_capacity) +
                  ") must be >= batch_size (" + std::to_string(s.batch_size) + ")");
      require(s.gradient_steps >= 1 && s.train_interval >= 1,
              who + ": gradient_steps and train_interval must be >= 1");
      require(s.clip_norm >= 0, who + ": clip_norm must be >= 0 (0 turns clipping off)");
      return s;
    }
    nn::parameter_list<T> collect_policy() {
      nn::parameter_list<T> p;
      message_.append_parameters(p, "message.");
      head_.append_parameters(p, "policy_head.");
      return p;
    }
    static nn::parameter_list<T> collect(nn::mlp<T>& net, const std::string& prefix) {
      nn::parameter_list<T> p;
      net.append_parameters(p, prefix);
      return p;
    }
    T clipped_norm(const nn::parameter_list<T>& params) const {
      return settings_.clip_norm > 0 ? optim::clip_grad_norm(params, T(settings_.clip_norm))
                                     : optim::grad_norm(params);
    }

    // critic input [o_i, c_i]: c_i = sum over i's neighbours (not i) of the rows of `per_agent`
    // ([B*N, A]: one-hot actions or probabilities) in the same sample.
    void critic_input(const matrix<T>& per_agent, matrix<T>& out) const {
      const index n = spec_.agents, b = batch_, f = spec_.observation_size;
      ensure_shape(out, b * n, f + spec_.actions);
      out.leftCols(f) = x_;
      out.rightCols(spec_.actions).setZero();
      for (index k = 0; k < b; ++k) {
        const csr_view& g = graphs_[static_cast<std::size_t>(k)];
        for (index i = 0; i < n; ++i)
          for (index e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
            const index j = g.indices[e];
            if (j != i) out.row(k * n + i).tail(spec_.actions) += per_agent.row(k * n + j);
          }
      }
    }

    void one_hot(const std::vector<int>& actions, matrix<T>& out) const {
      ensure_shape(out, static_cast<index>(actions.size()), spec_.actions);
      out.setZero();
      for (std::size_t r = 0; r < actions.size(); ++r) out(static_cast<index>(r), actions[r]) = 1;
    }

    void update() {
      replay_.sample(sample_rng_, indices_);
      load_batch(indices_);
      forward_policy();
      draw_neighbour_actions();
      q_loss_sum_ += q_loss(true);
      q_norm_sum_ += static_cast<double>(clipped_norm(q_params_));
      q_optimizer_.step();
      v_loss_sum_ += v_loss(true);
      static_cast<void>(clipped_norm(v_params_));
      v_optimizer_.step();
      policy_loss_sum_ += policy_loss(true);
      policy_norm_sum_ += static_cast<double>(clipped_norm(policy_params_));
      policy_optimizer_.step();
      optim::polyak_update(v_target_params_, v_params_, T(settings_.tau));
      ++gradient_steps_;
      ++updates_since_report_;
    }

    env::spec spec_;
    settings settings_;
    bool continuous_;  // Gaussian head (spec.action_size > 0), else softmax
    index dims_;       // action_size: continuous action dimensions
    message_model message_;
    nn::mlp<T> head_, q_net_, v_net_, v_target_;
    nn::parameter_list<T> policy_params_, q_params_, v_params_, v_target_params_;
    optim::adam<T> policy_optimizer_, q_optimizer_, v_optimizer_;
    replay_buffer<T> replay_;
    rng sample_rng_;  // replay indices and the neighbour-action draws of the V target
    std::vector<std::int64_t> indices_;
    std::vector<csr_view> graphs_;
    std::vector<std::int64_t> batch_slots_;
    index batch_ = 0;
    T weight_ = 0;  // 1 / (alive rows in the batch)
    std::int64_t steps_ = 0, gradient_steps_ = 0, updates_since_report_ = 0;
    double q_loss_sum_ = 0, v_loss_sum_ = 0, policy_loss_sum_ = 0, q_norm_sum_ = 0,
           policy_norm_sum_ = 0, last_v_loss_ = 0;
    // Buffers reused across steps.
    typename message_model::cache act_message_cache_, message_cache_;
    nn::mlp_cache<T> act_head_cache_, head_cache_, q_cache_, q_target_cache_, q_policy_cache_, v_cache_,
        v_target_cache_;
    matrix<T> act_input_, act_embedding_, act_logits_, act_probs_;
    matrix<T> x_, x_next_, embedding_, logits_, log_probs_, probs_, one_hot_, q_input_, q_all_,
        d_q_all_, d_q_input_, v_next_, v_values_, d_v_, d_probs_, d_logits_, d_embedding_;
    // Gaussian head: clamped log-std and std, held noise, replayed / sampled / policy actions.
    matrix<T> log_std_, std_, noise_, stored_continuous_, sampled_u_, sampled_continuous_,
        sampled_log_q_, policy_u_, policy_continuous_, policy_log_q_, d_actions_;
    std::vector<T> alive_;
    std::vector<int> stored_actions_, sampled_actions_;
  };
};

}  // namespace netmarl::learn
