#pragma once
// Jungle (LToS, Yi et al., section 5.2; DGN's "jungle", Jiang et al. 2020, on MAgent's grid-world
// rules, geek-ai/MAgent src/gridworld; specs/environments.md 3.2).
//
// N agents and L stationary foods on a width x height grid whose outermost ring of cells is wall.
// Every episode (reset) places them on distinct random cells inside the wall. Cells hold at most
// one unit. Coordinates: x is the column (0 .. width-1), y the row (0 .. height-1), "up" is y - 1.
//
// Actions (9 at attack radius 1): 0 stay; 1-4 move up, down, left, right; 5.. attack a cell of the
// attack range, a circle (cells at Euclidean distance <= attack_radius, the own cell excluded,
// MAgent's circle ranges): the four adjacent cells first in the order up, down, left, right
// (actions 5-8), then, for a radius above 1, the remaining cells in reading order (by dy, then dx).
//
// One step, in MAgent's order:
//   1. attacks, in a fresh random order of the agents that chose one (the environment's rng,
//      fixed by reset's generator). An attacker that is dead by its turn does nothing and pays
//      nothing. Otherwise it pays attack_cost (0.01) and, if the cell holds a unit, that unit loses
//      `damage` hp: a food gives the attacker food_reward (+1); an agent gives the attacker
//      agent_attack_reward (+2) and the victim victim_reward (-4). A unit at hp <= 0 is removed at
//      once (as MAgent's Map::do_attack does): later attacks on its cell hit nothing and pay only
//      the cost, and its cell is free for this step's moves. An empty, wall or off-map cell pays
//      only the cost.
//   2. moves, in agent order: an alive agent moves one cell if the target is empty (not a wall,
//      food or another agent; a cell freed by an earlier mover this step counts as empty).
//   3. rewards are reported (the sum of the step's terms per agent).
// Dead agents stay dead until reset: agent_done = 1, reward 0 after the step they die in (that step
// carries their -4), observation all zeros, actions ignored (they must still be in range). Dead
// food leaves the map. The episode ends after episode_limit steps (120, the DGN code's) and only
// then: the last agent alive cannot die (only agents attack, and a dead attacker does nothing).
//
// Observation of agent i (observation_size = v*v + 2, v = 2 * view_radius + 1: 123 at radius 5):
//   [0, v*v): the view centred on the agent, row-major as [dy + r][dx + r] (rows are y offsets, up
//   first; columns x offsets, left first). One value per cell: an alive agent +1 (the agent itself
//   at the centre included: all agents are one group, spec "own group +1"), a food -1, a wall or a
//   cell off the map +0.5, empty 0. The sign tells food (the only negative thing) from obstacles,
//   the magnitude agents from walls. Cells at Euclidean distance > view_radius are 0 (circle mask).
//   [v*v, v*v + 2): the agent's own coordinates (y / height, x / width).
// A dead agent's row is all zeros.
//
// positions() is [N, 2] as (x, y) in cells, for graph::k_nearest<3> (LToS: self plus the 3 nearest,
// rebuilt every step); a dead agent keeps reporting the cell it died on (finite, so k_nearest
// accepts it; it may then still be a neighbour of live agents).
// state() is 3 (N + L) floats: per agent, then per food, (y / height, x / width, hp / initial hp);
// a dead unit reports its last cell and hp 0.
// global_reward is the sum of the agents' rewards. episode_metric() is the paper's "average reward
// per agent per step": the episode's summed rewards / (N * steps so far).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
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

struct jungle_settings {
  index width = 30;           // map columns, the wall border included (DGN: 30 x 30)
  index height = 30;          // map rows, the wall border included
  index agents = 20;          // N (the paper's scaling study keeps agents : foods = 5 : 3)
  index foods = 12;           // L, stationary
  double agent_hp = 400;      // initial hp of an agent (no recovery)
  double food_hp = 500;       // initial hp of a food: effectively endless at damage 1, 120 steps
  double damage = 1;          // hp an attack takes; raise it (or lower hp) to kill units quickly
  index view_radius = 5;      // the view is (2r + 1)^2 = 11 x 11, masked to a circle
  index attack_radius = 1;    // 1: the 4 adjacent cells
  index episode_limit = 120;  // DGN code; LToS does not state it
  double food_reward = 1;     // to the attacker, per attack on food ("eating")
  double agent_attack_reward = 2;  // to the attacker, per attack on an agent
  double victim_reward = -4;       // to the victim, per attack taken: a negative-sum exchange
  double attack_cost = 0.01;       // paid per attack action, hit or miss (MAgent attack_penalty)
};

