// fixed LToS: DGN learning from rewards shared with fixed weights (w_ii = selfishness).
#include "ltos/common/methods_impl.hpp"
#include "netmarl/factor/independent.hpp"
#include "netmarl/message/attention.hpp"
#include "netmarl/sharing/fixed.hpp"

namespace netmarl::examples::ltos {

method_result train_fixed(const task& t, const method_options& m, std::uint64_t seed,
                          std::int64_t steps, const epoch_callback& cb) {
  return train_with<sharing::fixed, message::attention, factor::independent>(t, m, seed, steps, cb);
}

}  // namespace netmarl::examples::ltos
