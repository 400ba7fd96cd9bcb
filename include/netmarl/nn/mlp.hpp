#pragma once
// A sequential multi-layer perceptron: dense layers, each followed by an activation (`hidden`
// after every layer but the last, `output` after the last). Forward keeps each layer's output
// in the cache; activations' derivatives are taken from those outputs, so nothing else is stored.
#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "netmarl/core/rng.hpp"
#include "netmarl/kernels/dense.hpp"
#include "netmarl/nn/activation.hpp"
#include "netmarl/nn/common.hpp"
#include "netmarl/nn/dense.hpp"
#include "netmarl/nn/parameter.hpp"

namespace netmarl::nn {

template <class T>
struct mlp {
  using scalar = T;

  std::vector<dense<T>> layers;
  activation hidden_activation = activation::relu;
  activation output_activation = activation::identity;

  mlp() = default;
  // sizes = {inputs, hidden..., outputs}; needs at least two entries. All-zero parameters.
  mlp(const std::vector<index>& sizes, activation hidden, activation output)
      : hidden_activation(hidden), output_activation(output) {
    check_sizes(sizes);
    for (std::size_t i = 0; i + 1 < sizes.size(); ++i) layers.emplace_back(sizes[i], sizes[i + 1]);
  }
  // As above with torch.nn.Linear's default initialisation, layer by layer.
  mlp(const std::vector<index>& sizes, activation hidden, activation output, rng& g)
      : hidden_activation(hidden), output_activation(output) {
    check_sizes(sizes);
    for (std::size_t i = 0; i + 1 < sizes.size(); ++i)
      layers.emplace_back(sizes[i], sizes[i + 1], g);
  }

  index input_size() const { return layers.empty() ? 0 : layers.front().input_size(); }
  index output_size() const { return layers.empty() ? 0 : layers.back().output_size(); }
  std::size_t depth() const { return layers.size(); }
  activation activation_after(std::size_t layer) const {
    return layer + 1 == layers.size() ? output_activation : hidden_activation;
  }

  // Names "<prefix>0.weight", "<prefix>0.bias", "<prefix>1.weight", ...
  void append_parameters(parameter_list<T>& out, const std::string& prefix) {
    for (std::size_t i = 0; i < layers.size(); ++i)
      layers[i].append_parameters(out, prefix + std::to_string(i) + ".");
  }

