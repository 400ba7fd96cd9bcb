// LToS: DGN learning from rewards shared by the learned high-level policy (sharing::learned).
#include "ltos/common/methods_impl.hpp"
#include "netmarl/factor/independent.hpp"
#include "netmarl/message/attention.hpp"
#include "netmarl/sharing/learned.hpp"

namespace netmarl::examples::ltos {

method_result train_ltos(const task& t, const method_options& m, std::uint64_t seed,
                         std::int64_t steps, const epoch_callback& cb) {
  return train_with<sharing::learned, message::attention, factor::independent>(t, m, seed, steps, cb);
}

}  // namespace netmarl::examples::ltos
