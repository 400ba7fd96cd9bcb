#pragma once
// Traffic grid (LToS, Yi et al., section 5.3 and tables 2-3; specs/environments.md 3.3): our own
// queue-level traffic-signal simulator standing in for the paper's CityFlow 6x6 grid.
//
// rows x cols signalised intersections (default 6x6) on a grid of 100 m blocks; intersection
// (row r, column c) is agent r * cols + c, row 0 the northmost, column 0 the westmost. graph() is
// the 4-neighbour grid with self-loops (graph::grid2d); positions() puts agent i at (x = c, y = r).
//
// Vehicles drive straight across a full row or column: a route is a heading (southbound,
// northbound, westbound, eastbound) and a line (the column for south/northbound, the row for
// west/eastbound); 2 (rows + cols) routes. A vehicle enters at the border, queues at every
// intersection of its line in turn and leaves at the far side. Each intersection has one incoming
// queue per approach: north (vehicles heading south), south, east, west (approach index == heading
// index, see traffic_heading).
//
// Arrivals: the paper's table 2, network-wide 1, 1/4, 1/3, 2, 1/5, 1/2 vehicles/s in six
// consecutive 600 s windows (settings.schedule). Each rate is multiplied by rate_scale, by default
// (rows + cols) / 12 so that every route carries the rate it has on 6x6 (24 routes). By default
// arrivals are evenly spaced: a window of d seconds at rate q gets round(d q) vehicles at times
// t0 + (k + 1/2) d / n, so 6x6 draws exactly 600 + 150 + 200 + 1200 + 120 + 300 = 2570 vehicles,
// the count of the paper's flow file; settings.poisson_arrivals draws a Poisson process instead.
// Each vehicle's route is uniform over the routes, drawn at reset from the rng (nothing random
// happens in step). settings.arrivals (a test hook) replaces the schedule by an explicit list.
//
// One step is one decision of every intersection: a phase for the next decision_seconds (10 s):
//   0 through north-south (serves the north and south approaches), 1 through east-west (east and
//   west), 2 left north-south, 3 left east-west.
// Routes are straight, so the left phases serve nobody (the paper's phase set has them; learning
// not to use them is part of the task). Every intersection starts an episode in phase 0. When the
// phase differs from the previous one, the first yellow_seconds (5 s) of the interval discharge
// nothing at that intersection. The episode is horizon_seconds / decision_seconds steps (rounded
// down; 3600 / 10 = 360) and ends there; vehicles still inside are counted as they are.
//
// Queues, simulated in whole seconds (all integer counts, deterministic). Within each second:
//   1. vehicles due to arrive join their route's wait outside the network, and enter the first lane
//      of the route (FIFO per route) while it has room;
//   2. every green approach (served by the phase, past the yellow) gains saturation_flow vehicles
//      of service credit and discharges floor(credit) vehicles, at most its queue and at most the
//      room left on the downstream lane at the start of the second (spillback: a lane holds
//      lane_capacity vehicles, queued or driving). An approach that is not green loses its credit;
//      one held back by an empty queue or a full lane keeps max(0, 1 - saturation_flow), so a
//      vehicle reaching an idle green leaves within the second but no capacity is stored. Over g
//      seconds of continuous green a long queue discharges exactly floor(saturation_flow * g).
// A discharged vehicle drives the next block for the rest of the interval (it is counted on the
// downstream lane, "in transit") and joins that intersection's queue at the start of the next
// step: travel time is one step (about 10 s for 100 m). At the far border it leaves the network.
// The paper's roads have 3 lanes (left, through, right); here each approach is one through
// movement: saturation_flow = 0.5 vehicles/s is one through lane's 1800 vehicles/h, and
// lane_capacity = 40 is about 100 m of 3 lanes at 7.5 m per vehicle.
//
// Observation of intersection i (8 floats): one-hot current phase (4), then the vehicles on each
// incoming lane (queued plus in transit) for the north, south, east and west approaches, divided by
// lane_capacity (so in [0, 1]). state(): all observations concatenated, agent-major (8 N floats).
// Reward r_i = -0.25 x the vehicles queued (stopped) on i's incoming lanes at the end of the step
// (in-transit vehicles are moving and not counted); global_reward = sum_i r_i.
//
// episode_metric(): the paper's table 3 metric, the average number of red lights a vehicle waits
// for per intersection (lower is better; the paper's loose lower bound is 0.50). At the end of
// every decision interval each vehicle queued on an approach that the interval's phase does not
// serve has waited one red light (nothing leaves a red approach, so these are all vehicles that
// stood at that red). Each red interval counts one, so several consecutive red decisions count
// several: the metric is then the red waiting time in decision intervals, which is the paper's
// objective (wait time), and only this reading lets a policy that blocks one direction for good
// score far above 1 (QMIX's 5.94 in table 3). An interval that switches to serve the approach is
// not red, yellow included. The total is divided by the intersection passages: vehicles x
// intersections whose queue they joined, partial passages of vehicles still inside included.
// Vehicles waiting outside the network (their first lane full) have not reached an intersection
// and are not counted. Absolute values are not comparable with CityFlow's; the ranking is.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
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

