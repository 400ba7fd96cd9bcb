#pragma once
// Coordination grid (Intention Propagation, appendix F.1; specs/environments.md 2.1).
//
// n x n agents on a 4-neighbour grid (or any undirected graph given in the settings) choose
// a_i in {0, 1}. Agent i receives r_i = -1/2 sum_{j in N(i), j != i} (a_i - a_j)^2, so the team's
// reward sum_i r_i = -sum over edges (a_i - a_j)^2: 0 when all agree (the optimum), -|E| for a
// proper 2-colouring (a checkerboard on 3x3 gives -12). Independent policies cannot beat random
// (-1/2 per edge); coordinating ones reach 0.
//
// The paper's global state is a constant: state() is one float, 0. Observations are constant
// too; by default we give agent i one-hot(i) of length N so that a network shared across agents
// can still tell them apart (with an all-equal observation it would have to play the same mixed
// action everywhere); settings.agent_ids = false gives the paper's all-equal observation. graph() returns the interaction graph, so graph::environment_graph uses it, and
// positions() places agent r * n + c at (x = c, y = r).
#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/env/concept.hpp"
#include "netmarl/graph/csr.hpp"
#include "netmarl/graph/generators.hpp"

namespace netmarl::env {

struct coordination_grid_settings {
  index side = 3;  // n: n x n agents on a 4-neighbour grid (the paper's 3x3 has 12 edges)
  // Any undirected graph instead of the grid (side is then ignored). Its positions are
  // `positions` when given ([N, 2]), else (i, 0) for agent i.
  std::optional<graph::csr> graph = std::nullopt;
  std::optional<matrix<float>> positions = std::nullopt;
  index episode_length = 1;
  // true: agent i observes one-hot(i) (length N). false: every agent observes the constant state
  // (one float, 0), exactly the paper's setting; a shared network then gives every agent the same
  // input.
  bool agent_ids = true;
};

class coordination_grid {
 public:
  using settings = coordination_grid_settings;

  explicit coordination_grid(settings s = {})
      : episode_length_(s.episode_length), agent_ids_(s.agent_ids) {
    if (s.episode_length < 1)
      throw invalid_argument("coordination_grid: episode_length must be at least 1, got " +
                             std::to_string(s.episode_length));
    if (s.graph) {
      graph::check_csr(*s.graph, "coordination_grid: settings.graph");
      // r_i sums to -sum over edges only when every edge is seen from both ends.
      if (!graph::is_symmetric(*s.graph))
        throw invalid_argument(
            "coordination_grid: settings.graph must be undirected (some j in N(i) lacks i in "
            "N(j))");
      graph_ = std::move(*s.graph);
    } else {
      if (s.side < 1)
        throw invalid_argument("coordination_grid: side must be at least 1, got " +
                               std::to_string(s.side));
      graph_ = graph::grid2d(s.side, s.side);
    }
    const index n = graph::num_nodes(graph_);

    if (s.positions) {
      if (s.positions->rows() != n || s.positions->cols() != 2)
        throw shape_error("coordination_grid: settings.positions must be [" + std::to_string(n) +
                          ", 2], got [" + std::to_string(s.positions->rows()) + ", " +
                          std::to_string(s.positions->cols()) + "]");
      positions_ = *s.positions;
    } else {
      positions_.resize(n, 2);
      const index cols = s.graph ? n : s.side;
      for (index i = 0; i < n; ++i)
        positions_.row(i) << static_cast<float>(i % cols), static_cast<float>(i / cols);
    }

    if (agent_ids_) {
      result_.resize(n, n);
      result_.observations.setIdentity();
    } else {
      result_.resize(n, 1);
      result_.observations.setZero();
    }
  }

  std::string name() const { return name_; }
  index num_agents() const { return graph::num_nodes(graph_); }
  index observation_size() const { return agent_ids_ ? num_agents() : 1; }
  index num_actions() const { return 2; }
  index state_size() const { return 1; }
  index episode_limit() const { return episode_length_; }

  const step_result& reset(rng&) {
    time_ = 0;
    result_.begin_episode();
    return result_;
  }

  const step_result& step(std::span<const int> actions) {
    result_.check_can_step(name_);
    check_actions(actions, num_agents(), num_actions(), name_);
    float total = 0;
    const index n = num_agents();
    for (index i = 0; i < n; ++i) {
      const int a_i = actions[static_cast<std::size_t>(i)];
      int disagreements = 0;  // (a_i - a_j)^2 is 0 or 1 for binary actions; count as integers
      for (const std::int32_t j : graph::neighbors_excluding_self(graph_, i))
        disagreements += (a_i - actions[static_cast<std::size_t>(j)]) *
                         (a_i - actions[static_cast<std::size_t>(j)]);
      const float r = -0.5f * static_cast<float>(disagreements);
      result_.rewards[static_cast<std::size_t>(i)] = r;
      total += r;
    }
    result_.global_reward = total;
    ++time_;
    result_.episode_done = time_ >= episode_length_;
    if (result_.episode_done)
      std::fill(result_.agent_done.begin(), result_.agent_done.end(), std::uint8_t{1});
    return result_;
  }

  std::span<const float> state() const { return state_; }
  const matrix<float>& positions() const { return positions_; }
  const graph::csr& graph() const { return graph_; }

 private:
  // Held, not built per call: check_actions takes a std::string, and "coordination_grid" is longer
  // than the small-string buffer, so building it every step would allocate.
  std::string name_ = "coordination_grid";
  graph::csr graph_;
  matrix<float> positions_;
  step_result result_;
  index episode_length_;
  bool agent_ids_;
  index time_ = 0;
  float state_[1] = {0.0f};
};

static_assert(SpatialEnvironment<coordination_grid>);

}  // namespace netmarl::env
