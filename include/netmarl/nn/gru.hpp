#pragma once
// A single-step GRU cell over a batch of rows, with PyTorch's equations (torch.nn.GRUCell;
// Cho et al. 2014) and gate order r, z, n in the column blocks of every weight and bias:
//   r  = sigmoid(x W_ir + b_ir + h W_hr + b_hr)          reset gate
//   z  = sigmoid(x W_iz + b_iz + h W_hz + b_hz)          update gate
//   n  = tanh(x W_in + b_in + r * (h W_hn + b_hn))       candidate
//   h' = (1 - z) * n + z * h
// Weights are [inputs, 3 * hidden] and [hidden, 3 * hidden] (PyTorch's weight_ih / weight_hh
// transposed); both biases are kept, as in PyTorch, so checkpoints map one to one.
#include <cmath>
#include <string>

#include "netmarl/core/rng.hpp"
#include "netmarl/kernels/dense.hpp"
#include "netmarl/nn/common.hpp"
#include "netmarl/nn/init.hpp"
#include "netmarl/nn/parameter.hpp"

namespace netmarl::nn {

template <class T>
struct gru_cell {
  using scalar = T;

  parameter<T> weight_ih;  // [inputs, 3 * hidden], column blocks r | z | n
  parameter<T> weight_hh;  // [hidden, 3 * hidden]
  parameter<T> bias_ih;    // [1, 3 * hidden]
  parameter<T> bias_hh;    // [1, 3 * hidden]

  gru_cell() = default;
  // All-zero parameters.
  gru_cell(index inputs, index hidden)
      : weight_ih(inputs, 3 * hidden),
        weight_hh(hidden, 3 * hidden),
        bias_ih(1, 3 * hidden),
        bias_hh(1, 3 * hidden) {}
  // PyTorch's default: every parameter U(-1/sqrt(hidden), 1/sqrt(hidden)); drawn in the order
  // weight_ih, weight_hh, bias_ih, bias_hh.
  gru_cell(index inputs, index hidden, rng& g) : gru_cell(inputs, hidden) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(hidden));
    for (parameter<T>* p : {&weight_ih, &weight_hh, &bias_ih, &bias_hh})
      init::uniform(p->value, g, -bound, bound);
  }

  index input_size() const { return weight_ih.value.rows(); }
  index hidden_size() const { return weight_hh.value.rows(); }

  void append_parameters(parameter_list<T>& out, const std::string& prefix) {
    out.push_back({prefix + "weight_ih", &weight_ih});
    out.push_back({prefix + "weight_hh", &weight_hh});
    out.push_back({prefix + "bias_ih", &bias_ih});
    out.push_back({prefix + "bias_hh", &bias_hh});
  }
};

template <class T>
struct gru_cache {
  matrix<T> x;             // [batch, inputs]  copy of the input
  matrix<T> h_prev;        // [batch, hidden]  copy of the previous state
  matrix<T> gates;         // [batch, 3 hidden] r | z | n after their nonlinearities
  matrix<T> hidden_pre;    // [batch, 3 hidden] h W_hh + b_hh (its n block is needed by backward)
  matrix<T> d_input_pre;   // [batch, 3 hidden] backward scratch: gradient w.r.t. x W_ih + b_ih
  matrix<T> d_hidden_pre;  // [batch, 3 hidden] backward scratch: gradient w.r.t. h W_hh + b_hh
  matrix<T> d_h_direct;    // [batch, hidden] backward scratch: z * d_h_next (d_h_prev may alias it)
};

