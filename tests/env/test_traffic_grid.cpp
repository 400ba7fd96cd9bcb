#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/env/concept.hpp"
#include "netmarl/env/traffic_grid.hpp"
#include "netmarl/graph/csr.hpp"
#include "netmarl/graph/generators.hpp"

// Counts heap allocations in this binary, so "step allocates nothing" is measured.
#include "support/count_allocations.hpp"

namespace env = netmarl::env;
using idx = netmarl::index;
using Catch::Contains;
using env::traffic_arrival;
using env::traffic_grid;
using env::traffic_heading;
using netmarl::invalid_argument;

static_assert(env::Environment<traffic_grid>);
static_assert(env::SpatialEnvironment<traffic_grid>);
static_assert(env::HasEpisodeMetric<traffic_grid>);

namespace {

constexpr int N = traffic_grid::north;
constexpr int S = traffic_grid::south;
constexpr int E = traffic_grid::east;
constexpr int W = traffic_grid::west;

// A small grid fed only by the listed vehicles.
traffic_grid::settings scripted(idx rows, idx cols, std::vector<traffic_arrival> arrivals) {
  traffic_grid::settings s;
  s.rows = rows;
  s.cols = cols;
  s.arrivals = std::move(arrivals);
  return s;
}

// `count` vehicles of one route, all wanting to enter at second `second`.
std::vector<traffic_arrival> platoon(int count, traffic_heading h, idx line = 0, idx second = 0) {
  return std::vector<traffic_arrival>(static_cast<std::size_t>(count), {second, h, line});
}

// Vehicles on the lanes and waiting outside, summed over the network.
idx vehicles_on_lanes(const traffic_grid& e) {
  idx total = 0;
  for (idx i = 0; i < e.num_agents(); ++i)
    for (int a = 0; a < traffic_grid::approaches; ++a)
      total += e.queue_length(i, a) + e.in_transit(i, a);
  return total;
}

const env::step_result& step_all(traffic_grid& e, int phase) {
  const std::vector<int> actions(static_cast<std::size_t>(e.num_agents()), phase);
  return e.step(actions);
}

template <class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const invalid_argument& error) {
    return error.what();
  }
  return "(no exception)";
}

}  // namespace

TEST_CASE("traffic_grid: sizes and defaults", "[env][traffic_grid]") {
  traffic_grid e;
  CHECK(e.name() == "traffic_grid");
  CHECK(e.num_agents() == 36);
  CHECK(e.observation_size() == 8);
  CHECK(e.num_actions() == 4);
  CHECK(e.state_size() == 36 * 8);
  CHECK(e.episode_limit() == 360);  // 3600 s / 10 s
  CHECK(e.num_routes() == 24);
  CHECK(e.rate_scale() == 1.0);
  netmarl::rng g(1);
  const auto& r = e.reset(g);
  CHECK(r.observations.rows() == 36);
  CHECK(r.observations.cols() == 8);
  CHECK(static_cast<idx>(e.state().size()) == 36 * 8);
  CHECK(e.positions().rows() == 36);
  CHECK(e.episode_metric() == 0.0);

  traffic_grid small({.rows = 4, .cols = 4});
  CHECK(small.num_agents() == 16);
  CHECK(small.rate_scale() == Approx(8.0 / 12.0));
  traffic_grid line({.rows = 1, .cols = 3, .horizon_seconds = 95});
  CHECK(line.episode_limit() == 9);  // rounded down
}

