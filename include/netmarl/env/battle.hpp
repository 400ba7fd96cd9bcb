#pragma once
// Battle[N] (VAST, Phan et al. 2021, section 5.1; authors' code thomyphan/scalable-marl,
// vast/environments/battle.py and environment.py; specs/environments.md 1.3).
//
// N learning agents fight N scripted opponents on a grid; a cell may hold any number of units.
// Actions: 0 no-op, 1 north (y+1), 2 south (y-1), 3 west (x-1), 4 east (x+1), 5 attack; moves clip
// at the border. Every unit starts with `hp` health points (3) and is dead at 0. One step:
//   1. agents act in a fresh random permutation; each alive one first recovers `recovery` HP
//   (capped
//      at `hp`), then moves or attacks: an attack hits one alive opponent drawn uniformly from its
//      cell (+1, -1 HP to it, a kill at 0 HP); with no opponent in the cell it costs -0.1. Dead
//      agents' actions are ignored (they must still be in range).
//   2. opponents, in index order, each alive one first recovers; if an agent stood in its cell
//      after step 1 it attacks one of the alive agents there (-0.5 per hit taken), else it picks
//      uniformly from a list of moves: west while it is in the map's east half (x >= W/2, the
//      drift toward the agents' side), plus for every cell of its view holding agents one entry
//      per nonzero sign of dx and dy toward that cell; an empty list means a uniform action.
// The team's reward is the sum of those terms; as the authors' code (cooperative mode) gives the
// sum to every agent, r_i = team reward for all i and global_reward = team reward. The episode ends
// after `episode_length` (100) steps or when an army is dead. Metric: kill count = opponents killed
// - agents killed, in [-N, N].
//
// Observation of agent i (4 x v x v floats, v = view_range = 7, flattened as
// [channel][dx + v/2][dy + v/2], the code's layout): 0: own HP / hp at the centre; 1: sum of
// HP / hp of the other alive agents per cell; 2: the same for alive opponents; 3: 1 per cell
// outside the map. Dead agents see zeros. State (2 x W x H, [channel][x][y]): sum of HP / hp of
// alive agents (0) and alive opponents (1) per cell.
//
// Where sources differ (spec: default the code, paper variant an option):
// - recovery per step: code 0.1 (default), paper 0.01 (settings.recovery).
// - the paper says "successful attacks and kills are rewarded with +1" and "being hit or killed
//   is penalized with -0.5"; the code rewards hits only (a killing hit is one +1, a fatal hit
//   taken one -0.5). Read as separate kill terms, the paper adds kill_reward = 1 and
//   death_reward = -0.5 (both 0 by default).
// - the paper's opponents "randomly move towards and attack all learning agents in sight"; the
//   code adds the westward drift, which we keep (spec 1.3 lists it).
// - an agent attacking a cell that held an alive opponent when the step began, but whose
//   opponents all died earlier in the same step, scores 0 in the code, not -0.1; we keep that.
// - spec 1.3 says an opponent adds moves "toward each seen agent"; the code adds them once per
//   seen cell holding agents, however many stand there. We follow the code.
// - an opponent attacks if its cell held an alive agent after the agents moved, even if those
//   agents were all killed by earlier opponents in the same step (then it does nothing); the cells
//   that attract its moves are also those held after the agents moved. Both as in the code.
// - maps: agents and opponents start on fixed cells, agent i on the i-th agent cell in reading
// order
//   (y, then x). N = 20 on 10x10, 40 on 14x14, 80 on 18x18, as in the code; any other N needs
//   settings.layout (the pattern does not extend by rule, so other N are refused).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <span>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/env/concept.hpp"

