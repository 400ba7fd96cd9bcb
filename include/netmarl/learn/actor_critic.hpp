#pragma once
// learn::actor_critic: the on-policy learner of the VAST authors' code (algorithms.md sections 1
// and 3). Once per epoch of episodes: one full-batch Adam step of the critic on Monte-Carlo
// returns, then one of the shared actor with advantage A_i = R_i - sum_a pi(a|o_i) Q_i(o_i, a).
// The critic is the factorization slot over local utilities Q_i(o_i, .): with a per-agent
// factorization each Q_i regresses its agent's return, otherwise the mixed value regresses the
// team return. The actor reads the message-passing slot's embedding of the observations.
#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "netmarl/core/assert.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/learn/concept.hpp"
#include "netmarl/learn/critic_loss.hpp"
#include "netmarl/learn/epoch_buffer.hpp"
#include "netmarl/nn/activation.hpp"
#include "netmarl/nn/loss.hpp"
#include "netmarl/nn/mlp.hpp"
#include "netmarl/nn/mlp_sizes.hpp"
#include "netmarl/nn/softmax.hpp"
#include "netmarl/optim/adam.hpp"
#include "netmarl/optim/clip.hpp"

namespace netmarl::learn {

struct actor_critic {
  struct settings {
    index hidden = 64;        // width of the actor's and the local Q's hidden layers (VAST: 64)
    index hidden_layers = 2;  // VAST: obs -> 64 -> 64 -> |A|
    double actor_learning_rate = 1e-3;   // Adam (VAST code)
    double critic_learning_rate = 1e-3;  // Adam (VAST code)
    double clip_norm = 1.0;              // global gradient-norm clip per network (VAST code)
    double gamma = 0.99;                 // discount of the Monte-Carlo returns
    double entropy_weight = 0.0;         // optional entropy bonus on the actor (VAST: none)
    bool critic_baseline = true;         // A = R - sum_a pi Q_i; false: plain REINFORCE, A = R
  };

  template <class Slots>
  class model {
   public:
    using T = typename Slots::scalar;
    using B = typename Slots::backend;
    using message_model = typename Slots::message::template model<T>;
    using factor_model = typename Slots::factor::template model<T>;

    model(const env::spec& spec, const slot_settings<Slots>& s, rng& g)
        : spec_(spec),
          settings_(validated(s.learner)),
          message_(spec.agents, spec.observation_size, s.message, g),
          factor_(spec.agents, spec.state_size, s.factor, g),
          mixing_rng_(g.split(0x6d6978)),
          actor_(nn::mlp_sizes(message_.output_size(), settings_.hidden, settings_.hidden_layers,
                               spec.actions),
                 nn::activation::elu, nn::activation::identity, g),
          local_q_(nn::mlp_sizes(spec.observation_size, settings_.hidden, settings_.hidden_layers,
                                 spec.actions),
                   nn::activation::elu, nn::activation::identity, g),
          actor_params_(collect_actor()),
          critic_params_(collect_critic(g)),
          actor_optimizer_(actor_params_, {.learning_rate = T(settings_.actor_learning_rate)}),
          critic_optimizer_(critic_params_, {.learning_rate = T(settings_.critic_learning_rate)}),
          buffer_(spec) {}

    // Samples a_i ~ pi(.|o_i) with agent i's own stream (explore), or takes the argmax (greedy).
    void act(const decision& d, std::span<int> actions, mode m) {
      act_input_ = d.observations.template cast<T>();
      const csr_view graph = d.graph.view();
      message_.forward(B{}, act_input_, std::span<const csr_view>(&graph, 1), act_embedding_,
                       act_message_cache_);
      nn::forward(B{}, actor_, act_embedding_, act_actor_cache_, act_logits_);
      nn::forward(B{}, nn::softmax{}, act_logits_, act_softmax_cache_, act_probs_);
      for (index i = 0; i < spec_.agents; ++i) {
        auto row = act_probs_.row(i);
        index a = 0;
        if (m == mode::greedy) {
          row.maxCoeff(&a);
        } else {
          a = static_cast<index>(d.agent_rngs[static_cast<std::size_t>(i)].categorical(
              std::span<const T>(row.data(), static_cast<std::size_t>(row.size()))));
        }
        actions[static_cast<std::size_t>(i)] = static_cast<int>(a);
      }
    }

