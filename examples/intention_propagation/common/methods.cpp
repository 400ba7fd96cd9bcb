#include "intention_propagation/common/methods.hpp"

#include "netmarl/core/error.hpp"

namespace netmarl::examples::ip {

std::string method_label(const method_options& m) {
  const std::string hops = std::to_string(m.hops);
  if (m.method == "mean_field") return "IP (mean-field, M = " + hops + ")";
  if (m.method == "loopy_bp") return "IP (loopy BP, M = " + hops + ")";
  if (m.method == "independent") return "independent policy";
  if (m.method == "dgn") return "DGN";
  if (m.method == "random") return "random policy";
  return m.method;
}

train_result train_method(const std::string& backend, const task& t, const method_options& m,
                          std::uint64_t seed, std::int64_t steps, const epoch_callback& on_epoch) {
  if (m.method == "mean_field") return train_mean_field(backend, t, m, seed, steps, on_epoch);
  if (m.method == "loopy_bp") return train_loopy_bp(backend, t, m, seed, steps, on_epoch);
  if (m.method == "independent") return train_independent(backend, t, m, seed, steps, on_epoch);
  if (m.method == "dgn") return train_dgn(backend, t, m, seed, steps, on_epoch);
  if (m.method == "random") return train_random(backend, t, m, seed, steps, on_epoch);
  throw invalid_argument("unknown method '" + m.method +
                         "' (expected mean_field, loopy_bp, independent, dgn or random)");
}

}  // namespace netmarl::examples::ip
