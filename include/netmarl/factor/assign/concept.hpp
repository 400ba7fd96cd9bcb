#pragma once
// What every VAST sub-team assignment strategy shares (VAST section 4, table 1): the number of
// sub-teams K = ceil(eta N), the per-sample input a strategy may read, and the
// AssignmentStrategy concept.
//
// A strategy follows the slot pattern of factor/: an empty struct with `settings` and a
// `template <class T> model` constructed from (assignment_sizes, settings, rng&), whose
//   void assign(rng&, const assignment_input<T>&, index subteams, std::span<std::int32_t> groups)
// writes agent i's sub-team into groups[i] (in [0, subteams)) for one sample, and whose
// `static constexpr bool learned` says whether it has parameters trained by VAST eq. 6 (then it
// also offers the batched sample / reinforce_step of meta_grad.hpp).
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <span>
#include <string>

#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"

namespace netmarl::factor::assign {

namespace detail {

// The shortest text that reads back as `x` ("0.25", "1.5", "nan", "-inf"), for error messages.
inline std::string format_number(double x) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), x);
  return std::string(buffer, result.ptr);
}

}  // namespace detail

// VAST section 4.1 and algorithm 1 line 3: K = ceil(eta N) sub-teams, 1 <= K <= N.
// eta must be in (0, 1] (the paper's [1/N, 1]; any eta below 1/N also gives K = 1).
// Rounding noise in eta * N is ignored (a relative 1e-12), so eta = 0.1 and N = 30 give K = 3
// where numpy.ceil(30 * 0.1), which the authors' train.py uses, gives 4.
inline index subteam_count(double eta, index agents) {
  if (!(eta > 0.0 && eta <= 1.0))  // written so NaN fails too
    throw invalid_argument("subteam_count: eta must be in (0, 1], got " +
                           detail::format_number(eta));
  if (agents < 1)
    throw invalid_argument("subteam_count: agents must be >= 1, got " + std::to_string(agents));
  const double product = eta * static_cast<double>(agents);
  const auto k = static_cast<index>(std::ceil(product * (1.0 - 1e-12)));
  return k < 1 ? 1 : (k > agents ? agents : k);
}

// Sizes a strategy is built for. agents and subteams are the ones of the environment and eta;
// state_size and observation_size matter only to strategies that read them (meta_grad).
struct assignment_sizes {
  index agents = 0;
  index subteams = 0;
  index state_size = 0;
  index observation_size = 0;
};

// One sample's inputs, all optional (a strategy says which it needs and throws if it is null).
// Pointers to caller-owned, row-major buffers; nothing is copied or kept after assign returns.
template <class T>
struct assignment_input {
  index agents = 0;                 // N; groups must have N entries
  const T* positions = nullptr;     // [N, 2] (x, y) per agent, for spatial
  const T* observations = nullptr;  // [N, observation_size] o_i (tau_i), for meta_grad
  index observation_size = 0;
  const T* state = nullptr;  // [state_size] global state s_t, for meta_grad
  index state_size = 0;
};

namespace detail {

// The checks every strategy's assign makes: groups has one entry per agent, subteams >= 1.
template <class T>
void check_assign_call(const char* where, const assignment_input<T>& input, index subteams,
                       std::span<std::int32_t> groups) {
  if (input.agents < 0)
    throw invalid_argument(std::string(where) + ": agents must be >= 0, got " +
                           std::to_string(input.agents));
  if (subteams < 1)
    throw invalid_argument(std::string(where) + ": subteams must be >= 1, got " +
                           std::to_string(subteams));
  if (static_cast<index>(groups.size()) != input.agents)
    throw shape_error(std::string(where) + ": groups has " + std::to_string(groups.size()) +
                      " entries, expected one per agent (" + std::to_string(input.agents) + ")");
}

}  // namespace detail

// A sub-team assignment strategy X(k | i, tau_i, s) of VAST table 1, for scalar type T.
template <class A, class T = double>
concept AssignmentStrategy = requires {
  typename A::settings;
  typename A::template model<T>;
}
&&std::constructible_from<typename A::template model<T>, const assignment_sizes&,
                          const typename A::settings&,
                          rng&>&& requires(typename A::template model<T>& m, rng& g,
                                           const assignment_input<T>& input, index subteams,
                                           std::span<std::int32_t> groups) {
  m.assign(g, input, subteams, groups);
  { A::template model<T>::learned } -> std::convertible_to<bool>;
};

}  // namespace netmarl::factor::assign

namespace netmarl {
// DESIGN.md spells the strategies netmarl::assign::meta_grad; both spellings name the same types.
namespace assign = factor::assign;
}  // namespace netmarl
