#pragma once
// The VAST examples' run-time choice of critic factorization (--psi, --assign, --eta, --flat),
// made into a factor::any<Backend> once here so the three mains do not each instantiate twenty
// systems. The models are compiled in factors_reference.cpp and factors_simd.cpp.
#include <string>

#include "netmarl/backend/tags.hpp"
#include "netmarl/factor/any.hpp"

namespace netmarl::examples::vast {

struct factor_choice {
  std::string psi = "qtran";         // il | vdn | qmix | qtran: the operator Psi
  std::string assign = "meta_grad";  // random | fixed | spatial | meta_grad
  double eta = 0.25;                 // sub-team ratio, K = ceil(eta N)
  bool flat = false;                 // Psi over the agents themselves (no sub-teams)
  bool spatial_half = false;         // spatial: K/2 centroids (the authors' code) instead of K
  // Critic sizes of the VAST authors' code (settings.py: critic_hidden_units 128, ELU).
  index mixer_hidden = 128;
  double lambda_opt = 1.0;   // QTRAN L_opt weight
  double lambda_nopt = 1.0;  // QTRAN L_nopt weight (the authors' code weighs every term 1)
};

// "VAST(QTRAN, meta_grad, eta 0.25)", "QMIX", "IL", ...: the name the CSV and the plots use.
std::string method_name(const factor_choice& c);

// Throws invalid_argument for an unknown name or eta outside (0, 1].
template <class Backend>
typename factor::any<Backend>::settings make_factor(const factor_choice& c);

extern template factor::any<backend::reference>::settings make_factor<backend::reference>(
    const factor_choice&);
extern template factor::any<backend::simd<>>::settings make_factor<backend::simd<>>(
    const factor_choice&);

}  // namespace netmarl::examples::vast
