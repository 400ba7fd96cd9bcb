#pragma once
// Elementwise activations. Every derivative here is a function of the activation's output
// (relu: y > 0; elu: y > 0 ? 1 : y + 1; tanh: 1 - y^2; sigmoid: y (1 - y)), so a cache keeps
// only the output, and a model that already stores its layer outputs needs no extra copy.
#include <cmath>
#include <string>

#include "netmarl/nn/common.hpp"

namespace netmarl::nn {

// elu uses alpha = 1 (Clevert et al. 2016): x > 0 ? x : exp(x) - 1.
enum class activation { identity, relu, elu, tanh, sigmoid };

inline std::string to_string(activation a) {
  switch (a) {
    case activation::identity:
      return "identity";
    case activation::relu:
      return "relu";
    case activation::elu:
      return "elu";
    case activation::tanh:
      return "tanh";
    case activation::sigmoid:
      return "sigmoid";
  }
  return "unknown activation";
}

// f(x) for one scalar.
template <class T>
T activate(activation a, T x) {
  switch (a) {
    case activation::identity:
      return x;
    case activation::relu:
      return x > T(0) ? x : T(0);
    case activation::elu:
      return x > T(0) ? x : std::expm1(x);
    case activation::tanh:
      return std::tanh(x);
    case activation::sigmoid:
      return T(1) / (T(1) + std::exp(-x));
  }
  return x;
}

// f'(x) written through y = f(x).
template <class T>
T derivative_from_output(activation a, T y) {
  switch (a) {
    case activation::identity:
      return T(1);
    case activation::relu:
      return y > T(0) ? T(1) : T(0);
    case activation::elu:
      return y > T(0) ? T(1) : y + T(1);
    case activation::tanh:
      return T(1) - y * y;
    case activation::sigmoid:
      return y * (T(1) - y);
  }
  return T(1);
}

// out = f(in), elementwise; out may be the same matrix as in. out must already have in's shape.
template <class T>
void activate(activation a, const_matrix_arg<T> in, matrix_ref<T> out) {
  NETMARL_ASSERT(in.rows() == out.rows() && in.cols() == out.cols(), "activate: shapes differ");
  switch (a) {
    case activation::identity:
      out = in;
      return;
    case activation::relu:
      out = in.cwiseMax(T(0));
      return;
    case activation::tanh:
      out = in.array().tanh().matrix();
      return;
    case activation::sigmoid:
      out = (T(1) / (T(1) + (-in.array()).exp())).matrix();
      return;
    case activation::elu:
      out = in.unaryExpr([](T x) { return x > T(0) ? x : std::expm1(x); });
      return;
  }
}

// d_in = d_out * f'(x), elementwise, with f'(x) taken from out = f(x). d_in may alias d_out.
template <class T>
void activation_backward(activation a, const_matrix_arg<T> out, const_matrix_arg<T> d_out,
                         matrix_ref<T> d_in) {
  NETMARL_ASSERT(out.rows() == d_out.rows() && out.cols() == d_out.cols() &&
                     d_in.rows() == d_out.rows() && d_in.cols() == d_out.cols(),
                 "activation_backward: shapes differ");
  switch (a) {
    case activation::identity:
      d_in = d_out;
      return;
    case activation::relu:
      d_in = (out.array() > T(0)).select(d_out.array(), T(0)).matrix();
      return;
    case activation::tanh:
      d_in = (d_out.array() * (T(1) - out.array().square())).matrix();
      return;
    case activation::sigmoid:
      d_in = (d_out.array() * out.array() * (T(1) - out.array())).matrix();
      return;
    case activation::elu:
      d_in =
          (out.array() > T(0)).select(d_out.array(), d_out.array() * (out.array() + T(1))).matrix();
      return;
  }
}

// The activation as a layer without parameters: the cache keeps the output.
template <class T>
struct activation_cache {
  matrix<T> out;
};

template <HostBackend B, class T>
void forward(B, activation a, const_matrix_arg<T> in, activation_cache<T>& cache, matrix<T>& out) {
  ensure_shape(cache.out, in.rows(), in.cols());
  activate<T>(a, in, cache.out);
  ensure_shape(out, in.rows(), in.cols());
  out = cache.out;
}

// Writes d_in (when non-null); there are no parameters to accumulate into.
template <HostBackend B, class T>
void backward(B, activation a, const activation_cache<T>& cache, const_matrix_arg<T> d_out,
              optional_matrix<T> d_in) {
  require_shape("activation backward", "d_out", cache.out.rows(), cache.out.cols(), d_out.rows(),
                d_out.cols());
  if (!d_in) return;
  ensure_shape(*d_in, d_out.rows(), d_out.cols());
  activation_backward<T>(a, cache.out, d_out, *d_in);
}

}  // namespace netmarl::nn