TEST_CASE("traffic_grid: the graph is the 4-neighbour grid with self-loops", "[env][traffic_grid]") {
  traffic_grid e;
  const auto& g = e.graph();
  CHECK(g == netmarl::graph::grid2d(6, 6));
  netmarl::graph::check_csr(g);
  const auto nb = [&](idx i) {
    const auto s = netmarl::graph::neighbors(g, i);
    return std::vector<int>(s.begin(), s.end());
  };
  CHECK(nb(0) == std::vector<int>{0, 1, 6});            // corner
  CHECK(nb(3) == std::vector<int>{3, 2, 4, 9});         // north border
  CHECK(nb(14) == std::vector<int>{14, 8, 13, 15, 20});  // interior: self, N, W, E, S
  CHECK(nb(35) == std::vector<int>{35, 29, 34});
  CHECK(netmarl::graph::num_undirected_edges(g) == 60);

  traffic_grid one({.rows = 1, .cols = 1});
  CHECK(nb(0).size() == 3);
  CHECK(netmarl::graph::neighbors(one.graph(), 0).size() == 1);
  traffic_grid wide({.rows = 2, .cols = 3});
  CHECK(wide.graph() == netmarl::graph::grid2d(2, 3));
  CHECK(wide.positions()(5, 0) == 2.0f);  // agent 5 is row 1, column 2
  CHECK(wide.positions()(5, 1) == 1.0f);
}

TEST_CASE("traffic_grid: the LToS schedule draws 2570 vehicles on 6x6", "[env][traffic_grid]") {
  traffic_grid even;
  for (std::uint64_t seed : {0u, 1u, 7u}) {
    netmarl::rng g(seed);
    even.reset(g);
    CHECK(even.vehicles_scheduled() == 2570);  // 600 + 150 + 200 + 1200 + 120 + 300
  }
  // 4x4 keeps the per-route rate: every window's count times 2/3, rounded.
  traffic_grid small({.rows = 4, .cols = 4});
  netmarl::rng g4(0);
  small.reset(g4);
  CHECK(small.vehicles_scheduled() == 400 + 100 + 133 + 800 + 80 + 200);

  traffic_grid poisson({.poisson_arrivals = true});
  double total = 0;
  for (std::uint64_t seed = 0; seed < 8; ++seed) {
    netmarl::rng g(seed);
    poisson.reset(g);
    const auto count = static_cast<double>(poisson.vehicles_scheduled());
    CHECK(std::abs(count - 2570.0) < 0.06 * 2570.0);  // sd ~ 51, 2%
    total += count;
  }
  CHECK(std::abs(total / 8.0 - 2570.0) < 0.02 * 2570.0);

  // An explicit rate_scale; a zero rate draws nobody.
  traffic_grid doubled({.rate_scale = 2.0});
  netmarl::rng gd(0);
  doubled.reset(gd);
  CHECK(doubled.vehicles_scheduled() == 5140);
  traffic_grid empty({.schedule = {{3600, 0.0}}});
  netmarl::rng ge(0);
  empty.reset(ge);
  CHECK(empty.vehicles_scheduled() == 0);
}

TEST_CASE("traffic_grid: vehicles are conserved under random phases", "[env][traffic_grid]") {
  for (const idx side : {6, 4}) {
    traffic_grid e({.rows = side, .cols = side});
    netmarl::rng g(3);
    netmarl::rng policy(11);
    e.reset(g);
    std::vector<int> actions(static_cast<std::size_t>(e.num_agents()));
    idx steps = 0;
    bool done = false;
    while (!done) {
      for (int& a : actions) a = static_cast<int>(policy.below(4));
      done = e.step(actions).episode_done;
      ++steps;
      REQUIRE(e.vehicles_entered() == e.vehicles_exited() + e.vehicles_inside());
      REQUIRE(e.vehicles_inside() == vehicles_on_lanes(e));
      REQUIRE(e.vehicles_exited() >= 0);
      REQUIRE(e.vehicles_inside() >= 0);
    }
    CHECK(steps == 360);
    CHECK(e.time_seconds() == 3600);
    // Every drawn vehicle arrived within the hour: it entered or waits at the border.
    CHECK(e.vehicles_entered() + e.vehicles_waiting_to_enter() == e.vehicles_scheduled());
    CHECK(e.vehicles_exited() > 0);
    CHECK(e.intersection_passages() >= e.vehicles_entered());
    CHECK(e.episode_metric() > 0.0);
  }
}

