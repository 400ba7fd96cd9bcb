#pragma once
// make_factor's body, instantiated once per backend (factors_reference.cpp, factors_simd.cpp):
// every (Psi, assignment) pair below is one factorization model compiled.
#include <cmath>
#include <sstream>
#include <string>

#include "netmarl/core/error.hpp"
#include "netmarl/factor/assign/fixed.hpp"
#include "netmarl/factor/assign/meta_grad.hpp"
#include "netmarl/factor/assign/random.hpp"
#include "netmarl/factor/assign/spatial.hpp"
#include "netmarl/factor/independent.hpp"
#include "netmarl/factor/qmix.hpp"
#include "netmarl/factor/qtran.hpp"
#include "netmarl/factor/vast.hpp"
#include "netmarl/factor/vdn.hpp"
#include "vast/common/factors.hpp"

namespace netmarl::examples::vast {

namespace detail {

inline factor::qmix::settings qmix_settings(const factor_choice& c) {
  // The VAST authors' QMIXNet: embed = hypernetwork hidden = 128, ELU.
  return {.embed = c.mixer_hidden,
          .hypernet_layers = 2,
          .hypernet_hidden = c.mixer_hidden,
          .hypernet_activation = nn::activation::elu};
}
inline factor::qtran::settings qtran_settings(const factor_choice& c) {
  return {.embed = c.mixer_hidden,
          .hidden_layers = 2,
          .activation = nn::activation::elu,
          .lambda_opt = c.lambda_opt,
          .lambda_nopt = c.lambda_nopt};
}

// Calls f(Psi-settings-tag) for the chosen operator.
template <class Backend, class Psi>
typename factor::any<Backend>::settings with_assignment(const factor_choice& c,
                                                         typename Psi::settings psi,
                                                         const std::string& name) {
  namespace assign = factor::assign;
  using any = factor::any<Backend>;
  auto vast_settings = [&]<class A>(typename A::settings a) {
    return typename factor::vast<Psi, A>::settings{.eta = c.eta, .psi = psi, .assignment = a};
  };
  if (c.flat) return any::template of<Psi>(psi, name);
  if (c.assign == "random")
    return any::template of<factor::vast<Psi, assign::random>>(
        vast_settings.template operator()<assign::random>({}), name);
  if (c.assign == "fixed")
    return any::template of<factor::vast<Psi, assign::fixed>>(
        vast_settings.template operator()<assign::fixed>({}), name);
  if (c.assign == "spatial") {
    assign::spatial::settings s;
    if (c.spatial_half) s.centroids = assign::spatial::centroid_count::half_subteams;
    return any::template of<factor::vast<Psi, assign::spatial>>(
        vast_settings.template operator()<assign::spatial>(s), name);
  }
  if (c.assign == "meta_grad")
    return any::template of<factor::vast<Psi, assign::meta_grad>>(
        vast_settings.template operator()<assign::meta_grad>({.hidden = c.mixer_hidden}), name);
  throw invalid_argument("unknown assignment '" + c.assign +
                         "' (expected random, fixed, spatial or meta_grad)");
}

}  // namespace detail

template <class Backend>
typename factor::any<Backend>::settings make_factor(const factor_choice& c) {
  if (!(c.eta > 0 && c.eta <= 1))
    throw invalid_argument("eta must be in (0, 1], got " + std::to_string(c.eta));
  const std::string name = method_name(c);
  if (c.psi == "il")
    return detail::with_assignment<Backend, factor::independent>(c, {}, name);
  if (c.psi == "vdn") return detail::with_assignment<Backend, factor::vdn>(c, {}, name);
  if (c.psi == "qmix")
    return detail::with_assignment<Backend, factor::qmix>(c, detail::qmix_settings(c), name);
  if (c.psi == "qtran")
    return detail::with_assignment<Backend, factor::qtran>(c, detail::qtran_settings(c), name);
  throw invalid_argument("unknown psi '" + c.psi + "' (expected il, vdn, qmix or qtran)");
}

}  // namespace netmarl::examples::vast
