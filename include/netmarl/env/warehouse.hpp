#pragma once
// Warehouse[N] (VAST, Phan et al. 2021, section 5.1; authors' code thomyphan/scalable-marl,
// vast/environments/warehouse.py and task_gen.py; specs/environments.md 1.2). Maps: see
// warehouse_layouts.hpp.
//
// N robots on a grid take orders at work stations and deliver the items to drop-off cells.
// An order is a bucket of 5 items, types drawn i.i.d. uniformly from {1..4}. Action 5 on a drop-off
// cell whose type is still in the bucket delivers one such item (+1); once the bucket is empty,
// action 5 on any work station completes the order (+1, one completed order) and hands the robot a
// new one at once. Robots act one after another in a random permutation drawn each step. A move to
// a 4-neighbour inside the grid and not an obstacle that is held by another robot is blocked (-0.5,
// the robot stays); a move without such a neighbour leaves the robot where it is at no cost. Every
// robot that did not complete an order this step pays -0.01. Episodes last 50 steps (the authors
// use gamma 0.95: the learner's setting, not the environment's).
//
// Rewards: the authors' code runs in cooperative mode (environment.py fills every agent's reward
// with the team sum), so r_i = the team sum for every i, and so is global_reward.
// episode_metric(): the orders completed in the episode, summed over robots (the paper's metric).
//
// Observation (5 x 5 view centred on the robot, 125 floats; index c * 25 + (dx + 2) * 5 + (dy + 2),
// the code's [channel][x][y] order, see observation_index):
//   0: 1 at the centre (the robot itself);
//   1: 1 at each visible cell that is an obstacle or off the map;
//   2: the number of other robots on each visible cell;
//   3: the current bucket: at each visible cell whose type it holds, how many of that type it holds
//      (items at drop-off cells; once the items are delivered the bucket is the return, 1 at work
//      stations);
//   4: the same for the next bucket (the return, while items are pending; else nothing).
// State (the code's global state, 5 x 6 = 30 channels over the grid, index c * W * H + x * H + y,
// see state_index; 450 / 750 / 3510 floats for N = 4 / 8 / 16):
//   0: the cell codes (-1 obstacle, 0 work station, 1 floor, 2..5 drop-off);
//   1: robots on a cell where action 5 would succeed now; 2: robots on any other cell;
//   5..8: robots whose current item bucket holds item type 1..4 (presence, not count);
//   9: robots with the return still ahead (every robot, at all times: in the code the return is the
//      order's second bucket and the channel stays aligned with it);
//   3, 4 and 10..29: always 0 (the code sizes the state for 5 x 6 channels and fills these only
//   with task types that never occur).
//
// Paper versus code (the default is the code):
// - Starts: the code puts each robot on a start cell (a work station) drawn with replacement, so
//   robots may share a cell at t = 0. The paper says robots start at random work stations and never
//   share a cell; every map has fewer work stations than robots, so no_overlap_start = true fills
//   the work stations first (in a random order of robots) and puts the rest on distinct free cells
//   drawn uniformly from all non-obstacle cells.
// - N: the code ties N to the map, so other N are rejected.
// - Moves: the simple 4-neighbour rule of the spec (differs from the code at one N = 8 cell, see
//   warehouse_layouts.hpp). With it no move ever targets an obstacle, so the code's -0.5 for moving
//   into a non-location never arises; only moves into a robot are charged.
// - The paper has robots pick up orders at work stations; in the code (followed) there is no
//   pick-up step: completing an order at a work station hands over the next one at once.
#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/env/concept.hpp"
#include "netmarl/env/warehouse_layouts.hpp"

