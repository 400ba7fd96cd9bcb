#pragma once
// learn::dqn: value-based learning with replay, a target network, double Q and epsilon-greedy
// exploration (PyMARL q_learner; DGN). Each agent's utility Q_i(o_i, .) comes from the
// message-passing slot followed by a shared MLP. The 1-step TD error is on the factorization's
// output: per agent with a per-agent factorization (independent learners), on Q_tot otherwise:
//   y = r + gamma (1 - done) Mix_target(Q_target_i(o'_i, argmax_a Q_i(o'_i, a))).
// Agents that are done are masked: their utilities enter the mixer as 0 and carry no loss.
//
// A factorization that owns its critic loss (factor::qtran, factor::vast<qtran, ...>) is trained
// as PyMARL's qtran_learner: the TD target is its target copy's joint value
//   y = r + gamma (1 - done) Q_jt^-(s', u'),  u'_i = argmax_a Q_i(o'_i, a) (double Q; else of the
// target utilities), read at the target utility network's last hidden layer on o', and the
// factorization's loss (QTRAN: L_td + lambda_opt L_opt + lambda_nopt L_nopt) replaces the masked
// TD regression; its gradients reach the utilities through the chosen and greedy action columns
// and the last hidden layer. Such a factorization reads that layer, so hidden_layers must be >= 1.
//
// Positions for a spatial assignment (factor::vast<Psi, assign::spatial>) come from the replay
// buffer: those of s for the online side, those of s' for the target side (replay.hpp says where
// the latter come from). factor::vast<Psi, assign::meta_grad> is not supported: its assignment
// learns along the actor's advantages (VAST eq. 6), and dqn has no actor.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "netmarl/core/assert.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/learn/concept.hpp"
#include "netmarl/learn/critic_loss.hpp"
#include "netmarl/learn/epsilon.hpp"
#include "netmarl/learn/replay.hpp"
#include "netmarl/nn/activation.hpp"
#include "netmarl/nn/mlp.hpp"
#include "netmarl/nn/mlp_sizes.hpp"
#include "netmarl/optim/adam.hpp"
#include "netmarl/optim/clip.hpp"
#include "netmarl/optim/target.hpp"

namespace netmarl::learn {

struct dqn {
  struct settings {
    index hidden = 64;  // width of the utility network's hidden layers
    index hidden_layers = 2;
    double learning_rate = 5e-4;  // Adam (PyMARL: 5e-4)
    double gamma = 0.99;
    std::int64_t batch_size = 32;  // transitions per gradient step
    std::int64_t buffer_capacity = 5000;
    std::int64_t learning_starts = 0;  // transitions stored before the first update (>= batch_size)
    std::int64_t train_interval = 1;   // environment steps between update rounds
    std::int64_t updates_per_step = 1;          // gradient steps per update round
    std::int64_t target_update_interval = 200;  // gradient steps between hard target updates
    double target_tau = 0.0;  // > 0: Polyak update with this tau every step instead
    bool double_q = true;
    double clip_norm = 10.0;  // PyMARL grad_norm_clip
    epsilon_schedule epsilon{};
  };

  template <class Slots>
  class model {
   public:
    using T = typename Slots::scalar;
    using B = typename Slots::backend;
    using message_model = typename Slots::message::template model<T>;
    using factor_model = typename Slots::factor::template model<T>;
    static_assert(std::is_copy_constructible_v<factor_model>,
                  "learn::dqn does not support factor::vast with assign::meta_grad: VAST eq. 6 "
                  "moves the assignment along the actor's advantages, and dqn has no actor (train "
                  "it with learn::actor_critic). (dqn keeps a target copy of its factorization, "
                  "and this one cannot be copied.)");

