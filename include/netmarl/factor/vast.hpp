#pragma once
// factor::vast<Psi, Assign>: value factorization with variable agent sub-teams (VAST section 4,
// eq. 4-5, algorithm 1). Each batch sample's N agents are split into K = ceil(eta N) sub-teams by
// the assignment strategy; a sub-team's value is the sum of its members' utilities (eq. 4, empty
// sub-teams contribute 0) and the operator Psi mixes the K sub-team values (eq. 5). Theorem 1:
// when Psi satisfies IGM, so does vast<Psi, Assign> for any assignment.
//
// Assignments are drawn in prepare() for the batch being mixed (the meta-gradient strategy samples
// them at update time, VAST algorithm 1); a learned strategy then moves along VAST eq. 6 in
// learn_from_advantages().
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "netmarl/core/assert.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/factor/assign/concept.hpp"
#include "netmarl/factor/concept.hpp"
#include "netmarl/kernels/subteam_sum.hpp"
#include "netmarl/nn/parameter.hpp"

namespace netmarl::factor {

template <Factorization Psi, class Assign>
struct vast {
  static_assert(assign::AssignmentStrategy<Assign, double>,
                "factor::vast<Psi, Assign>: Assign is not an assignment strategy (use "
                "assign::random, assign::fixed, assign::spatial or assign::meta_grad)");

  struct settings {
    double eta = 0.25;                       // sub-team ratio: K = ceil(eta N), eta in (0, 1]
    typename Psi::settings psi{};            // the operator over sub-teams
    typename Assign::settings assignment{};  // the strategy's own settings
  };

  template <class T>
  class model {
   public:
    using scalar = T;
    using psi_model = typename Psi::template model<T>;
    using assign_model = typename Assign::template model<T>;
    // Every sub-team value regresses the team return (the authors' code fills each sub-team's
    // target with the mean return): never per agent, even for Psi = independent.
    static constexpr bool per_agent = false;

    model(index agents, index state_size, const settings& s, rng& g)
        : agents_(agents),
          subteams_(assign::subteam_count(s.eta, agents)),
          psi_(subteams_, state_size, s.psi, g),
          assignment_settings_(s.assignment) {}

    index outputs() const { return psi_.outputs(); }
    index subteams() const { return subteams_; }
    std::span<const std::int32_t> groups() const { return groups_; }  // [B*N] of the last prepare

    // Draws the sub-teams of every sample of the coming batch.
    template <class B>
    void prepare(B backend, const mixing_context<T>& c) {
      NETMARL_CHECK(c.agents == agents_, shape_error,
                    "factor::vast: the batch has " + std::to_string(c.agents) +
                        " agents, the model " + std::to_string(agents_));
      NETMARL_CHECK(c.generator != nullptr, invalid_argument,
                    std::string("factor::vast: prepare needs a random generator"));
      groups_.resize(static_cast<std::size_t>(c.batch * c.agents));
      // The strategy is built on the first batch: only then are the observation and state sizes
      // known (the meta-gradient network reads both), from the learner's generator.
      if (!assigner_)
        assigner_.emplace(
            assign::assignment_sizes{agents_, subteams_, c.state_size, c.observation_size},
            assignment_settings_, *c.generator);
      if constexpr (assign_model::learned) {
        NETMARL_CHECK(c.observations && c.states, invalid_argument,
                      std::string("factor::vast: the meta-gradient assignment reads observations "
                                  "and states, and the learner gave none"));
        const_matrix_map<T> states(c.states, c.batch, c.state_size);
        const_matrix_map<T> observations(c.observations, c.batch * c.agents, c.observation_size);
        assigner_->sample(backend, *c.generator, states, observations, c.agents, groups_);
      } else {
        for (index b = 0; b < c.batch; ++b) {
          assign::assignment_input<T> in;
          in.agents = c.agents;
          if (c.positions) in.positions = c.positions + b * c.agents * 2;
          if (c.observations) {
            in.observations = c.observations + b * c.agents * c.observation_size;
            in.observation_size = c.observation_size;
          }
          if (c.states) {
            in.state = c.states + b * c.state_size;
            in.state_size = c.state_size;
          }
          assigner_->assign(
              *c.generator, in, subteams_,
              std::span<std::int32_t>(groups_).subspan(static_cast<std::size_t>(b * c.agents),
                                                       static_cast<std::size_t>(c.agents)));
        }
      }
    }

