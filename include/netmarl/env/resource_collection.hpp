#pragma once
// Resource collection (M3RL, Shu & Tian 2019, envs/resource_collection.py; EBPG appendix D.1;
// specs/environments.md 4.1). The world of a leader-follower game: the leader never acts in it,
// it only offers contracts (sharing::leader_incentive); the followers walk and dig.
//
// An 11x11 map with a wall border (9x9 interior). 4 resource types; `resources` resources per
// episode, each collected by one successful dig. The first resource of a type lands on a random
// free cell, later ones next to an existing one of that type (a random free 4-neighbour of a
// random earlier one; a random free cell when none has room).
//
// Followers: `followers` per episode, drawn without repetition from a population of `population`
// generated once from `population_seed`. A follower has one skill (the S2 setting of M3RL: its
// type t can dig resources of type t, skill 10 there and 0 elsewhere) and a desire (the resource
// type it likes; its own payoff is 1 for collecting one). Actions (5): 0 forward, 1 turn left,
// 2 turn right, 3 dig the cell in front, 4 stop. Headings follow M3RL: 0 up (row - 1), 1 left
// (col - 1), 2 down (row + 1), 3 right (col + 1); turn left is heading + 1, turn right heading + 3
// (mod 4). Actions resolve in follower order; a move is blocked by walls, resources and followers
// (earlier followers at their new cells, later ones at their old cells). A dig on a resource
// locks it to the digger (M3RL's 'collector'): nobody else can dig it afterwards, even when the dig
// fails; a dig succeeds with probability skill / 10 and then removes the resource.
//
// The episode ends when no resource remains or after `max_steps` steps.
//
// Randomness: reset draws the map from its rng (resources first, then the followers' identities,
// then each follower's cell and heading, all cells uniform over the free interior cells). step
// draws one g.uniform() per dig that hits a resource the digger may dig, whatever its skill, so
// the stream never depends on the skills; a dig at nothing or at a resource locked to another
// follower does nothing and draws nothing. Nothing allocates after the first reset.
#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"

namespace netmarl::env {

struct resource_collection_settings {
  int bonus_levels = 2;   // 2: "resource collection"; 4: "multi-bonus" (EBPG D.1)
  index population = 40;  // followers generated once (EBPG section 5.1: 40)
  index followers = 4;    // drawn per episode
  index resources = 10;   // per episode
  int max_steps = 30;     // episode cap
  std::uint64_t population_seed = 1;
};

class resource_collection {
 public:
  static constexpr int size = 11;           // map side, border included
  static constexpr int resource_types = 4;  // = goal types
  static constexpr int actions = 5;         // forward, left, right, dig, stop
  enum action : int { forward = 0, turn_left = 1, turn_right = 2, dig = 3, stop = 4 };

  struct follower_traits {
    index identity = 0;  // index in the population
    int skill_type = 0;  // the one type it can dig (skill 10); skill 0 for the others
    int desire = 0;      // the type whose collection pays it 1
    int skill(int type) const { return type == skill_type ? 10 : 0; }
  };
  struct follower_state {
    int row = 0, col = 0, heading = 0;
    follower_traits traits;
  };
  struct resource {
    int row = 0, col = 0, type = 0;
    int collector = -1;  // follower slot that dug it first (locks it), -1 none
  };
  // What one step did, per follower slot.
  struct step_outcome {
    std::vector<int> collected;  // [followers]: type collected this step, -1 none
    std::vector<int> dug;        // [followers]: type of the resource a dig hit (success or not), -1
    bool episode_done = false;
  };

