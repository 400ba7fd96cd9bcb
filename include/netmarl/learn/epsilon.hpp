#pragma once
// Linear epsilon schedule for epsilon-greedy exploration (PyMARL's DecayThenFlatSchedule, linear).
#include <algorithm>
#include <cstdint>
#include <string>

#include "netmarl/core/assert.hpp"

namespace netmarl::learn {

struct epsilon_schedule {
  double start = 1.0;
  double finish = 0.05;
  std::int64_t anneal_steps = 50'000;  // environment steps from start to finish

  double at(std::int64_t step) const {
    if (anneal_steps <= 0 || step >= anneal_steps) return finish;
    const double t =
        static_cast<double>(std::max<std::int64_t>(step, 0)) / static_cast<double>(anneal_steps);
    return start + t * (finish - start);
  }

  void validate(const std::string& who) const {
    require(start >= 0 && start <= 1 && finish >= 0 && finish <= 1,
            who + ": epsilon start and finish must be in [0, 1], got " + std::to_string(start) +
                " and " + std::to_string(finish));
    require(anneal_steps >= 0,
            who + ": epsilon anneal_steps must be >= 0, got " + std::to_string(anneal_steps));
  }
};

}  // namespace netmarl::learn