    // Q^G_k = sum_{j in G_k} Q_j (eq. 4), then Psi(Q^G_1..Q^G_K, s) (eq. 5).
    template <class B>
    void forward(B backend, const_matrix_ref<T> q, const_matrix_ref<T> state, matrix<T>& out) {
      NETMARL_CHECK(q.cols() == agents_, shape_error,
                    "factor::vast: q has " + std::to_string(q.cols()) + " columns, expected " +
                        std::to_string(agents_) + " agents");
      NETMARL_CHECK(static_cast<index>(groups_.size()) == q.rows() * agents_, invalid_argument,
                    "factor::vast: call prepare for this batch of " + std::to_string(q.rows()) +
                        " samples first (prepared " + std::to_string(groups_.size()) +
                        " agent rows)");
      ensure_shape(subteam_q_, q.rows(), subteams_);
      q_ = q;  // contiguous copy for the kernel
      kernels::subteam_sum::forward(backend::reference{}, shape(q.rows()), q_.data(),
                                    groups_.data(), subteam_q_.data());
      psi_.forward(backend, subteam_q_, state, out);
    }

    template <class B>
    void backward(B backend, const_matrix_ref<T> d_out, matrix<T>& d_q) {
      psi_.backward(backend, d_out, d_subteam_q_);
      ensure_shape(d_q, d_out.rows(), agents_);
      kernels::subteam_sum::backward(backend::reference{}, shape(d_out.rows()), groups_.data(),
                                     d_subteam_q_.data(), d_q.data());
    }

    // VAST eq. 6: the meta-gradient strategy's REINFORCE step on the prepared batch.
    template <class B>
    void learn_from_advantages(B backend, std::span<const T> advantages) {
      if constexpr (assign_model::learned)
        if (assigner_) assigner_->reinforce_step(backend, advantages);
    }

    // An operator that owns its critic loss (QTRAN) sees the sub-teams as its rows.
    void bind_utilities(const utility_shape& u, rng& g) { factor::bind_utilities(psi_, u, g); }
    bool owns_critic_loss() const { return factor::owns_critic_loss(psi_); }

    // Psi's owned loss over the sub-teams of the prepared batch: a sub-team's utilities are its
    // members' sums (eq. 4), its hidden features the sum of theirs, its action input the counts
    // of their actions; dead members add nothing and an empty sub-team is a dead row. Gradients
    // flow back to every member unchanged (the derivative of a sum).
    template <class B>
    joint_loss critic_loss(B backend, const joint_batch<T>& in, joint_gradients<T>& grads) {
      const joint_batch<T> units = subteam_rows(in, "factor::vast critic_loss");
      const joint_loss loss = factor::critic_loss(psi_, backend, units, unit_grads_);
      const index b = in.batch, n = agents_, h = in.hidden_size;
      ensure_shape(grads.chosen_q, b, n);
      kernels::subteam_sum::backward(backend::reference{}, shape(b), groups_.data(),
                                     unit_grads_.chosen_q.data(), grads.chosen_q.data());
      ensure_shape(grads.greedy_q, b, n);
      kernels::subteam_sum::backward(backend::reference{}, shape(b), groups_.data(),
                                     unit_grads_.greedy_q.data(), grads.greedy_q.data());
      ensure_shape(grads.hidden, b * n, h);
      for (index s = 0; s < b; ++s)
        for (index i = 0; i < n; ++i) {
          const index r = s * n + i, u = s * subteams_ + groups_[static_cast<std::size_t>(r)];
          const T alive = in.alive ? in.alive[r] : T(1);
          grads.hidden.row(r) = alive * unit_grads_.hidden.row(u);
        }
      return loss;
    }

