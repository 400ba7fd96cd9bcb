#pragma once
// A single-step LSTM cell over a batch of rows, with PyTorch's equations (torch.nn.LSTMCell;
// Hochreiter & Schmidhuber 1997 with a forget gate) and gate order i, f, g, o in the column
// blocks of every weight and bias:
//   i  = sigmoid(x W_ii + b_ii + h W_hi + b_hi)    input gate
//   f  = sigmoid(x W_if + b_if + h W_hf + b_hf)    forget gate
//   g  = tanh   (x W_ig + b_ig + h W_hg + b_hg)    candidate cell
//   o  = sigmoid(x W_io + b_io + h W_ho + b_ho)    output gate
//   c' = f * c + i * g
//   h' = o * tanh(c')
// Weights are [inputs, 4 * hidden] and [hidden, 4 * hidden] (PyTorch's weight_ih / weight_hh
// transposed); both biases are kept, as in PyTorch.
#include <cmath>
#include <string>

#include "netmarl/core/rng.hpp"
#include "netmarl/kernels/dense.hpp"
#include "netmarl/nn/common.hpp"
#include "netmarl/nn/init.hpp"
#include "netmarl/nn/parameter.hpp"

namespace netmarl::nn {

template <class T>
struct lstm_cell {
  using scalar = T;

  parameter<T> weight_ih;  // [inputs, 4 * hidden], column blocks i | f | g | o
  parameter<T> weight_hh;  // [hidden, 4 * hidden]
  parameter<T> bias_ih;    // [1, 4 * hidden]
  parameter<T> bias_hh;    // [1, 4 * hidden]

