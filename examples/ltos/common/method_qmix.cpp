// QMIX (Rashid et al. 2018): per-agent DQN utilities mixed into Q_tot of the global reward.
#include "ltos/common/methods_impl.hpp"
#include "netmarl/factor/qmix.hpp"
#include "netmarl/message/none.hpp"
#include "netmarl/sharing/none.hpp"

namespace netmarl::examples::ltos {

method_result train_qmix(const task& t, const method_options& m, std::uint64_t seed,
                         std::int64_t steps, const epoch_callback& cb) {
  return train_with<sharing::none, message::none, factor::qmix>(t, m, seed, steps, cb);
}

}  // namespace netmarl::examples::ltos