    model(const env::spec& spec, const slot_settings<Slots>& s, rng& g)
        : spec_(spec),
          settings_(validated(s.learner)),
          message_(spec.agents, spec.observation_size, s.message, g),
          factor_(spec.agents, spec.state_size, s.factor, g),
          q_net_(nn::mlp_sizes(message_.output_size(), settings_.hidden, settings_.hidden_layers,
                               spec.actions),
                 nn::activation::elu, nn::activation::identity, g),
          target_message_(message_),
          target_factor_(bound_factor(g)),  // binds factor_ first: the copy has its networks
          target_q_net_(q_net_),
          params_(collect(message_, q_net_, factor_)),
          target_params_(collect(target_message_, target_q_net_, target_factor_)),
          optimizer_(params_, {.learning_rate = T(settings_.learning_rate)}),
          replay_(spec, settings_.buffer_capacity, message_model::uses_graph),
          sample_rng_(g.split(0x5eed)),
          mixing_rng_(g.split(0x6d6978)),
          indices_(static_cast<std::size_t>(settings_.batch_size)) {}

    void act(const decision& d, std::span<int> actions, mode m) {
      act_input_ = d.observations.template cast<T>();
      const csr_view graph = d.graph.view();
      message_.forward(B{}, act_input_, std::span<const csr_view>(&graph, 1), act_embedding_,
                       act_message_cache_);
      nn::forward(B{}, q_net_, act_embedding_, act_cache_, act_q_);
      const double eps = settings_.epsilon.at(steps_);
      for (index i = 0; i < spec_.agents; ++i) {
        rng& g = d.agent_rngs[static_cast<std::size_t>(i)];
        index a = 0;
        if (m == mode::explore && g.uniform() < eps)
          a = static_cast<index>(g.below(static_cast<std::uint64_t>(spec_.actions)));
        else
          act_q_.row(i).maxCoeff(&a);
        actions[static_cast<std::size_t>(i)] = static_cast<int>(a);
      }
    }

    void observe(const transition& t) {
      replay_.push(t);
      ++steps_;
      const std::int64_t starts = std::max(settings_.learning_starts, settings_.batch_size);
      if (replay_.size() < starts || steps_ % settings_.train_interval != 0) return;
      for (std::int64_t u = 0; u < settings_.updates_per_step; ++u) update();
    }

    void end_episode() {}

    update_stats end_epoch() {
      update_stats s;
      s.epsilon = settings_.epsilon.at(steps_);
      s.updates = updates_since_report_;
      if (updates_since_report_ > 0) {
        s.critic_loss = loss_sum_ / static_cast<double>(updates_since_report_);
        s.critic_grad_norm = grad_norm_sum_ / static_cast<double>(updates_since_report_);
      }
      updates_since_report_ = 0;
      loss_sum_ = grad_norm_sum_ = 0;
      return s;
    }

    // Everything a checkpoint must hold to resume: online and target networks, the optimizer.
    // (The replay buffer is not saved: a resumed run refills it.)
    netmarl::tensor_list<T> checkpoint_tensors() {
      netmarl::tensor_list<T> t = nn::values_of(params_);
      for (auto& c : nn::values_of(target_params_)) t.push_back({"target." + c.name, c.tensor});
      for (auto& c : optimizer_.state("adam")) t.push_back(c);
      return t;
    }

    // The critic of LToS's high level (sharing::learned; LToS algorithm 1, line 19): for inputs x
    // [samples * agents, observation_size] with their graphs (one shared or one per sample),
    // returns the mean over rows of max_a Q_i(x, a) and writes d_x = d(sum of those maxima)/dx.
    // It runs the online network on its own caches; the parameter gradients it leaves behind are
    // cleared by the next update's zero_grad.
    double max_q_input_gradient(const matrix<T>& x, std::span<const csr_view> graphs,
                                matrix<T>& d_x) {
      message_.forward(B{}, x, graphs, critic_embedding_, critic_message_cache_);
      nn::forward(B{}, q_net_, critic_embedding_, critic_cache_, critic_q_);
      ensure_shape(critic_d_q_, critic_q_.rows(), critic_q_.cols());
      critic_d_q_.setZero();
      double sum = 0;
      for (index r = 0; r < critic_q_.rows(); ++r) {
        index best = 0;
        sum += static_cast<double>(critic_q_.row(r).maxCoeff(&best));
        critic_d_q_(r, best) = T(1);
      }
      nn::backward(B{}, q_net_, critic_cache_, critic_d_q_, &critic_d_embedding_);
      message_.backward(B{}, critic_message_cache_, critic_d_embedding_, &d_x);
      return critic_q_.rows() > 0 ? sum / static_cast<double>(critic_q_.rows()) : 0.0;
    }