TEST_CASE("traffic_grid: an always-red approach keeps growing and the reward falls",
          "[env][traffic_grid]") {
  // One vehicle per second from the north for 300 s; the light stays east-west.
  std::vector<traffic_arrival> arrivals;
  for (idx t = 0; t < 300; ++t) arrivals.push_back({t, traffic_heading::southbound, 0});
  traffic_grid e(scripted(1, 1, arrivals));
  netmarl::rng g(0);
  e.reset(g);
  float previous = 0;
  for (int k = 1; k <= 4; ++k) {
    const auto& r = step_all(e, traffic_grid::ew_through);
    CHECK(e.queue_length(0, N) == 10 * k);
    CHECK(r.rewards[0] == Approx(-0.25 * 10 * k));
    CHECK(r.global_reward == r.rewards[0]);
    CHECK(r.rewards[0] < previous);
    previous = r.rewards[0];
  }
  // The lane is full at 40: later arrivals wait outside, and nobody leaves.
  for (int k = 5; k <= 8; ++k) step_all(e, traffic_grid::ew_through);
  CHECK(e.queue_length(0, N) == 40);
  CHECK(e.vehicles_waiting_to_enter() == 40);
  CHECK(e.vehicles_exited() == 0);
  CHECK(e.step(std::vector<int>{traffic_grid::ew_through}).rewards[0] == Approx(-10.0));
}

TEST_CASE("traffic_grid: always-green throughput is saturation flow x green seconds",
          "[env][traffic_grid]") {
  // An isolated intersection with a long queue from the north; phase 0 (north-south) is the
  // starting phase, so there is no yellow.
  for (const double flow : {0.5, 0.3, 1.0, 2.0}) {
    auto s = scripted(1, 1, platoon(400, traffic_heading::southbound));
    s.saturation_flow = flow;
    s.lane_capacity = 100;
    traffic_grid e(s);
    netmarl::rng g(0);
    e.reset(g);
    for (int k = 1; k <= 6; ++k) {
      step_all(e, traffic_grid::ns_through);
      CAPTURE(flow, k);
      CHECK(e.vehicles_exited() == static_cast<idx>(std::floor(flow * 10 * k + 1e-9)));
    }
  }
  // Default 0.5 vehicles/s: exactly 5 per 10 s step.
  traffic_grid e(scripted(1, 1, platoon(200, traffic_heading::southbound)));
  netmarl::rng g(0);
  e.reset(g);
  idx before = 0;
  for (int k = 0; k < 10; ++k) {
    step_all(e, traffic_grid::ns_through);
    CHECK(e.vehicles_exited() - before == 5);
    before = e.vehicles_exited();
  }
}

TEST_CASE("traffic_grid: a phase change costs the yellow time", "[env][traffic_grid]") {
  // 30 vehicles from the west and 30 from the north wait at an isolated intersection that
  // starts in phase 0.
  auto arrivals = platoon(30, traffic_heading::eastbound);
  const auto north = platoon(30, traffic_heading::southbound);
  arrivals.insert(arrivals.end(), north.begin(), north.end());
  traffic_grid e(scripted(1, 1, arrivals));
  netmarl::rng g(0);
  e.reset(g);
  CHECK(e.current_phase(0) == traffic_grid::ns_through);

  // Switch to east-west: 5 s yellow (nothing moves, the north queue included), then 5 s green at
  // 0.5 vehicles/s: 2 vehicles, with half a vehicle of credit carried on.
  step_all(e, traffic_grid::ew_through);
  CHECK(e.current_phase(0) == traffic_grid::ew_through);
  CHECK(e.vehicles_exited() == 2);
  CHECK(e.queue_length(0, W) == 28);
  CHECK(e.queue_length(0, N) == 30);
  // Keep it: no yellow, 15 s of green so far: floor(7.5) = 7.
  step_all(e, traffic_grid::ew_through);
  CHECK(e.vehicles_exited() == 7);
  // Back to north-south: the west queue stops; the north one gets 5 s of green.
  step_all(e, traffic_grid::ns_through);
  CHECK(e.vehicles_exited() == 9);
  CHECK(e.queue_length(0, N) == 28);
  CHECK(e.queue_length(0, W) == 23);

  // Without yellow the switch loses nothing.
  auto s = scripted(1, 1, platoon(100, traffic_heading::eastbound));
  s.yellow_seconds = 0;
  traffic_grid no_yellow(s);
  no_yellow.reset(g);
  step_all(no_yellow, traffic_grid::ew_through);
  CHECK(no_yellow.vehicles_exited() == 5);
}