namespace netmarl::env {

struct battle_settings {
  index agents = 20;  // N: 20, 40 or 80 (the VAST maps); ignored when `layout` is given
  // A custom map instead of the built-in one: one text line per row, the first line is y = 0;
  // 'A' an agent's start cell, 'O' an opponent's, '.' empty; spaces are ignored; all rows as wide.
  std::string layout = {};
  double hp = 3;               // health points at the start and the recovery cap
  double recovery = 0.1;       // HP recovered per step by alive units (code 0.1; paper 0.01)
  index episode_length = 100;  // time limit
  index view_range = 7;        // odd side of the square view, for agents and opponents alike
  double kill_reward = 0;      // extra reward per opponent killed (paper reading: 1)
  double death_reward = 0;     // extra reward per agent killed (paper reading: -0.5)
};

namespace battle_detail {
inline std::string format_number(double x) {
  std::ostringstream out;
  out << x;
  return out.str();
}

struct cell {
  int x = 0;
  int y = 0;
};

// One horizontal run of agent start cells, x0..x1 on row y. Opponents mirror them: x -> W-1-x.
struct run {
  int y, x0, x1;
};

struct built_in_map {
  index agents;
  int side;  // the map is side x side
  std::span<const run> runs;
};

// The VAST maps as rows of agent start cells (agents on the west side, an empty gap of two columns,
// opponents mirrored on the east side, centred vertically).
inline constexpr run map20[] = {{2, 1, 2}, {3, 0, 3}, {4, 0, 3}, {5, 0, 3}, {6, 0, 3}, {7, 1, 2}};
inline constexpr run map40[] = {{3, 1, 4}, {4, 1, 4}, {5, 0, 5}, {6, 0, 5},
                                {7, 0, 5}, {8, 0, 5}, {9, 1, 4}, {10, 1, 4}};
inline constexpr run map80[] = {{3, 2, 5},  {4, 1, 6},  {5, 1, 6},  {6, 0, 7},
                                {7, 0, 7},  {8, 0, 7},  {9, 0, 7},  {10, 0, 7},
                                {11, 0, 7}, {12, 1, 6}, {13, 1, 6}, {14, 2, 5}};
inline constexpr built_in_map built_in_maps[] = {{20, 10, map20}, {40, 14, map40}, {80, 18, map80}};
}  // namespace battle_detail

class battle {
 public:
  using settings = battle_settings;
  static constexpr int noop = 0, north = 1, south = 2, west = 3, east = 4, attack = 5;
  static constexpr index channels = 4;        // observation channels
  static constexpr index state_channels = 2;  // global-state channels

  explicit battle(settings s = {}) : settings_(std::move(s)) {
    const auto bad = [](const std::string& what) { throw invalid_argument("battle: " + what); };
    if (!(settings_.hp > 0) || !std::isfinite(settings_.hp))
      bad("hp must be positive and finite, got " + battle_detail::format_number(settings_.hp));
    if (!(settings_.recovery >= 0) || !std::isfinite(settings_.recovery))
      bad("recovery must be non-negative and finite, got " +
          battle_detail::format_number(settings_.recovery));
    if (settings_.episode_length < 1)
      bad("episode_length must be at least 1, got " + std::to_string(settings_.episode_length));
    if (settings_.view_range < 1 || settings_.view_range % 2 == 0)
      bad("view_range must be odd and at least 1, got " + std::to_string(settings_.view_range));
    if (!std::isfinite(settings_.kill_reward) || !std::isfinite(settings_.death_reward))
      bad("kill_reward and death_reward must be finite");

    if (settings_.layout.empty())
      build_map(settings_.agents);
    else
      parse_layout(settings_.layout);

    const index n = num_agents();
    const index m = num_opponents();
    agents_.resize(agent_start_.size());
    opponents_.resize(opponent_start_.size());
    result_.resize(n, observation_size());
    state_.assign(static_cast<std::size_t>(state_size()), 0.0f);
    positions_.resize(n, 2);
    opponent_positions_.resize(m, 2);
    opponent_cell_.assign(static_cast<std::size_t>(width_ * height_), 0);
    agent_cell_.assign(static_cast<std::size_t>(width_ * height_), 0);
    order_.resize(static_cast<std::size_t>(n));
    targets_.resize(static_cast<std::size_t>(std::max(n, m)));
    candidates_.resize(
        static_cast<std::size_t>(1 + 2 * settings_.view_range * settings_.view_range));
    place_units();
  }

