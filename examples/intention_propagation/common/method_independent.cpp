// The independent policy: IP's soft actor-critic with message::none (IP appendix F.1: "replace the
// intention propagation network by an independent policy network"), whose policy is an MLP with
// as many hidden layers as the IP network has hops, so both have the same depth.
#include "intention_propagation/common/methods_impl.hpp"
#include "netmarl/message/none.hpp"

namespace netmarl::examples::ip {

train_result train_independent(const std::string& backend, const task& t, const method_options& m,
                               std::uint64_t seed, std::int64_t steps, const epoch_callback& cb) {
  method_options same_depth = m;
  same_depth.policy_head_layers = m.hops;
  return with_simd_backend(backend, [&](auto b) {
    return train_with<decltype(b), message::none, learn::soft_actor_critic>(t, same_depth, {},
                                                                             seed, steps, cb);
  });
}

}  // namespace netmarl::examples::ip