template <HostBackend B, class T>
void forward(B backend, const gru_cell<T>& cell, const_matrix_arg<T> x, const_matrix_arg<T> h_prev,
             gru_cache<T>& cache, matrix<T>& h_next) {
  const index batch = x.rows(), hidden = cell.hidden_size();
  require_size("gru_cell forward", "input width", cell.input_size(), x.cols());
  require_shape("gru_cell forward", "h_prev", batch, hidden, h_prev.rows(), h_prev.cols());
  ensure_shape(cache.x, batch, x.cols());
  cache.x = x;
  ensure_shape(cache.h_prev, batch, hidden);
  cache.h_prev = h_prev;
  ensure_shape(cache.gates, batch, 3 * hidden);
  ensure_shape(cache.hidden_pre, batch, 3 * hidden);
  kernels::dense::forward(backend, kernels::dense::shape{batch, cell.input_size(), 3 * hidden},
                          cache.x.data(), cell.weight_ih.value.data(), cell.bias_ih.value.data(),
                          cache.gates.data());
  kernels::dense::forward(backend, kernels::dense::shape{batch, hidden, 3 * hidden},
                          cache.h_prev.data(), cell.weight_hh.value.data(),
                          cell.bias_hh.value.data(), cache.hidden_pre.data());
  auto r = cache.gates.leftCols(hidden).array();
  auto z = cache.gates.middleCols(hidden, hidden).array();
  auto n = cache.gates.rightCols(hidden).array();
  r = T(1) / (T(1) + (-(r + cache.hidden_pre.leftCols(hidden).array())).exp());
  z = T(1) / (T(1) + (-(z + cache.hidden_pre.middleCols(hidden, hidden).array())).exp());
  n = (n + r * cache.hidden_pre.rightCols(hidden).array()).tanh();
  ensure_shape(h_next, batch, hidden);
  h_next = ((T(1) - z) * n + z * cache.h_prev.array()).matrix();
}

// Accumulates the four parameter gradients; writes *d_x and *d_h_prev when non-null.
// d_h_prev may be the matrix d_h_next refers to (a backward-through-time loop reusing one buffer).
template <HostBackend B, class T>
void backward(B backend, gru_cell<T>& cell, gru_cache<T>& cache, const_matrix_arg<T> d_h_next,
              optional_matrix<T> d_x, optional_matrix<T> d_h_prev) {
  const index batch = cache.x.rows(), hidden = cell.hidden_size();
  require_shape("gru_cell backward", "d_h_next", batch, hidden, d_h_next.rows(), d_h_next.cols());
  const auto r = cache.gates.leftCols(hidden).array();
  const auto z = cache.gates.middleCols(hidden, hidden).array();
  const auto n = cache.gates.rightCols(hidden).array();
  const auto hidden_n = cache.hidden_pre.rightCols(hidden).array();
  const auto dh = d_h_next.array();
  ensure_shape(cache.d_input_pre, batch, 3 * hidden);
  ensure_shape(cache.d_hidden_pre, batch, 3 * hidden);
  auto d_r = cache.d_input_pre.leftCols(hidden).array();
  auto d_z = cache.d_input_pre.middleCols(hidden, hidden).array();
  auto d_n = cache.d_input_pre.rightCols(hidden).array();
  // Through n's tanh, then r through the n pre-activation, z through the interpolation.
  d_n = dh * (T(1) - z) * (T(1) - n.square());
  d_r = d_n * hidden_n * r * (T(1) - r);
  d_z = dh * (cache.h_prev.array() - n) * z * (T(1) - z);
  // r and z pre-activations are sums of both products; n's hidden part is scaled by r.
  cache.d_hidden_pre.leftCols(2 * hidden) = cache.d_input_pre.leftCols(2 * hidden);
  cache.d_hidden_pre.rightCols(hidden) = (d_n * r).matrix();
  ensure_shape(cache.d_h_direct, batch, hidden);
  cache.d_h_direct = (dh * z).matrix();  // h' = ... + z * h

  T* d_x_data = nullptr;
  if (d_x) {
    ensure_shape(*d_x, batch, cell.input_size());
    d_x_data = d_x->data();
  }
  kernels::dense::backward(backend, kernels::dense::shape{batch, cell.input_size(), 3 * hidden},
                           cache.x.data(), cell.weight_ih.value.data(), cache.d_input_pre.data(),
                           cell.weight_ih.grad.data(), cell.bias_ih.grad.data(), d_x_data);
  T* d_h_data = nullptr;
  if (d_h_prev) {
    ensure_shape(*d_h_prev, batch, hidden);
    d_h_data = d_h_prev->data();
  }
  kernels::dense::backward(backend, kernels::dense::shape{batch, hidden, 3 * hidden},
                           cache.h_prev.data(), cell.weight_hh.value.data(),
                           cache.d_hidden_pre.data(), cell.weight_hh.grad.data(),
                           cell.bias_hh.grad.data(), d_h_data);
  if (d_h_prev) *d_h_prev += cache.d_h_direct;
}

}  // namespace netmarl::nn