TEST_CASE("traffic_grid: the red-light metric on one vehicle", "[env][traffic_grid]") {
  // One eastbound vehicle crosses a 1x2 grid: intersection 0 (west), then 1 (east).
  const auto one = platoon(1, traffic_heading::eastbound);
  netmarl::rng g(0);

  SECTION("a red light at each intersection: 2 red lights / 2 passages") {
    traffic_grid e(scripted(1, 2, one));
    e.reset(g);
    e.step(std::vector<int>{0, 0});  // queued at 0 under north-south: one red light
    CHECK(e.total_red_waits() == 1);
    CHECK(e.intersection_passages() == 1);
    e.step(std::vector<int>{1, 0});  // 0 turns green after the yellow; it drives on to 1
    CHECK(e.total_red_waits() == 1);
    CHECK(e.in_transit(1, W) == 1);
    CHECK(e.intersection_passages() == 1);
    e.step(std::vector<int>{1, 0});  // queued at 1 under north-south: a second red light
    CHECK(e.intersection_passages() == 2);
    CHECK(e.total_red_waits() == 2);
    e.step(std::vector<int>{1, 1});  // 1 turns green: it leaves
    CHECK(e.vehicles_exited() == 1);
    CHECK(e.vehicles_inside() == 0);
    CHECK(e.total_red_waits() == 2);
    CHECK(e.episode_metric() == 1.0);
  }
  SECTION("a green wave at 1: 1 red light / 2 passages") {
    traffic_grid e(scripted(1, 2, one));
    e.reset(g);
    e.step(std::vector<int>{0, 1});
    e.step(std::vector<int>{1, 1});
    e.step(std::vector<int>{1, 1});  // reaches 1 at a green light and leaves in the first second
    CHECK(e.vehicles_exited() == 1);
    CHECK(e.total_red_waits() == 1);
    CHECK(e.intersection_passages() == 2);
    CHECK(e.episode_metric() == 0.5);
  }
  SECTION("consecutive red intervals each count; the left phases are red for everyone") {
    traffic_grid e(scripted(1, 2, one));
    e.reset(g);
    e.step(std::vector<int>{0, 0});
    e.step(std::vector<int>{2, 0});
    e.step(std::vector<int>{3, 0});
    CHECK(e.vehicles_exited() == 0);
    CHECK(e.total_red_waits() == 3);
    CHECK(e.episode_metric() == 3.0);
  }
  SECTION("a vehicle still inside at the horizon is counted as it is") {
    auto s = scripted(1, 2, one);
    s.horizon_seconds = 20;
    traffic_grid e(s);
    e.reset(g);
    CHECK_FALSE(e.step(std::vector<int>{0, 0}).episode_done);
    const auto& r = e.step(std::vector<int>{0, 0});
    CHECK(r.episode_done);
    CHECK(r.agent_done == std::vector<std::uint8_t>{1, 1});
    CHECK(e.vehicles_inside() == 1);
    CHECK(e.episode_metric() == 2.0);
  }
}