// A route's heading; its value is the approach its vehicles queue at (0 north, 1 south, 2 east,
// 3 west): a southbound vehicle arrives from the north.
enum class traffic_heading : int { southbound = 0, northbound = 1, westbound = 2, eastbound = 3 };

// One window of the arrival schedule: `rate` vehicles/s network-wide (on 6x6; scaled by
// rate_scale) for `duration_s` seconds.
struct traffic_window {
  double duration_s = 600;
  double rate = 1;
};

// An explicit arrival (settings.arrivals): a vehicle of route (heading, line) wanting to enter at
// whole second `second` of the episode. line: the column for south/northbound, the row for
// west/eastbound.
struct traffic_arrival {
  index second = 0;
  traffic_heading heading = traffic_heading::eastbound;
  index line = 0;
};

// LToS table 2: six 600 s windows at 1, 1/4, 1/3, 2, 1/5, 1/2 vehicles/s (2570 vehicles on 6x6).
inline std::vector<traffic_window> ltos_traffic_schedule() {
  return {{600, 1.0}, {600, 1.0 / 4}, {600, 1.0 / 3}, {600, 2.0}, {600, 1.0 / 5}, {600, 1.0 / 2}};
}

struct traffic_grid_settings {
  index rows = 6;  // the paper's 6x6 grid; any rows, cols >= 1
  index cols = 6;
  std::vector<traffic_window> schedule = ltos_traffic_schedule();
  // Multiplies every schedule rate. Negative: automatic, (rows + cols) / 12, which keeps each
  // route's rate that of the paper's 6x6 grid.
  double rate_scale = -1;
  bool poisson_arrivals = false;  // false: evenly spaced (exactly 2570 on 6x6); true: Poisson
  // Test hook: when nonempty, exactly these vehicles arrive (schedule and rng are not used).
  std::vector<traffic_arrival> arrivals = {};
  index decision_seconds = 10;   // the paper's 10 s decision interval
  index yellow_seconds = 5;      // lost at a phase change (spec 3.3: a 5 s yellow)
  index horizon_seconds = 3600;  // table 2's hour
  // Vehicles/s one green approach discharges: 0.5 = 1800 veh/h, one through lane. Fixed-time
  // cycling then serves the 2 veh/s peak; uniformly random phases do not.
  double saturation_flow = 0.5;
  index lane_capacity = 40;  // vehicles one 100 m road holds (3 lanes x 100 m / 7.5 m)
};

class traffic_grid {
 public:
  using settings = traffic_grid_settings;
  static constexpr int approaches = 4;  // north, south, east, west
  static constexpr int phases = 4;
  static constexpr int observation_floats = phases + approaches;
  static constexpr float reward_per_vehicle = -0.25f;  // the paper's -0.25 x queue length
  enum approach : int { north = 0, south = 1, east = 2, west = 3 };
  enum phase : int { ns_through = 0, ew_through = 1, ns_left = 2, ew_left = 3 };

