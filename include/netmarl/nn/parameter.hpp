#pragma once
// A trainable tensor and its gradient, and the flat, named list of them that optimizers,
// clipping, target updates and checkpoints work on. Every model exposes its parameters with a
// member `void append_parameters(parameter_list<T>& out, const std::string& prefix)`.
#include <string>
#include <vector>

#include "netmarl/core/named_tensor.hpp"
#include "netmarl/core/tensor.hpp"

namespace netmarl::nn {

template <class T>
struct parameter {
  matrix<T> value;
  matrix<T> grad;  // same shape as value; backward passes accumulate into it

  parameter() = default;
  parameter(index rows, index cols)
      : value(matrix<T>::Zero(rows, cols)), grad(matrix<T>::Zero(rows, cols)) {}

  void zero_grad() { grad.setZero(); }
  index size() const { return value.size(); }
};

template <class T>
struct named_parameter {
  std::string name;
  parameter<T>* param;
};

template <class T>
using parameter_list = std::vector<named_parameter<T>>;

template <class Model>
concept HasParameters = requires(Model& m, std::string prefix) {
  typename Model::scalar;
  m.append_parameters(std::declval<parameter_list<typename Model::scalar>&>(), prefix);
};

// The parameters of `model`, names prefixed with `prefix`.
template <HasParameters Model>
parameter_list<typename Model::scalar> parameters_of(Model& model, const std::string& prefix = "") {
  parameter_list<typename Model::scalar> out;
  model.append_parameters(out, prefix);
  return out;
}

template <class T>
void zero_grad(const parameter_list<T>& params) {
  for (auto& p : params) p.param->zero_grad();
}

// The values of `params` as named tensors (what a checkpoint stores).
template <class T>
netmarl::tensor_list<T> values_of(const parameter_list<T>& params) {
  netmarl::tensor_list<T> out;
  out.reserve(params.size());
  for (auto& p : params) out.push_back({p.name, &p.param->value});
  return out;
}

template <class T>
index parameter_count(const parameter_list<T>& params) {
  index n = 0;
  for (auto& p : params) n += p.param->size();
  return n;
}

}  // namespace netmarl::nn
