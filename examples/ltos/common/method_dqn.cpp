// Independent DQN (the paper's DQN baseline): no messages, every agent learns from its own
// reward.
#include "ltos/common/methods_impl.hpp"
#include "netmarl/factor/independent.hpp"
#include "netmarl/message/none.hpp"
#include "netmarl/sharing/none.hpp"

namespace netmarl::examples::ltos {

method_result train_dqn(const task& t, const method_options& m, std::uint64_t seed,
                        std::int64_t steps, const epoch_callback& cb) {
  return train_with<sharing::none, message::none, factor::independent>(t, m, seed, steps, cb);
}

}  // namespace netmarl::examples::ltos