  std::string name() const { return name_; }
  index num_agents() const { return static_cast<index>(agent_start_.size()); }
  index num_opponents() const { return static_cast<index>(opponent_start_.size()); }
  index observation_size() const { return channels * settings_.view_range * settings_.view_range; }
  index num_actions() const { return 6; }
  index state_size() const { return state_channels * width_ * height_; }
  index episode_limit() const { return settings_.episode_length; }
  index width() const { return width_; }
  index height() const { return height_; }
  const settings& config() const { return settings_; }

  const step_result& reset(rng& g) {
    rng_ = g.split(g());  // the env's own stream, fixed by the caller's generator
    time_ = 0;
    agents_killed_ = 0;
    opponents_killed_ = 0;
    place_units();
    result_.begin_episode();
    write_outputs();
    return result_;
  }

  const step_result& step(std::span<const int> actions) {
    result_.check_can_step(name_);
    check_actions(actions, num_agents(), num_actions(), name_);
    double team = 0;

    // Cells holding an alive opponent when the step begins: an attack there never costs -0.1,
    // even if earlier attackers in this step killed everyone in it (the code's map is built here).
    mark_cells(opponents_, opponent_cell_);
    std::iota(order_.begin(), order_.end(), 0);
    rng_.shuffle(order_);
    for (const int i : order_) {
      unit& a = agents_[static_cast<std::size_t>(i)];
      if (!alive(a)) continue;  // dead agents' actions are ignored
      recover(a);
      const int action = actions[static_cast<std::size_t>(i)];
      if (action == attack) {
        if (!opponent_cell_[cell_index(a.at)]) {
          team -= 0.1;
        } else if (const int hit = strike(a.at, opponents_); hit != no_hit) {
          team += 1;
          if (hit == killed) {
            ++opponents_killed_;
            team += settings_.kill_reward;
          }
        }
      } else {
        move(a.at, action);
      }
    }

    // Cells holding an alive agent after the agents acted: opponents there attack, and the others
    // move toward the ones they see. Kills during this phase do not update it (as in the code).
    mark_cells(agents_, agent_cell_);
    const int r = static_cast<int>(settings_.view_range / 2);
    for (unit& o : opponents_) {
      if (!alive(o)) continue;
      recover(o);
      if (agent_cell_[cell_index(o.at)]) {
        if (const int hit = strike(o.at, agents_); hit != no_hit) {
          team -= 0.5;
          if (hit == killed) {
            ++agents_killed_;
            team += settings_.death_reward;
          }
        }
        continue;
      }
      std::size_t count = 0;
      if (2 * o.at.x >= width_) candidates_[count++] = west;  // drift toward the agents' side
      for (int dx = -r; dx <= r; ++dx)
        for (int dy = -r; dy <= r; ++dy) {
          const battle_detail::cell seen{o.at.x + dx, o.at.y + dy};
          if (!on_map(seen) || !agent_cell_[cell_index(seen)]) continue;
          if (dx > 0) candidates_[count++] = east;
          if (dx < 0) candidates_[count++] = west;
          if (dy > 0) candidates_[count++] = north;
          if (dy < 0) candidates_[count++] = south;
        }
      // A drawn "attack" with no agent in the cell does nothing, like no-op.
      const int action = count == 0 ? static_cast<int>(rng_.below(6))
                                    : candidates_[static_cast<std::size_t>(rng_.below(count))];
      move(o.at, action);
    }

    ++time_;
    const auto reward = static_cast<float>(team);
    std::fill(result_.rewards.begin(), result_.rewards.end(), reward);
    result_.global_reward = reward;
    result_.episode_done = time_ >= settings_.episode_length || agents_killed_ >= num_agents() ||
                           opponents_killed_ >= num_opponents();
    write_outputs();
    return result_;
  }

  // Global state, 2 x W x H as [channel][x][y].
  std::span<const float> state() const { return state_; }
  // Agent (x, y), [N, 2]; a dead agent keeps its last cell.
  const matrix<float>& positions() const { return positions_; }
  const matrix<float>& opponent_positions() const { return opponent_positions_; }
  double agent_hp(index i) const { return unit_at(agents_, i, "agent_hp").hp; }
  double opponent_hp(index j) const { return unit_at(opponents_, j, "opponent_hp").hp; }
  index agents_killed() const { return agents_killed_; }
  index opponents_killed() const { return opponents_killed_; }
  // Kill count so far this episode: opponents killed - agents killed.
  double episode_metric() const { return static_cast<double>(opponents_killed_ - agents_killed_); }

