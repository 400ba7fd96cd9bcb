// Intention propagation with the mean-field (structure2vec) network (IP appendix B.1). The policy
// head reads mu_i^M beside agent i's own observation (message::with_observation says why).
#include "intention_propagation/common/methods_impl.hpp"
#include "netmarl/message/mean_field.hpp"
#include "netmarl/message/with_observation.hpp"

namespace netmarl::examples::ip {

train_result train_mean_field(const std::string& backend, const task& t, const method_options& m,
                              std::uint64_t seed, std::int64_t steps, const epoch_callback& cb) {
  message::mean_field::settings message;
  message.hops = m.hops;
  message.hidden = message.intention_hidden = m.hidden;
  return with_simd_backend(backend, [&](auto b) {
    return train_with<decltype(b), message::with_observation<message::mean_field>,
                      learn::soft_actor_critic>(t, m, message,
                                                                                   seed, steps, cb);
  });
}

}  // namespace netmarl::examples::ip
