#pragma once
// The dense (fully connected) layer: out = in . weight + bias over a batch of rows. The math is
// kernels::dense, called with the caller's backend tag, so backend::simd<...> gets the SIMD kernel
// wherever one exists and the reference kernel otherwise.
#include <string>

#include "netmarl/core/rng.hpp"
#include "netmarl/kernels/dense.hpp"
#include "netmarl/nn/common.hpp"
#include "netmarl/nn/init.hpp"
#include "netmarl/nn/parameter.hpp"

namespace netmarl::nn {

template <class T>
struct dense {
  using scalar = T;

  parameter<T> weight;  // [inputs, outputs]
  parameter<T> bias;    // [1, outputs]

  dense() = default;
  // All-zero parameters (to be loaded or initialised by the caller).
  dense(index inputs, index outputs) : weight(inputs, outputs), bias(1, outputs) {}
  // torch.nn.Linear's default initialisation (init::pytorch_default).
  dense(index inputs, index outputs, rng& g) : dense(inputs, outputs) {
    init::pytorch_default(weight, bias, g);
  }

  index input_size() const { return weight.value.rows(); }
  index output_size() const { return weight.value.cols(); }

  void append_parameters(parameter_list<T>& out, const std::string& prefix) {
    out.push_back({prefix + "weight", &weight});
    out.push_back({prefix + "bias", &bias});
  }
};

template <class T>
struct dense_cache {
  matrix<T> input;  // a contiguous copy of the forward input: backward's d_weight = input^T d_out
  matrix<T> d_out;  // contiguous copy of d_out, used only when the caller's d_out is strided
};

template <HostBackend B, class T>
void forward(B backend, const dense<T>& layer, const_matrix_arg<T> in, dense_cache<T>& cache,
             matrix<T>& out) {
  require_size("dense forward", "input width", layer.input_size(), in.cols());
  ensure_shape(cache.input, in.rows(), in.cols());
  cache.input = in;
  ensure_shape(out, in.rows(), layer.output_size());
  const kernels::dense::shape s{in.rows(), layer.input_size(), layer.output_size()};
  kernels::dense::forward(backend, s, cache.input.data(), layer.weight.value.data(),
                          layer.bias.value.data(), out.data());
}

// Accumulates into weight.grad and bias.grad; overwrites *d_in when d_in is non-null.
template <HostBackend B, class T>
void backward(B backend, dense<T>& layer, dense_cache<T>& cache, const_matrix_arg<T> d_out,
              optional_matrix<T> d_in) {
  require_shape("dense backward", "d_out", cache.input.rows(), layer.output_size(), d_out.rows(),
                d_out.cols());
  const T* d_out_data = d_out.data();
  if (d_out.outerStride() != d_out.cols()) {  // a column block: the kernel wants contiguous rows
    ensure_shape(cache.d_out, d_out.rows(), d_out.cols());
    cache.d_out = d_out;
    d_out_data = cache.d_out.data();
  }
  T* d_in_data = nullptr;
  if (d_in) {
    ensure_shape(*d_in, cache.input.rows(), layer.input_size());
    d_in_data = d_in->data();
  }
  const kernels::dense::shape s{cache.input.rows(), layer.input_size(), layer.output_size()};
  kernels::dense::backward(backend, s, cache.input.data(), layer.weight.value.data(), d_out_data,
                           layer.weight.grad.data(), layer.bias.grad.data(), d_in_data);
}

}  // namespace netmarl::nn
