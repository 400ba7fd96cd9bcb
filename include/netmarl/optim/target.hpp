#pragma once
// Target-network updates: copy (DQN every N steps) or Polyak averaging (DDPG/SAC every step).
// Parameters pair up by position, so a target built by the same code as its source matches even
// when its names carry another prefix. Every pair is checked before anything is written, so a
// mismatch leaves the target unchanged.
#include <cstddef>
#include <sstream>
#include <string>
#include <string_view>

#include "netmarl/core/error.hpp"
#include "netmarl/nn/parameter.hpp"
#include "netmarl/optim/concept.hpp"

namespace netmarl::optim {

namespace detail {

template <class T>
void require_same_structure(const nn::parameter_list<T>& target, const nn::parameter_list<T>& source,
                            std::string_view operation) {
  if (target.size() != source.size()) {
    std::ostringstream msg;
    msg << operation << ": the target has " << target.size() << " parameters, the source has "
        << source.size();
    throw netmarl::shape_error(msg.str());
  }
  for (std::size_t i = 0; i < target.size(); ++i) {
    const auto& t = target[i].param->value;
    const auto& s = source[i].param->value;
    if (t.rows() != s.rows() || t.cols() != s.cols()) {
      std::ostringstream msg;
      msg << operation << ": target parameter '" << target[i].name << "' has shape " << t.rows()
          << "x" << t.cols() << ", source parameter '" << source[i].name << "' has shape "
          << s.rows() << "x" << s.cols();
      throw netmarl::shape_error(msg.str());
    }
  }
}

}  // namespace detail

// target = source, parameter by parameter.
template <class T>
void hard_update(const nn::parameter_list<T>& target, const nn::parameter_list<T>& source) {
  detail::require_same_structure(target, source, "hard_update");
  for (std::size_t i = 0; i < target.size(); ++i) target[i].param->value = source[i].param->value;
}

// target = tau * source + (1 - tau) * target, with tau in [0, 1] (tau = 1 is a hard update).
template <class T>
void polyak_update(const nn::parameter_list<T>& target, const nn::parameter_list<T>& source, T tau) {
  detail::require_setting(tau >= T(0) && tau <= T(1), "polyak_update", "tau", tau, "in [0, 1]");
  detail::require_same_structure(target, source, "polyak_update");
  const T keep = T(1) - tau;
  for (std::size_t i = 0; i < target.size(); ++i)
    target[i].param->value = tau * source[i].param->value + keep * target[i].param->value;
}

}  // namespace netmarl::optim