class jungle {
 public:
  using settings = jungle_settings;
  static constexpr int stay = 0, up = 1, down = 2, left = 3, right = 4;
  static constexpr int attack_up = 5, attack_down = 6, attack_left = 7, attack_right = 8;
  // The view's cell values (see the header comment).
  static constexpr float agent_value = 1.0f, food_value = -1.0f, wall_value = 0.5f;

  // A grid cell, for reset_to.
  struct cell {
    int x = 0;
    int y = 0;
  };

  explicit jungle(settings s = {}) : settings_(std::move(s)) {
    validate();
    width_ = static_cast<int>(settings_.width);
    height_ = static_cast<int>(settings_.height);
    const auto n = static_cast<std::size_t>(settings_.agents);
    const auto l = static_cast<std::size_t>(settings_.foods);

    const int r = static_cast<int>(settings_.view_radius);
    const int v = 2 * r + 1;
    padded_width_ = width_ + 2 * r;
    for (int dy = -r; dy <= r; ++dy)
      for (int dx = -r; dx <= r; ++dx)
        if (dx * dx + dy * dy <= r * r)
          view_.push_back({dy * padded_width_ + dx, (dy + r) * v + (dx + r)});
    // Off the map reads as wall; clear_map writes the map's own cells.
    value_.assign(static_cast<std::size_t>(padded_width_ * (height_ + 2 * r)), wall_value);

    const int ra = static_cast<int>(settings_.attack_radius);
    attack_offsets_ = {{0, -1}, {0, 1}, {-1, 0}, {1, 0}};
    for (int dy = -ra; dy <= ra; ++dy)
      for (int dx = -ra; dx <= ra; ++dx)
        if (std::abs(dx) + std::abs(dy) > 1 && dx * dx + dy * dy <= ra * ra)
          attack_offsets_.push_back({dx, dy});

    occupant_.assign(static_cast<std::size_t>(width_ * height_), empty);
    for (int y = 1; y < height_ - 1; ++y)
      for (int x = 1; x < width_ - 1; ++x) free_cells_.push_back(y * width_ + x);
    agents_.resize(n);
    foods_.resize(l);
    attackers_.resize(n);
    rewards_.assign(n, 0.0);
    result_.resize(settings_.agents, observation_size());
    positions_.resize(settings_.agents, 2);
    food_positions_.resize(settings_.foods, 2);
    state_.assign(static_cast<std::size_t>(state_size()), 0.0f);
    rng first(0);
    place_randomly(first);  // a valid layout before the first reset, so the accessors make sense
    write_outputs();
  }

  std::string name() const { return name_; }
  index num_agents() const { return settings_.agents; }
  index num_foods() const { return settings_.foods; }
  index observation_size() const {
    const index v = 2 * settings_.view_radius + 1;
    return v * v + 2;
  }
  index num_actions() const { return 5 + static_cast<index>(attack_offsets_.size()); }
  index state_size() const { return 3 * (settings_.agents + settings_.foods); }
  index episode_limit() const { return settings_.episode_limit; }
  index width() const { return settings_.width; }
  index height() const { return settings_.height; }
  const settings& config() const { return settings_; }

  const step_result& reset(rng& g) {
    begin(g);
    place_randomly(rng_);
    result_.begin_episode();
    write_outputs();
    return result_;
  }

  // For tests and scripted scenarios: reset with agent i on agent_cells[i] and food j on
  // food_cells[j] instead of random cells (exactly N and L cells, distinct, inside the wall). The
  // rng seeds the attack order as in reset.
  const step_result& reset_to(rng& g, std::span<const cell> agent_cells,
                              std::span<const cell> food_cells) {
    if (static_cast<index>(agent_cells.size()) != settings_.agents ||
        static_cast<index>(food_cells.size()) != settings_.foods)
      throw invalid_argument("jungle: reset_to needs " + std::to_string(settings_.agents) +
                             " agent cells and " + std::to_string(settings_.foods) +
                             " food cells, got " + std::to_string(agent_cells.size()) + " and " +
                             std::to_string(food_cells.size()));
    std::vector<std::uint8_t> taken(occupant_.size(), 0);
    const auto check = [&](const char* what, std::size_t k, cell c) {
      const std::string who = std::string(what) + " " + std::to_string(k) + " at (" +
                              std::to_string(c.x) + ", " + std::to_string(c.y) + ")";
      if (c.x < 1 || c.y < 1 || c.x > width_ - 2 || c.y > height_ - 2)
        throw invalid_argument("jungle: reset_to: " + who + " is not inside the wall (x in [1, " +
                               std::to_string(width_ - 2) + "], y in [1, " +
                               std::to_string(height_ - 2) + "])");
      auto& t = taken[cell_index(c)];
      if (t)
        throw invalid_argument("jungle: reset_to: " + who + " shares its cell with another unit");
      t = 1;
    };
    for (std::size_t i = 0; i < agent_cells.size(); ++i) check("agent", i, agent_cells[i]);
    for (std::size_t j = 0; j < food_cells.size(); ++j) check("food", j, food_cells[j]);

    begin(g);
    clear_map();
    for (std::size_t i = 0; i < agents_.size(); ++i) put_agent(i, agent_cells[i]);
    for (std::size_t j = 0; j < foods_.size(); ++j) put_food(j, food_cells[j]);
    result_.begin_episode();
    write_outputs();
    return result_;
  }

