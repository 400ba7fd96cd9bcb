#pragma once
// Gradient clipping with PyTorch's semantics (torch.nn.utils.clip_grad_norm_ / clip_grad_value_).
#include <cmath>
#include <sstream>
#include <string>

#include "netmarl/core/error.hpp"
#include "netmarl/nn/parameter.hpp"
#include "netmarl/optim/concept.hpp"

// GCC 12's own AVX-512 headers trip -Wmaybe-uninitialized (GCC bug 105593) inside Eigen's packet
// sqrt/max when inlined here; the warning is spurious, so silence it for this code only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace netmarl::optim {

// The L2 norm of all gradients taken together, as if concatenated into one vector. Squares are
// summed in double so float gradients neither overflow nor lose precision on the way.
template <class T>
T grad_norm(const nn::parameter_list<T>& params) {
  double sum_of_squares = 0.0;
  for (const auto& p : params) sum_of_squares += p.param->grad.template cast<double>().squaredNorm();
  return static_cast<T>(std::sqrt(sum_of_squares));
}

// Scales all gradients by max_norm / (norm + 1e-6) when that factor is below 1 (PyTorch's
// clip_grad_norm_; the 1e-6 keeps a zero norm from dividing by zero). Returns the norm before
// clipping, for logging. A non-finite norm throws when error_if_nonfinite (as in PyTorch),
// otherwise it propagates into the gradients as PyTorch's does.
template <class T>
T clip_grad_norm(const nn::parameter_list<T>& params, T max_norm, bool error_if_nonfinite = false) {
  detail::require_setting(max_norm >= T(0), "clip_grad_norm", "max_norm", max_norm, ">= 0");
  const T norm = grad_norm(params);
  if (error_if_nonfinite && !std::isfinite(norm)) {
    std::ostringstream msg;
    msg << "clip_grad_norm: the total gradient norm is " << norm
        << "; a gradient holds an infinity or a NaN";
    throw netmarl::invalid_argument(msg.str());
  }
  const T coefficient = static_cast<T>(static_cast<double>(max_norm) / (static_cast<double>(norm) + 1e-6));
  // Written so a NaN coefficient also scales (PyTorch's clamp(max=1) keeps NaN).
  if (!(coefficient >= T(1)))
    for (const auto& p : params) p.param->grad *= coefficient;
  return norm;
}

// Clamps every gradient element into [-clip_value, clip_value] (PyTorch's clip_grad_value_).
template <class T>
void clip_grad_value(const nn::parameter_list<T>& params, T clip_value) {
  detail::require_setting(clip_value >= T(0), "clip_grad_value", "clip_value", clip_value, ">= 0");
  for (const auto& p : params) p.param->grad = p.param->grad.cwiseMax(-clip_value).cwiseMin(clip_value);
}

}  // namespace netmarl::optim

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
