#pragma once
// assign::meta_grad (VAST section 4.2, table 1, X_MetaGrad): a learned assignment policy
// X(k | i, tau_i, s_t), one network shared by all agents (the authors' VASTNet):
//   concat(s_t, o_i) -> hidden ELU -> hidden ELU -> softmax over the K sub-teams,
// trained by REINFORCE (VAST eq. 6), g = A(k, i, tau_i, s) grad log X(k | i, tau_i, s), with
// advantage A = R_t - sum_a pi_i(a | tau_i) Q_i(tau_i, a) computed by the caller: the loss is
//   L = -(1 / rows) sum_rows A_row log X(k_row | row)    (rows = batch * agents)
// minimised by one Adam step (lr 1e-3) after clipping the gradient norm to 1, as in the authors'
// update_assignment_learner. As in their code, assignments are sampled at update time:
// sample() draws them and keeps the forward pass; reinforce_step() then reuses it.
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "netmarl/backend/tags.hpp"
#include "netmarl/core/error.hpp"
#include "netmarl/core/named_tensor.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/factor/assign/concept.hpp"
#include "netmarl/nn/activation.hpp"
#include "netmarl/nn/categorical_loss.hpp"
#include "netmarl/nn/common.hpp"
#include "netmarl/nn/mlp.hpp"
#include "netmarl/nn/mlp_sizes.hpp"
#include "netmarl/nn/parameter.hpp"
#include "netmarl/nn/softmax.hpp"
#include "netmarl/optim/adam.hpp"
#include "netmarl/optim/clip.hpp"

namespace netmarl::factor::assign {

struct meta_grad {
  struct settings {
    index hidden = 128;           // hidden width (VAST code: 128)
    index hidden_layers = 2;      // VAST code: two ELU layers
    double learning_rate = 1e-3;  // Adam (VAST code)
    double clip_norm = 1.0;       // global gradient-norm clip (VAST code)
  };

  template <class T>
  class model {
   public:
    using scalar = T;
    static constexpr bool learned = true;

    // Network input = [state (state_size) | observation (observation_size)], output = K logits.
    // Public, as nn layers are, so it can be inspected or initialised differently.
    nn::mlp<T> network;

    // Parameters draw from g (torch.nn.Linear's default initialisation, layer by layer).
    model(const assignment_sizes& sizes, const settings& s, rng& g)
        : network(nn::mlp_sizes(validated(sizes, s).state_size + sizes.observation_size, s.hidden,
                                s.hidden_layers, sizes.subteams),
                  nn::activation::elu, nn::activation::identity, g),
          settings_(s),
          state_size_(sizes.state_size),
          observation_size_(sizes.observation_size),
          params_(nn::parameters_of(network, "assignment.")),
          optimizer_(params_, {.learning_rate = T(s.learning_rate)}) {}

    // The optimizer holds pointers into `network`: copying would alias them. Moving is safe (the
    // layers live in a std::vector whose buffer moves with it).
    model(const model&) = delete;
    model& operator=(const model&) = delete;
    model(model&&) = default;
    model& operator=(model&&) = default;

    index subteams() const { return network.output_size(); }
    index state_size() const { return state_size_; }
    index observation_size() const { return observation_size_; }
    const settings& config() const { return settings_; }