namespace netmarl::env {

struct warehouse_settings {
  index agents = 4;               // N robots: 4, 8 or 16, which picks the map (3x5, 5x5, 13x9)
  index episode_length = 50;      // the paper's time limit
  bool no_overlap_start = false;  // false: the code (shared start cells); true: the paper
};

// A robot's order: what is left of its current bucket.
struct warehouse_order {
  std::array<int, 4> items{};  // items[t - 1]: items of type t still to deliver
  bool returning = false;      // all items delivered: action 5 at a work station completes it
};

class warehouse {
 public:
  using settings = warehouse_settings;
  static constexpr int view = 5;         // the field of view is view x view
  static constexpr int bucket_size = 5;  // items per order
  static constexpr int item_types = 4;
  static constexpr int observation_channels = 5;
  static constexpr int state_channels = 30;  // 5 x 6 location types (0..5), as in the code
  enum action : int { noop = 0, north = 1, south = 2, west = 3, east = 4, deliver = 5 };

  explicit warehouse(settings s = {}) : settings_(s), layout_(&warehouse_layout_for(s.agents)) {
    if (s.episode_length < 1)
      throw invalid_argument("warehouse: episode_length must be at least 1, got " +
                             std::to_string(s.episode_length));
    const auto n = static_cast<std::size_t>(s.agents);
    const auto cells = static_cast<std::size_t>(layout_->width * layout_->height);
    x_.assign(n, 0);
    y_.assign(n, 0);
    orders_.assign(n, {});
    order_.resize(n);
    occupancy_.assign(cells, 0);
    starts_.assign(layout_->starts.begin(), layout_->starts.end());
    for (index c = 0; c < static_cast<index>(cells); ++c)
      if (layout_->codes[static_cast<std::size_t>(c)] >= 0)
        open_cells_.push_back(static_cast<int>(c));
    positions_.resize(s.agents, 2);
    state_.assign(static_cast<std::size_t>(state_size()), 0.0f);
    result_.resize(s.agents, observation_size());
  }

  std::string name() const { return std::string(name_); }
  index num_agents() const { return settings_.agents; }
  index observation_size() const { return observation_channels * view * view; }
  index num_actions() const { return 6; }
  index state_size() const { return state_channels * layout_->width * layout_->height; }
  index episode_limit() const { return settings_.episode_length; }
  const settings& config() const { return settings_; }
  const warehouse_layout& layout() const { return *layout_; }

  // Where channel c of the cell at offset (dx, dy) from the robot lies in its observation.
  static index observation_index(int channel, int dx, int dy) {
    return channel * view * view + (dx + view / 2) * view + (dy + view / 2);
  }
  // Where channel c of cell (x, y) lies in state().
  index state_index(int channel, index x, index y) const {
    return (channel * layout_->width + x) * layout_->height + y;
  }

  const step_result& reset(rng& g) {
    rng_ = rng(g());  // one draw seeds the episode: starts, orders and every step's permutation
    std::fill(occupancy_.begin(), occupancy_.end(), 0);
    const index n = num_agents();
    if (!settings_.no_overlap_start) {
      for (index i = 0; i < n; ++i) {
        const auto& start = starts_[rng_.below(starts_.size())];
        put(i, start[0], start[1]);
      }
    } else {
      for (index i = 0; i < n; ++i) order_[static_cast<std::size_t>(i)] = static_cast<int>(i);
      rng_.shuffle(order_);
      // From the map's order each time, so that the same seed gives the same starts.
      starts_.assign(layout_->starts.begin(), layout_->starts.end());
      rng_.shuffle(starts_);
      for (index k = 0; k < n; ++k) {
        const index i = order_[static_cast<std::size_t>(k)];
        if (k < static_cast<index>(starts_.size())) {
          put(i, starts_[static_cast<std::size_t>(k)][0], starts_[static_cast<std::size_t>(k)][1]);
          continue;
        }
        int cell = 0;  // there are more open cells than robots in every map: this ends
        do cell = open_cells_[rng_.below(open_cells_.size())];
        while (occupancy_[static_cast<std::size_t>(cell)] > 0);
        put(i, cell % layout_->width, cell / layout_->width);
      }
    }
    for (auto& o : orders_) new_order(o);
    for (index i = 0; i < n; ++i) order_[static_cast<std::size_t>(i)] = static_cast<int>(i);
    time_ = 0;
    completed_ = 0;
    result_.begin_episode();
    observe();
    return result_;
  }

