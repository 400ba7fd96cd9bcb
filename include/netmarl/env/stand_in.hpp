#pragma once
// env::stand_in: the smallest Environment that is also a SpatialEnvironment. Slot concepts that
// must hold "for any environment" (Topology's reset(env) and update(env)) are checked against it,
// so it has exactly what the Environment concept asks and nothing more. Agents sit on a line at
// (i, 0); every step gives reward 0 and ends the episode.
#include <span>
#include <string>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/env/concept.hpp"

namespace netmarl::env {

class stand_in {
 public:
  explicit stand_in(index agents = 2) : agents_(agents) {
    if (agents < 1)
      throw invalid_argument("stand_in: agents must be at least 1, got " + std::to_string(agents));
    result_.resize(agents, 1);
    result_.observations.setZero();
    positions_.resize(agents, 2);
    for (index i = 0; i < agents; ++i) positions_.row(i) << static_cast<float>(i), 0.0f;
  }

  std::string name() const { return "stand_in"; }
  index num_agents() const { return agents_; }
  index observation_size() const { return 1; }
  index num_actions() const { return 2; }
  index state_size() const { return 1; }
  index episode_limit() const { return 1; }

  const step_result& reset(rng&) {
    result_.episode_done = false;
    return result_;
  }
  const step_result& step(std::span<const int> actions) {
    check_actions(actions, agents_, num_actions(), name());
    result_.episode_done = true;
    return result_;
  }
  std::span<const float> state() const { return state_; }
  const matrix<float>& positions() const { return positions_; }

 private:
  index agents_;
  step_result result_;
  matrix<float> positions_;
  float state_[1] = {0.0f};
};

static_assert(SpatialEnvironment<stand_in>, "env::stand_in must stay a SpatialEnvironment");

}  // namespace netmarl::env