  explicit traffic_grid(settings s = {}) : settings_(std::move(s)) {
    validate();
    const settings& c = settings_;
    rows_ = c.rows;
    cols_ = c.cols;
    steps_ = c.horizon_seconds / c.decision_seconds;
    rate_scale_ = c.rate_scale < 0 ? static_cast<double>(c.rows + c.cols) / 12.0 : c.rate_scale;
    const index n = rows_ * cols_;
    graph_ = graph::grid2d(rows_, cols_);
    positions_.resize(n, 2);
    for (index i = 0; i < n; ++i)
      positions_.row(i) << static_cast<float>(i % cols_), static_cast<float>(i / cols_);

    const auto lanes = static_cast<std::size_t>(n * approaches);
    downstream_.assign(lanes, -1);
    for (index r = 0; r < rows_; ++r)
      for (index col = 0; col < cols_; ++col) {
        const index i = r * cols_ + col;
        if (r + 1 < rows_) downstream_[lane(i, north)] = lane(i + cols_, north);
        if (r > 0) downstream_[lane(i, south)] = lane(i - cols_, south);
        if (col > 0) downstream_[lane(i, east)] = lane(i - 1, east);
        if (col + 1 < cols_) downstream_[lane(i, west)] = lane(i + 1, west);
      }
    const index routes = num_routes();
    entry_lane_.assign(static_cast<std::size_t>(routes), 0);
    for (index line = 0; line < cols_; ++line) {
      entry_lane_[route_slot(traffic_heading::southbound, line)] = lane(line, north);
      entry_lane_[route_slot(traffic_heading::northbound, line)] =
          lane((rows_ - 1) * cols_ + line, south);
    }
    for (index line = 0; line < rows_; ++line) {
      entry_lane_[route_slot(traffic_heading::westbound, line)] =
          lane(line * cols_ + cols_ - 1, east);
      entry_lane_[route_slot(traffic_heading::eastbound, line)] = lane(line * cols_, west);
    }

    queue_.assign(lanes, 0);
    transit_.assign(lanes, 0);
    moving_.assign(lanes, 0);
    credit_.assign(lanes, 0.0);
    pending_.assign(static_cast<std::size_t>(routes), 0);
    phase_.assign(static_cast<std::size_t>(n), 0);
    yellow_.assign(static_cast<std::size_t>(n), 0);
    if (!c.arrivals.empty()) {
      for (const traffic_arrival& a : c.arrivals)
        explicit_.push_back({a.second, static_cast<int>(route_slot(a.heading, a.line))});
      std::stable_sort(explicit_.begin(), explicit_.end(),
                       [](const arrival& x, const arrival& y) { return x.second < y.second; });
    }
    result_.resize(n, observation_floats);
    result_.observations.setZero();
  }

  std::string name() const { return name_; }
  index num_agents() const { return rows_ * cols_; }
  index observation_size() const { return observation_floats; }
  index num_actions() const { return phases; }
  index state_size() const { return num_agents() * observation_floats; }
  index episode_limit() const { return steps_; }
  const settings& config() const { return settings_; }
  index rows() const { return rows_; }
  index cols() const { return cols_; }
  index num_routes() const { return 2 * (rows_ + cols_); }
  double rate_scale() const { return rate_scale_; }  // the factor in use (automatic resolved)

  const step_result& reset(rng& g) {
    std::fill(queue_.begin(), queue_.end(), 0);
    std::fill(transit_.begin(), transit_.end(), 0);
    std::fill(moving_.begin(), moving_.end(), 0);
    std::fill(credit_.begin(), credit_.end(), 0.0);
    std::fill(pending_.begin(), pending_.end(), 0);
    std::fill(phase_.begin(), phase_.end(), 0);
    std::fill(yellow_.begin(), yellow_.end(), 0);
    draw_arrivals(g);
    next_arrival_ = 0;
    pending_total_ = 0;
    time_ = 0;
    step_count_ = 0;
    entered_ = exited_ = red_waits_ = passages_ = 0;
    result_.begin_episode();
    observe();
    return result_;
  }

  const step_result& step(std::span<const int> actions) {
    result_.check_can_step(name_);
    check_actions(actions, num_agents(), num_actions(), name_);
    const index n = num_agents();
    const index lanes = n * approaches;
    // Vehicles that crossed an intersection during the last interval reach the next stop line.
    for (index l = 0; l < lanes; ++l) {
      const auto ul = static_cast<std::size_t>(l);
      if (transit_[ul] == 0) continue;
      queue_[ul] += transit_[ul];
      passages_ += transit_[ul];
      transit_[ul] = 0;
    }
    for (index i = 0; i < n; ++i) {
      const auto ui = static_cast<std::size_t>(i);
      const int a = actions[ui];
      yellow_[ui] = a == phase_[ui] ? 0 : static_cast<int>(settings_.yellow_seconds);
      phase_[ui] = a;
    }
    for (index sec = 0; sec < settings_.decision_seconds; ++sec) {
      const index t = time_ + sec;
      while (next_arrival_ < arrivals_.size() && arrivals_[next_arrival_].second <= t) {
        ++pending_[static_cast<std::size_t>(arrivals_[next_arrival_].route)];
        ++pending_total_;
        ++next_arrival_;
      }
      if (pending_total_ > 0) enter_waiting();
      discharge(sec);
    }
    time_ += settings_.decision_seconds;
    ++step_count_;

    float total = 0;
    for (index i = 0; i < n; ++i) {
      const int p = phase_[static_cast<std::size_t>(i)];
      index stopped = 0;
      for (int a = 0; a < approaches; ++a) {
        const index q = queue_[lane(i, a)];
        stopped += q;
        if (!serves(p, a)) red_waits_ += q;
      }
      const float r = reward_per_vehicle * static_cast<float>(stopped);
      result_.rewards[static_cast<std::size_t>(i)] = r;
      total += r;
    }
    result_.global_reward = total;
    result_.episode_done = step_count_ >= steps_;
    if (result_.episode_done)
      std::fill(result_.agent_done.begin(), result_.agent_done.end(), std::uint8_t{1});
    observe();
    return result_;
  }

