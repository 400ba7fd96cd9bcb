#pragma once
// What every optimizer offers, and the checks they share on construction.
//
// An optimizer reads each parameter's .grad in step() and never zeroes it (call zero_grad()), so
// gradients from several losses can be accumulated first. Its state (moments and the step count)
// is exposed as named tensors so core/checkpoint.hpp can save and restore it next to the values.
#include <cmath>
#include <concepts>
#include <sstream>
#include <string>
#include <string_view>

#include "netmarl/core/error.hpp"
#include "netmarl/core/named_tensor.hpp"
#include "netmarl/nn/parameter.hpp"

namespace netmarl::optim {

template <class O>
concept Optimizer = requires(O& opt, const O& const_opt, typename O::scalar lr) {
  typename O::scalar;
  opt.step();
  opt.zero_grad();
  opt.set_learning_rate(lr);
  { const_opt.learning_rate() } -> std::same_as<typename O::scalar>;
  { opt.state() } -> std::same_as<netmarl::tensor_list<typename O::scalar>>;
};

namespace detail {

// A setting outside PyTorch's accepted range is a user error; say which and with what value.
template <class T>
void require_setting(bool ok, std::string_view optimizer, std::string_view setting, T value,
                     std::string_view allowed) {
  if (ok) return;
  std::ostringstream msg;
  msg << optimizer << ": " << setting << " = " << value << " is invalid; it must be " << allowed;
  throw netmarl::invalid_argument(msg.str());
}

// State is preallocated from the shapes seen at construction, so every gradient must already
// have its value's shape (and must keep it).
template <class T>
void require_gradients_shaped(const nn::parameter_list<T>& params, std::string_view optimizer) {
  for (const auto& p : params) {
    if (p.param == nullptr)
      throw netmarl::invalid_argument(std::string(optimizer) + ": parameter '" + p.name +
                                      "' is a null pointer");
    const auto& v = p.param->value;
    const auto& g = p.param->grad;
    if (v.rows() != g.rows() || v.cols() != g.cols()) {
      std::ostringstream msg;
      msg << optimizer << ": parameter '" << p.name << "' has value shape " << v.rows() << "x"
          << v.cols() << " but gradient shape " << g.rows() << "x" << g.cols();
      throw netmarl::shape_error(msg.str());
    }
  }
}

}  // namespace detail
}  // namespace netmarl::optim
