#pragma once
// factor::qtran: QTRAN-base in the factorization slot (Son et al. 2019; VAST section 2.2, eq. 3).
// The factorised value is Q' = sum_i Q_i (what the agents act greedily on, so IGM holds by
// construction); the joint network Q_jt(s, u) over the state and the sum of per-agent encodings of
// (h_i, onehot(u_i)) and the state value V(s) exist only to shape the utilities through the loss
//   L = L_td + lambda_opt L_opt + lambda_nopt L_nopt     (factor::qtran_joint, qtran_loss.hpp)
// so this factorization owns its critic loss: learners call critic_loss() with the per-agent
// batch (hidden features, taken and greedy actions, chosen and greedy utilities, targets) instead
// of regressing forward's output. forward/backward give Q' for evaluation (as VDN).
//
// The networks read h_i, whose width the factorization cannot know when it is built: the learner
// calls bind_utilities() with it once, before collecting parameters (factor/concept.hpp).
// Under factor::vast<qtran, Assign> the rows are sub-teams: h is the sum of the members' h_i and
// the action input the counts of their actions (qtran_joint's counts form).
#include <optional>
#include <span>
#include <string>

#include "netmarl/core/assert.hpp"
#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/factor/concept.hpp"
#include "netmarl/factor/qtran_joint.hpp"
#include "netmarl/nn/parameter.hpp"

namespace netmarl::factor {

struct qtran {
  using settings = qtran_joint::settings;

  template <class T>
  class model {
   public:
    using scalar = T;
    using joint_model = typename qtran_joint::template model<T>;
    static constexpr bool per_agent = false;

    model(index agents, index state_size, const settings& s, rng&)
        : agents_(agents), state_size_(state_size), settings_(s) {}

    index outputs() const { return 1; }
    bool owns_critic_loss() const { return true; }

    // Builds Q_jt and V for utilities with hidden features of this width (once).
    void bind_utilities(const utility_shape& u, rng& g) {
      require(!joint_, "factor::qtran: bind_utilities called twice");
      joint_.emplace(agents_, state_size_, u.hidden_size, u.actions, settings_, g);
    }

    // Q' = sum_i Q_i.
    template <class B>
    void forward(B, const_matrix_ref<T> q, const_matrix_ref<T>, matrix<T>& out) {
      NETMARL_CHECK(q.cols() == agents_, shape_error,
                    "factor::qtran: q has " + std::to_string(q.cols()) + " columns, expected " +
                        std::to_string(agents_));
      ensure_shape(out, q.rows(), 1);
      out = q.rowwise().sum();
    }
    template <class B>
    void backward(B, const_matrix_ref<T> d_out, matrix<T>& d_q) {
      ensure_shape(d_q, d_out.rows(), agents_);
      d_q = d_out.col(0).replicate(1, agents_);
    }