    const nn::parameter_list<T>& parameters() const { return params_; }
    const nn::parameter_list<T>& target_parameters() const { return target_params_; }
    factor_model& factor() { return factor_; }
    factor_model& target_factor() { return target_factor_; }
    std::int64_t gradient_steps() const { return gradient_steps_; }

   private:
    static settings validated(const settings& s) {
      const std::string who = "dqn";
      require(s.hidden >= 1, who + ": hidden must be >= 1, got " + std::to_string(s.hidden));
      require(s.hidden_layers >= 0,
              who + ": hidden_layers must be >= 0, got " + std::to_string(s.hidden_layers));
      require(s.learning_rate > 0, who + ": learning_rate must be positive");
      require(s.gamma >= 0 && s.gamma <= 1,
              who + ": gamma must be in [0, 1], got " + std::to_string(s.gamma));
      require(s.batch_size >= 1,
              who + ": batch_size must be >= 1, got " + std::to_string(s.batch_size));
      require(s.buffer_capacity >= s.batch_size,
              who + ": buffer_capacity (" + std::to_string(s.buffer_capacity) +
                  ") must be >= batch_size (" + std::to_string(s.batch_size) + ")");
      require(s.train_interval >= 1 && s.updates_per_step >= 1,
              who + ": train_interval and updates_per_step must be >= 1");
      require(s.target_update_interval >= 1, who + ": target_update_interval must be >= 1");
      require(s.target_tau >= 0 && s.target_tau <= 1, who + ": target_tau must be in [0, 1]");
      s.epsilon.validate(who);
      return s;
    }
    // Binds the factorization to the utilities (once, after q_net_ is built and before the target
    // copy and the parameter lists are made): an owned loss (QTRAN) reads the utility network's
    // last hidden layer and builds its networks for that width here. Returns factor_ to copy.
    const factor_model& bound_factor(rng& g) {
      if (settings_.hidden_layers >= 1)
        factor::bind_utilities(factor_, {settings_.hidden, spec_.actions}, g);
      else
        require(!factor::owns_critic_loss(factor_),
                "dqn: this factorization reads the utilities' hidden features (QTRAN), so "
                "hidden_layers must be >= 1");
      return factor_;
    }
    static nn::parameter_list<T> collect(message_model& m, nn::mlp<T>& q, factor_model& f) {
      nn::parameter_list<T> p;
      m.append_parameters(p, "message.");
      q.append_parameters(p, "q.");
      f.append_parameters(p, "factor.");
      return p;
    }

    // The sampled batch as a factorization sees it; positions only from a spatial environment.
    factor::mixing_context<T> mixing_context(const matrix<T>& observations, const matrix<T>& states,
                                             const matrix<T>& positions) {
      factor::mixing_context<T> c;
      c.batch = settings_.batch_size;
      c.agents = spec_.agents;
      c.observations = observations.data();
      c.observation_size = spec_.observation_size;
      c.states = states.data();
      c.state_size = spec_.state_size;
      c.positions = replay_.has_positions() ? positions.data() : nullptr;
      c.generator = &mixing_rng_;
      return c;
    }

    // Gathers the sampled transitions' agent rows into contiguous batch matrices.
    void gather_batch() {
      const index n = spec_.agents, b = settings_.batch_size;
      ensure_shape(x_, b * n, spec_.observation_size);
      ensure_shape(x_next_, b * n, spec_.observation_size);
      ensure_shape(state_, b, spec_.state_size);
      ensure_shape(state_next_, b, spec_.state_size);
      const bool positions = replay_.has_positions();
      if (positions) {
        ensure_shape(positions_, b * n, 2);
        ensure_shape(positions_next_, b * n, 2);
      }
      graphs_.clear();
      next_graphs_.clear();
      for (index k = 0; k < b; ++k) {
        const std::int64_t slot = indices_[static_cast<std::size_t>(k)];
        x_.middleRows(k * n, n) = replay_.observations().middleRows(slot * n, n);
        x_next_.middleRows(k * n, n) = replay_.next_observations().middleRows(slot * n, n);
        state_.row(k) = replay_.states().row(slot);
        state_next_.row(k) = replay_.next_states().row(slot);
        if (positions) {
          positions_.middleRows(k * n, n) = replay_.positions().middleRows(slot * n, n);
          positions_next_.middleRows(k * n, n) = replay_.next_positions().middleRows(slot * n, n);
        }
        if constexpr (message_model::uses_graph) {
          graphs_.push_back(replay_.graph(slot).view());
          next_graphs_.push_back(replay_.next_graph(slot).view());
        }
      }
    }