TEST_CASE("traffic_grid: observation layout and state", "[env][traffic_grid]") {
  // Two vehicles from the west into intersection 0 of a 1x2 grid.
  traffic_grid e(scripted(1, 2, platoon(2, traffic_heading::eastbound)));
  netmarl::rng g(0);
  const auto& r0 = e.reset(g);
  for (idx i = 0; i < 2; ++i) {  // phase 0 one-hot, empty lanes
    CHECK(r0.observations(i, 0) == 1.0f);
    for (int k = 1; k < 8; ++k) CHECK(r0.observations(i, k) == 0.0f);
  }
  const auto& r1 = e.step(std::vector<int>{0, 3});
  // [phase one-hot (4) | vehicles on the N, S, E, W incoming lanes / lane_capacity]
  CHECK(r1.observations(0, 0) == 1.0f);
  CHECK(r1.observations(0, 4 + W) == 2.0f / 40.0f);
  CHECK(r1.observations(0, 4 + N) == 0.0f);
  CHECK(r1.observations(1, 3) == 1.0f);
  CHECK(r1.observations(1, 0) == 0.0f);
  CHECK(r1.rewards[0] == -0.5f);
  CHECK(r1.rewards[1] == 0.0f);
  CHECK(r1.global_reward == -0.5f);
  // Intersection 0 serves them (yellow, then 2 leave): they drive towards 1, which sees them on
  // its west lane; moving vehicles are not stopped, so nobody is penalised.
  const auto& r2 = e.step(std::vector<int>{1, 3});
  CHECK(r2.observations(0, 1) == 1.0f);
  CHECK(r2.observations(0, 4 + W) == 0.0f);
  CHECK(r2.observations(1, 4 + W) == 2.0f / 40.0f);
  CHECK(e.in_transit(1, W) == 2);
  CHECK(r2.global_reward == 0.0f);
  // state(): the observations concatenated, agent-major.
  const auto state = e.state();
  REQUIRE(state.size() == 16);
  for (idx i = 0; i < 2; ++i)
    for (idx k = 0; k < 8; ++k)
      CHECK(state[static_cast<std::size_t>(i * 8 + k)] == r2.observations(i, k));
}

TEST_CASE("traffic_grid: a full downstream lane blocks discharge", "[env][traffic_grid]") {
  auto s = scripted(1, 2, platoon(10, traffic_heading::eastbound));
  s.lane_capacity = 3;
  traffic_grid e(s);
  netmarl::rng g(0);
  e.reset(g);
  // 0 serves west-east, 1 stays red for it: its west lane fills to 3 and 0 stops.
  for (int k = 0; k < 5; ++k) {
    e.step(std::vector<int>{1, 0});
    for (idx i = 0; i < 2; ++i)
      for (int a = 0; a < 4; ++a) REQUIRE(e.queue_length(i, a) + e.in_transit(i, a) <= 3);
  }
  CHECK(e.queue_length(1, W) == 3);
  CHECK(e.queue_length(0, W) == 3);
  CHECK(e.vehicles_entered() == 6);
  CHECK(e.vehicles_waiting_to_enter() == 4);
  CHECK(e.vehicles_exited() == 0);
  // Green at 1 releases the jam.
  for (int k = 0; k < 6; ++k) e.step(std::vector<int>{1, 1});
  CHECK(e.vehicles_exited() == 10);
  CHECK(e.vehicles_inside() == 0);
}

TEST_CASE("traffic_grid: determinism from the seed", "[env][traffic_grid]") {
  for (const bool poisson : {false, true}) {
    traffic_grid a({.poisson_arrivals = poisson});
    traffic_grid b({.poisson_arrivals = poisson});
    netmarl::rng ga(42), gb(42), gc(43);
    a.reset(ga);
    b.reset(gb);
    netmarl::rng policy(5);
    std::vector<int> actions(36);
    for (int t = 0; t < 360; ++t) {
      for (int& x : actions) x = static_cast<int>(policy.below(2));
      const auto& ra = a.step(actions);
      const auto& rb = b.step(actions);
      REQUIRE(ra.observations == rb.observations);
      REQUIRE(ra.rewards == rb.rewards);
    }
    CHECK(a.episode_metric() == b.episode_metric());
    CHECK(a.vehicles_exited() == b.vehicles_exited());
    // Another seed draws other routes, so the same phases give another episode.
    b.reset(gc);
    policy = netmarl::rng(5);
    for (int t = 0; t < 360; ++t) {
      for (int& x : actions) x = static_cast<int>(policy.below(2));
      b.step(actions);
    }
    CHECK(a.total_red_waits() != b.total_red_waits());
  }
}

TEST_CASE("traffic_grid: step allocates nothing", "[env][traffic_grid]") {
  traffic_grid e;
  netmarl::rng g(0);
  e.reset(g);
  std::vector<int> actions(36, 1);
  e.step(actions);
  const long before = netmarl::testing::heap_allocations();
  for (int t = 0; t < 300; ++t) {
    for (int& a : actions) a = (t / 2 + static_cast<int>(&a - actions.data())) % 4;
    e.step(actions);
  }
  CHECK(netmarl::testing::heap_allocations() == before);
  // A second reset reuses the storage of the first.
  e.reset(g);
  e.step(actions);
  CHECK(e.vehicles_scheduled() == 2570);
}

