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

    index agents_, subteams_;
    psi_model psi_;
    typename Assign::settings assignment_settings_;
    std::optional<assign_model> assigner_;
    std::vector<std::int32_t> groups_;
    matrix<T> q_, subteam_q_, d_subteam_q_;
  };
};

}  // namespace netmarl::factor
