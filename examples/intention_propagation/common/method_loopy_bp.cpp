// Intention propagation with the loopy belief-propagation network (IP appendix B.2). The policy
// head reads mu_i beside agent i's own observation (message::with_observation says why).
#include "intention_propagation/common/methods_impl.hpp"
#include "netmarl/message/loopy_bp.hpp"
#include "netmarl/message/with_observation.hpp"

namespace netmarl::examples::ip {

train_result train_loopy_bp(const std::string& backend, const task& t, const method_options& m,
                            std::uint64_t seed, std::int64_t steps, const epoch_callback& cb) {
  message::loopy_bp::settings message;
  message.hops = m.hops;
  message.hidden = m.hidden;
  return with_simd_backend(backend, [&](auto b) {
    return train_with<decltype(b), message::with_observation<message::loopy_bp>,
                      learn::soft_actor_critic>(t, m, message,
                                                                                 seed, steps, cb);
  });
}

}  // namespace netmarl::examples::ip
