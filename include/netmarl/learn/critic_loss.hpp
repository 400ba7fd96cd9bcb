#pragma once
// The critics' regression loss: MSE between a factorization's outputs and their targets, counting
// only the entries whose mask is 1 (agents that acted alive; every entry of a joint output).
// Row-major [rows, cols] matrices are contiguous, so each entry is treated as a row of its own
// and nn::mse's per-row weights do the masking.
#include <span>

#include "netmarl/core/tensor.hpp"
#include "netmarl/nn/regression_loss.hpp"

namespace netmarl::learn {

// Returns the loss; d_pred gets pred's shape. `mask` has pred's shape.
template <class T>
T masked_mse(const matrix<T>& pred, const matrix<T>& target, const matrix<T>& mask,
             matrix<T>& d_pred) {
  const index rows = pred.rows(), cols = pred.cols();
  const_matrix_map<T> flat_pred(pred.data(), rows * cols, 1);
  const_matrix_map<T> flat_target(target.data(), target.size(), 1);
  const T loss =
      nn::mse<T>(flat_pred, flat_target,
                 std::span<const T>(mask.data(), static_cast<std::size_t>(mask.size())), d_pred);
  d_pred.resize(rows, cols);  // same number of entries: no reallocation
  return loss;
}

}  // namespace netmarl::learn