    void observe(const transition& t) {
      if constexpr (message_model::uses_graph)
        graphs_.push_back(t.graph);  // the graph each stored step was acted on
      buffer_.push(t);
    }

    void end_episode() { buffer_.finish_episode(T(settings_.gamma)); }

    update_stats end_epoch() {
      update_stats stats;
      if (buffer_.steps() == 0) return stats;
      update_critic(stats);
      update_actor(stats);
      stats.updates = 2;
      buffer_.clear();
      graphs_.clear();
      return stats;
    }

    // Everything a checkpoint must hold to resume: both networks, the mixer, both optimizers.
    netmarl::tensor_list<T> checkpoint_tensors() {
      netmarl::tensor_list<T> t = nn::values_of(actor_params_);
      for (auto& c : nn::values_of(critic_params_)) t.push_back(c);
      for (auto& c : actor_optimizer_.state("actor_adam")) t.push_back(c);
      for (auto& c : critic_optimizer_.state("critic_adam")) t.push_back(c);
      return t;
    }

    factor_model& factor() { return factor_; }
    const nn::parameter_list<T>& actor_parameters() const { return actor_params_; }
    const nn::parameter_list<T>& critic_parameters() const { return critic_params_; }

   private:
    static settings validated(const settings& s) {
      require(s.hidden >= 1, "actor_critic: hidden must be >= 1, got " + std::to_string(s.hidden));
      require(s.hidden_layers >= 0,
              "actor_critic: hidden_layers must be >= 0, got " + std::to_string(s.hidden_layers));
      require(s.actor_learning_rate > 0 && s.critic_learning_rate > 0,
              "actor_critic: learning rates must be positive");
      require(s.gamma >= 0 && s.gamma <= 1,
              "actor_critic: gamma must be in [0, 1], got " + std::to_string(s.gamma));
      require(s.clip_norm > 0, "actor_critic: clip_norm must be positive");
      return s;
    }
    nn::parameter_list<T> collect_actor() {
      nn::parameter_list<T> p;
      message_.append_parameters(p, "message.");
      actor_.append_parameters(p, "actor.");
      return p;
    }
    // Binds the factorization to the utilities first: an owned loss (QTRAN) reads the local Q
    // network's last hidden layer, and builds its networks for that width here.
    nn::parameter_list<T> collect_critic(rng& g) {
      if (settings_.hidden_layers >= 1)
        factor::bind_utilities(factor_, {settings_.hidden, spec_.actions}, g);
      else
        require(!factor::owns_critic_loss(factor_),
                "actor_critic: this factorization reads the utilities' hidden features "
                "(QTRAN), so hidden_layers must be >= 1");
      nn::parameter_list<T> p;
      local_q_.append_parameters(p, "local_q.");
      factor_.append_parameters(p, "factor.");
      return p;
    }
    factor::mixing_context<T> mixing_context() {
      factor::mixing_context<T> c;
      c.batch = buffer_.steps();
      c.agents = spec_.agents;
      c.observations = buffer_.observations().data();
      c.observation_size = spec_.observation_size;
      c.states = buffer_.states().data();
      c.state_size = spec_.state_size;
      c.positions = buffer_.positions();
      c.generator = &mixing_rng_;
      return c;
    }
    std::span<const csr_view> graph_views() {
      graph_views_.clear();
      for (const auto& g : graphs_) graph_views_.push_back(g.view());
      return graph_views_;
    }

