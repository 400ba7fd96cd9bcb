#pragma once
// Reference dense kernel: Eigen over the caller's buffers. The test oracle for every backend.
#include "netmarl/backend/tags.hpp"
#include "netmarl/kernels/dense/spec.hpp"

namespace netmarl::kernels::dense {

template <class T>
void forward(backend::reference, const shape& s, const T* in, const T* weight, const T* bias,
             T* out) {
  const_matrix_map<T> x(in, s.batch, s.inputs);
  const_matrix_map<T> w(weight, s.inputs, s.outputs);
  Eigen::Map<const row_vector<T>> b(bias, s.outputs);
  matrix_map<T> y(out, s.batch, s.outputs);
  y.noalias() = x * w;
  y.rowwise() += b;
}

// d_in may be null when the input gradient is not needed (the first layer).
template <class T>
void backward(backend::reference, const shape& s, const T* in, const T* weight, const T* d_out,
              T* d_weight, T* d_bias, T* d_in) {
  const_matrix_map<T> x(in, s.batch, s.inputs);
  const_matrix_map<T> w(weight, s.inputs, s.outputs);
  const_matrix_map<T> dy(d_out, s.batch, s.outputs);
  matrix_map<T> dw(d_weight, s.inputs, s.outputs);
  Eigen::Map<row_vector<T>> db(d_bias, s.outputs);
  dw.noalias() += x.transpose() * dy;
  db += dy.colwise().sum();
  if (d_in) {
    matrix_map<T> dx(d_in, s.batch, s.inputs);
    dx.noalias() = dy * w.transpose();
  }
}

}  // namespace netmarl::kernels::dense