  std::span<const float> state() const {
    return {result_.observations.data(), static_cast<std::size_t>(state_size())};
  }
  const matrix<float>& positions() const { return positions_; }  // [N, 2]: (column, row)
  const graph::csr& graph() const { return graph_; }

  // Red lights waited per intersection passage (see the header comment); 0 before any passage.
  double episode_metric() const {
    return passages_ == 0 ? 0.0
                          : static_cast<double>(red_waits_) / static_cast<double>(passages_);
  }

  // Counters of the current episode. entered == exited + inside at every step.
  index vehicles_scheduled() const { return static_cast<index>(arrivals_.size()); }
  index vehicles_entered() const { return entered_; }
  index vehicles_exited() const { return exited_; }
  index vehicles_inside() const { return entered_ - exited_; }
  // Arrived but not yet entered (the first lane of their route was full).
  index vehicles_waiting_to_enter() const { return pending_total_; }
  index total_red_waits() const { return red_waits_; }
  index intersection_passages() const { return passages_; }
  index time_seconds() const { return time_; }  // simulated seconds since reset

  int current_phase(index agent) const {
    check_agent(agent, "current_phase");
    return phase_[static_cast<std::size_t>(agent)];
  }
  // Vehicles stopped in the queue of approach `a` (north, south, east, west) of an intersection.
  index queue_length(index agent, int a) const {
    check_lane(agent, a, "queue_length");
    return queue_[lane(agent, a)];
  }
  // Vehicles driving on that incoming lane, reaching its queue at the start of the next step.
  index in_transit(index agent, int a) const {
    check_lane(agent, a, "in_transit");
    return transit_[lane(agent, a)];
  }

  // Whether phase p gives green to approach a.
  static constexpr bool serves(int p, int a) {
    return (p == ns_through && (a == north || a == south)) ||
           (p == ew_through && (a == east || a == west));
  }

 private:
  struct arrival {
    index second;
    int route;
  };

  static std::size_t lane(index agent, int a) {
    return static_cast<std::size_t>(agent * approaches + a);
  }

  // The route's slot: southbound columns, northbound columns, westbound rows, eastbound rows.
  std::size_t route_slot(traffic_heading h, index line) const {
    switch (h) {
      case traffic_heading::southbound: return static_cast<std::size_t>(line);
      case traffic_heading::northbound: return static_cast<std::size_t>(cols_ + line);
      case traffic_heading::westbound: return static_cast<std::size_t>(2 * cols_ + line);
      case traffic_heading::eastbound: return static_cast<std::size_t>(2 * cols_ + rows_ + line);
    }
    return 0;
  }

  void fail(const std::string& what) const { throw invalid_argument(name_ + ": " + what); }

