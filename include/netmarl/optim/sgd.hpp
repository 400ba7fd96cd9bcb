#pragma once
// Stochastic gradient descent following torch.optim.SGD's update exactly (maximize=False):
//   g = grad + weight_decay * p
//   momentum != 0:  b = g on the first step, else b = momentum b + (1 - dampening) g
//                   g = nesterov ? g + momentum b : b
//   p -= lr g
// learning_rate defaults to 1e-3 as in PyTorch >= 2.2.
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "netmarl/core/assert.hpp"
#include "netmarl/core/named_tensor.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/nn/parameter.hpp"
#include "netmarl/optim/concept.hpp"

namespace netmarl::optim {

template <class T>
struct sgd_settings {
  T learning_rate = T(1e-3);
  T momentum = T(0);
  T dampening = T(0);
  bool nesterov = false;
  T weight_decay = T(0);
};

template <class T>
class sgd {
  static_assert(std::is_floating_point_v<T>, "sgd<T>: T must be float or double.");

 public:
  using scalar = T;
  using settings_type = sgd_settings<T>;

  // Keeps pointers to the parameters: they must outlive the optimizer. Momentum buffers exist
  // only when momentum != 0 (and only then are in state()).
  explicit sgd(nn::parameter_list<T> params, sgd_settings<T> settings = {})
      : params_(std::move(params)), settings_(settings), step_count_(matrix<T>::Zero(1, 1)) {
    check_settings(settings_);
    detail::require_gradients_shaped(params_, "sgd");
    if (settings_.momentum != T(0))
      for (const auto& p : params_)
        momentum_buffer_.push_back(matrix<T>::Zero(p.param->value.rows(), p.param->value.cols()));
  }

  // One update from the current gradients. Does not zero them; allocates nothing.
  void step() {
    // PyTorch starts the momentum buffer as a copy of the first gradient, not as momentum * 0
    // + (1 - dampening) g; the step count tells which step is the first, even after a restore.
    const bool first_step = step_count_(0, 0) == T(0);
    step_count_(0, 0) += T(1);
    const T lr = settings_.learning_rate, momentum = settings_.momentum, decay = settings_.weight_decay;
    const T one_minus_dampening = static_cast<T>(1.0 - static_cast<double>(settings_.dampening));

    for (std::size_t i = 0; i < params_.size(); ++i) {
      auto& p = *params_[i].param;
      NETMARL_ASSERT(p.grad.rows() == p.value.rows() && p.grad.cols() == p.value.cols() &&
                         (momentum_buffer_.empty() || (p.value.rows() == momentum_buffer_[i].rows() &&
                                                       p.value.cols() == momentum_buffer_[i].cols())),
                     "sgd: parameter '" + params_[i].name + "' changed shape after construction");
      const auto g = p.grad.array() + decay * p.value.array();  // lazy, never materialised
      if (momentum == T(0)) {
        p.value.array() -= lr * g;
        continue;
      }
      auto b = momentum_buffer_[i].array();
      if (first_step)
        b = g;
      else
        b = momentum * b + one_minus_dampening * g;
      if (settings_.nesterov)
        p.value.array() -= lr * (g + momentum * b);
      else
        p.value.array() -= lr * b;
    }
  }

  void zero_grad() { nn::zero_grad(params_); }

  void set_learning_rate(T learning_rate) {
    detail::require_setting(learning_rate >= T(0), "sgd", "learning_rate", learning_rate, ">= 0");
    settings_.learning_rate = learning_rate;
  }
  T learning_rate() const { return settings_.learning_rate; }
  const sgd_settings<T>& settings() const { return settings_; }
  std::int64_t step_count() const { return static_cast<std::int64_t>(step_count_(0, 0)); }

  // Named views of the state for checkpoints: "<prefix>.momentum.<param>" (momentum != 0 only)
  // and "<prefix>.step". The pointers refer into this optimizer: take the list just before
  // saving or loading.
  netmarl::tensor_list<T> state(std::string_view prefix = "sgd") {
    netmarl::tensor_list<T> out;
    const std::string base(prefix);
    for (std::size_t i = 0; i < momentum_buffer_.size(); ++i)
      out.push_back({base + ".momentum." + params_[i].name, &momentum_buffer_[i]});
    out.push_back({base + ".step", &step_count_});
    return out;
  }

 private:
  // The ranges torch.optim.SGD accepts; NaN fails every comparison, so it is rejected too.
  static void check_settings(const sgd_settings<T>& s) {
    detail::require_setting(s.learning_rate >= T(0), "sgd", "learning_rate", s.learning_rate, ">= 0");
    detail::require_setting(s.momentum >= T(0), "sgd", "momentum", s.momentum, ">= 0");
    detail::require_setting(s.weight_decay >= T(0), "sgd", "weight_decay", s.weight_decay, ">= 0");
    detail::require_setting(s.dampening == s.dampening, "sgd", "dampening", s.dampening, "a number");
    if (s.nesterov) {
      // Nesterov momentum needs a momentum and zero dampening (PyTorch raises the same).
      detail::require_setting(s.momentum > T(0), "sgd", "momentum", s.momentum, "> 0 with nesterov");
      detail::require_setting(s.dampening == T(0), "sgd", "dampening", s.dampening, "0 with nesterov");
    }
  }

  nn::parameter_list<T> params_;
  sgd_settings<T> settings_;
  std::vector<matrix<T>> momentum_buffer_;  // momentum != 0 only
  matrix<T> step_count_;                    // 1x1
};

}  // namespace netmarl::optim
