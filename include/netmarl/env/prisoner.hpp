#pragma once
// Prisoner (LToS, Yi et al., section 5.1; a grid version of the prisoner's dilemma after Sodomka
// et al. 2013; specs/environments.md 3.1).
//
// Two agents, A (agent 0) and B (agent 1), walk a 1-D corridor of `length` cells with goals at
// `goals` (default: both ends and the middle). Actions: 0 left (cell - 1), 1 right (cell + 1);
// moving into a wall leaves the agent where it is. One step:
//   1. both agents move (they never block each other: the corridor is not a collision model, and
//      at the default start cells they cannot meet off a goal anyway);
//   2. each pays `step_cost` (every action costs, also a bump into a wall);
//   3. an agent standing on a goal gets `goal_reward`, except when both stand on the SAME goal:
//      then one of them, drawn with probability 1/2 from the environment's rng (fixed by reset's
//      generator), gets it and the other gets nothing. Different goals at the same step: both get
//      it.
// The episode ends once some agent is on a goal, or after `episode_limit` steps.
//
// The dilemma at the default (length 7, goals 0, 3, 6, A at 2, B at 4): the middle goal is one
// step away ("defect"), the own end two ("cooperate"). Both cooperate: 1 - 2 x 0.01 = 0.98 each.
// Both defect: they collide in the middle, returns 0.99 and -0.01, 0.49 each in expectation. One
// defects: it ends the game at step 1 with 0.99, the cooperator has -0.01.
//
// Observation of agent i (2 floats, full observation): [own cell, other agent's cell], each divided
// by length - 1 so both lie in [0, 1]. Own first, so a network shared by A and B reads its own
// position in the same slot. State (2 floats): [A's cell, B's cell], normalised the same way.
// positions() is [2, 2] with (x = cell, y = 0); graph() is the complete graph on the two agents.
// Metric (the paper's "average return"): the mean of the two agents' returns this episode; the
// highest possible is about 1.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <span>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/env/concept.hpp"
#include "netmarl/graph/csr.hpp"
#include "netmarl/graph/generators.hpp"

namespace netmarl::env {

struct prisoner_settings {
  // The paper does not give the corridor's size; 7 cells put the middle goal one step from each
  // start and the own end two steps (spec 3.1).
  index length = 7;
  std::vector<index> goals = {0, 3, 6};  // goal cells: both ends and the middle
  index start_a = 2;                     // agent 0 starts left of the middle
  index start_b = 4;                     // agent 1 starts right of it
  double step_cost = 0.01;   // paid by each agent every step ("every action incurs -0.01")
  double goal_reward = 1;    // for reaching a goal
  index episode_limit = 20;  // cap (the paper's game ends only at a goal)
};

class prisoner {
 public:
  using settings = prisoner_settings;
  static constexpr int left = 0, right = 1;

  explicit prisoner(settings s = {}) : settings_(std::move(s)) {
    const auto bad = [](const std::string& what) { throw invalid_argument("prisoner: " + what); };
    const index n = settings_.length;
    if (n < 3) bad("length must be at least 3, got " + std::to_string(n));
    if (settings_.goals.empty()) bad("goals must name at least one cell");
    for (const index g : settings_.goals)
      if (g < 0 || g >= n)
        bad("goal cell " + std::to_string(g) + " is outside the corridor [0, " + std::to_string(n) +
            ")");
    const auto check_start = [&](const char* which, index cell) {
      if (cell < 0 || cell >= n)
        bad(std::string(which) + " " + std::to_string(cell) + " is outside the corridor [0, " +
            std::to_string(n) + ")");
      if (std::find(settings_.goals.begin(), settings_.goals.end(), cell) != settings_.goals.end())
        bad(std::string(which) + " " + std::to_string(cell) + " is a goal cell");
    };
    check_start("start_a", settings_.start_a);
    check_start("start_b", settings_.start_b);
    if (settings_.start_a == settings_.start_b)
      bad("start_a and start_b must differ, both are " + std::to_string(settings_.start_a));
    if (!std::isfinite(settings_.step_cost))
      bad("step_cost must be finite, got " + format_number(settings_.step_cost));
    if (!std::isfinite(settings_.goal_reward))
      bad("goal_reward must be finite, got " + format_number(settings_.goal_reward));
    if (settings_.episode_limit < 1)
      bad("episode_limit must be at least 1, got " + std::to_string(settings_.episode_limit));

    is_goal_.assign(static_cast<std::size_t>(n), 0);
    for (const index g : settings_.goals) is_goal_[static_cast<std::size_t>(g)] = 1;
    graph_ = graph::complete(2);
    result_.resize(2, 2);
    positions_.resize(2, 2);
    place_agents();
    write_outputs();
  }