  const step_result& step(std::span<const int> actions) {
    result_.check_can_step(name_);
    check_actions(actions, num_agents(), num_actions(), name_);
    std::fill(rewards_.begin(), rewards_.end(), 0.0);
    const auto n = agents_.size();

    // 1. attacks, in a shuffled order.
    std::size_t count = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (alive(agents_[i]) && actions[i] >= attack_up) attackers_[count++] = static_cast<int>(i);
    std::span<int> order(attackers_.data(), count);
    rng_.shuffle(order);
    for (const int a : order) {
      const auto i = static_cast<std::size_t>(a);
      unit& attacker = agents_[i];
      if (!alive(attacker)) continue;  // killed earlier in this step
      rewards_[i] -= settings_.attack_cost;
      const offset d = attack_offsets_[static_cast<std::size_t>(actions[i] - attack_up)];
      const cell target{attacker.at.x + d.dx, attacker.at.y + d.dy};
      if (!on_map(target)) continue;
      const std::int32_t who = occupant_[cell_index(target)];
      if (who < 0) continue;  // empty or wall
      const auto w = static_cast<std::size_t>(who);
      if (w < n) {
        rewards_[i] += settings_.agent_attack_reward;
        rewards_[w] += settings_.victim_reward;
        if (hit(agents_[w], target)) --alive_agents_;
      } else {
        rewards_[i] += settings_.food_reward;
        hit(foods_[w - n], target);
      }
    }

    // 2. moves, in agent order.
    for (std::size_t i = 0; i < n; ++i) {
      unit& u = agents_[i];
      const int action = actions[i];
      if (!alive(u) || action < up || action > right) continue;
      const offset d = moves[action - up];
      const cell target{u.at.x + d.dx, u.at.y + d.dy};
      if (occupant_[cell_index(target)] != empty) continue;  // the wall keeps targets on the map
      occupant_[cell_index(u.at)] = empty;
      value_[value_index(u.at)] = 0.0f;
      u.at = target;
      occupant_[cell_index(target)] = static_cast<std::int32_t>(i);
      value_[value_index(target)] = agent_value;
    }

    // 3. rewards.
    double total = 0;
    for (std::size_t i = 0; i < n; ++i) {
      result_.rewards[i] = static_cast<float>(rewards_[i]);
      total += rewards_[i];
    }
    result_.global_reward = static_cast<float>(total);
    episode_reward_ += total;
    ++time_;
    result_.episode_done = time_ >= settings_.episode_limit;
    write_outputs();
    return result_;
  }

  // Per agent, then per food: (y / height, x / width, hp / initial hp).
  std::span<const float> state() const { return state_; }
  // Agent (x, y) in cells, [N, 2]; a dead agent keeps the cell it died on.
  const matrix<float>& positions() const { return positions_; }
  // Food (x, y) in cells, [L, 2]; a dead food keeps its last cell.
  const matrix<float>& food_positions() const { return food_positions_; }
  double agent_hp(index i) const { return unit_at(agents_, i, "agent_hp").hp; }
  double food_hp(index j) const { return unit_at(foods_, j, "food_hp").hp; }
  bool agent_alive(index i) const { return alive(unit_at(agents_, i, "agent_alive")); }
  bool food_alive(index j) const { return alive(unit_at(foods_, j, "food_alive")); }
  index alive_agents() const { return alive_agents_; }
  index steps() const { return time_; }
  // Average reward per agent per step this episode (0 before the first step).
  double episode_metric() const {
    return time_ == 0 ? 0.0 : episode_reward_ / static_cast<double>(settings_.agents * time_);
  }