TEST_CASE("traffic_grid: bad settings are rejected with the setting and the value",
          "[env][traffic_grid]") {
  using S = traffic_grid::settings;
  const auto fails = [](S s, const std::vector<std::string>& parts) {
    const std::string m = message_of([&] { traffic_grid e(s); });
    CAPTURE(m);
    CHECK_THAT(m, Contains("traffic_grid"));
    for (const auto& p : parts) CHECK_THAT(m, Contains(p));
  };
  fails({.rows = 0}, {"rows", "0"});
  fails({.cols = -2}, {"cols", "-2"});
  fails({.decision_seconds = 5, .yellow_seconds = 5}, {"decision_seconds", "5"});
  fails({.yellow_seconds = -1}, {"yellow_seconds", "-1"});
  fails({.horizon_seconds = 9}, {"horizon_seconds", "9"});
  fails({.saturation_flow = 0}, {"saturation_flow", "0"});
  fails({.saturation_flow = std::nan("")}, {"saturation_flow", "nan"});
  fails({.lane_capacity = 0}, {"lane_capacity", "0"});
  fails({.schedule = {}}, {"schedule"});
  fails({.schedule = {{600, 1}, {0, 1}}}, {"schedule[1].duration_s", "0"});
  fails({.schedule = {{600, -0.5}}}, {"schedule[0].rate", "-0.5"});
  fails({.rate_scale = std::nan("")}, {"rate_scale", "nan"});
  fails({.rows = 2, .cols = 3, .arrivals = {{0, traffic_heading::eastbound, 2}}},
        {"arrivals[0].line", "2", "row"});
  fails({.rows = 2, .cols = 3, .arrivals = {{0, traffic_heading::southbound, 3}}},
        {"arrivals[0].line", "3", "column"});
  fails({.arrivals = {{0, traffic_heading::eastbound, 0}, {3600, traffic_heading::eastbound, 0}}},
        {"arrivals[1].second", "3600"});
  fails({.arrivals = {{0, static_cast<traffic_heading>(7), 0}}}, {"arrivals[0].heading", "7"});
  // The limits themselves are fine.
  CHECK_NOTHROW(traffic_grid({.rows = 1, .cols = 1, .decision_seconds = 6, .yellow_seconds = 5,
                              .horizon_seconds = 6, .lane_capacity = 1}));
  CHECK_NOTHROW(traffic_grid({.schedule = {{600, 0}}, .rate_scale = 0}));
}

TEST_CASE("traffic_grid: bad actions and bad calls", "[env][traffic_grid]") {
  traffic_grid e({.rows = 2, .cols = 2});
  CHECK_THAT(message_of([&] { step_all(e, 0); }), Contains("before reset"));
  netmarl::rng g(0);
  e.reset(g);
  CHECK_THAT(message_of([&] { e.step(std::vector<int>{0, 0, 0}); }),
             Contains("traffic_grid") && Contains("expected 4 actions, got 3"));
  CHECK_THAT(message_of([&] { e.step(std::vector<int>{0, 1, 4, 0}); }),
             Contains("traffic_grid") && Contains("action 4 of agent 2"));
  CHECK_THAT(message_of([&] { e.step(std::vector<int>{-1, 1, 0, 0}); }),
             Contains("action -1 of agent 0"));
  CHECK_THAT(message_of([&] { (void)e.queue_length(4, 0); }),
             Contains("queue_length") && Contains("intersection 4"));
  CHECK_THAT(message_of([&] { (void)e.in_transit(0, 4); }),
             Contains("in_transit") && Contains("approach 4"));
  CHECK_THAT(message_of([&] { (void)e.current_phase(-1); }), Contains("intersection -1"));

  traffic_grid short_episode({.rows = 1, .cols = 1, .horizon_seconds = 10});
  short_episode.reset(g);
  CHECK(step_all(short_episode, 0).episode_done);
  CHECK_THAT(message_of([&] { step_all(short_episode, 0); }), Contains("after the episode ended"));
}