 private:
  struct unit {
    battle_detail::cell at;
    double hp = 0;
  };
  static constexpr int no_hit = 0, hit_only = 1, killed = 2;

  void build_map(index n) {
    for (const auto& map : battle_detail::built_in_maps) {
      if (map.agents != n) continue;
      width_ = height_ = map.side;
      for (const auto& row : map.runs)
        for (int x = row.x0; x <= row.x1; ++x) agent_start_.push_back({x, row.y});
      // Mirror each row, in reading order (west to east) like the agents.
      for (const auto& row : map.runs)
        for (int x = map.side - 1 - row.x1; x <= map.side - 1 - row.x0; ++x)
          opponent_start_.push_back({x, row.y});
      return;
    }
    throw invalid_argument("battle: no map for N = " + std::to_string(n) +
                           " agents; the VAST maps host N = 20, 40 or 80 (give settings.layout "
                           "for another size)");
  }

  void parse_layout(const std::string& text) {
    int y = 0;
    std::size_t begin = 0;
    while (begin <= text.size()) {
      std::size_t end = text.find('\n', begin);
      if (end == std::string::npos) end = text.size();
      int x = 0;
      for (std::size_t k = begin; k < end; ++k) {
        const char c = text[k];
        if (c == ' ' || c == '\t' || c == '\r') continue;
        if (c == 'A')
          agent_start_.push_back({x, y});
        else if (c == 'O')
          opponent_start_.push_back({x, y});
        else if (c != '.')
          throw invalid_argument("battle: settings.layout row " + std::to_string(y) + " has '" +
                                 std::string(1, c) + "'; expected 'A', 'O' or '.'");
        ++x;
      }
      if (x > 0) {  // blank lines separate nothing
        if (y > 0 && x != width_)
          throw invalid_argument("battle: settings.layout row " + std::to_string(y) + " has " +
                                 std::to_string(x) + " cells, row 0 has " + std::to_string(width_));
        width_ = x;
        ++y;
      }
      begin = end + 1;
    }
    height_ = y;
    if (agent_start_.empty() || opponent_start_.empty())
      throw invalid_argument("battle: settings.layout needs at least one 'A' and one 'O', got " +
                             std::to_string(agent_start_.size()) + " and " +
                             std::to_string(opponent_start_.size()));
  }

  void place_units() {
    for (std::size_t i = 0; i < agents_.size(); ++i) agents_[i] = {agent_start_[i], settings_.hp};
    for (std::size_t j = 0; j < opponents_.size(); ++j)
      opponents_[j] = {opponent_start_[j], settings_.hp};
  }

  static bool alive(const unit& u) { return u.hp > 0; }
  void recover(unit& u) const { u.hp = std::min(settings_.hp, u.hp + settings_.recovery); }
  bool on_map(battle_detail::cell c) const {
    return c.x >= 0 && c.y >= 0 && c.x < width_ && c.y < height_;
  }
  std::size_t cell_index(battle_detail::cell c) const {
    return static_cast<std::size_t>(c.x * height_ + c.y);
  }

  void move(battle_detail::cell& at, int action) const {
    if (action == north && at.y + 1 < height_) ++at.y;
    if (action == south && at.y - 1 >= 0) --at.y;
    if (action == west && at.x - 1 >= 0) --at.x;
    if (action == east && at.x + 1 < width_) ++at.x;
  }

  void mark_cells(const std::vector<unit>& units, std::vector<std::uint8_t>& cells) const {
    std::fill(cells.begin(), cells.end(), std::uint8_t{0});
    for (const unit& u : units)
      if (alive(u)) cells[cell_index(u.at)] = 1;
  }

  // Hits one alive unit of `targets` in cell `at`, drawn uniformly.
  int strike(battle_detail::cell at, std::vector<unit>& targets) {
    std::size_t count = 0;
    for (std::size_t k = 0; k < targets.size(); ++k)
      if (alive(targets[k]) && targets[k].at.x == at.x && targets[k].at.y == at.y)
        targets_[count++] = static_cast<int>(k);
    if (count == 0) return no_hit;
    unit& target = targets[static_cast<std::size_t>(targets_[rng_.below(count)])];
    target.hp = std::max(0.0, target.hp - 1);
    return alive(target) ? hit_only : killed;
  }

