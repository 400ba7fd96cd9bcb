// DGN (Jiang et al. 2020): dqn over two attention layers; LToS's low level without sharing.
#include "ltos/common/methods_impl.hpp"
#include "netmarl/factor/independent.hpp"
#include "netmarl/message/attention.hpp"
#include "netmarl/sharing/none.hpp"

namespace netmarl::examples::ltos {

method_result train_dgn(const task& t, const method_options& m, std::uint64_t seed,
                        std::int64_t steps, const epoch_callback& cb) {
  return train_with<sharing::none, message::attention, factor::independent>(t, m, seed, steps, cb);
}

}  // namespace netmarl::examples::ltos