  // Throws invalid_argument for bonus_levels < 1, population < 1, followers outside
  // [1, population], resources < 0 or more than the interior cells left by the followers, and
  // max_steps < 1.
  explicit resource_collection(resource_collection_settings s = {}) : settings_(s) {
    const auto bad = [](const std::string& what) {
      throw invalid_argument("resource_collection: " + what);
    };
    if (s.bonus_levels < 1)
      bad("bonus_levels must be at least 1, got " + std::to_string(s.bonus_levels));
    if (s.population < 1) bad("population must be at least 1, got " + std::to_string(s.population));
    if (s.followers < 1) bad("followers must be at least 1, got " + std::to_string(s.followers));
    if (s.followers > s.population)
      bad("more followers than the population: followers " + std::to_string(s.followers) +
          ", population " + std::to_string(s.population));
    if (s.followers > interior_cells)
      bad("followers " + std::to_string(s.followers) + " do not fit in the " +
          std::to_string(interior_cells) + " interior cells");
    if (s.resources < 0 || s.resources > interior_cells - s.followers)
      bad("resources " + std::to_string(s.resources) + " is outside [0, " +
          std::to_string(interior_cells - s.followers) + "] (more than the free cells left by " +
          std::to_string(s.followers) + " followers)");
    if (s.max_steps < 1) bad("max_steps must be at least 1, got " + std::to_string(s.max_steps));

    rng population_rng(s.population_seed);  // its own stream: the population never changes
    population_.resize(static_cast<std::size_t>(s.population));
    for (std::size_t i = 0; i < population_.size(); ++i) {
      population_[i].identity = static_cast<index>(i);
      population_[i].skill_type = static_cast<int>(population_rng.below(resource_types));
      population_[i].desire = static_cast<int>(population_rng.below(resource_types));
    }

    // Every buffer at its final capacity now, so reset and step never allocate.
    const auto n_followers = static_cast<std::size_t>(s.followers);
    followers_.reserve(n_followers);
    resources_.reserve(static_cast<std::size_t>(s.resources));
    free_cells_.reserve(static_cast<std::size_t>(interior_cells));
    same_type_.reserve(static_cast<std::size_t>(s.resources));
    member_order_.resize(population_.size());
    outcome_.collected.assign(n_followers, -1);
    outcome_.dug.assign(n_followers, -1);
  }

  const resource_collection_settings& settings() const { return settings_; }
  const std::vector<follower_traits>& population() const { return population_; }

  // New episode: draws `followers` distinct population members and the map from g.
  void reset(rng& g) {
    resources_.clear();
    followers_.clear();
    for (index k = 0; k < settings_.resources; ++k)
      place_resource(static_cast<int>(g.below(resource_types)), g);

    // A partial Fisher-Yates shuffle: the first `followers` entries are a uniform draw without
    // repetition.
    for (std::size_t i = 0; i < member_order_.size(); ++i) member_order_[i] = static_cast<index>(i);
    const auto n = static_cast<std::uint64_t>(member_order_.size());
    for (std::uint64_t i = 0; i < static_cast<std::uint64_t>(settings_.followers); ++i)
      std::swap(member_order_[i], member_order_[i + g.below(n - i)]);
    for (index slot = 0; slot < settings_.followers; ++slot) {
      follower_state f;
      f.traits =
          population_[static_cast<std::size_t>(member_order_[static_cast<std::size_t>(slot)])];
      const int cell = random_free_cell(g);
      f.row = cell / size;
      f.col = cell % size;
      f.heading = static_cast<int>(g.below(4));
      followers_.push_back(f);
    }

    steps_ = 0;
    done_ = resources_.empty();
    started_ = true;
    std::fill(outcome_.collected.begin(), outcome_.collected.end(), -1);
    std::fill(outcome_.dug.begin(), outcome_.dug.end(), -1);
    outcome_.episode_done = done_;
  }