    // Draws k ~ X(. | i, o_i, s_b) for every agent of every sample (greedy: the most probable k,
    // ties to the lower index), writes groups[b * agents + i], and keeps the forward pass for
    // loss_and_gradients / reinforce_step. Rows are drawn in order (b, i) from g.
    //   state [batch, state_size], observations [batch * agents, observation_size].
    template <nn::HostBackend B>
    void sample(B backend, rng& g, const_matrix_ref<T> state, const_matrix_ref<T> observations,
                index agents, std::span<std::int32_t> groups, bool greedy = false) {
      if (agents < 1)
        throw invalid_argument("assign::meta_grad sample: agents must be >= 1, got " +
                               std::to_string(agents));
      const index batch = state.rows(), rows = batch * agents, k_count = subteams();
      nn::require_shape("assign::meta_grad sample", "state (batch x state_size)", batch,
                        state_size_, state.rows(), state.cols());
      nn::require_shape("assign::meta_grad sample",
                        "observations (batch * agents x observation_size)", rows, observation_size_,
                        observations.rows(), observations.cols());
      nn::require_size("assign::meta_grad sample", "groups (batch * agents)", rows,
                       static_cast<index>(groups.size()));
      sample_valid_ = false;  // until every row is drawn
      ensure_shape(input_, rows, state_size_ + observation_size_);
      for (index b = 0; b < batch; ++b)
        for (index i = 0; i < agents; ++i) {
          const index r = b * agents + i;
          input_.row(r).head(state_size_) = state.row(b);
          input_.row(r).tail(observation_size_) = observations.row(r);
        }
      forward_sample(backend);
      sampled_.resize(static_cast<std::size_t>(rows));
      for (index r = 0; r < rows; ++r) {
        const auto row = probabilities_.row(r);
        if (!row.allFinite())
          throw invalid_argument("assign::meta_grad sample: X(. | row " + std::to_string(r) +
                                 ") is not finite (non-finite state or observation values, or "
                                 "diverged parameters)");
        index k = 0;
        if (greedy)
          row.maxCoeff(&k);
        else
          k = static_cast<index>(
              g.categorical(std::span<const T>(row.data(), static_cast<std::size_t>(k_count))));
        sampled_[static_cast<std::size_t>(r)] = static_cast<int>(k);
        groups[static_cast<std::size_t>(r)] = static_cast<std::int32_t>(k);
      }
      sample_valid_ = rows > 0;
    }

    // The REINFORCE loss (VAST eq. 6) of the last sample with one advantage per row
    // [batch * agents]; zeroes, then writes, the parameters' gradients. Takes no step.
    template <nn::HostBackend B>
    T loss_and_gradients(B backend, std::span<const T> advantages) {
      check_advantages("assign::meta_grad loss_and_gradients", advantages);
      if (!fresh_) forward_sample(backend);  // the parameters moved since sample()
      nn::zero_grad(params_);
      const T loss = nn::policy_gradient_loss<T>(logits_, sampled_, advantages, d_logits_);
      nn::backward(backend, network, cache_, d_logits_, nullptr);
      return loss;
    }

    // loss_and_gradients, clip the gradient norm to settings.clip_norm, one Adam step. Returns
    // the loss before the step. May be repeated on one sample (the forward pass is redone).
    template <nn::HostBackend B>
    T reinforce_step(B backend, std::span<const T> advantages) {
      const T loss = loss_and_gradients(backend, advantages);
      last_grad_norm_ = optim::clip_grad_norm(params_, T(settings_.clip_norm));
      optimizer_.step();
      fresh_ = false;
      return loss;
    }

    // The same loss at the current parameters, touching neither gradients nor the kept forward
    // pass (for finite-difference checks and logging).
    template <nn::HostBackend B>
    T evaluate_loss(B backend, std::span<const T> advantages) {
      check_advantages("assign::meta_grad evaluate_loss", advantages);
      nn::forward(backend, network, input_, evaluate_cache_, evaluate_logits_);
      return nn::policy_gradient_loss<T>(evaluate_logits_, sampled_, advantages,
                                         evaluate_d_logits_);
    }

    // One sample, for the AssignmentStrategy concept (acting, VAST algorithm 1 line 13): reads
    // input.state [state_size] and input.observations [N, observation_size]; overwrites the
    // kept sample. subteams must be the network's K.
    void assign(rng& g, const assignment_input<T>& input, index subteams,
                std::span<std::int32_t> groups) {
      detail::check_assign_call("assign::meta_grad", input, subteams, groups);
      if (subteams != this->subteams())
        throw invalid_argument("assign::meta_grad: asked for " + std::to_string(subteams) +
                               " sub-teams, but the network outputs " +
                               std::to_string(this->subteams()));
      if (input.agents == 0) return;
      check_input("state", input.state, input.state_size, state_size_);
      check_input("observations", input.observations, input.observation_size, observation_size_);
      const_matrix_map<T> state(input.state, 1, state_size_);
      const_matrix_map<T> observations(input.observations, input.agents, observation_size_);
      sample(backend::reference{}, g, state, observations, input.agents, groups, false);
    }

    // Of the last sample: X(k | row) [batch * agents, K] and the drawn k per row. After a
    // reinforce_step they describe the parameters before the step.
    const matrix<T>& probabilities() const { return probabilities_; }
    std::span<const int> sampled() const { return sampled_; }
    // The gradient norm before clipping, of the last reinforce_step.
    T last_grad_norm() const { return last_grad_norm_; }