  void validate() const {
    const settings& c = settings_;
    const auto num = [](double v) { return std::to_string(v); };
    if (c.rows < 1) fail("settings.rows must be at least 1, got " + std::to_string(c.rows));
    if (c.cols < 1) fail("settings.cols must be at least 1, got " + std::to_string(c.cols));
    if (c.yellow_seconds < 0)
      fail("settings.yellow_seconds must be at least 0, got " + std::to_string(c.yellow_seconds));
    if (c.decision_seconds <= c.yellow_seconds)
      fail("settings.decision_seconds must exceed yellow_seconds (" +
           std::to_string(c.yellow_seconds) + "), got " + std::to_string(c.decision_seconds));
    if (c.horizon_seconds < c.decision_seconds)
      fail("settings.horizon_seconds must be at least decision_seconds (" +
           std::to_string(c.decision_seconds) + "), got " + std::to_string(c.horizon_seconds));
    if (!(c.saturation_flow > 0) || !std::isfinite(c.saturation_flow))
      fail("settings.saturation_flow must be positive and finite, got " + num(c.saturation_flow));
    if (c.lane_capacity < 1)
      fail("settings.lane_capacity must be at least 1, got " + std::to_string(c.lane_capacity));
    if (std::isnan(c.rate_scale) || std::isinf(c.rate_scale))
      fail("settings.rate_scale must be finite (negative: automatic), got " + num(c.rate_scale));
    if (c.schedule.empty()) fail("settings.schedule must have at least one window");
    for (std::size_t w = 0; w < c.schedule.size(); ++w) {
      const traffic_window& win = c.schedule[w];
      if (!(win.duration_s > 0) || !std::isfinite(win.duration_s))
        fail("settings.schedule[" + std::to_string(w) + "].duration_s must be positive, got " +
             num(win.duration_s));
      if (!(win.rate >= 0) || !std::isfinite(win.rate))
        fail("settings.schedule[" + std::to_string(w) + "].rate must be at least 0, got " +
             num(win.rate));
    }
    for (std::size_t k = 0; k < c.arrivals.size(); ++k) {
      const traffic_arrival& a = c.arrivals[k];
      const std::string which = "settings.arrivals[" + std::to_string(k) + "]";
      const int h = static_cast<int>(a.heading);
      if (h < 0 || h > 3) fail(which + ".heading must be 0..3, got " + std::to_string(h));
      const bool vertical =
          a.heading == traffic_heading::southbound || a.heading == traffic_heading::northbound;
      const index lines = vertical ? c.cols : c.rows;
      if (a.line < 0 || a.line >= lines)
        fail(which + ".line must be in [0, " + std::to_string(lines) + ") (a " +
             (vertical ? "column" : "row") + "), got " + std::to_string(a.line));
      if (a.second < 0 || a.second >= c.horizon_seconds)
        fail(which + ".second must be in [0, " + std::to_string(c.horizon_seconds) + "), got " +
             std::to_string(a.second));
    }
  }

  void check_agent(index agent, const char* who) const {
    if (agent < 0 || agent >= num_agents())
      fail(std::string(who) + ": intersection " + std::to_string(agent) + " is out of range [0, " +
           std::to_string(num_agents()) + ")");
  }
  void check_lane(index agent, int a, const char* who) const {
    check_agent(agent, who);
    if (a < 0 || a >= approaches)
      fail(std::string(who) + ": approach " + std::to_string(a) + " is out of range [0, 4)");
  }

  // This episode's arrivals, sorted by second. Only seconds the episode simulates are kept.
  void draw_arrivals(rng& g) {
    arrivals_.clear();
    const index end = steps_ * settings_.decision_seconds;
    if (!explicit_.empty()) {
      for (const arrival& a : explicit_)
        if (a.second < end) arrivals_.push_back(a);
      return;
    }
    const auto routes = static_cast<std::uint64_t>(num_routes());
    double start = 0;
    for (const traffic_window& w : settings_.schedule) {
      const double rate = w.rate * rate_scale_;
      const double stop = start + w.duration_s;
      if (rate > 0) {
        if (settings_.poisson_arrivals) {
          double t = start;
          for (;;) {
            t += -std::log1p(-g.uniform()) / rate;  // exponential gap; 1 - u is in (0, 1]
            if (t >= stop || t >= static_cast<double>(end)) break;
            push_arrival(t, g, routes);
          }
        } else {
          const auto count = static_cast<index>(std::llround(w.duration_s * rate));
          for (index k = 0; k < count; ++k) {
            const double t = start + (static_cast<double>(k) + 0.5) * w.duration_s /
                                         static_cast<double>(count);
            if (t >= static_cast<double>(end)) break;
            push_arrival(t, g, routes);
          }
        }
      }
      start = stop;
      if (start >= static_cast<double>(end)) break;
    }
  }

  void push_arrival(double t, rng& g, std::uint64_t routes) {
    arrivals_.push_back({static_cast<index>(std::floor(t)), static_cast<int>(g.below(routes))});
  }

