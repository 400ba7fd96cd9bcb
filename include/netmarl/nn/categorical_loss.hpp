#pragma once
// Losses and quantities of categorical distributions given by logits, one distribution per row
// (pi(. | row r) = softmax(logits row r)). Every function works from the logits directly with a
// max-subtracted log-sum-exp, so it is stable for any logit scale, and overwrites d_logits.
#include <cmath>
#include <span>
#include <string>
#include <type_traits>

#include "netmarl/nn/common.hpp"
#include "netmarl/nn/softmax.hpp"

namespace netmarl::nn {

namespace detail {

// One index per row, each in [0, cols).
inline void require_indices(const char* name, const char* what, std::span<const int> indices,
                            index rows, index cols) {
  if (static_cast<index>(indices.size()) != rows)
    require_size(name, (std::string(what) + " (one per row of logits)").c_str(), rows,
                 static_cast<index>(indices.size()));
  for (std::size_t r = 0; r < indices.size(); ++r)
    if (indices[r] < 0 || indices[r] >= cols)
      throw invalid_argument(std::string(name) + ": " + what + "[" + std::to_string(r) +
                             "] = " + std::to_string(indices[r]) + " is out of range [0, " +
                             std::to_string(cols) + ")");
}

}  // namespace detail

template <class T>
using per_row = std::type_identity_t<std::span<const T>>;

// Mean over rows of -log pi(label_r | row r) (torch.nn.CrossEntropyLoss with class indices).
// d_logits = (softmax - onehot(label)) / rows.
template <class T>
T cross_entropy(const_matrix_arg<T> logits, std::span<const int> labels, matrix<T>& d_logits) {
  detail::require_indices("cross_entropy", "labels", labels, logits.rows(), logits.cols());
  ensure_shape(d_logits, logits.rows(), logits.cols());
  if (logits.rows() == 0) return T(0);
  const T scale = T(1) / static_cast<T>(logits.rows());
  T total = 0;
  for (index r = 0; r < logits.rows(); ++r) {
    const T normaliser = log_sum_exp<T>(logits.row(r));
    total += normaliser - logits(r, labels[r]);
    d_logits.row(r) = ((logits.row(r).array() - normaliser).exp() * scale).matrix();
    d_logits(r, labels[r]) -= scale;
  }
  return total * scale;
}

// log_prob[r] = log pi(action_r | row r).
template <class T>
void categorical_log_prob(const_matrix_arg<T> logits, std::span<const int> actions,
                          column_vector<T>& log_prob) {
  detail::require_indices("categorical_log_prob", "actions", actions, logits.rows(), logits.cols());
  ensure_shape(log_prob, logits.rows(), 1);
  for (index r = 0; r < logits.rows(); ++r)
    log_prob(r) = logits(r, actions[r]) - log_sum_exp<T>(logits.row(r));
}

// Backward of categorical_log_prob given upstream d_log_prob (one per row):
// d_logits row r = d_log_prob[r] * (onehot(action_r) - pi(. | row r)).
template <class T>
void categorical_log_prob_backward(const_matrix_arg<T> logits, std::span<const int> actions,
                                   per_row<T> d_log_prob, matrix<T>& d_logits) {
  detail::require_indices("categorical_log_prob_backward", "actions", actions, logits.rows(),
                          logits.cols());
  require_size("categorical_log_prob_backward", "d_log_prob (one per row of logits)", logits.rows(),
               static_cast<index>(d_log_prob.size()));
  ensure_shape(d_logits, logits.rows(), logits.cols());
  for (index r = 0; r < logits.rows(); ++r) {
    const T normaliser = log_sum_exp<T>(logits.row(r));
    d_logits.row(r) = (-(logits.row(r).array() - normaliser).exp() * d_log_prob[r]).matrix();
    d_logits(r, actions[r]) += d_log_prob[r];
  }
}

// The policy-gradient (REINFORCE / actor) loss -(1/rows) sum_r w_r log pi(action_r | row r),
// w_r an advantage or return (treated as a constant), 0 for masked rows. Writes its d_logits.
template <class T>
T policy_gradient_loss(const_matrix_arg<T> logits, std::span<const int> actions, per_row<T> weight,
                       matrix<T>& d_logits) {
  detail::require_indices("policy_gradient_loss", "actions", actions, logits.rows(), logits.cols());
  require_size("policy_gradient_loss", "weights (one per row of logits)", logits.rows(),
               static_cast<index>(weight.size()));
  ensure_shape(d_logits, logits.rows(), logits.cols());
  if (logits.rows() == 0) return T(0);
  const T scale = T(1) / static_cast<T>(logits.rows());
  T total = 0;
  for (index r = 0; r < logits.rows(); ++r) {
    const T normaliser = log_sum_exp<T>(logits.row(r));
    const T upstream = -weight[r] * scale;  // d loss / d log pi(action_r | row r)
    total += upstream * (logits(r, actions[r]) - normaliser);
    d_logits.row(r) = (-(logits.row(r).array() - normaliser).exp() * upstream).matrix();
    d_logits(r, actions[r]) += upstream;
  }
  return total;
}

// entropy[r] = H(pi(. | row r)) = -sum_j p_j log p_j.
template <class T>
void categorical_entropy(const_matrix_arg<T> logits, column_vector<T>& entropy) {
  ensure_shape(entropy, logits.rows(), 1);
  for (index r = 0; r < logits.rows(); ++r) {
    const auto log_p = logits.row(r).array() - log_sum_exp<T>(logits.row(r));
    entropy(r) = -(log_p.exp() * log_p).sum();
  }
}

// Backward of categorical_entropy given upstream d_entropy (one per row):
// dH/dlogit_k = -p_k (log p_k + H), so d_logits row r = -d_entropy[r] p (log p + H_r).
template <class T>
void categorical_entropy_backward(const_matrix_arg<T> logits, per_row<T> d_entropy,
                                  matrix<T>& d_logits) {
  require_size("categorical_entropy_backward", "d_entropy (one per row of logits)", logits.rows(),
               static_cast<index>(d_entropy.size()));
  ensure_shape(d_logits, logits.rows(), logits.cols());
  for (index r = 0; r < logits.rows(); ++r) {
    const auto log_p = logits.row(r).array() - log_sum_exp<T>(logits.row(r));
    const T entropy = -(log_p.exp() * log_p).sum();
    d_logits.row(r) = (-d_entropy[r] * log_p.exp() * (log_p + entropy)).matrix();
  }
}

// Mean entropy over rows, with d_logits its gradient (an entropy bonus subtracts beta times it).
template <class T>
T mean_entropy(const_matrix_arg<T> logits, matrix<T>& d_logits) {
  ensure_shape(d_logits, logits.rows(), logits.cols());
  if (logits.rows() == 0) return T(0);
  const T scale = T(1) / static_cast<T>(logits.rows());
  T total = 0;
  for (index r = 0; r < logits.rows(); ++r) {
    const auto log_p = logits.row(r).array() - log_sum_exp<T>(logits.row(r));
    const T entropy = -(log_p.exp() * log_p).sum();
    total += entropy;
    d_logits.row(r) = (-scale * log_p.exp() * (log_p + entropy)).matrix();
  }
  return total * scale;
}

}  // namespace netmarl::nn