    void update() {
      replay_.sample(sample_rng_, indices_);
      gather_batch();
      // Targets first: the online network's forward on o' (double Q) must not overwrite the
      // caches that the online forward on o needs for backward.
      next_utilities();
      const double loss = factor::owns_critic_loss(factor_) ? owned_step() : mixed_step();
      const T norm = optim::clip_grad_norm(params_, T(settings_.clip_norm));
      optimizer_.step();

      ++gradient_steps_;
      if (settings_.target_tau > 0)
        optim::polyak_update(target_params_, params_, T(settings_.target_tau));
      else if (gradient_steps_ % settings_.target_update_interval == 0)
        optim::hard_update(target_params_, params_);
      ++updates_since_report_;
      loss_sum_ += loss;
      grad_norm_sum_ += static_cast<double>(norm);
    }

    // The target utilities Q^-_i(o'_i, .) (t_q_, t_cache_) and the actions the target evaluates:
    // next_actions_ = argmax_a of the online utilities on o' with double Q, else of the target's.
    void next_utilities() {
      const index n = spec_.agents, b = settings_.batch_size;
      target_message_.forward(B{}, x_next_, next_graphs_, t_embedding_, next_message_cache_);
      nn::forward(B{}, target_q_net_, t_embedding_, t_cache_, t_q_);
      if (settings_.double_q) {
        message_.forward(B{}, x_next_, next_graphs_, o_embedding_, next_message_cache_);
        nn::forward(B{}, q_net_, o_embedding_, o_cache_, o_q_);
      }
      const matrix<T>& chooser = settings_.double_q ? o_q_ : t_q_;
      next_actions_.resize(static_cast<std::size_t>(b * n));
      for (index r = 0; r < b * n; ++r) {
        index best = 0;
        chooser.row(r).maxCoeff(&best);
        next_actions_[static_cast<std::size_t>(r)] = static_cast<int>(best);
      }
    }

    // The online utilities Q_i(o_i, .) (q_, cache_, embedding_) and the alive-masked chosen ones.
    void online_utilities() {
      const index n = spec_.agents, b = settings_.batch_size;
      message_.forward(B{}, x_, graphs_, embedding_, message_cache_);
      nn::forward(B{}, q_net_, embedding_, cache_, q_);
      ensure_shape(chosen_, b, n);
      for (index k = 0; k < b; ++k) {
        const std::int64_t slot = indices_[static_cast<std::size_t>(k)];
        for (index i = 0; i < n; ++i)
          chosen_(k, i) = replay_.alive()(slot, i) * q_(k * n + i, replay_.action(slot, i));
      }
    }

