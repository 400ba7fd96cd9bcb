// make_factor for backend::simd<> (the models are compiled here, once for all VAST mains).
#include "vast/common/factors_impl.hpp"

namespace netmarl::examples::vast {
template factor::any<backend::simd<>>::settings make_factor<backend::simd<>>(const factor_choice&);
}  // namespace netmarl::examples::vast