 private:
  static void check_sizes(const std::vector<index>& sizes) {
    require<shape_error>(sizes.size() >= 2,
                         "mlp: sizes must list inputs and outputs (at least 2 entries), got " +
                             std::to_string(sizes.size()));
    for (std::size_t i = 0; i < sizes.size(); ++i)
      require<shape_error>(sizes[i] > 0, "mlp: sizes[" + std::to_string(i) +
                                             "] must be positive, got " + std::to_string(sizes[i]));
  }
};

template <class T>
struct mlp_cache {
  // outputs[0] is a copy of the input; outputs[i + 1] is layer i's activated output.
  std::vector<matrix<T>> outputs;
  // Backward scratch: gradient w.r.t. outputs[i] (pre-activation after it is multiplied by f').
  std::vector<matrix<T>> gradients;
};

template <HostBackend B, class T>
void forward(B backend, const mlp<T>& net, const_matrix_arg<T> in, mlp_cache<T>& cache,
             matrix<T>& out) {
  if (net.depth() == 0) throw shape_error("mlp forward: the network has no layers");
  require_size("mlp forward", "input width", net.input_size(), in.cols());
  const index batch = in.rows();
  cache.outputs.resize(net.depth() + 1);
  ensure_shape(cache.outputs[0], batch, in.cols());
  cache.outputs[0] = in;
  for (std::size_t i = 0; i < net.depth(); ++i) {
    const dense<T>& layer = net.layers[i];
    matrix<T>& y = cache.outputs[i + 1];
    ensure_shape(y, batch, layer.output_size());
    const kernels::dense::shape s{batch, layer.input_size(), layer.output_size()};
    kernels::dense::forward(backend, s, cache.outputs[i].data(), layer.weight.value.data(),
                            layer.bias.value.data(), y.data());
    activate<T>(net.activation_after(i), y, y);
  }
  ensure_shape(out, batch, net.output_size());
  out = cache.outputs.back();
}

namespace detail {
// d_hidden: null, or an extra gradient w.r.t. the last hidden layer's output (cache.outputs at
// depth - 1), added where the backward pass reaches that layer.
template <HostBackend B, class T>
void mlp_backward(B backend, mlp<T>& net, mlp_cache<T>& cache, const_matrix_arg<T> d_out,
                  const std::type_identity_t<matrix<T>>* d_hidden, optional_matrix<T> d_in) {
  if (cache.outputs.size() != net.depth() + 1 || net.depth() == 0)
    throw shape_error("mlp backward: call forward first");
  const index batch = cache.outputs[0].rows();
  require_shape("mlp backward", "d_out", batch, net.output_size(), d_out.rows(), d_out.cols());
  cache.gradients.resize(net.depth() + 1);
  const std::size_t last = net.depth() - 1;
  ensure_shape(cache.gradients[last + 1], batch, net.output_size());
  activation_backward<T>(net.activation_after(last), cache.outputs[last + 1], d_out,
                         cache.gradients[last + 1]);
  for (std::size_t i = net.depth(); i-- > 0;) {
    dense<T>& layer = net.layers[i];
    T* d_layer_in = nullptr;
    if (i > 0 || d_in) {
      matrix<T>& g = i > 0 ? cache.gradients[i] : *d_in;
      ensure_shape(g, batch, layer.input_size());
      d_layer_in = g.data();
    }
    const kernels::dense::shape s{batch, layer.input_size(), layer.output_size()};
    kernels::dense::backward(backend, s, cache.outputs[i].data(), layer.weight.value.data(),
                             cache.gradients[i + 1].data(), layer.weight.grad.data(),
                             layer.bias.grad.data(), d_layer_in);
    if (i > 0) {
      if (d_hidden && i == last) cache.gradients[i] += *d_hidden;
      activation_backward<T>(net.activation_after(i - 1), cache.outputs[i], cache.gradients[i],
                             cache.gradients[i]);
    }
  }
}
}  // namespace detail

// Accumulates every layer's weight.grad and bias.grad; writes *d_in when d_in is non-null.
template <HostBackend B, class T>
void backward(B backend, mlp<T>& net, mlp_cache<T>& cache, const_matrix_arg<T> d_out,
              optional_matrix<T> d_in = nullptr) {
  detail::mlp_backward(backend, net, cache, d_out, nullptr, d_in);
}

// The last hidden layer's output of the latest forward (after its activation): the features a
// consumer besides the output layer may read (QTRAN's h_i). Needs at least one hidden layer.
template <class T>
const matrix<T>& last_hidden(const mlp<T>& net, const mlp_cache<T>& cache) {
  if (net.depth() < 2 || cache.outputs.size() != net.depth() + 1)
    throw shape_error("mlp last_hidden: the network needs a hidden layer and a forward pass");
  return cache.outputs[net.depth() - 1];
}

// backward for a network whose last hidden layer was also read elsewhere: d_hidden is the
// gradient w.r.t. last_hidden(net, cache) from that reader, summed with the output layer's.
template <HostBackend B, class T>
void backward_with_hidden(B backend, mlp<T>& net, mlp_cache<T>& cache, const_matrix_arg<T> d_out,
                          const matrix<T>& d_hidden, optional_matrix<T> d_in = nullptr) {
  if (net.depth() < 2)
    throw shape_error("mlp backward_with_hidden: the network has no hidden layer");
  require_shape("mlp backward_with_hidden", "d_hidden", cache.outputs[0].rows(),
                net.layers.back().input_size(), d_hidden.rows(), d_hidden.cols());
  detail::mlp_backward(backend, net, cache, d_out, &d_hidden, d_in);
}

}  // namespace netmarl::nn