  // Applies one action per follower slot (throws invalid_argument naming the slot and the value
  // for an action outside [0, 5)); g draws dig successes. Throws before the first reset and after
  // the episode ended.
  const step_outcome& step(std::span<const int> actions, rng& g) {
    if (!started_) throw invalid_argument("resource_collection: step before reset");
    if (done_)
      throw invalid_argument("resource_collection: step after the episode ended (at step " +
                             std::to_string(steps_) + "); call reset");
    if (actions.size() != followers_.size())
      throw invalid_argument("resource_collection: step got " + std::to_string(actions.size()) +
                             " actions for " + std::to_string(followers_.size()) + " followers");
    for (std::size_t slot = 0; slot < actions.size(); ++slot)
      if (actions[slot] < 0 || actions[slot] >= resource_collection::actions)
        throw invalid_argument("resource_collection: action " + std::to_string(actions[slot]) +
                               " of follower slot " + std::to_string(slot) + " is outside [0, " +
                               std::to_string(resource_collection::actions) + ")");

    std::fill(outcome_.collected.begin(), outcome_.collected.end(), -1);
    std::fill(outcome_.dug.begin(), outcome_.dug.end(), -1);
    for (std::size_t slot = 0; slot < actions.size(); ++slot) {
      follower_state& f = followers_[slot];
      const int self = static_cast<int>(slot);
      switch (actions[slot]) {
        case forward: {
          const int row = f.row + row_step[f.heading], col = f.col + col_step[f.heading];
          if (walkable(row, col, self)) {
            f.row = row;
            f.col = col;
          }
          break;
        }
        case turn_left:
          f.heading = (f.heading + 1) % 4;
          break;
        case turn_right:
          f.heading = (f.heading + 3) % 4;
          break;
        case dig: {
          const int at = resource_at(f.row + row_step[f.heading], f.col + col_step[f.heading]);
          if (at < 0) break;
          resource& r = resources_[static_cast<std::size_t>(at)];
          if (r.collector != -1 && r.collector != self) break;
          r.collector = self;
          outcome_.dug[slot] = r.type;
          if (g.uniform() * 10 < f.traits.skill(r.type)) {
            outcome_.collected[slot] = r.type;
            resources_.erase(resources_.begin() + at);  // keeps the order of the others
          }
          break;
        }
        default:
          break;  // stop
      }
    }
    ++steps_;
    done_ = resources_.empty() || steps_ >= settings_.max_steps;
    outcome_.episode_done = done_;
    return outcome_;
  }

  int steps() const { return steps_; }  // steps taken this episode
  bool done() const { return done_; }   // false before the first reset
  std::span<const follower_state> followers() const { return followers_; }
  std::span<const resource> remaining() const { return resources_; }  // resources still on the map
  // Resources of `type` on the map that follower `slot` may dig (unlocked or locked to it).
  int available(int type, index slot) const {
    check_slot(slot, "available");
    check_type(type, "available");
    int count = 0;
    for (const resource& r : resources_) count += diggable_by(r, type, slot) ? 1 : 0;
    return count;
  }

  // Shortest plan (BFS over cell and heading with forward / left / right, ties in that order) for
  // follower `slot` to face a resource of `type` it may dig. Returns the first action: dig when it
  // already faces one, stop when none is reachable; *steps (if given) is the plan's length (0 when
  // facing one, -1 when unreachable). Other followers and all resources block moves, at their
  // current cells. Throws for a slot or type out of range.
  int plan(index slot, int type, int* steps = nullptr) const {
    check_slot(slot, "plan");
    check_type(type, "plan");
    const auto report = [steps](int action, int length) {
      if (steps) *steps = length;
      return action;
    };
    // target[cell]: a resource there that this follower may dig; open[cell]: it may step there.
    std::array<bool, size * size> target{}, open{};
    for (int row = 1; row < size - 1; ++row)
      for (int col = 1; col < size - 1; ++col)
        open[static_cast<std::size_t>(row * size + col)] = true;
    for (const resource& r : resources_) {
      const auto cell = static_cast<std::size_t>(r.row * size + r.col);
      open[cell] = false;
      target[cell] = diggable_by(r, type, slot);
    }
    for (std::size_t other = 0; other < followers_.size(); ++other)
      if (static_cast<index>(other) != slot)
        open[static_cast<std::size_t>(followers_[other].row * size + followers_[other].col)] =
            false;
    // The cell in front is always on the map: a follower stands on the interior.
    const auto faces_target = [&](int cell, int heading) {
      return target[static_cast<std::size_t>(cell + row_step[heading] * size + col_step[heading])];
    };

    const follower_state& self = followers_[static_cast<std::size_t>(slot)];
    const int start_cell = self.row * size + self.col;
    if (faces_target(start_cell, self.heading)) return report(dig, 0);
    if (available(type, slot) == 0) return report(stop, -1);

    // States are cell * 4 + heading. BFS discovers a depth's states in the lexicographic order of
    // their action sequences (forward < left < right), so the first target found is the shortest
    // plan with that tie order.
    constexpr int states = size * size * 4;
    std::array<int, states> distance, first_action, queue;
    distance.fill(-1);
    const int start = start_cell * 4 + self.heading;
    distance[static_cast<std::size_t>(start)] = 0;
    int head = 0, tail = 0;
    queue[static_cast<std::size_t>(tail++)] = start;
    while (head < tail) {
      const int state = queue[static_cast<std::size_t>(head++)];
      const int cell = state / 4, heading = state % 4;
      for (const int action : {forward, turn_left, turn_right}) {
        int next_cell = cell, next_heading = heading;
        if (action == forward) {
          next_cell = cell + row_step[heading] * size + col_step[heading];
          if (!open[static_cast<std::size_t>(next_cell)]) continue;
        } else {
          next_heading = (heading + (action == turn_left ? 1 : 3)) % 4;
        }
        const auto next = static_cast<std::size_t>(next_cell * 4 + next_heading);
        if (distance[next] != -1) continue;
        distance[next] = distance[static_cast<std::size_t>(state)] + 1;
        first_action[next] =
            state == start ? action : first_action[static_cast<std::size_t>(state)];
        if (faces_target(next_cell, next_heading))
          return report(first_action[next], distance[next]);
        queue[static_cast<std::size_t>(tail++)] = static_cast<int>(next);
      }
    }
    return report(stop, -1);
  }

