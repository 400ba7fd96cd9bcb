#pragma once
// The final score of one seed, as every example reports it: the mean of the last 10 epochs'
// evaluations (VAST's smoothing), 0 for an empty curve.
#include <algorithm>
#include <cstddef>

#include "netmarl/system.hpp"

namespace netmarl::examples {

inline double final_score(const train_result& r) {
  const std::size_t window = std::min<std::size_t>(10, r.curve.size());
  double sum = 0;
  for (std::size_t i = r.curve.size() - window; i < r.curve.size(); ++i) sum += r.curve[i].metric;
  return window > 0 ? sum / static_cast<double>(window) : 0.0;
}

}  // namespace netmarl::examples