    // The TD error on the factorization's outputs (masked MSE), backward through the mixer, the
    // utilities and the messages. Returns the loss; the gradients are in params_.
    double mixed_step() {
      const index n = spec_.agents, b = settings_.batch_size, a_count = spec_.actions;
      ensure_shape(t_chosen_, b, n);
      for (index k = 0; k < b; ++k) {
        const std::int64_t slot = indices_[static_cast<std::size_t>(k)];
        for (index i = 0; i < n; ++i) {
          const index r = k * n + i;
          t_chosen_(k, i) =
              replay_.next_alive()(slot, i) * t_q_(r, next_actions_[static_cast<std::size_t>(r)]);
        }
      }
      factor::prepare(target_factor_, B{}, mixing_context(x_next_, state_next_, positions_next_));
      target_factor_.forward(B{}, t_chosen_, state_next_, t_mixed_);
      const index outputs = t_mixed_.cols();
      const bool per_agent = factor::is_per_agent(factor_);
      ensure_shape(y_, b, outputs);
      ensure_shape(mask_, b, outputs);
      const T gamma = static_cast<T>(settings_.gamma);
      for (index k = 0; k < b; ++k) {
        const std::int64_t slot = indices_[static_cast<std::size_t>(k)];
        const T not_done = T(1) - replay_.done()(slot, 0);
        for (index o = 0; o < outputs; ++o) {
          const T r = per_agent ? replay_.rewards()(slot, o) : replay_.global_rewards()(slot, 0);
          y_(k, o) = r + gamma * not_done * t_mixed_(k, o);
          mask_(k, o) = per_agent ? replay_.alive()(slot, o) : T(1);
        }
      }

      online_utilities();
      factor::prepare(factor_, B{}, mixing_context(x_, state_, positions_));
      factor_.forward(B{}, chosen_, state_, mixed_);
      const double loss = static_cast<double>(masked_mse(mixed_, y_, mask_, d_mixed_));
      optimizer_.zero_grad();
      factor_.backward(B{}, d_mixed_, d_chosen_);
      ensure_shape(d_q_, b * n, a_count);
      d_q_.setZero();
      for (index k = 0; k < b; ++k) {
        const std::int64_t slot = indices_[static_cast<std::size_t>(k)];
        for (index i = 0; i < n; ++i)
          d_q_(k * n + i, replay_.action(slot, i)) = replay_.alive()(slot, i) * d_chosen_(k, i);
      }
      nn::backward(B{}, q_net_, cache_, d_q_, &d_embedding_);
      message_.backward(B{}, message_cache_, d_embedding_, nullptr);
      return loss;
    }

    // A factorization that owns its loss (PyMARL qtran_learner): y = r + gamma (1 - done)
    // Q_jt^-(s', u') from the target copy, then the factorization's loss on the online utilities,
    // whose gradients flow into the chosen and greedy action columns and the last hidden layer.
    // Returns the total loss; the gradients are in params_.
    double owned_step() {
      const index n = spec_.agents, b = settings_.batch_size, a_count = spec_.actions;
      const index rows = b * n;
      next_alive_rows_.resize(static_cast<std::size_t>(rows));
      for (index k = 0; k < b; ++k) {
        const std::int64_t slot = indices_[static_cast<std::size_t>(k)];
        for (index i = 0; i < n; ++i)
          next_alive_rows_[static_cast<std::size_t>(k * n + i)] = replay_.next_alive()(slot, i);
      }
      factor::prepare(target_factor_, B{}, mixing_context(x_next_, state_next_, positions_next_));
      const matrix<T>& t_hidden = nn::last_hidden(target_q_net_, t_cache_);
      factor::joint_batch<T> next;
      next.batch = b;
      next.agents = n;
      next.actions_count = a_count;
      next.actions = next_actions_.data();
      next.hidden = t_hidden.data();
      next.hidden_size = t_hidden.cols();
      next.states = state_next_.data();
      next.state_size = spec_.state_size;
      next.alive = next_alive_rows_.data();
      factor::joint_value(target_factor_, B{}, next, t_mixed_);
      NETMARL_CHECK(t_mixed_.rows() == b && t_mixed_.cols() == 1, shape_error,
                    "dqn: the factorization's joint value is " + std::to_string(t_mixed_.rows()) +
                        "x" + std::to_string(t_mixed_.cols()) + ", expected " + std::to_string(b) +
                        "x1");
      ensure_shape(y_, b, 1);
      const T gamma = static_cast<T>(settings_.gamma);
      for (index k = 0; k < b; ++k) {
        const std::int64_t slot = indices_[static_cast<std::size_t>(k)];
        const T not_done = T(1) - replay_.done()(slot, 0);
        y_(k, 0) = replay_.global_rewards()(slot, 0) + gamma * not_done * t_mixed_(k, 0);
      }

      online_utilities();
      ensure_shape(greedy_, b, n);
      actions_.resize(static_cast<std::size_t>(rows));
      greedy_actions_.resize(static_cast<std::size_t>(rows));
      alive_rows_.resize(static_cast<std::size_t>(rows));
      for (index k = 0; k < b; ++k) {
        const std::int64_t slot = indices_[static_cast<std::size_t>(k)];
        for (index i = 0; i < n; ++i) {
          const index r = k * n + i;
          const T alive = replay_.alive()(slot, i);
          index best = 0;
          const T best_q = q_.row(r).maxCoeff(&best);
          actions_[static_cast<std::size_t>(r)] = replay_.action(slot, i);
          greedy_actions_[static_cast<std::size_t>(r)] = static_cast<int>(best);
          greedy_(k, i) = alive * best_q;
          alive_rows_[static_cast<std::size_t>(r)] = alive;
        }
      }
      factor::prepare(factor_, B{}, mixing_context(x_, state_, positions_));
      const matrix<T>& hidden = nn::last_hidden(q_net_, cache_);
      factor::joint_batch<T> batch;
      batch.batch = b;
      batch.agents = n;
      batch.actions_count = a_count;
      batch.chosen_q = chosen_.data();
      batch.greedy_q = greedy_.data();
      batch.actions = actions_.data();
      batch.greedy_actions = greedy_actions_.data();
      batch.hidden = hidden.data();
      batch.hidden_size = hidden.cols();
      batch.states = state_.data();
      batch.state_size = spec_.state_size;
      batch.alive = alive_rows_.data();
      batch.targets = y_.data();
      optimizer_.zero_grad();  // before critic_loss, which accumulates the factor's gradients
      const factor::joint_loss loss = factor::critic_loss(factor_, B{}, batch, joint_grads_);
      ensure_shape(d_q_, rows, a_count);
      d_q_.setZero();
      for (index k = 0; k < b; ++k)
        for (index i = 0; i < n; ++i) {
          const index r = k * n + i;
          const T alive = alive_rows_[static_cast<std::size_t>(r)];
          d_q_(r, actions_[static_cast<std::size_t>(r)]) += alive * joint_grads_.chosen_q(k, i);
          d_q_(r, greedy_actions_[static_cast<std::size_t>(r)]) +=
              alive * joint_grads_.greedy_q(k, i);
        }
      nn::backward_with_hidden(B{}, q_net_, cache_, d_q_, joint_grads_.hidden, &d_embedding_);
      message_.backward(B{}, message_cache_, d_embedding_, nullptr);
      return loss.total;
    }