    // Psi's joint value at the batch's actions over the prepared sub-teams (no gradient).
    template <class B>
    void joint_value(B backend, const joint_batch<T>& in, matrix<T>& out) {
      factor::joint_value(psi_, backend, subteam_rows(in, "factor::vast joint_value"), out);
    }

    // Psi's parameters; a learned assignment keeps its own optimizer (eq. 6 is not the critic's
    // loss), so its parameters are not among the critic's.
    void append_parameters(nn::parameter_list<T>& out, const std::string& prefix) {
      psi_.append_parameters(out, prefix + "psi.");
    }

    psi_model& psi() { return psi_; }
    // The strategy (built by the first prepare).
    std::optional<assign_model>& assignment() { return assigner_; }

   private:
    kernels::subteam_sum::shape shape(index batch) const { return {batch, agents_, subteams_}; }

    // The batch with the prepared sub-teams as its rows (buffers owned by this model).
    joint_batch<T> subteam_rows(const joint_batch<T>& in, const char* where) {
      const index b = in.batch, n = agents_, k = subteams_, h = in.hidden_size,
                  a = in.actions_count;
      NETMARL_CHECK(in.agents == n, shape_error,
                    std::string(where) + ": the batch has " + std::to_string(in.agents) +
                        " agents, the model " + std::to_string(n));
      NETMARL_CHECK(static_cast<index>(groups_.size()) == b * n, invalid_argument,
                    std::string(where) + ": call prepare for this batch first");
      NETMARL_CHECK(in.actions != nullptr, invalid_argument,
                    std::string(where) + ": needs one action per agent");
      const bool greedy = in.greedy_actions != nullptr;
      unit_chosen_.resize(b, k);
      if (in.chosen_q)
        kernels::subteam_sum::forward(backend::reference{}, shape(b), in.chosen_q,
                                      groups_.data(), unit_chosen_.data());
      unit_greedy_.resize(b, k);
      if (in.greedy_q)
        kernels::subteam_sum::forward(backend::reference{}, shape(b), in.greedy_q,
                                      groups_.data(), unit_greedy_.data());
      unit_hidden_.setZero(b * k, h);
      unit_counts_.setZero(b * k, a);
      unit_greedy_counts_.setZero(b * k, a);
      unit_alive_.assign(static_cast<std::size_t>(b * k), T(0));
      for (index s = 0; s < b; ++s)
        for (index i = 0; i < n; ++i) {
          const index r = s * n + i, u = s * k + groups_[static_cast<std::size_t>(r)];
          const T alive = in.alive ? in.alive[r] : T(1);
          if (alive == T(0)) continue;
          unit_hidden_.row(u) += alive * const_matrix_map<T>(in.hidden + r * h, 1, h);
          unit_counts_(u, in.actions[r]) += alive;
          if (greedy) unit_greedy_counts_(u, in.greedy_actions[r]) += alive;
          unit_alive_[static_cast<std::size_t>(u)] = T(1);
        }
      joint_batch<T> units = in;
      units.agents = k;
      units.chosen_q = in.chosen_q ? unit_chosen_.data() : nullptr;
      units.greedy_q = in.greedy_q ? unit_greedy_.data() : nullptr;
      units.actions = units.greedy_actions = nullptr;
      units.action_counts = unit_counts_.data();
      units.greedy_action_counts = greedy ? unit_greedy_counts_.data() : nullptr;
      units.hidden = unit_hidden_.data();
      units.alive = unit_alive_.data();
      return units;
    }

    index agents_, subteams_;
    psi_model psi_;
    typename Assign::settings assignment_settings_;
    std::optional<assign_model> assigner_;
    std::vector<std::int32_t> groups_;
    matrix<T> q_, subteam_q_, d_subteam_q_;
    // critic_loss's sub-team rows.
    matrix<T> unit_chosen_, unit_greedy_, unit_hidden_, unit_counts_, unit_greedy_counts_;
    std::vector<T> unit_alive_;
    joint_gradients<T> unit_grads_;
  };
};

}  // namespace netmarl::factor