  lstm_cell() = default;
  // All-zero parameters.
  lstm_cell(index inputs, index hidden)
      : weight_ih(inputs, 4 * hidden),
        weight_hh(hidden, 4 * hidden),
        bias_ih(1, 4 * hidden),
        bias_hh(1, 4 * hidden) {}
  // PyTorch's default: every parameter U(-1/sqrt(hidden), 1/sqrt(hidden)); drawn in the order
  // weight_ih, weight_hh, bias_ih, bias_hh.
  lstm_cell(index inputs, index hidden, rng& g) : lstm_cell(inputs, hidden) {
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
struct lstm_cache {
  matrix<T> x;            // [batch, inputs]  copy of the input
  matrix<T> h_prev;       // [batch, hidden]  copies of the previous state
  matrix<T> c_prev;       // [batch, hidden]
  matrix<T> gates;        // [batch, 4 hidden] i | f | g | o after their nonlinearities
  matrix<T> tanh_c_next;  // [batch, hidden]  tanh(c')
  matrix<T> hidden_pre;   // [batch, 4 hidden] forward scratch: h W_hh + b_hh
  matrix<T> d_pre;  // [batch, 4 hidden] backward scratch: gradient w.r.t. the gate pre-activations
  matrix<T> d_c;    // [batch, hidden]  backward scratch: total gradient w.r.t. c'
};

template <HostBackend B, class T>
void forward(B backend, const lstm_cell<T>& cell, const_matrix_arg<T> x, const_matrix_arg<T> h_prev,
             const_matrix_arg<T> c_prev, lstm_cache<T>& cache, matrix<T>& h_next,
             matrix<T>& c_next) {
  const index batch = x.rows(), hidden = cell.hidden_size();
  require_size("lstm_cell forward", "input width", cell.input_size(), x.cols());
  require_shape("lstm_cell forward", "h_prev", batch, hidden, h_prev.rows(), h_prev.cols());
  require_shape("lstm_cell forward", "c_prev", batch, hidden, c_prev.rows(), c_prev.cols());
  ensure_shape(cache.x, batch, x.cols());
  cache.x = x;
  ensure_shape(cache.h_prev, batch, hidden);
  cache.h_prev = h_prev;
  ensure_shape(cache.c_prev, batch, hidden);
  cache.c_prev = c_prev;
  ensure_shape(cache.gates, batch, 4 * hidden);
  ensure_shape(cache.hidden_pre, batch, 4 * hidden);
  kernels::dense::forward(backend, kernels::dense::shape{batch, cell.input_size(), 4 * hidden},
                          cache.x.data(), cell.weight_ih.value.data(), cell.bias_ih.value.data(),
                          cache.gates.data());
  kernels::dense::forward(backend, kernels::dense::shape{batch, hidden, 4 * hidden},
                          cache.h_prev.data(), cell.weight_hh.value.data(),
                          cell.bias_hh.value.data(), cache.hidden_pre.data());
  cache.gates += cache.hidden_pre;
  auto i = cache.gates.leftCols(hidden).array();
  auto f = cache.gates.middleCols(hidden, hidden).array();
  auto g = cache.gates.middleCols(2 * hidden, hidden).array();
  auto o = cache.gates.rightCols(hidden).array();
  i = T(1) / (T(1) + (-i).exp());
  f = T(1) / (T(1) + (-f).exp());
  g = g.tanh();
  o = T(1) / (T(1) + (-o).exp());
  ensure_shape(c_next, batch, hidden);
  c_next = (f * cache.c_prev.array() + i * g).matrix();
  ensure_shape(cache.tanh_c_next, batch, hidden);
  cache.tanh_c_next = c_next.array().tanh().matrix();
  ensure_shape(h_next, batch, hidden);
  h_next = (o * cache.tanh_c_next.array()).matrix();
}

// Accumulates the four parameter gradients; writes *d_x, *d_h_prev, *d_c_prev when non-null.
// d_c_next may be empty (0x0), meaning zero: the last step of a sequence whose loss reads only h.
// d_h_prev and d_c_prev may be the matrices d_h_next and d_c_next refer to.
template <HostBackend B, class T>
void backward(B backend, lstm_cell<T>& cell, lstm_cache<T>& cache, const_matrix_arg<T> d_h_next,
              const_matrix_arg<T> d_c_next, optional_matrix<T> d_x, optional_matrix<T> d_h_prev,
              optional_matrix<T> d_c_prev) {
  const index batch = cache.x.rows(), hidden = cell.hidden_size();
  require_shape("lstm_cell backward", "d_h_next", batch, hidden, d_h_next.rows(), d_h_next.cols());
  const bool has_d_c_next = d_c_next.size() != 0;
  if (has_d_c_next)
    require_shape("lstm_cell backward", "d_c_next", batch, hidden, d_c_next.rows(),
                  d_c_next.cols());
  const auto i = cache.gates.leftCols(hidden).array();
  const auto f = cache.gates.middleCols(hidden, hidden).array();
  const auto g = cache.gates.middleCols(2 * hidden, hidden).array();
  const auto o = cache.gates.rightCols(hidden).array();
  const auto tanh_c = cache.tanh_c_next.array();
  const auto dh = d_h_next.array();
  // Total gradient reaching c': directly, and through h' = o * tanh(c').
  ensure_shape(cache.d_c, batch, hidden);
  cache.d_c = (dh * o * (T(1) - tanh_c.square())).matrix();
  if (has_d_c_next) cache.d_c += d_c_next;
  const auto dc = cache.d_c.array();
  ensure_shape(cache.d_pre, batch, 4 * hidden);
  cache.d_pre.leftCols(hidden) = (dc * g * i * (T(1) - i)).matrix();
  cache.d_pre.middleCols(hidden, hidden) = (dc * cache.c_prev.array() * f * (T(1) - f)).matrix();
  cache.d_pre.middleCols(2 * hidden, hidden) = (dc * i * (T(1) - g.square())).matrix();
  cache.d_pre.rightCols(hidden) = (dh * tanh_c * o * (T(1) - o)).matrix();

  T* d_x_data = nullptr;
  if (d_x) {
    ensure_shape(*d_x, batch, cell.input_size());
    d_x_data = d_x->data();
  }
  kernels::dense::backward(backend, kernels::dense::shape{batch, cell.input_size(), 4 * hidden},
                           cache.x.data(), cell.weight_ih.value.data(), cache.d_pre.data(),
                           cell.weight_ih.grad.data(), cell.bias_ih.grad.data(), d_x_data);
  T* d_h_data = nullptr;
  if (d_h_prev) {
    ensure_shape(*d_h_prev, batch, hidden);
    d_h_data = d_h_prev->data();
  }
  kernels::dense::backward(backend, kernels::dense::shape{batch, hidden, 4 * hidden},
                           cache.h_prev.data(), cell.weight_hh.value.data(), cache.d_pre.data(),
                           cell.weight_hh.grad.data(), cell.bias_hh.grad.data(), d_h_data);
  if (d_c_prev) {
    ensure_shape(*d_c_prev, batch, hidden);
    *d_c_prev = (dc * f).matrix();  // c' = f * c + ...
  }
}

}  // namespace netmarl::nn
