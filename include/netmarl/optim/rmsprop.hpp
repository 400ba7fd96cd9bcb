#pragma once
// RMSprop (Tieleman & Hinton 2012) following torch.optim.RMSprop's update exactly (maximize=False):
//   g   = grad + weight_decay * p
//   s   = alpha s + (1 - alpha) g^2
//   centered:  a = lerp(a, g, 1 - alpha);  avg = sqrt(s - a^2) + epsilon
//   otherwise:                             avg = sqrt(s) + epsilon
//   momentum > 0:  b = momentum b + g / avg;  p -= lr b
//   otherwise:     p -= lr g / avg
// Defaults are PyTorch's (lr 1e-2, alpha 0.99, eps 1e-8, momentum 0, not centered).
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

// GCC 12's own AVX-512 headers trip -Wmaybe-uninitialized (GCC bug 105593) inside Eigen's packet
// sqrt/max when inlined here; the warning is spurious, so silence it for this code only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace netmarl::optim {

template <class T>
struct rmsprop_settings {
  T learning_rate = T(1e-2);
  T alpha = T(0.99);
  T epsilon = T(1e-8);
  T weight_decay = T(0);
  T momentum = T(0);
  bool centered = false;
};

template <class T>
class rmsprop {
  static_assert(std::is_floating_point_v<T>, "rmsprop<T>: T must be float or double.");

 public:
  using scalar = T;
  using settings_type = rmsprop_settings<T>;

  // Keeps pointers to the parameters: they must outlive the optimizer. The centered average and
  // the momentum buffer exist only when the settings use them (and only then are in state()).
  explicit rmsprop(nn::parameter_list<T> params, rmsprop_settings<T> settings = {})
      : params_(std::move(params)), settings_(settings), step_count_(matrix<T>::Zero(1, 1)) {
    check_settings(settings_);
    detail::require_gradients_shaped(params_, "rmsprop");
    for (const auto& p : params_) {
      const index rows = p.param->value.rows(), cols = p.param->value.cols();
      square_avg_.push_back(matrix<T>::Zero(rows, cols));
      if (settings_.centered) grad_avg_.push_back(matrix<T>::Zero(rows, cols));
      if (settings_.momentum > T(0)) momentum_buffer_.push_back(matrix<T>::Zero(rows, cols));
    }
  }

  // One update from the current gradients. Does not zero them; allocates nothing.
  void step() {
    // PyTorch counts steps for RMSprop but its update does not use the count; we keep it for
    // checkpoints and schedules.
    step_count_(0, 0) += T(1);
    const T alpha = settings_.alpha, eps = settings_.epsilon, decay = settings_.weight_decay;
    const T one_minus_alpha = static_cast<T>(1.0 - static_cast<double>(alpha));
    const T lr = settings_.learning_rate, momentum = settings_.momentum;

    for (std::size_t i = 0; i < params_.size(); ++i) {
      auto& p = *params_[i].param;
      NETMARL_ASSERT(p.grad.rows() == square_avg_[i].rows() && p.grad.cols() == square_avg_[i].cols() &&
                         p.value.rows() == square_avg_[i].rows() &&
                         p.value.cols() == square_avg_[i].cols(),
                     "rmsprop: parameter '" + params_[i].name + "' changed shape after construction");
      const auto g = p.grad.array() + decay * p.value.array();  // lazy, never materialised
      auto s = square_avg_[i].array();
      s = alpha * s + one_minus_alpha * g.square();
      if (settings_.centered) {
        auto a = grad_avg_[i].array();
        a += one_minus_alpha * (g - a);
        // s >= a^2 in exact arithmetic; the clamp keeps rounding from taking the square root of
        // a tiny negative number (PyTorch would produce a NaN there).
        update(p, g, (s - a.square()).max(T(0)).sqrt() + eps, i, lr, momentum);
      } else {
        update(p, g, s.sqrt() + eps, i, lr, momentum);
      }
    }
  }

  void zero_grad() { nn::zero_grad(params_); }

  void set_learning_rate(T learning_rate) {
    detail::require_setting(learning_rate >= T(0), "rmsprop", "learning_rate", learning_rate, ">= 0");
    settings_.learning_rate = learning_rate;
  }
  T learning_rate() const { return settings_.learning_rate; }
  const rmsprop_settings<T>& settings() const { return settings_; }
  std::int64_t step_count() const { return static_cast<std::int64_t>(step_count_(0, 0)); }

  // Named views of the state for checkpoints: "<prefix>.square_avg.<param>", and when used
  // "<prefix>.grad_avg.<param>" (centered) and "<prefix>.momentum.<param>", plus "<prefix>.step".
  // The pointers refer into this optimizer: take the list just before saving or loading.
  netmarl::tensor_list<T> state(std::string_view prefix = "rmsprop") {
    netmarl::tensor_list<T> out;
    const std::string base(prefix);
    for (std::size_t i = 0; i < params_.size(); ++i) {
      out.push_back({base + ".square_avg." + params_[i].name, &square_avg_[i]});
      if (settings_.centered) out.push_back({base + ".grad_avg." + params_[i].name, &grad_avg_[i]});
      if (settings_.momentum > T(0))
        out.push_back({base + ".momentum." + params_[i].name, &momentum_buffer_[i]});
    }
    out.push_back({base + ".step", &step_count_});
    return out;
  }

 private:
  template <class Grad, class Avg>
  void update(nn::parameter<T>& p, const Grad& g, const Avg& avg, std::size_t i, T lr, T momentum) {
    if (momentum > T(0)) {
      auto b = momentum_buffer_[i].array();
      b = momentum * b + g / avg;
      p.value.array() -= lr * b;
    } else {
      p.value.array() -= lr * (g / avg);
    }
  }

  // The ranges torch.optim.RMSprop accepts; NaN fails every comparison, so it is rejected too.
  static void check_settings(const rmsprop_settings<T>& s) {
    detail::require_setting(s.learning_rate >= T(0), "rmsprop", "learning_rate", s.learning_rate, ">= 0");
    detail::require_setting(s.epsilon >= T(0), "rmsprop", "epsilon", s.epsilon, ">= 0");
    detail::require_setting(s.alpha >= T(0), "rmsprop", "alpha", s.alpha, ">= 0");
    detail::require_setting(s.momentum >= T(0), "rmsprop", "momentum", s.momentum, ">= 0");
    detail::require_setting(s.weight_decay >= T(0), "rmsprop", "weight_decay", s.weight_decay, ">= 0");
  }

  nn::parameter_list<T> params_;
  rmsprop_settings<T> settings_;
  std::vector<matrix<T>> square_avg_;
  std::vector<matrix<T>> grad_avg_;         // centered only
  std::vector<matrix<T>> momentum_buffer_;  // momentum > 0 only
  matrix<T> step_count_;                    // 1x1
};

}  // namespace netmarl::optim

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
