#pragma once
// assign::fixed (VAST table 1, X_Fixed; section 5.2): agent i always joins sub-team k = i mod K
// (the paper's 1-based k = i mod K + 1), so sub-teams never change and sizes differ by at most 1.
#include <cstdint>
#include <span>

#include "netmarl/core/rng.hpp"
#include "netmarl/factor/assign/concept.hpp"

namespace netmarl::factor::assign {

struct fixed {
  struct settings {};

  template <class T>
  class model {
   public:
    using scalar = T;
    static constexpr bool learned = false;

    model() = default;
    model(const assignment_sizes&, const settings&, rng&) {}

    // Deterministic: draws nothing from g and reads nothing from `input` but its agent count.
    void assign(rng&, const assignment_input<T>& input, index subteams,
                std::span<std::int32_t> groups) const {
      detail::check_assign_call("assign::fixed", input, subteams, groups);
      for (std::size_t i = 0; i < groups.size(); ++i)
        groups[i] = static_cast<std::int32_t>(static_cast<index>(i) % subteams);
    }
  };
};

}  // namespace netmarl::factor::assign
