// make_factor for backend::reference (the models are compiled here, once for all VAST mains).
#include "vast/common/factors_impl.hpp"

namespace netmarl::examples::vast {

std::string method_name(const factor_choice& c) {
  const std::string psi = c.psi == "il"      ? "IL"
                          : c.psi == "vdn"   ? "VDN"
                          : c.psi == "qmix"  ? "QMIX"
                          : c.psi == "qtran" ? "QTRAN"
                                             : c.psi;
  if (c.flat) return psi;
  std::ostringstream eta;
  eta << c.eta;
  return "VAST(" + psi + ", " + c.assign + (c.spatial_half ? " K/2" : "") + ", eta " + eta.str() +
         ")";
}

template factor::any<backend::reference>::settings make_factor<backend::reference>(
    const factor_choice&);
}  // namespace netmarl::examples::vast
