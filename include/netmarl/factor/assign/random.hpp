#pragma once
// assign::random (VAST table 1, X_Random): every agent joins a uniformly drawn sub-team, drawn
// afresh at every call (every time step), X(k | i, tau_i, s) = 1/K.
// Draws follow the authors' RandomAssignment: one independent uniform integer per agent, in agent
// order, over min(K, N) sub-teams (their controller caps K at the number of agents it assigns).
#include <cstdint>
#include <span>

#include "netmarl/core/rng.hpp"
#include "netmarl/factor/assign/concept.hpp"

namespace netmarl::factor::assign {

struct random {
  struct settings {};

  template <class T>
  class model {
   public:
    using scalar = T;
    static constexpr bool learned = false;

    model() = default;
    model(const assignment_sizes&, const settings&, rng&) {}

    // Reads nothing from `input` but its agent count.
    void assign(rng& g, const assignment_input<T>& input, index subteams,
                std::span<std::int32_t> groups) const {
      detail::check_assign_call("assign::random", input, subteams, groups);
      const auto choices =
          static_cast<std::uint64_t>(subteams < input.agents ? subteams : input.agents);
      for (auto& k : groups) k = static_cast<std::int32_t>(g.below(choices));
    }
  };
};

}  // namespace netmarl::factor::assign