    env::spec spec_;
    settings settings_;
    message_model message_;
    factor_model factor_;
    nn::mlp<T> q_net_;
    // Caches: acting, the replayed s (differentiated) and s' (forward only, online and target).
    typename message_model::cache act_message_cache_, message_cache_, next_message_cache_;
    message_model target_message_;
    factor_model target_factor_;
    nn::mlp<T> target_q_net_;
    nn::parameter_list<T> params_, target_params_;
    optim::adam<T> optimizer_;
    replay_buffer<T> replay_;
    rng sample_rng_, mixing_rng_;
    std::vector<std::int64_t> indices_;
    std::vector<csr_view> graphs_, next_graphs_;
    std::int64_t steps_ = 0, gradient_steps_ = 0, updates_since_report_ = 0;
    double loss_sum_ = 0, grad_norm_sum_ = 0;
    // Buffers reused across updates.
    matrix<T> act_input_, act_embedding_, act_q_;
    nn::mlp_cache<T> act_cache_, t_cache_, o_cache_, cache_;
    matrix<T> x_, x_next_, state_, state_next_;
    matrix<T> t_embedding_, t_q_, o_embedding_, o_q_, t_chosen_, t_mixed_, y_, mask_;
    matrix<T> embedding_, q_, chosen_, mixed_, d_mixed_, d_chosen_, d_q_, d_embedding_;
    matrix<T> positions_, positions_next_;  // [B*N, 2] of s and s' (spatial environments only)
    // max_q_input_gradient (the LToS high level's critic).
    typename message_model::cache critic_message_cache_;
    nn::mlp_cache<T> critic_cache_;
    matrix<T> critic_embedding_, critic_q_, critic_d_q_, critic_d_embedding_;
    // The owned-loss path (factor::owns_critic_loss).
    matrix<T> greedy_;
    std::vector<int> next_actions_, actions_, greedy_actions_;
    std::vector<T> next_alive_rows_, alive_rows_;
    factor::joint_gradients<T> joint_grads_;
  };
};

}  // namespace netmarl::learn
