#pragma once
// Adam (Kingma & Ba 2015) with bias correction, following torch.optim.Adam's update exactly
// (amsgrad=False, maximize=False; weight_decay is L2 added to the gradient, not AdamW):
//   g  = grad + weight_decay * p
//   m  = lerp(m, g, 1 - beta1)                 (= beta1 m + (1 - beta1) g)
//   v  = beta2 v + (1 - beta2) g^2
//   p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + epsilon)
// The bias-correction scalars are computed in double, as PyTorch computes them in Python floats.
#include <cmath>
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
struct adam_settings {
  T learning_rate = T(1e-3);
  T beta1 = T(0.9);
  T beta2 = T(0.999);
  T epsilon = T(1e-8);
  T weight_decay = T(0);
};

template <class T>
class adam {
  static_assert(std::is_floating_point_v<T>, "adam<T>: T must be float or double.");

 public:
  using scalar = T;
  using settings_type = adam_settings<T>;

  // Keeps pointers to the parameters: they must outlive the optimizer.
  explicit adam(nn::parameter_list<T> params, adam_settings<T> settings = {})
      : params_(std::move(params)), settings_(settings), step_count_(matrix<T>::Zero(1, 1)) {
    check_settings(settings_);
    detail::require_gradients_shaped(params_, "adam");
    m_.reserve(params_.size());
    v_.reserve(params_.size());
    for (const auto& p : params_) {
      m_.push_back(matrix<T>::Zero(p.param->value.rows(), p.param->value.cols()));
      v_.push_back(matrix<T>::Zero(p.param->value.rows(), p.param->value.cols()));
    }
  }

  // One update from the current gradients. Does not zero them; allocates nothing.
  void step() {
    const double t = static_cast<double>(step_count_(0, 0)) + 1.0;
    step_count_(0, 0) = static_cast<T>(t);
    const double bias_correction1 = 1.0 - std::pow(static_cast<double>(settings_.beta1), t);
    const double bias_correction2 = 1.0 - std::pow(static_cast<double>(settings_.beta2), t);
    const T step_size = static_cast<T>(static_cast<double>(settings_.learning_rate) / bias_correction1);
    const T bias_correction2_sqrt = static_cast<T>(std::sqrt(bias_correction2));
    const T one_minus_beta1 = static_cast<T>(1.0 - static_cast<double>(settings_.beta1));
    const T one_minus_beta2 = static_cast<T>(1.0 - static_cast<double>(settings_.beta2));
    const T beta2 = settings_.beta2, eps = settings_.epsilon, decay = settings_.weight_decay;

    for (std::size_t i = 0; i < params_.size(); ++i) {
      auto& p = *params_[i].param;
      NETMARL_ASSERT(p.grad.rows() == m_[i].rows() && p.grad.cols() == m_[i].cols() &&
                         p.value.rows() == m_[i].rows() && p.value.cols() == m_[i].cols(),
                     "adam: parameter '" + params_[i].name + "' changed shape after construction");
      auto m = m_[i].array();
      auto v = v_[i].array();
      // Lazy expression: read element-wise before p.value is written below, never materialised.
      const auto g = p.grad.array() + decay * p.value.array();
      m += one_minus_beta1 * (g - m);
      v = beta2 * v + one_minus_beta2 * g.square();
      p.value.array() -= step_size * (m / (v.sqrt() / bias_correction2_sqrt + eps));
    }
  }

  void zero_grad() { nn::zero_grad(params_); }

  void set_learning_rate(T learning_rate) {
    detail::require_setting(learning_rate >= T(0), "adam", "learning_rate", learning_rate, ">= 0");
    settings_.learning_rate = learning_rate;
  }
  T learning_rate() const { return settings_.learning_rate; }
  const adam_settings<T>& settings() const { return settings_; }
  // Updates taken so far (restored by loading state()).
  std::int64_t step_count() const { return static_cast<std::int64_t>(step_count_(0, 0)); }

  // Named views of the state for checkpoints: "<prefix>.m.<param>", "<prefix>.v.<param>" and
  // "<prefix>.step" (1x1; exact up to 2^24 steps in float, after which the bias correction is 1
  // to working precision anyway). Give two optimizers saved in one file different prefixes.
  // The pointers refer into this optimizer: take the list just before saving or loading.
  netmarl::tensor_list<T> state(std::string_view prefix = "adam") {
    netmarl::tensor_list<T> out;
    out.reserve(2 * params_.size() + 1);
    const std::string base(prefix);
    for (std::size_t i = 0; i < params_.size(); ++i) {
      out.push_back({base + ".m." + params_[i].name, &m_[i]});
      out.push_back({base + ".v." + params_[i].name, &v_[i]});
    }
    out.push_back({base + ".step", &step_count_});
    return out;
  }

 private:
  // The ranges torch.optim.Adam accepts; NaN fails every comparison, so it is rejected too.
  static void check_settings(const adam_settings<T>& s) {
    detail::require_setting(s.learning_rate >= T(0), "adam", "learning_rate", s.learning_rate, ">= 0");
    detail::require_setting(s.epsilon >= T(0), "adam", "epsilon", s.epsilon, ">= 0");
    detail::require_setting(s.beta1 >= T(0) && s.beta1 < T(1), "adam", "beta1", s.beta1, "in [0, 1)");
    detail::require_setting(s.beta2 >= T(0) && s.beta2 < T(1), "adam", "beta2", s.beta2, "in [0, 1)");
    detail::require_setting(s.weight_decay >= T(0), "adam", "weight_decay", s.weight_decay, ">= 0");
  }

  nn::parameter_list<T> params_;
  adam_settings<T> settings_;
  std::vector<matrix<T>> m_;  // first moments
  std::vector<matrix<T>> v_;  // second moments
  matrix<T> step_count_;      // 1x1, a tensor so checkpoints store it like the moments
};

}  // namespace netmarl::optim

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
