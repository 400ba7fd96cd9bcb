#pragma once
// Regression losses between predictions and targets of one shape. Each returns the scalar loss
// and overwrites d_pred with its gradient w.r.t. pred.
//
// Reduction (PyTorch's reduction='mean'): the mean over all elements. The weighted variants take
// one non-negative weight per row (a 0/1 mask for dead agents or padded steps, as PyMARL does) and
// return sum_r w_r sum_c l_rc / (cols * sum_r w_r): the mean over the rows that count, and exactly
// the unweighted loss when every weight is 1. All weights zero gives loss 0 and zero gradient.
#include <cmath>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

#include "netmarl/nn/common.hpp"

namespace netmarl::nn {

namespace detail {

// Shared body: `element(residual) -> {loss, d loss / d residual}` per element.
template <class T, class Element>
T regression_loss(const char* name, const_matrix_arg<T> pred, const_matrix_arg<T> target,
                  const T* row_weight, index row_weight_size, matrix<T>& d_pred, Element element) {
  require_shape(name, "target", pred.rows(), pred.cols(), target.rows(), target.cols());
  if (row_weight)
    require_size(name, "row weights (one per row of pred)", pred.rows(), row_weight_size);
  ensure_shape(d_pred, pred.rows(), pred.cols());
  T weight_sum = 0;
  for (index r = 0; r < pred.rows(); ++r) weight_sum += row_weight ? row_weight[r] : T(1);
  if (pred.size() == 0 || weight_sum == T(0)) {
    d_pred.setZero();
    return T(0);
  }
  const T scale = T(1) / (weight_sum * static_cast<T>(pred.cols()));
  T total = 0;
  for (index r = 0; r < pred.rows(); ++r) {
    const T w = row_weight ? row_weight[r] : T(1);
    for (index c = 0; c < pred.cols(); ++c) {
      const auto [loss, slope] = element(pred(r, c) - target(r, c));
      total += w * loss;
      d_pred(r, c) = w * scale * slope;
    }
  }
  return total * scale;
}

template <class T>
struct squared_error {
  std::pair<T, T> operator()(T residual) const { return {residual * residual, T(2) * residual}; }
};

// torch.nn.HuberLoss: 0.5 x^2 for |x| < delta, delta (|x| - 0.5 delta) beyond.
template <class T>
struct huber_error {
  T delta;
  std::pair<T, T> operator()(T x) const {
    const T magnitude = std::abs(x);
    if (magnitude < delta) return {T(0.5) * x * x, x};
    return {delta * (magnitude - T(0.5) * delta), x > T(0) ? delta : -delta};
  }
};

// torch.nn.SmoothL1Loss: 0.5 x^2 / beta for |x| < beta, |x| - 0.5 beta beyond (= huber / beta).
template <class T>
struct smooth_l1_error {
  T beta;
  std::pair<T, T> operator()(T x) const {
    const T magnitude = std::abs(x);
    if (magnitude < beta) return {T(0.5) * x * x / beta, x / beta};
    return {magnitude - T(0.5) * beta, x > T(0) ? T(1) : T(-1)};
  }
};

inline void require_positive(const char* name, const char* what, double value) {
  if (!(value > 0))
    throw invalid_argument(std::string(name) + ": " + what + " must be positive, got " +
                           std::to_string(value));
}

}  // namespace detail

template <class T>
using row_weights = std::type_identity_t<std::span<const T>>;

// Mean squared error (torch.nn.MSELoss).
template <class T>
T mse(const_matrix_arg<T> pred, const_matrix_arg<T> target, matrix<T>& d_pred) {
  return detail::regression_loss<T>("mse", pred, target, nullptr, 0, d_pred,
                                    detail::squared_error<T>{});
}
template <class T>
T mse(const_matrix_arg<T> pred, const_matrix_arg<T> target, row_weights<T> weight,
      matrix<T>& d_pred) {
  return detail::regression_loss<T>("mse", pred, target, weight.data(),
                                    static_cast<index>(weight.size()), d_pred,
                                    detail::squared_error<T>{});
}

// Huber loss (torch.nn.HuberLoss), delta > 0; delta = 1 when omitted.
template <class T>
T huber(const_matrix_arg<T> pred, const_matrix_arg<T> target, double delta, matrix<T>& d_pred) {
  detail::require_positive("huber", "delta", delta);
  return detail::regression_loss<T>("huber", pred, target, nullptr, 0, d_pred,
                                    detail::huber_error<T>{static_cast<T>(delta)});
}
template <class T>
T huber(const_matrix_arg<T> pred, const_matrix_arg<T> target, matrix<T>& d_pred) {
  return huber<T>(pred, target, 1.0, d_pred);
}
template <class T>
T huber(const_matrix_arg<T> pred, const_matrix_arg<T> target, double delta, row_weights<T> weight,
        matrix<T>& d_pred) {
  detail::require_positive("huber", "delta", delta);
  return detail::regression_loss<T>("huber", pred, target, weight.data(),
                                    static_cast<index>(weight.size()), d_pred,
                                    detail::huber_error<T>{static_cast<T>(delta)});
}

// Smooth L1 loss (torch.nn.SmoothL1Loss), beta > 0: huber(delta = beta) / beta.
template <class T>
T smooth_l1(const_matrix_arg<T> pred, const_matrix_arg<T> target, double beta, matrix<T>& d_pred) {
  detail::require_positive("smooth_l1", "beta", beta);
  return detail::regression_loss<T>("smooth_l1", pred, target, nullptr, 0, d_pred,
                                    detail::smooth_l1_error<T>{static_cast<T>(beta)});
}

}  // namespace netmarl::nn