  const step_result& step(std::span<const int> actions) {
    result_.check_can_step(name_);
    check_actions(actions, num_agents(), num_actions(), name_);
    rng_.shuffle(order_);
    // In hundredths, so that sums of +1, -0.5 and -0.01 are exact.
    int team = 0;
    for (const int i : order_) team += act(i, actions[static_cast<std::size_t>(i)]);
    const float r = static_cast<float>(team) / 100.0f;
    std::fill(result_.rewards.begin(), result_.rewards.end(), r);
    result_.global_reward = r;
    ++time_;
    result_.episode_done = time_ >= settings_.episode_length;
    if (result_.episode_done)
      std::fill(result_.agent_done.begin(), result_.agent_done.end(), std::uint8_t{1});
    observe();
    return result_;
  }

  std::span<const float> state() const { return state_; }
  const matrix<float>& positions() const { return positions_; }  // [N, 2]: robot (x, y)
  // Orders completed so far in this episode, summed over robots.
  double episode_metric() const { return static_cast<double>(completed_); }
  const warehouse_order& order(index robot) const {
    check_robot(robot);
    return orders_[static_cast<std::size_t>(robot)];
  }

  // Puts robot i on cells[i] = (x, y) with orders[i], for scripted scenarios and tests (after
  // reset; the time step and the metric are kept). Cells must be open and distinct; an order holds
  // 1..5 items, or none when returning. Observations and state are rewritten.
  void arrange(std::span<const std::array<int, 2>> cells, std::span<const warehouse_order> orders) {
    if (!result_.started) throw invalid_argument("warehouse: arrange called before reset");
    const index n = num_agents();
    if (static_cast<index>(cells.size()) != n || static_cast<index>(orders.size()) != n)
      throw invalid_argument("warehouse: arrange needs " + std::to_string(n) +
                             " cells and orders, got " + std::to_string(cells.size()) + " and " +
                             std::to_string(orders.size()));
    for (std::size_t i = 0; i < cells.size(); ++i) {
      const auto [x, y] = cells[i];
      const std::string where = "robot " + std::to_string(i) + " at (" + std::to_string(x) + ", " +
                                std::to_string(y) + ")";
      if (layout_->code(x, y) < 0)
        throw invalid_argument("warehouse: arrange: " + where + " is off the map or an obstacle");
      for (std::size_t j = 0; j < i; ++j)
        if (cells[j] == cells[i])
          throw invalid_argument("warehouse: arrange: " + where + " shares the cell of robot " +
                                 std::to_string(j));
      int total = 0;
      for (const int k : orders[i].items) {
        if (k < 0) throw invalid_argument("warehouse: arrange: " + where + " has a negative count");
        total += k;
      }
      if (orders[i].returning ? total != 0 : total < 1 || total > bucket_size)
        throw invalid_argument("warehouse: arrange: " + where + " holds " + std::to_string(total) +
                               " items; an order holds 1..5, or none when returning");
    }
    std::fill(occupancy_.begin(), occupancy_.end(), 0);
    for (index i = 0; i < n; ++i) {
      put(i, cells[static_cast<std::size_t>(i)][0], cells[static_cast<std::size_t>(i)][1]);
      orders_[static_cast<std::size_t>(i)] = orders[static_cast<std::size_t>(i)];
    }
    observe();
  }

 private:
  void check_robot(index robot) const {
    if (robot < 0 || robot >= num_agents())
      throw invalid_argument("warehouse: robot " + std::to_string(robot) + " is out of range [0, " +
                             std::to_string(num_agents()) + ")");
  }

  std::size_t cell(index x, index y) const {
    return static_cast<std::size_t>(y * layout_->width + x);
  }

  void put(index i, index x, index y) {
    x_[static_cast<std::size_t>(i)] = static_cast<int>(x);
    y_[static_cast<std::size_t>(i)] = static_cast<int>(y);
    ++occupancy_[cell(x, y)];
  }

  void new_order(warehouse_order& o) {
    o = {};
    for (int k = 0; k < bucket_size; ++k) ++o.items[rng_.below(item_types)];
  }

  // Whether action 5 on a cell of this code would succeed for this order.
  static bool wanted(const warehouse_order& o, int code) {
    return o.returning ? code == 0 : code >= 2 && o.items[static_cast<std::size_t>(code - 2)] > 0;
  }