    // Critic: Q_i(o_i, .) for every stored agent-step, mixed by the factorization and regressed on
    // the Monte-Carlo returns (MSE), one clipped Adam step.
    void update_critic(update_stats& stats) {
      const index steps = buffer_.steps(), n = spec_.agents;
      const auto alive = buffer_.alive();
      nn::forward(B{}, local_q_, buffer_.observations(), q_cache_, q_all_);
      ensure_shape(q_chosen_, steps, n);
      for (index t = 0; t < steps; ++t)  // agents that acted dead contribute 0 (VAST code: masked)
        for (index i = 0; i < n; ++i)
          q_chosen_(t, i) = alive(t, i) * q_all_(t * n + i, buffer_.action(t, i));
      factor::prepare(factor_, B{}, mixing_context());
      if (factor::owns_critic_loss(factor_)) {
        owned_critic_step(stats);
        return;
      }
      factor_.forward(B{}, q_chosen_, buffer_.states(), mixed_);
      if (factor::is_per_agent(factor_)) {
        target_ = buffer_.agent_returns();
        mask_ = alive;
      } else {  // every output (Q_tot, or VAST(IL)'s sub-team values) regresses the team return
        target_ = buffer_.global_returns().replicate(1, mixed_.cols());
        mask_.setOnes(steps, mixed_.cols());
      }
      stats.critic_loss = static_cast<double>(masked_mse(mixed_, target_, mask_, d_mixed_));
      critic_optimizer_.zero_grad();  // before the mixer's backward, which accumulates
      factor_.backward(B{}, d_mixed_, d_q_chosen_);
      ensure_shape(d_q_all_, steps * n, spec_.actions);
      d_q_all_.setZero();
      for (index t = 0; t < steps; ++t)
        for (index i = 0; i < n; ++i)
          d_q_all_(t * n + i, buffer_.action(t, i)) = alive(t, i) * d_q_chosen_(t, i);
      nn::backward(B{}, local_q_, q_cache_, d_q_all_, nullptr);
      stats.critic_grad_norm =
          static_cast<double>(optim::clip_grad_norm(critic_params_, T(settings_.clip_norm)));
      critic_optimizer_.step();
    }

    // A factorization with its own loss (QTRAN; VAST eq. 3 in the authors' code): it reads the
    // chosen and greedy utilities, the actions, the local Q network's last hidden layer and the
    // team returns; its gradients flow back into the chosen and greedy action columns and into
    // that hidden layer.
    void owned_critic_step(update_stats& stats) {
      const index steps = buffer_.steps(), n = spec_.agents, rows = steps * n;
      const auto alive = buffer_.alive();
      ensure_shape(q_greedy_, steps, n);
      greedy_actions_.resize(static_cast<std::size_t>(rows));
      alive_rows_.resize(static_cast<std::size_t>(rows));
      for (index t = 0; t < steps; ++t)
        for (index i = 0; i < n; ++i) {
          const index r = t * n + i;
          index best = 0;
          const T best_q = q_all_.row(r).maxCoeff(&best);
          greedy_actions_[static_cast<std::size_t>(r)] = static_cast<int>(best);
          q_greedy_(t, i) = alive(t, i) * best_q;
          alive_rows_[static_cast<std::size_t>(r)] = alive(t, i);
        }
      target_ = buffer_.global_returns();
      const matrix<T>& hidden = nn::last_hidden(local_q_, q_cache_);
      factor::joint_batch<T> batch;
      batch.batch = steps;
      batch.agents = n;
      batch.actions_count = spec_.actions;
      batch.chosen_q = q_chosen_.data();
      batch.greedy_q = q_greedy_.data();
      batch.actions = buffer_.actions().data();
      batch.greedy_actions = greedy_actions_.data();
      batch.hidden = hidden.data();
      batch.hidden_size = hidden.cols();
      batch.states = buffer_.states().data();
      batch.state_size = spec_.state_size;
      batch.alive = alive_rows_.data();
      batch.targets = target_.data();
      critic_optimizer_.zero_grad();
      const factor::joint_loss loss = factor::critic_loss(factor_, B{}, batch, joint_grads_);
      stats.critic_loss = loss.total;
      ensure_shape(d_q_all_, rows, spec_.actions);
      d_q_all_.setZero();
      for (index t = 0; t < steps; ++t)
        for (index i = 0; i < n; ++i) {
          const index r = t * n + i;
          d_q_all_(r, buffer_.action(t, i)) += alive(t, i) * joint_grads_.chosen_q(t, i);
          d_q_all_(r, greedy_actions_[static_cast<std::size_t>(r)]) +=
              alive(t, i) * joint_grads_.greedy_q(t, i);
        }
      nn::backward_with_hidden(B{}, local_q_, q_cache_, d_q_all_, joint_grads_.hidden, nullptr);
      stats.critic_grad_norm =
          static_cast<double>(optim::clip_grad_norm(critic_params_, T(settings_.clip_norm)));
      critic_optimizer_.step();
    }