  // Observations. The world: [7, 11, 11] flattened channel-major (empty floor, wall, resource
  // type 0..3, follower) as M3RL's get_world_state: each cell is one-hot over the 7 channels. A
  // follower's own part: row one-hot (11), column one-hot (11), heading one-hot (4). Both throw
  // for a span of the wrong size.
  static constexpr index world_features = 7 * size * size;
  static constexpr index follower_features = size + size + 4;
  void world_observation(std::span<float> out) const {
    check_size(out, world_features, "world_observation");
    std::fill(out.begin(), out.end(), 0.0f);
    constexpr int plane = size * size;
    for (int row = 0; row < size; ++row)
      for (int col = 0; col < size; ++col) {
        const int cell = row * size + col;
        int channel = interior(row, col) ? empty_channel : wall_channel;
        if (channel == empty_channel) {
          if (const int at = resource_at(row, col); at >= 0)
            channel = resource_channel + resources_[static_cast<std::size_t>(at)].type;
          else if (follower_at(row, col, -1) >= 0)
            channel = follower_channel;
        }
        out[static_cast<std::size_t>(channel * plane + cell)] = 1.0f;
      }
  }
  void follower_observation(index slot, std::span<float> out) const {
    check_slot(slot, "follower_observation");
    check_size(out, follower_features, "follower_observation");
    std::fill(out.begin(), out.end(), 0.0f);
    const follower_state& f = followers_[static_cast<std::size_t>(slot)];
    out[static_cast<std::size_t>(f.row)] = 1.0f;
    out[static_cast<std::size_t>(size + f.col)] = 1.0f;
    out[static_cast<std::size_t>(2 * size + f.heading)] = 1.0f;
  }

 private:
  friend struct resource_collection_test_access;  // tests build hand-made states

  static constexpr int interior_cells = (size - 2) * (size - 2);
  static constexpr int empty_channel = 0, wall_channel = 1, resource_channel = 2,
                       follower_channel = 6;
  // Row and column change of a forward move per heading (0 up, 1 left, 2 down, 3 right).
  static constexpr std::array<int, 4> row_step{-1, 0, 1, 0};
  static constexpr std::array<int, 4> col_step{0, -1, 0, 1};

  static bool interior(int row, int col) {
    return row >= 1 && row < size - 1 && col >= 1 && col < size - 1;
  }
  static bool diggable_by(const resource& r, int type, index slot) {
    return r.type == type && (r.collector == -1 || r.collector == slot);
  }