  std::string name() const { return name_; }
  index num_agents() const { return 2; }
  index observation_size() const { return 2; }
  index num_actions() const { return 2; }
  index state_size() const { return 2; }
  index episode_limit() const { return settings_.episode_limit; }
  const settings& config() const { return settings_; }

  const step_result& reset(rng& g) {
    rng_ = g.split(g());  // the env's own stream (the collision coin), fixed by the caller's rng
    time_ = 0;
    returns_ = {0.0, 0.0};
    place_agents();
    result_.begin_episode();
    write_outputs();
    return result_;
  }

  const step_result& step(std::span<const int> actions) {
    result_.check_can_step(name_);
    check_actions(actions, num_agents(), num_actions(), name_);
    const index last = settings_.length - 1;
    std::array<double, 2> reward{-settings_.step_cost, -settings_.step_cost};
    std::array<bool, 2> on_goal{};
    for (std::size_t i = 0; i < 2; ++i) {
      index& at = cell_[i];
      at = actions[i] == left ? std::max<index>(at - 1, 0) : std::min(at + 1, last);
      on_goal[i] = is_goal_[static_cast<std::size_t>(at)] != 0;
    }
    if (on_goal[0] && on_goal[1] && cell_[0] == cell_[1]) {
      reward[rng_.below(2)] += settings_.goal_reward;  // a collision: a fair coin takes the goal
    } else {
      for (std::size_t i = 0; i < 2; ++i)
        if (on_goal[i]) reward[i] += settings_.goal_reward;
    }

    ++time_;
    double total = 0;
    for (std::size_t i = 0; i < 2; ++i) {
      result_.rewards[i] = static_cast<float>(reward[i]);
      returns_[i] += reward[i];
      total += reward[i];
    }
    result_.global_reward = static_cast<float>(total);
    result_.episode_done = on_goal[0] || on_goal[1] || time_ >= settings_.episode_limit;
    write_outputs();
    return result_;
  }

  // [A's cell, B's cell] / (length - 1).
  std::span<const float> state() const { return state_; }
  // (x = cell, y = 0) per agent.
  const matrix<float>& positions() const { return positions_; }
  // The complete graph on {A, B}: full observation, each is the other's neighbour.
  const graph::csr& graph() const { return graph_; }
  // Agent i's cell (0 = A, 1 = B).
  index cell(index i) const {
    if (i < 0 || i > 1)
      throw invalid_argument("prisoner: cell(" + std::to_string(i) + ") is out of range [0, 2)");
    return cell_[static_cast<std::size_t>(i)];
  }
  // Agent i's return so far this episode.
  double episode_return(index i) const {
    if (i < 0 || i > 1)
      throw invalid_argument("prisoner: episode_return(" + std::to_string(i) +
                             ") is out of range [0, 2)");
    return returns_[static_cast<std::size_t>(i)];
  }
  // The paper's metric: the average of the two agents' returns this episode.
  double episode_metric() const { return 0.5 * (returns_[0] + returns_[1]); }

 private:
  static std::string format_number(double x) {
    std::ostringstream out;
    out << x;
    return out.str();
  }

  void place_agents() { cell_ = {settings_.start_a, settings_.start_b}; }

  void write_outputs() {
    const auto scale = 1.0f / static_cast<float>(settings_.length - 1);
    const float a = static_cast<float>(cell_[0]) * scale, b = static_cast<float>(cell_[1]) * scale;
    result_.observations(0, 0) = a;
    result_.observations(0, 1) = b;
    result_.observations(1, 0) = b;
    result_.observations(1, 1) = a;
    state_[0] = a;
    state_[1] = b;
    positions_(0, 0) = static_cast<float>(cell_[0]);
    positions_(0, 1) = 0.0f;
    positions_(1, 0) = static_cast<float>(cell_[1]);
    positions_(1, 1) = 0.0f;
    const std::uint8_t done = result_.episode_done ? 1 : 0;
    std::fill(result_.agent_done.begin(), result_.agent_done.end(), done);
  }

  std::string name_ = "prisoner";
  settings settings_;
  std::vector<std::uint8_t> is_goal_;  // [length]: 1 on a goal cell
  graph::csr graph_;
  step_result result_;
  matrix<float> positions_;
  std::array<index, 2> cell_{};
  std::array<double, 2> returns_{};
  float state_[2] = {0.0f, 0.0f};
  rng rng_;
  index time_ = 0;
};

static_assert(SpatialEnvironment<prisoner>);
static_assert(HasEpisodeMetric<prisoner>);

}  // namespace netmarl::env