    // Actor: policy gradient on -A log pi(a_i|o_i), averaged over the agent-steps where the agent
    // acted alive (VAST code), with the baseline sum_a pi(a|o_i) Q_i(o_i, a) from the freshly
    // updated critic, and an optional entropy bonus.
    void update_actor(update_stats& stats) {
      const index steps = buffer_.steps(), n = spec_.agents, rows = steps * n;
      message_.forward(B{}, buffer_.observations(), graph_views(), embedding_, message_cache_);
      nn::forward(B{}, actor_, embedding_, actor_cache_, logits_);
      if (settings_.critic_baseline) {
        nn::forward(B{}, nn::softmax{}, logits_, softmax_cache_, probs_);
        nn::forward(B{}, local_q_, buffer_.observations(), q_cache_, q_all_);
      }
      const auto returns = buffer_.agent_returns();
      const auto alive = buffer_.alive();
      const T acted = std::max(alive.sum(), T(1));
      // policy_gradient_loss averages over all rows; rescale so the mean is over acting rows.
      const T scale = static_cast<T>(rows) / acted;
      advantages_.resize(static_cast<std::size_t>(rows));
      raw_advantages_.resize(static_cast<std::size_t>(rows));
      for (index t = 0; t < steps; ++t)
        for (index i = 0; i < n; ++i) {
          const index r = t * n + i;
          const T baseline = settings_.critic_baseline ? probs_.row(r).dot(q_all_.row(r)) : T(0);
          const T advantage = alive(t, i) * (returns(t, i) - baseline);
          raw_advantages_[static_cast<std::size_t>(r)] = advantage;
          advantages_[static_cast<std::size_t>(r)] = scale * advantage;
        }
      stats.actor_loss = static_cast<double>(
          nn::policy_gradient_loss<T>(logits_, buffer_.actions(), advantages_, d_logits_));
      // VAST eq. 6: a learned sub-team assignment moves along the same advantages.
      factor::learn_from_advantages(factor_, B{}, std::span<const T>(raw_advantages_));
      if (settings_.entropy_weight != 0) {
        // loss -= w * mean entropy over acting rows
        entropy_upstream_.resize(static_cast<std::size_t>(rows));
        const T w = static_cast<T>(settings_.entropy_weight);
        for (index t = 0; t < steps; ++t)
          for (index i = 0; i < n; ++i)
            entropy_upstream_[static_cast<std::size_t>(t * n + i)] = -w * alive(t, i) / acted;
        nn::categorical_entropy_backward<T>(logits_, entropy_upstream_, d_entropy_);
        d_logits_ += d_entropy_;
      }
      actor_optimizer_.zero_grad();
      nn::backward(B{}, actor_, actor_cache_, d_logits_, &d_embedding_);
      message_.backward(B{}, message_cache_, d_embedding_, nullptr);
      stats.actor_grad_norm =
          static_cast<double>(optim::clip_grad_norm(actor_params_, T(settings_.clip_norm)));
      actor_optimizer_.step();
    }

    env::spec spec_;
    settings settings_;
    message_model message_;
    typename message_model::cache act_message_cache_, message_cache_;
    factor_model factor_;
    rng mixing_rng_;  // the factorization's draws at update time (VAST sub-teams)
    nn::mlp<T> actor_, local_q_;
    nn::parameter_list<T> actor_params_, critic_params_;
    optim::adam<T> actor_optimizer_, critic_optimizer_;
    epoch_buffer<T> buffer_;
    std::vector<graph::csr> graphs_;
    std::vector<csr_view> graph_views_;
    // Buffers reused across steps and epochs.
    matrix<T> act_input_, act_embedding_, act_logits_, act_probs_;
    nn::mlp_cache<T> act_actor_cache_, actor_cache_, q_cache_;
    nn::softmax_cache<T> act_softmax_cache_, softmax_cache_;
    matrix<T> q_all_, q_chosen_, mixed_, target_, mask_, d_mixed_, d_q_chosen_, d_q_all_;
    matrix<T> embedding_, logits_, probs_, d_logits_, d_entropy_, d_embedding_;
    std::vector<T> advantages_, raw_advantages_, entropy_upstream_;
    matrix<T> q_greedy_;
    std::vector<int> greedy_actions_;
    std::vector<T> alive_rows_;
    factor::joint_gradients<T> joint_grads_;
  };
};

}  // namespace netmarl::learn