  void write_outputs() {
    const index v = settings_.view_range;
    const int r = static_cast<int>(v / 2);
    const index plane = v * v;
    const auto share = [&](const unit& u) { return static_cast<float>(u.hp / settings_.hp); };
    result_.observations.setZero();
    for (std::size_t i = 0; i < agents_.size(); ++i) {
      const unit& self = agents_[i];
      const auto row = static_cast<index>(i);
      positions_(row, 0) = static_cast<float>(self.at.x);
      positions_(row, 1) = static_cast<float>(self.at.y);
      if (!alive(self)) {
        result_.agent_done[i] = 1;
        continue;  // dead agents see zeros
      }
      result_.agent_done[i] = result_.episode_done ? 1 : 0;
      float* obs = result_.observations.row(row).data();
      const auto slot = [&](index channel, int dx, int dy) -> float& {
        return obs[channel * plane + (r + dx) * v + (r + dy)];
      };
      slot(0, 0, 0) = share(self);
      for (std::size_t j = 0; j < agents_.size(); ++j) {
        const unit& other = agents_[j];
        const int dx = other.at.x - self.at.x, dy = other.at.y - self.at.y;
        if (j != i && alive(other) && std::abs(dx) <= r && std::abs(dy) <= r)
          slot(1, dx, dy) += share(other);
      }
      for (const unit& o : opponents_) {
        const int dx = o.at.x - self.at.x, dy = o.at.y - self.at.y;
        if (alive(o) && std::abs(dx) <= r && std::abs(dy) <= r) slot(2, dx, dy) += share(o);
      }
      for (int dx = -r; dx <= r; ++dx)
        for (int dy = -r; dy <= r; ++dy)
          if (!on_map({self.at.x + dx, self.at.y + dy})) slot(3, dx, dy) = 1.0f;
    }
    for (std::size_t j = 0; j < opponents_.size(); ++j) {
      opponent_positions_(static_cast<index>(j), 0) = static_cast<float>(opponents_[j].at.x);
      opponent_positions_(static_cast<index>(j), 1) = static_cast<float>(opponents_[j].at.y);
    }
    std::fill(state_.begin(), state_.end(), 0.0f);
    const std::size_t cells = static_cast<std::size_t>(width_ * height_);
    for (const unit& a : agents_)
      if (alive(a)) state_[cell_index(a.at)] += share(a);
    for (const unit& o : opponents_)
      if (alive(o)) state_[cells + cell_index(o.at)] += share(o);
  }

  static const unit& unit_at(const std::vector<unit>& units, index i, const char* what) {
    if (i < 0 || i >= static_cast<index>(units.size()))
      throw invalid_argument("battle: " + std::string(what) + "(" + std::to_string(i) +
                             ") is out of range [0, " + std::to_string(units.size()) + ")");
    return units[static_cast<std::size_t>(i)];
  }

  std::string name_ = "battle";
  settings settings_;
  int width_ = 0;
  int height_ = 0;
  std::vector<battle_detail::cell> agent_start_;
  std::vector<battle_detail::cell> opponent_start_;
  std::vector<unit> agents_;
  std::vector<unit> opponents_;
  step_result result_;
  std::vector<float> state_;
  matrix<float> positions_;
  matrix<float> opponent_positions_;
  std::vector<std::uint8_t> opponent_cell_;  // [x * H + y]: an alive opponent at the step's start
  std::vector<std::uint8_t> agent_cell_;     // [x * H + y]: an alive agent after the agents acted
  std::vector<int> order_;                   // the agents' permutation this step
  std::vector<int> targets_;                 // alive units in the attacked cell
  std::vector<int> candidates_;              // an opponent's move candidates
  rng rng_;
  index time_ = 0;
  index agents_killed_ = 0;
  index opponents_killed_ = 0;
};

static_assert(SpatialEnvironment<battle>);
static_assert(HasEpisodeMetric<battle>);

}  // namespace netmarl::env
