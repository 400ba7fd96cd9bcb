// Uniform random actions: learn::stand_in, the floor on every learning curve.
#include "intention_propagation/common/methods_impl.hpp"
#include "netmarl/message/none.hpp"

namespace netmarl::examples::ip {

train_result train_random(const std::string& backend, const task& t, const method_options& m,
                          std::uint64_t seed, std::int64_t steps, const epoch_callback& cb) {
  return with_simd_backend(backend, [&](auto b) {
    return train_with<decltype(b), message::none, learn::stand_in>(t, m, {}, seed, steps, cb);
  });
}

}  // namespace netmarl::examples::ip
