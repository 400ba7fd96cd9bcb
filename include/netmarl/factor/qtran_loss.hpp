#pragma once
// The three QTRAN-base losses (Son et al. 2019, section 3: the conditions of QTRAN's Theorem 1,
// VAST eq. 3, turned into losses; written as PyMARL's qtran_learner.py computes them), each a
// scalar over a batch of [batch, 1] columns:
//   L_td   = (Q_jt(s, u) - y)^2                              y: the TD target, a constant
//   L_opt  = (sum_i max_a Q_i - Q_jt(s, u_bar).detach() + V(s))^2     u_bar: greedy joint action
//   L_nopt = min(sum_i Q_i(u_i) - Q_jt(s, u).detach() + V(s), 0)^2
// The detaches are the paper's: L_opt and L_nopt make the factorised utilities (and V) track the
// joint network, never the other way round, so neither sends a gradient into Q_jt; the inputs
// named *_q_jt below get none. The caller combines them as L_td + lambda_opt L_opt + lambda_nopt
// L_nopt (factor::qtran_joint::model::loss does).
//
// authors_variant: the VAST authors' QTRAN (thomyphan/scalable-marl, vast/controllers/
// value_learner.py; VAST section 2.2 uses it as a baseline) writes the L_opt term as
// `Q_transformed_max - Q_max + V_max**2`: the difference is not squared and, by operator
// precedence, only V is. We compute exactly that, l = sum_i max_a Q_i - Q_jt(s, u_bar) + V(s)^2,
// which is linear in the utilities and can be negative. (Their learner also regresses Q_jt on
// sum_i R_i, i.e. n R for a shared reward, and weighs all three terms 1: the caller's target and
// lambdas.)
//
// Reduction: PyMARL's masked mean, sum_b w_b l_b / sum_b w_b, with one non-negative weight per
// sample (a 0/1 mask for padded steps); an empty weight span means every weight is 1, all weights
// zero give loss 0 and zero gradients. Each function OVERWRITES its gradient outputs.
#include <span>

#include "netmarl/nn/common.hpp"
#include "netmarl/nn/regression_loss.hpp"

namespace netmarl::factor::qtran_loss {

template <class T>
using row_weights = nn::row_weights<T>;

namespace detail {

// Every input of a loss is one value per sample.
inline void require_column(const char* where, const char* what, index batch, index rows,
                           index cols) {
  nn::require_shape(where, what, batch, 1, rows, cols);
}

// sum_b w_b l_b / sum_b w_b, where row(b, factor) returns l_b and writes factor * dl_b/dx into
// each gradient output at row b.
template <class T, class Row>
T weighted_mean(const char* where, index batch, row_weights<T> weight, Row row) {
  if (!weight.empty())
    nn::require_size(where, "row weights (one per sample)", batch,
                     static_cast<index>(weight.size()));
  T weight_sum = 0;
  for (index b = 0; b < batch; ++b) weight_sum += weight.empty() ? T(1) : weight[b];
  if (batch == 0 || weight_sum == T(0)) {
    for (index b = 0; b < batch; ++b) row(b, T(0));
    return T(0);
  }
  const T scale = T(1) / weight_sum;
  T total = 0;
  for (index b = 0; b < batch; ++b) {
    const T w = weight.empty() ? T(1) : weight[b];
    total += w * row(b, w * scale);
  }
  return total * scale;
}

}  // namespace detail

// L_td: writes d_q_jt.
template <class T>
T td(nn::const_matrix_arg<T> q_jt, nn::const_matrix_arg<T> target, row_weights<T> weight,
     matrix<T>& d_q_jt) {
  const char* where = "qtran_loss::td";
  const index batch = q_jt.rows();
  detail::require_column(where, "q_jt", batch, q_jt.rows(), q_jt.cols());
  detail::require_column(where, "target", batch, target.rows(), target.cols());
  ensure_shape(d_q_jt, batch, 1);
  return detail::weighted_mean<T>(where, batch, weight, [&](index b, T factor) {
    const T residual = q_jt(b, 0) - target(b, 0);
    d_q_jt(b, 0) = factor * T(2) * residual;
    return residual * residual;
  });
}

// L_opt (or the VAST authors' unsquared form): writes d_greedy_utility_sum and d_v; greedy_q_jt
// is detached and gets no gradient.
template <class T>
T opt(nn::const_matrix_arg<T> greedy_utility_sum, nn::const_matrix_arg<T> greedy_q_jt,
      nn::const_matrix_arg<T> v, bool authors_variant, row_weights<T> weight,
      matrix<T>& d_greedy_utility_sum, matrix<T>& d_v) {
  const char* where = "qtran_loss::opt";
  const index batch = greedy_utility_sum.rows();
  detail::require_column(where, "greedy_utility_sum", batch, greedy_utility_sum.rows(),
                         greedy_utility_sum.cols());
  detail::require_column(where, "greedy_q_jt", batch, greedy_q_jt.rows(), greedy_q_jt.cols());
  detail::require_column(where, "v", batch, v.rows(), v.cols());
  ensure_shape(d_greedy_utility_sum, batch, 1);
  ensure_shape(d_v, batch, 1);
  return detail::weighted_mean<T>(where, batch, weight, [&](index b, T factor) {
    const T value = v(b, 0);
    if (authors_variant) {  // sum max Q_i - Q_jt(s, u_bar) + V^2
      d_greedy_utility_sum(b, 0) = factor;
      d_v(b, 0) = factor * T(2) * value;
      return greedy_utility_sum(b, 0) - greedy_q_jt(b, 0) + value * value;
    }
    const T x = greedy_utility_sum(b, 0) - greedy_q_jt(b, 0) + value;
    d_greedy_utility_sum(b, 0) = factor * T(2) * x;
    d_v(b, 0) = factor * T(2) * x;
    return x * x;
  });
}

// L_nopt: writes d_chosen_utility_sum and d_v; q_jt is detached and gets no gradient. A sample
// whose argument is >= 0 (the constraint Q' >= Q_jt - V holds) contributes 0 and no gradient.
template <class T>
T nopt(nn::const_matrix_arg<T> chosen_utility_sum, nn::const_matrix_arg<T> q_jt,
       nn::const_matrix_arg<T> v, row_weights<T> weight, matrix<T>& d_chosen_utility_sum,
       matrix<T>& d_v) {
  const char* where = "qtran_loss::nopt";
  const index batch = chosen_utility_sum.rows();
  detail::require_column(where, "chosen_utility_sum", batch, chosen_utility_sum.rows(),
                         chosen_utility_sum.cols());
  detail::require_column(where, "q_jt", batch, q_jt.rows(), q_jt.cols());
  detail::require_column(where, "v", batch, v.rows(), v.cols());
  ensure_shape(d_chosen_utility_sum, batch, 1);
  ensure_shape(d_v, batch, 1);
  return detail::weighted_mean<T>(where, batch, weight, [&](index b, T factor) {
    const T x = chosen_utility_sum(b, 0) - q_jt(b, 0) + v(b, 0);
    const T clamped = x < T(0) ? x : T(0);  // torch clamp(max=0)
    d_chosen_utility_sum(b, 0) = factor * T(2) * clamped;
    d_v(b, 0) = factor * T(2) * clamped;
    return clamped * clamped;
  });
}

}  // namespace netmarl::factor::qtran_loss