  // Index in resources_ of the resource at (row, col), -1 none.
  int resource_at(int row, int col) const {
    for (std::size_t i = 0; i < resources_.size(); ++i)
      if (resources_[i].row == row && resources_[i].col == col) return static_cast<int>(i);
    return -1;
  }
  // Slot of a follower other than `except` at (row, col), -1 none.
  int follower_at(int row, int col, int except) const {
    for (std::size_t i = 0; i < followers_.size(); ++i)
      if (static_cast<int>(i) != except && followers_[i].row == row && followers_[i].col == col)
        return static_cast<int>(i);
    return -1;
  }
  bool free_cell(int row, int col) const {
    return interior(row, col) && resource_at(row, col) < 0 && follower_at(row, col, -1) < 0;
  }
  // Follower `self` may move to (row, col): no wall, resource or other follower there.
  bool walkable(int row, int col, int self) const {
    return interior(row, col) && resource_at(row, col) < 0 && follower_at(row, col, self) < 0;
  }

  // A uniformly random free interior cell (row * size + col); the constructor's checks keep one.
  int random_free_cell(rng& g) {
    free_cells_.clear();
    for (int row = 1; row < size - 1; ++row)
      for (int col = 1; col < size - 1; ++col)
        if (free_cell(row, col)) free_cells_.push_back(row * size + col);
    return free_cells_[static_cast<std::size_t>(g.below(free_cells_.size()))];
  }

  // M3RL's placement: next to a random earlier resource of the type with room, else anywhere free.
  void place_resource(int type, rng& g) {
    same_type_.clear();
    for (std::size_t i = 0; i < resources_.size(); ++i)
      if (resources_[i].type == type) same_type_.push_back(static_cast<int>(i));
    resource placed;
    placed.type = type;
    bool found = false;
    if (!same_type_.empty()) {
      g.shuffle(same_type_);
      for (std::size_t k = 0; k < same_type_.size() && !found; ++k) {
        const resource& near = resources_[static_cast<std::size_t>(same_type_[k])];
        std::array<int, 4> directions{0, 1, 2, 3};
        g.shuffle(directions);
        for (const int d : directions) {
          const int row = near.row + row_step[d], col = near.col + col_step[d];
          if (free_cell(row, col)) {
            placed.row = row;
            placed.col = col;
            found = true;
            break;
          }
        }
      }
    }
    if (!found) {
      const int cell = random_free_cell(g);
      placed.row = cell / size;
      placed.col = cell % size;
    }
    resources_.push_back(placed);
  }

  void check_slot(index slot, const char* where) const {
    if (slot < 0 || slot >= static_cast<index>(followers_.size()))
      throw invalid_argument("resource_collection::" + std::string(where) + ": slot " +
                             std::to_string(slot) + " is outside [0, " +
                             std::to_string(followers_.size()) + ")" +
                             (started_ ? "" : " (no reset yet)"));
  }
  static void check_type(int type, const char* where) {
    if (type < 0 || type >= resource_types)
      throw invalid_argument("resource_collection::" + std::string(where) + ": resource type " +
                             std::to_string(type) + " is outside [0, " +
                             std::to_string(resource_types) + ")");
  }
  static void check_size(std::span<float> out, index expected, const char* where) {
    if (static_cast<index>(out.size()) != expected)
      throw invalid_argument("resource_collection::" + std::string(where) + ": output size " +
                             std::to_string(out.size()) + ", expected " + std::to_string(expected));
  }

  resource_collection_settings settings_;
  std::vector<follower_traits> population_;
  std::vector<follower_state> followers_;  // [followers] this episode, by slot
  std::vector<resource> resources_;        // on the map, in placement order
  int steps_ = 0;
  bool done_ = false;
  bool started_ = false;  // reset has run
  step_outcome outcome_;
  // Scratch for reset, sized once in the constructor.
  std::vector<int> free_cells_;
  std::vector<int> same_type_;
  std::vector<index> member_order_;
};

}  // namespace netmarl::env
