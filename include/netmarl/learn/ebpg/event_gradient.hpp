#pragma once
// The per-event score terms of the event-based policy gradient (EBPG paper section 4.1,
// proposition 1 and remark 2; algorithms.md section 5). Per follower k and step t the leader draws
// terminate ~ Bernoulli(beta^k_t), beta = sigmoid(termination logit); on a termination it draws a
// new option omega_t ~ mu^k = softmax(option logits), otherwise it keeps omega_{t-1}. The
// trajectory's leader likelihood, with the termination draws as the events, is
//   P(A_T) = prod_{terminate steps} beta mu(omega_t) * prod_{keep steps} (1 - beta)
// (section 4.1, the formula above proposition 1), and the estimator of grad J is
// sum_t [score of event t] * R. These functions give one event's score with respect to the
// logits; the caller back-propagates them through its networks and multiplies by the return (or
// the advantage, appendix B.1).
//
// Events are termination draws, not observed option changes: a termination that redraws the same
// option is a terminate event. Recording the draw makes the score exact (unbiased REINFORCE over
// the augmented process) and keeps the per-step likelihood a single product term.
//
// Everything here is scalar or writes into caller-owned spans: no allocation except in the
// message of an exception.
#include <cmath>
#include <span>
#include <string>
#include <type_traits>

#include "netmarl/core/error.hpp"
#include "netmarl/core/tensor.hpp"

namespace netmarl::learn::ebpg {

// Which termination score to use. `derived` is d log P(A_T) / d logit, the form tested against
// finite differences (tests/learn/test_event_gradient.cpp). `printed` is proposition 1 exactly as
// typeset (and as appendix A's derivation writes it, with log(1 - beta) for the events in A_T):
// the change/keep pattern is swapped, so each event gets the other outcome's score. That is not a
// score function at all (its mean over terminate ~ Bernoulli(beta) is 1 - 2 beta, not 0), so its
// estimator is biased; on the test's problem it reverses two of the three termination components.
// It exists only so that the discrepancy stays reproducible; never train with it.
enum class termination_form { derived, printed };

// Which leader-policy term to use on a keep step.
//   sparse: proposition 1, I'(e) = 0 off A_T. The exact score of the sampled process.
//   dense:  remark 2 (what the paper calls EBPG), I'(e) = grad log mu(omega_{t-1}) off A_T. The
//           kept option was not drawn from mu on a keep step, so this is not a score of the
//           sampled process: a variance/sample-efficiency heuristic of the paper, biased (its
//           expectation is not grad J, even with a constant return).
enum class policy_gradient { dense, sparse };

// d log P(event) / d termination logit, for one follower at one step, with beta = sigmoid(logit).
// Derived from P(A_T) (section 4.1): log beta on a terminate step, log(1 - beta) on a keep step,
// and d beta / d logit = beta (1 - beta), hence
//   derived:  terminated ? 1 - beta : -beta
// Proposition 1 as printed, I(e) = -grad beta / (1 - beta) for e in A_T and grad beta / beta
// otherwise, is per logit
//   printed:  terminated ? -beta : 1 - beta   (the derived score of the other outcome)
// beta must lie in [0, 1].
template <class T>
T termination_logit_score(T beta, bool terminated,
                          termination_form form = termination_form::derived) {
  if (!(beta >= T(0) && beta <= T(1)))
    throw invalid_argument(
        "ebpg::termination_logit_score: beta = " + std::to_string(static_cast<double>(beta)) +
        " is outside the allowed range [0, 1]");
  const bool change_pattern = form == termination_form::derived ? terminated : !terminated;
  return change_pattern ? T(1) - beta : -beta;
}

namespace detail {

[[noreturn]] inline void throw_option_out_of_range(const char* name, index option, index options) {
  throw invalid_argument(std::string("ebpg::option_logit_score: ") + name + " = " +
                         std::to_string(option) + " is out of range [0, " +
                         std::to_string(options) + ")");
}

}  // namespace detail

// Whether the leader-policy term of an event is non-zero (remark 2 versus proposition 1): always on
// a terminate step, and on a keep step only for the dense form.
constexpr bool policy_term_active(policy_gradient form, bool terminated) noexcept {
  return terminated || form == policy_gradient::dense;
}

// The leader-policy term I'(e) of one event with respect to mu's logits, written into d_logits
// (one entry per option; overwritten). `probabilities` is mu = softmax(logits) at that step;
// `new_option` is omega_t (used on a terminate step), `kept_option` is omega_{t-1} (used on a
// dense keep step; omega_{-1} = 0 at the first step, figure 2b). Both must be in [0, n).
//   terminate step:         grad log mu(new_option)  = onehot(new_option) - mu   (proposition 1)
//   keep step, dense:       grad log mu(kept_option) = onehot(kept_option) - mu  (remark 2)
//   keep step, sparse:      0                                                    (proposition 1)
// Remark 2's last display writes grad mu instead of grad log mu for the keep case; section 4.1's
// text has grad log mu, which is what this implements.
template <class T>
void option_logit_score(std::type_identity_t<std::span<const T>> probabilities, bool terminated,
                        index new_option, index kept_option, policy_gradient form,
                        std::span<T> d_logits) {
  const auto options = static_cast<index>(probabilities.size());
  if (options == 0)
    throw invalid_argument(
        "ebpg::option_logit_score: probabilities has 0 options, need at least 1");
  if (static_cast<index>(d_logits.size()) != options)
    throw invalid_argument("ebpg::option_logit_score: d_logits has " +
                           std::to_string(d_logits.size()) + " entries, expected " +
                           std::to_string(options) + " (one per option)");
  if (new_option < 0 || new_option >= options)
    detail::throw_option_out_of_range("new_option", new_option, options);
  if (kept_option < 0 || kept_option >= options)
    detail::throw_option_out_of_range("kept_option", kept_option, options);

  if (!policy_term_active(form, terminated)) {
    for (T& d : d_logits) d = T(0);
    return;
  }
  const index scored = terminated ? new_option : kept_option;
  for (index i = 0; i < options; ++i) d_logits[i] = -probabilities[i];
  d_logits[scored] += T(1);
}

}  // namespace netmarl::learn::ebpg
