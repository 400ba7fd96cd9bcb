#include "ltos/common/methods.hpp"

#include "netmarl/core/error.hpp"

namespace netmarl::examples::ltos {

std::string method_label(const method_options& m) {
  if (m.method == "dqn") return "DQN";
  if (m.method == "dgn") return "DGN";
  if (m.method == "fixed") return "fixed LToS (s = " + std::to_string(m.selfishness).substr(0, 4) + ")";
  if (m.method == "ltos") return "LToS";
  if (m.method == "qmix") return "QMIX";
  return m.method;
}

method_result train_method(const task& t, const method_options& m, std::uint64_t seed,
                           std::int64_t steps, const epoch_callback& on_epoch) {
  if (m.method == "dqn") return train_dqn(t, m, seed, steps, on_epoch);
  if (m.method == "dgn") return train_dgn(t, m, seed, steps, on_epoch);
  if (m.method == "fixed") return train_fixed(t, m, seed, steps, on_epoch);
  if (m.method == "ltos") return train_ltos(t, m, seed, steps, on_epoch);
  if (m.method == "qmix") return train_qmix(t, m, seed, steps, on_epoch);
  throw invalid_argument("unknown method '" + m.method + "' (expected dqn, dgn, fixed, ltos or qmix)");
}

}  // namespace netmarl::examples::ltos