    template <class B>
    joint_loss critic_loss(B backend, const joint_batch<T>& in, joint_gradients<T>& grads) {
      check_batch(in, "factor::qtran critic_loss");
      const index b = in.batch, n = agents_, rows = b * n;
      const_matrix_map<T> state(in.states, b, state_size_);
      const_matrix_map<T> hidden(in.hidden, rows, in.hidden_size);
      const auto alive = alive_of(in);
      if (in.action_counts) {
        NETMARL_CHECK(in.greedy_action_counts != nullptr, invalid_argument,
                      std::string("factor::qtran: action_counts without greedy_action_counts"));
        const_matrix_map<T> taken(in.action_counts, rows, in.actions_count);
        const_matrix_map<T> greedy(in.greedy_action_counts, rows, in.actions_count);
        joint_->forward_q(backend, state, hidden, taken, alive, q_jt_);
        joint_->evaluate_q(backend, state, hidden, greedy, alive, greedy_q_jt_);
      } else {
        NETMARL_CHECK(in.actions && in.greedy_actions, invalid_argument,
                      std::string("factor::qtran: the batch has neither actions nor counts"));
        const auto span_of = [&](const int* p) {
          return std::span<const int>(p, static_cast<std::size_t>(rows));
        };
        joint_->forward_q(backend, state, hidden, span_of(in.actions), alive, q_jt_);
        joint_->evaluate_q(backend, state, hidden, span_of(in.greedy_actions), alive,
                           greedy_q_jt_);
      }
      joint_->forward_v(backend, state, v_);
      chosen_sum_ = const_matrix_map<T>(in.chosen_q, b, n).rowwise().sum();
      greedy_sum_ = const_matrix_map<T>(in.greedy_q, b, n).rowwise().sum();
      const_matrix_map<T> targets(in.targets, b, 1);
      const auto values = joint_->loss(
          backend,
          {.td_target = targets,
           .greedy_utility_sum = greedy_sum_,
           .greedy_q_jt = greedy_q_jt_,
           .chosen_utility_sum = chosen_sum_},
          sum_grads_);
      // d/dQ_i of a sum is the sum's gradient, for every agent.
      ensure_shape(grads.chosen_q, b, n);
      grads.chosen_q = sum_grads_.chosen_utility_sum.col(0).replicate(1, n);
      ensure_shape(grads.greedy_q, b, n);
      grads.greedy_q = sum_grads_.greedy_utility_sum.col(0).replicate(1, n);
      ensure_shape(grads.hidden, rows, in.hidden_size);
      grads.hidden = sum_grads_.hidden;
      return {static_cast<double>(values.total), static_cast<double>(values.td),
              static_cast<double>(values.opt), static_cast<double>(values.nopt)};
    }

    // Q_jt(s, u) at the batch's actions, no gradient (a TD target from a target copy).
    template <class B>
    void joint_value(B backend, const joint_batch<T>& in, matrix<T>& out) {
      check_batch(in, "factor::qtran joint_value");
      const index rows = in.batch * agents_;
      const_matrix_map<T> state(in.states, in.batch, state_size_);
      const_matrix_map<T> hidden(in.hidden, rows, in.hidden_size);
      const auto alive = alive_of(in);
      if (in.action_counts) {
        joint_->evaluate_q(backend, state, hidden,
                           const_matrix_map<T>(in.action_counts, rows, in.actions_count), alive,
                           out);
      } else {
        NETMARL_CHECK(in.actions != nullptr, invalid_argument,
                      std::string("factor::qtran joint_value: the batch has no actions"));
        joint_->evaluate_q(backend, state, hidden,
                           std::span<const int>(in.actions, static_cast<std::size_t>(rows)),
                           alive, out);
      }
    }

    // "<prefix>encoder.0.weight", ... (nothing before bind_utilities).
    void append_parameters(nn::parameter_list<T>& out, const std::string& prefix) {
      if (joint_) joint_->append_parameters(out, prefix);
    }

    // The joint network and V, once bound.
    std::optional<joint_model>& joint() { return joint_; }

   private:
    void check_batch(const joint_batch<T>& in, const char* where) const {
      NETMARL_CHECK(joint_.has_value(), invalid_argument,
                    std::string(where) +
                        ": the learner did not call bind_utilities (the joint network needs the "
                        "width of the hidden features)");
      NETMARL_CHECK(in.agents == agents_ && in.hidden_size == joint_->hidden_size() &&
                        in.actions_count == joint_->actions() && in.state_size == state_size_,
                    shape_error,
                    std::string(where) + ": the batch has " + std::to_string(in.agents) +
                        " rows per sample, hidden " + std::to_string(in.hidden_size) + ", " +
                        std::to_string(in.actions_count) + " actions, state " +
                        std::to_string(in.state_size) + "; the model " + std::to_string(agents_) +
                        ", " + std::to_string(joint_->hidden_size()) + ", " +
                        std::to_string(joint_->actions()) + ", " + std::to_string(state_size_));
    }
    std::span<const T> alive_of(const joint_batch<T>& in) const {
      return in.alive ? std::span<const T>(in.alive, static_cast<std::size_t>(in.batch * agents_))
                      : std::span<const T>();
    }

    index agents_, state_size_;
    settings settings_;
    std::optional<joint_model> joint_;
    matrix<T> q_jt_, greedy_q_jt_, v_, chosen_sum_, greedy_sum_;
    typename joint_model::loss_gradients sum_grads_;
  };
};

}  // namespace netmarl::factor