 private:
  struct unit {
    cell at;
    double hp = 0;
  };
  struct offset {
    int dx = 0;
    int dy = 0;
  };
  struct view_cell {
    int shift = 0;  // dy * padded_width_ + dx: the cell's offset in value_
    int slot = 0;   // index in the observation row
  };
  static constexpr std::int32_t empty = -1, wall = -2;  // occupant_ values; >= 0: a unit id
  static constexpr offset moves[4] = {{0, -1}, {0, 1}, {-1, 0}, {1, 0}};  // up, down, left, right

  static std::string format_number(double x) {
    std::ostringstream out;
    out << x;
    return out.str();
  }

  void validate() const {
    const auto bad = [](const std::string& what) { throw invalid_argument("jungle: " + what); };
    const settings& s = settings_;
    if (s.width < 3 || s.height < 3)
      bad("width and height must be at least 3 (a wall border around at least one cell), got " +
          std::to_string(s.width) + " x " + std::to_string(s.height));
    constexpr index largest = std::numeric_limits<std::int32_t>::max() / 2;  // cell ids are int32
    if (s.width > largest || s.height > largest || s.width * s.height > largest)
      bad("the map " + std::to_string(s.width) + " x " + std::to_string(s.height) +
          " is too large");
    if (s.agents < 1) bad("agents must be at least 1, got " + std::to_string(s.agents));
    if (s.foods < 0) bad("foods must not be negative, got " + std::to_string(s.foods));
    const index inside = (s.width - 2) * (s.height - 2);
    if (s.agents + s.foods > inside)
      bad("the map " + std::to_string(s.width) + " x " + std::to_string(s.height) + " has " +
          std::to_string(inside) + " cells inside its wall, too few for " +
          std::to_string(s.agents) + " agents and " + std::to_string(s.foods) + " foods");
    const auto positive = [&](const char* what, double x) {
      if (!(x > 0) || !std::isfinite(x))
        bad(std::string(what) + " must be positive and finite, got " + format_number(x));
    };
    positive("agent_hp", s.agent_hp);
    positive("food_hp", s.food_hp);
    positive("damage", s.damage);
    const auto radius = [&](const char* what, index r) {
      // Above the map's size a radius adds nothing but zeros (or off-map cells).
      if (r < 1 || r > std::max(s.width, s.height))
        bad(std::string(what) + " must be in [1, " + std::to_string(std::max(s.width, s.height)) +
            "], got " + std::to_string(r));
    };
    radius("view_radius", s.view_radius);
    radius("attack_radius", s.attack_radius);
    if (s.episode_limit < 1)
      bad("episode_limit must be at least 1, got " + std::to_string(s.episode_limit));
    const auto finite = [&](const char* what, double x) {
      if (!std::isfinite(x)) bad(std::string(what) + " must be finite, got " + format_number(x));
    };
    finite("food_reward", s.food_reward);
    finite("agent_attack_reward", s.agent_attack_reward);
    finite("victim_reward", s.victim_reward);
    finite("attack_cost", s.attack_cost);
  }

  static bool alive(const unit& u) { return u.hp > 0; }
  bool on_map(cell c) const { return c.x >= 0 && c.y >= 0 && c.x < width_ && c.y < height_; }
  std::size_t cell_index(cell c) const { return static_cast<std::size_t>(c.y * width_ + c.x); }
  std::size_t value_index(cell c) const {
    const int r = static_cast<int>(settings_.view_radius);
    return static_cast<std::size_t>((c.y + r) * padded_width_ + c.x + r);
  }

  // Takes damage from u, standing on `at`; removes it from the map when that kills it.
  bool hit(unit& u, cell at) {
    u.hp -= settings_.damage;
    if (alive(u)) return false;
    u.hp = 0;
    occupant_[cell_index(at)] = empty;
    value_[value_index(at)] = 0.0f;
    return true;
  }

  void begin(rng& g) {
    rng_ = g.split(g());  // the env's own stream (placement, attack order), fixed by the caller's
    time_ = 0;
    episode_reward_ = 0;
  }

  void clear_map() {
    for (int y = 0; y < height_; ++y)
      for (int x = 0; x < width_; ++x) {
        const bool border = x == 0 || y == 0 || x == width_ - 1 || y == height_ - 1;
        occupant_[cell_index({x, y})] = border ? wall : empty;
        value_[value_index({x, y})] = border ? wall_value : 0.0f;
      }
    alive_agents_ = settings_.agents;
  }