  // Vehicles waiting outside enter the first lane of their route while it has room.
  void enter_waiting() {
    const index capacity = settings_.lane_capacity;
    for (std::size_t r = 0; r < pending_.size(); ++r) {
      if (pending_[r] == 0) continue;
      const auto l = static_cast<std::size_t>(entry_lane_[r]);
      const index room = capacity - queue_[l] - transit_[l];
      const index k = std::min(pending_[r], room);
      if (k <= 0) continue;
      queue_[l] += k;
      pending_[r] -= k;
      pending_total_ -= k;
      entered_ += k;
      passages_ += k;
    }
  }

  // One second of service at every intersection. Room downstream is read as it was at the start
  // of the second (first pass), so the result does not depend on the order of intersections.
  void discharge(index sec) {
    const index n = num_agents();
    const double flow = settings_.saturation_flow;
    const double idle_credit = std::max(0.0, 1.0 - flow);
    const index capacity = settings_.lane_capacity;
    for (index i = 0; i < n; ++i) {
      const auto ui = static_cast<std::size_t>(i);
      const bool green = sec >= yellow_[ui];
      for (int a = 0; a < approaches; ++a) {
        const std::size_t l = lane(i, a);
        moving_[l] = 0;
        if (!green || !serves(phase_[ui], a)) {
          credit_[l] = 0;
          continue;
        }
        credit_[l] += flow;
        const index d = downstream_[l];
        const index room =
            d < 0 ? queue_[l]
                  : capacity - queue_[static_cast<std::size_t>(d)] -
                        transit_[static_cast<std::size_t>(d)];
        // The epsilon keeps sums like 0.1 + ... + 0.1 = 0.9999999 from losing a vehicle.
        const auto can = static_cast<index>(std::floor(credit_[l] + 1e-9));
        const index k = std::max(index{0}, std::min({can, queue_[l], room}));
        // Held back by the queue or the lane ahead: keep just enough for the next vehicle.
        credit_[l] = k < can ? idle_credit : std::max(0.0, credit_[l] - static_cast<double>(k));
        moving_[l] = k;
      }
    }
    const index lanes = n * approaches;
    for (index l = 0; l < lanes; ++l) {
      const auto ul = static_cast<std::size_t>(l);
      const index k = moving_[ul];
      if (k == 0) continue;
      queue_[ul] -= k;
      const index d = downstream_[ul];
      if (d < 0)
        exited_ += k;
      else
        transit_[static_cast<std::size_t>(d)] += k;
    }
  }

  void observe() {
    const index n = num_agents();
    const float scale = 1.0f / static_cast<float>(settings_.lane_capacity);
    for (index i = 0; i < n; ++i) {
      auto row = result_.observations.row(i);
      const int p = phase_[static_cast<std::size_t>(i)];
      for (int k = 0; k < phases; ++k) row(k) = k == p ? 1.0f : 0.0f;
      for (int a = 0; a < approaches; ++a) {
        const std::size_t l = lane(i, a);
        row(phases + a) = static_cast<float>(queue_[l] + transit_[l]) * scale;
      }
    }
  }

  // Held, not built per call: name() and the checks in step would otherwise build a string.
  std::string name_ = "traffic_grid";
  settings settings_;
  index rows_ = 0;
  index cols_ = 0;
  index steps_ = 0;
  double rate_scale_ = 1;
  graph::csr graph_;
  matrix<float> positions_;
  std::vector<index> downstream_;  // per lane: the next lane of the same route, -1 at the border
  std::vector<index> entry_lane_;  // per route: its first lane
  std::vector<index> queue_;       // per lane (intersection * 4 + approach): stopped vehicles
  std::vector<index> transit_;     // per lane: vehicles driving to the stop line
  std::vector<index> moving_;      // per lane: discharges this second (scratch)
  std::vector<double> credit_;     // per lane: service credit of a green approach
  std::vector<index> pending_;     // per route: arrived, waiting to enter
  std::vector<int> phase_;         // per intersection
  std::vector<int> yellow_;        // per intersection: yellow seconds of the current interval
  std::vector<arrival> explicit_;  // settings.arrivals, sorted
  std::vector<arrival> arrivals_;  // this episode's arrivals, sorted by second
  std::size_t next_arrival_ = 0;
  index pending_total_ = 0;
  index time_ = 0;
  index step_count_ = 0;
  index entered_ = 0;
  index exited_ = 0;
  index red_waits_ = 0;
  index passages_ = 0;
  step_result result_;
};

static_assert(SpatialEnvironment<traffic_grid>);
static_assert(HasEpisodeMetric<traffic_grid>);

}  // namespace netmarl::env