    // Names "<prefix>0.weight", "<prefix>0.bias", ... (the network's layers).
    void append_parameters(nn::parameter_list<T>& out, const std::string& prefix) {
      network.append_parameters(out, prefix);
    }
    // The model's own list, named "assignment.0.weight", ...: what its optimizer updates.
    const nn::parameter_list<T>& parameters() const { return params_; }
    const optim::adam<T>& optimizer() const { return optimizer_; }
    // Adam's moments and step count, "<prefix>.m.assignment.0.weight", ..., for checkpoints.
    netmarl::tensor_list<T> optimizer_state(std::string_view prefix = "assignment_adam") {
      return optimizer_.state(prefix);
    }
    // Everything a checkpoint needs to resume training: parameter values, then optimizer state.
    netmarl::tensor_list<T> checkpoint_tensors() {
      netmarl::tensor_list<T> out = nn::values_of(params_);
      for (auto& t : optimizer_state()) out.push_back(t);
      return out;
    }

   private:
    static const assignment_sizes& validated(const assignment_sizes& sizes, const settings& s) {
      require(sizes.subteams >= 1,
              "assign::meta_grad: subteams must be >= 1, got " + std::to_string(sizes.subteams));
      require(sizes.state_size >= 0 && sizes.observation_size >= 0 &&
                  sizes.state_size + sizes.observation_size >= 1,
              "assign::meta_grad: the network reads concat(state, observation), which needs "
              "state_size + observation_size >= 1 (both >= 0), got state_size " +
                  std::to_string(sizes.state_size) + " and observation_size " +
                  std::to_string(sizes.observation_size));
      require(s.hidden >= 1,
              "assign::meta_grad: hidden must be >= 1, got " + std::to_string(s.hidden));
      require(s.hidden_layers >= 0, "assign::meta_grad: hidden_layers must be >= 0, got " +
                                        std::to_string(s.hidden_layers));
      require(s.learning_rate > 0, "assign::meta_grad: learning_rate must be positive, got " +
                                       detail::format_number(s.learning_rate));
      require(s.clip_norm > 0, "assign::meta_grad: clip_norm must be positive, got " +
                                   detail::format_number(s.clip_norm));
      return sizes;
    }

    template <nn::HostBackend B>
    void forward_sample(B backend) {
      nn::forward(backend, network, input_, cache_, logits_);
      ensure_shape(probabilities_, logits_.rows(), logits_.cols());
      nn::softmax_rows<T>(logits_, probabilities_);
      fresh_ = true;
    }

    void check_advantages(const char* where, std::span<const T> advantages) const {
      if (!sample_valid_) throw invalid_argument(std::string(where) + ": call sample first");
      nn::require_size(where, "advantages (one per sampled row, batch * agents)",
                       static_cast<index>(sampled_.size()), static_cast<index>(advantages.size()));
      for (std::size_t r = 0; r < advantages.size(); ++r)
        if (!std::isfinite(advantages[r]))
          throw invalid_argument(std::string(where) + ": advantages[" + std::to_string(r) + "] = " +
                                 detail::format_number(double(advantages[r])) + " is not finite");
    }

    static void check_input(const char* what, const T* data, index given, index expected) {
      if (given != expected)
        throw shape_error(std::string("assign::meta_grad: ") + what + " has size " +
                          std::to_string(given) + ", expected " + std::to_string(expected));
      if (expected > 0 && data == nullptr)
        throw invalid_argument(std::string("assign::meta_grad: needs the ") + what +
                               " (assignment_input::" + what + " is null)");
    }

    settings settings_;
    index state_size_;
    index observation_size_;
    nn::parameter_list<T> params_;
    optim::adam<T> optimizer_;
    T last_grad_norm_ = T(0);
    bool sample_valid_ = false;  // a complete sample is kept
    bool fresh_ = false;         // logits_ and cache_ match the current parameters
    // The kept sample and scratch, reused so nothing is allocated once the sizes settle.
    matrix<T> input_, logits_, probabilities_, d_logits_;
    nn::mlp_cache<T> cache_;
    std::vector<int> sampled_;
    nn::mlp_cache<T> evaluate_cache_;
    matrix<T> evaluate_logits_, evaluate_d_logits_;
  };
};

}  // namespace netmarl::factor::assign
