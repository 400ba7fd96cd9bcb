// DGN (Jiang et al. 2020): dqn over two layers of multi-head attention on the graph. The encoder
// is one layer of --hidden units (DGN's jungle uses 512 -> 128; our observations are small).
#include "intention_propagation/common/methods_impl.hpp"
#include "netmarl/message/attention.hpp"

namespace netmarl::examples::ip {

train_result train_dgn(const std::string& backend, const task& t, const method_options& m,
                       std::uint64_t seed, std::int64_t steps, const epoch_callback& cb) {
  message::attention::settings message;
  message.encoder = {m.hidden};
  message.dim = m.hidden;
  message.heads = m.hidden % 4 == 0 ? 4 : 1;
  return with_simd_backend(backend, [&](auto b) {
    return train_with<decltype(b), message::attention, learn::dqn>(t, m, message, seed, steps, cb);
  });
}

}  // namespace netmarl::examples::ip