  // Robot i acts; returns its reward in hundredths.
  int act(int i, int a) {
    const auto u = static_cast<std::size_t>(i);
    const int x = x_[u], y = y_[u];
    if (a == deliver) {
      warehouse_order& o = orders_[u];
      const int code = layout_->code(x, y);
      if (!wanted(o, code)) return -1;
      if (o.returning) {  // order complete: a new one at once, and no time penalty this step
        ++completed_;
        new_order(o);
        return 100;
      }
      --o.items[static_cast<std::size_t>(code - 2)];
      o.returning = std::all_of(o.items.begin(), o.items.end(), [](int k) { return k == 0; });
      return 100 - 1;
    }
    if (a == noop) return -1;
    const int tx = x + (a == east) - (a == west), ty = y + (a == north) - (a == south);
    if (layout_->code(tx, ty) < 0) return -1;          // no edge: stay, no penalty
    if (occupancy_[cell(tx, ty)] > 0) return -50 - 1;  // blocked by a robot
    --occupancy_[cell(x, y)];
    put(i, tx, ty);
    return -1;
  }

  void observe() {
    const index n = num_agents();
    const int half = view / 2;
    result_.observations.setZero();
    std::fill(state_.begin(), state_.end(), 0.0f);
    for (index y = 0; y < layout_->height; ++y)
      for (index x = 0; x < layout_->width; ++x)
        state_[static_cast<std::size_t>(state_index(0, x, y))] =
            static_cast<float>(layout_->code(x, y));
    for (index i = 0; i < n; ++i) {
      const auto u = static_cast<std::size_t>(i);
      const int x0 = x_[u], y0 = y_[u];
      const warehouse_order& o = orders_[u];
      positions_(i, 0) = static_cast<float>(x0);
      positions_(i, 1) = static_cast<float>(y0);

      auto obs = result_.observations.row(i);
      obs(observation_index(0, 0, 0)) = 1.0f;
      for (int dx = -half; dx <= half; ++dx)
        for (int dy = -half; dy <= half; ++dy) {
          const int code = layout_->code(x0 + dx, y0 + dy);
          if (code < 0) {
            obs(observation_index(1, dx, dy)) = 1.0f;
            continue;
          }
          const int here = occupancy_[cell(x0 + dx, y0 + dy)];
          obs(observation_index(2, dx, dy)) = static_cast<float>(here - (dx == 0 && dy == 0));
          if (code >= 2 && !o.returning)
            obs(observation_index(3, dx, dy)) =
                static_cast<float>(o.items[static_cast<std::size_t>(code - 2)]);
          if (code == 0) obs(observation_index(o.returning ? 3 : 4, dx, dy)) = 1.0f;
        }

      const auto at = [&](int channel) -> float& {
        return state_[static_cast<std::size_t>(state_index(channel, x0, y0))];
      };
      at(wanted(o, layout_->code(x0, y0)) ? 1 : 2) += 1.0f;
      if (!o.returning)
        for (int t = 0; t < item_types; ++t)
          if (o.items[static_cast<std::size_t>(t)] > 0) at(5 + t) += 1.0f;
      at(9) += 1.0f;
    }
  }

  static constexpr std::string_view name_ = "warehouse";
  settings settings_;
  const warehouse_layout* layout_;
  std::vector<int> x_, y_;  // robot cells
  std::vector<warehouse_order> orders_;
  std::vector<int> order_;                          // the acting permutation
  std::vector<int> occupancy_;                      // robots per cell, by cell(x, y)
  std::vector<std::array<std::int8_t, 2>> starts_;  // the map's start cells, shuffled in place
  std::vector<int> open_cells_;                     // non-obstacle cells, by cell(x, y)
  matrix<float> positions_;
  std::vector<float> state_;
  step_result result_;
  rng rng_;
  index time_ = 0;
  long completed_ = 0;
};

static_assert(SpatialEnvironment<warehouse>);
static_assert(HasEpisodeMetric<warehouse>);

}  // namespace netmarl::env