  void put_agent(std::size_t i, cell c) {
    agents_[i] = {c, settings_.agent_hp};
    occupant_[cell_index(c)] = static_cast<std::int32_t>(i);
    value_[value_index(c)] = agent_value;
  }
  void put_food(std::size_t j, cell c) {
    foods_[j] = {c, settings_.food_hp};
    occupant_[cell_index(c)] = static_cast<std::int32_t>(agents_.size() + j);
    value_[value_index(c)] = food_value;
  }

  // Distinct random cells inside the wall: a partial Fisher-Yates over the inside cells, from a
  // fixed starting order so the layout depends on the rng alone.
  void place_randomly(rng& g) {
    clear_map();
    std::size_t k = 0;
    for (int y = 1; y < height_ - 1; ++y)
      for (int x = 1; x < width_ - 1; ++x) free_cells_[k++] = y * width_ + x;
    const std::size_t units = agents_.size() + foods_.size();
    for (std::size_t u = 0; u < units; ++u) {
      const auto pick = u + static_cast<std::size_t>(g.below(free_cells_.size() - u));
      std::swap(free_cells_[u], free_cells_[pick]);
      const cell c{free_cells_[u] % width_, free_cells_[u] / width_};
      if (u < agents_.size())
        put_agent(u, c);
      else
        put_food(u - agents_.size(), c);
    }
  }

  void write_outputs() {
    const index v = 2 * settings_.view_radius + 1;
    const auto n = agents_.size();
    const auto h = static_cast<float>(height_), w = static_cast<float>(width_);
    result_.observations.setZero();
    for (std::size_t i = 0; i < n; ++i) {
      const unit& self = agents_[i];
      const auto row = static_cast<index>(i);
      positions_(row, 0) = static_cast<float>(self.at.x);
      positions_(row, 1) = static_cast<float>(self.at.y);
      float* s = state_.data() + 3 * i;
      s[0] = static_cast<float>(self.at.y) / h;
      s[1] = static_cast<float>(self.at.x) / w;
      s[2] = static_cast<float>(self.hp / settings_.agent_hp);
      if (!alive(self)) {
        result_.agent_done[i] = 1;
        continue;  // dead agents see zeros
      }
      result_.agent_done[i] = result_.episode_done ? 1 : 0;
      float* obs = result_.observations.row(row).data();
      const float* centre = value_.data() + value_index(self.at);
      for (const view_cell& c : view_) obs[c.slot] = centre[c.shift];
      obs[v * v] = s[0];
      obs[v * v + 1] = s[1];
    }
    float* food_state = state_.data() + 3 * n;
    for (std::size_t j = 0; j < foods_.size(); ++j) {
      const unit& f = foods_[j];
      const auto row = static_cast<index>(j);
      food_positions_(row, 0) = static_cast<float>(f.at.x);
      food_positions_(row, 1) = static_cast<float>(f.at.y);
      food_state[3 * j] = static_cast<float>(f.at.y) / h;
      food_state[3 * j + 1] = static_cast<float>(f.at.x) / w;
      food_state[3 * j + 2] = static_cast<float>(f.hp / settings_.food_hp);
    }
  }

  static const unit& unit_at(const std::vector<unit>& units, index i, const char* what) {
    if (i < 0 || i >= static_cast<index>(units.size()))
      throw invalid_argument("jungle: " + std::string(what) + "(" + std::to_string(i) +
                             ") is out of range [0, " + std::to_string(units.size()) + ")");
    return units[static_cast<std::size_t>(i)];
  }

  std::string name_ = "jungle";
  settings settings_;
  int width_ = 0;
  int height_ = 0;
  std::vector<view_cell> view_;         // the view's cells inside the circle mask
  std::vector<offset> attack_offsets_;  // action attack_up + k attacks attack_offsets_[k]
  std::vector<std::int32_t> occupant_;  // [y * width + x]: empty, wall, agent i, or N + food j
  // The view value of every cell (agent_value, food_value, wall_value or 0), on the map padded by
  // view_radius cells of wall on each side: the view is then a branch-free copy.
  std::vector<float> value_;
  int padded_width_ = 0;
  std::vector<std::int32_t> free_cells_;  // the inside cells, permuted by placement
  std::vector<unit> agents_;
  std::vector<unit> foods_;
  std::vector<int> attackers_;   // this step's attackers, shuffled
  std::vector<double> rewards_;  // this step's reward per agent
  step_result result_;
  matrix<float> positions_;
  matrix<float> food_positions_;
  std::vector<float> state_;
  rng rng_;
  index time_ = 0;
  index alive_agents_ = 0;
  double episode_reward_ = 0;
};

static_assert(SpatialEnvironment<jungle>);
static_assert(HasEpisodeMetric<jungle>);

}  // namespace netmarl::env
