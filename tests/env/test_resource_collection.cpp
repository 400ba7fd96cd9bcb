#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/env/resource_collection.hpp"
#include "support/resource_collection_access.hpp"

// Counts heap allocations in this binary, so "step allocates nothing" is measured.
#include "support/count_allocations.hpp"

namespace env = netmarl::env;
using Catch::Contains;
using netmarl::invalid_argument;
using idx = netmarl::index;
using rc = env::resource_collection;

namespace {
using access = env::resource_collection_test_access;

using netmarl::test::follower;
rc::resource resource(int row, int col, int type, int collector = -1) {
  return {row, col, type, collector};
}

// An environment with `followers` followers after one reset (so its buffers are sized).
rc make(idx followers, idx resources = 10, int max_steps = 30) {
  env::resource_collection_settings s;
  s.followers = followers;
  s.resources = resources;
  s.max_steps = max_steps;
  rc e(s);
  netmarl::rng g(99);
  e.reset(g);
  return e;
}

bool interior(int row, int col) { return row >= 1 && row <= 9 && col >= 1 && col <= 9; }
bool adjacent(const rc::resource& a, const rc::resource& b) {
  return std::abs(a.row - b.row) + std::abs(a.col - b.col) == 1;
}

std::string message_of(auto&& call) {
  try {
    call();
  } catch (const invalid_argument& e) {
    return e.what();
  }
  return "no invalid_argument thrown";
}
}  // namespace

TEST_CASE("resource_collection: the population follows its seed", "[env][resource_collection]") {
  env::resource_collection_settings s;
  const rc a(s), b(s);
  s.population_seed = 2;
  const rc c(s);
  REQUIRE(a.population().size() == 40);
  int differences = 0;
  std::set<int> skills, desires;
  for (std::size_t i = 0; i < 40; ++i) {
    CHECK(a.population()[i].identity == static_cast<idx>(i));
    CHECK(a.population()[i].skill_type == b.population()[i].skill_type);
    CHECK(a.population()[i].desire == b.population()[i].desire);
    differences += a.population()[i].skill_type != c.population()[i].skill_type;
    differences += a.population()[i].desire != c.population()[i].desire;
    skills.insert(a.population()[i].skill_type);
    desires.insert(a.population()[i].desire);
  }
  CHECK(differences > 20);  // another seed, another population (80 draws, ~60 differ)
  CHECK(skills == std::set<int>{0, 1, 2, 3});
  CHECK(desires == std::set<int>{0, 1, 2, 3});
  // Skill 10 on the own type, 0 elsewhere.
  const rc::follower_traits& t = a.population()[0];
  for (int type = 0; type < 4; ++type) CHECK(t.skill(type) == (type == t.skill_type ? 10 : 0));
}

TEST_CASE("resource_collection: reset places resources and followers by the rules",
          "[env][resource_collection]") {
  rc e;
  netmarl::rng g(7);
  std::set<int> resource_cells_seen;
  int neighbour_placements = 0;
  for (int episode = 0; episode < 300; ++episode) {
    e.reset(g);
    CHECK(e.steps() == 0);
    CHECK_FALSE(e.done());
    const auto resources = e.remaining();
    const auto followers = e.followers();
    REQUIRE(resources.size() == 10);
    REQUIRE(followers.size() == 4);
    std::set<std::pair<int, int>> cells;
    for (std::size_t k = 0; k < resources.size(); ++k) {
      const rc::resource& r = resources[k];
      CHECK(interior(r.row, r.col));
      CHECK(r.collector == -1);
      CHECK((r.type >= 0 && r.type < 4));
      cells.insert({r.row, r.col});
      resource_cells_seen.insert(r.row * 11 + r.col);
      // The neighbour rule: when an earlier resource of the type had a free interior neighbour
      // (free of the resources placed before; followers come later), this one is next to one.
      bool room = false, next_to_earlier = false;
      for (std::size_t j = 0; j < k; ++j) {
        if (resources[j].type != r.type) continue;
        next_to_earlier = next_to_earlier || adjacent(resources[j], r);
        const int dr[4] = {-1, 0, 1, 0}, dc[4] = {0, -1, 0, 1};
        for (int d = 0; d < 4; ++d) {
          const int row = resources[j].row + dr[d], col = resources[j].col + dc[d];
          bool taken = false;
          for (std::size_t i = 0; i < k; ++i)
            taken = taken || (resources[i].row == row && resources[i].col == col);
          room = room || (interior(row, col) && !taken);
        }
      }
      if (room) {
        CHECK(next_to_earlier);
        ++neighbour_placements;
      }
    }
    CHECK(cells.size() == 10);  // distinct cells
    std::set<idx> identities;
    for (const rc::follower_state& f : followers) {
      CHECK(interior(f.row, f.col));
      CHECK((f.heading >= 0 && f.heading < 4));
      CHECK(cells.insert({f.row, f.col}).second);  // not on a resource nor on another follower
      identities.insert(f.traits.identity);
      const rc::follower_traits& member =
          e.population()[static_cast<std::size_t>(f.traits.identity)];
      CHECK(f.traits.skill_type == member.skill_type);
      CHECK(f.traits.desire == member.desire);
    }
    CHECK(identities.size() == 4);  // drawn without repetition
  }
  CHECK(neighbour_placements > 1000);       // most later resources have an earlier one of the type
  CHECK(resource_cells_seen.size() == 81);  // the first ones reach every interior cell

  // The same generator state gives the same episode.
  rc other;
  netmarl::rng g1(5), g2(5);
  e.reset(g1);
  other.reset(g2);
  for (std::size_t k = 0; k < 10; ++k) {
    CHECK(e.remaining()[k].row == other.remaining()[k].row);
    CHECK(e.remaining()[k].col == other.remaining()[k].col);
    CHECK(e.remaining()[k].type == other.remaining()[k].type);
  }
  for (std::size_t i = 0; i < 4; ++i)
    CHECK(e.followers()[i].traits.identity == other.followers()[i].traits.identity);
}

TEST_CASE("resource_collection: moves and turns", "[env][resource_collection]") {
  rc e = make(1);
  netmarl::rng g(1);
  // Forward in each heading: 0 up, 1 left, 2 down, 3 right.
  const int expected_row[4] = {4, 5, 6, 5}, expected_col[4] = {5, 4, 5, 6};
  for (int heading = 0; heading < 4; ++heading) {
    access::place(e, {follower(5, 5, heading)}, {resource(9, 9, 0)});
    e.step(std::vector<int>{rc::forward}, g);
    CHECK(e.followers()[0].row == expected_row[heading]);
    CHECK(e.followers()[0].col == expected_col[heading]);
    CHECK(e.followers()[0].heading == heading);
  }
  // Left is heading + 1, right heading + 3, both in place.
  access::place(e, {follower(5, 5, 0)}, {resource(9, 9, 0)});
  const std::vector<int> left{rc::turn_left}, right{rc::turn_right}, stop{rc::stop};
  e.step(left, g);
  CHECK(e.followers()[0].heading == 1);
  e.step(left, g);
  e.step(left, g);
  e.step(left, g);
  CHECK(e.followers()[0].heading == 0);
  e.step(right, g);
  CHECK(e.followers()[0].heading == 3);
  e.step(stop, g);
  CHECK(e.followers()[0].heading == 3);
  CHECK(e.followers()[0].row == 5);
  CHECK(e.followers()[0].col == 5);
  CHECK(e.steps() == 6);

  // Walls block: at the top row facing up.
  access::place(e, {follower(1, 5, 0)}, {resource(9, 9, 0)});
  e.step(std::vector<int>{rc::forward}, g);
  CHECK(e.followers()[0].row == 1);
  access::place(e, {follower(5, 9, 3)}, {resource(1, 1, 0)});
  e.step(std::vector<int>{rc::forward}, g);
  CHECK(e.followers()[0].col == 9);
  // Resources block.
  access::place(e, {follower(5, 5, 3)}, {resource(5, 6, 2)});
  e.step(std::vector<int>{rc::forward}, g);
  CHECK(e.followers()[0].col == 5);
}

TEST_CASE("resource_collection: followers block in slot order", "[env][resource_collection]") {
  rc e = make(2);
  netmarl::rng g(1);
  const std::vector<int> both_forward{rc::forward, rc::forward};
  // Slot 0 behind slot 1: slot 1 has not moved yet when slot 0 moves, so slot 0 is blocked.
  access::place(e, {follower(5, 5, 3), follower(5, 6, 3)}, {resource(9, 9, 0)});
  e.step(both_forward, g);
  CHECK(e.followers()[0].col == 5);
  CHECK(e.followers()[1].col == 7);
  // Slot 1 behind slot 0: slot 0 has moved, so slot 1 follows into its old cell.
  access::place(e, {follower(5, 6, 3), follower(5, 5, 3)}, {resource(9, 9, 0)});
  e.step(both_forward, g);
  CHECK(e.followers()[0].col == 7);
  CHECK(e.followers()[1].col == 6);
  // Both into the same cell: the earlier slot gets it.
  access::place(e, {follower(5, 4, 3), follower(5, 6, 1)}, {resource(9, 9, 0)});
  e.step(both_forward, g);
  CHECK(e.followers()[0].col == 5);
  CHECK(e.followers()[1].col == 6);
  // A follower staying put blocks.
  access::place(e, {follower(5, 5, 3), follower(5, 6, 0)}, {resource(9, 9, 0)});
  e.step(std::vector<int>{rc::forward, rc::stop}, g);
  CHECK(e.followers()[0].col == 5);
}

TEST_CASE("resource_collection: digs succeed by skill and lock the resource",
          "[env][resource_collection]") {
  rc e = make(2);
  netmarl::rng g(3);
  const std::vector<int> dig_stop{rc::dig, rc::stop}, stop_dig{rc::stop, rc::dig};

  // Skill 10 on the type: every dig collects.
  for (int trial = 0; trial < 50; ++trial) {
    access::place(e, {follower(5, 5, 3, /*skill*/ 2), follower(1, 1, 0, 1)},
                  {resource(5, 6, 2), resource(8, 8, 1)});
    const rc::step_outcome& out = e.step(dig_stop, g);
    CHECK(out.dug == std::vector<int>{2, -1});
    CHECK(out.collected == std::vector<int>{2, -1});
    REQUIRE(e.remaining().size() == 1);
    CHECK(e.remaining()[0].type == 1);  // the other one is left
  }

  // Skill 0: the dig hits and locks but never collects; the locker may dig again, others not.
  access::place(e, {follower(5, 5, 3, /*skill*/ 0), follower(6, 6, 0, 1)},
                {resource(5, 6, 1), resource(8, 8, 1)});
  for (int trial = 0; trial < 20; ++trial) {
    const rc::step_outcome& out = e.step(dig_stop, g);
    CHECK(out.dug == std::vector<int>{1, -1});
    CHECK(out.collected == std::vector<int>{-1, -1});
  }
  REQUIRE(e.remaining().size() == 2);
  CHECK(e.remaining()[0].collector == 0);
  CHECK(e.available(1, 0) == 2);
  CHECK(e.available(1, 1) == 1);  // slot 1 (skill 1) faces the resource locked to slot 0
  const rc::step_outcome& locked_out = e.step(stop_dig, g);
  CHECK(locked_out.dug == std::vector<int>{-1, -1});
  CHECK(locked_out.collected == std::vector<int>{-1, -1});
  CHECK(e.remaining().size() == 2);

  // A dig at an empty cell does nothing.
  access::place(e, {follower(5, 5, 0, 1), follower(1, 1, 0, 1)}, {resource(8, 8, 1)});
  const rc::step_outcome& empty_out = e.step(dig_stop, g);
  CHECK(empty_out.dug == std::vector<int>{-1, -1});
  CHECK(e.remaining()[0].collector == -1);
}

TEST_CASE("resource_collection: the dig's draw does not depend on the skill",
          "[env][resource_collection]") {
  // One draw per permitted dig whatever the skill; none for a locked or missing resource.
  const auto next_after = [](int skill_type, int collector) {
    rc e = make(1);
    access::place(e, {follower(5, 5, 3, skill_type)}, {resource(5, 6, 2, collector)});
    netmarl::rng g(11);
    e.step(std::vector<int>{rc::dig}, g);
    return g();
  };
  CHECK(next_after(2, -1) == next_after(0, -1));
  netmarl::rng untouched(11);
  const auto first = untouched();
  const auto second = untouched();
  CHECK(next_after(2, 5) == first);  // locked to another slot: no draw
  CHECK(next_after(2, -1) == second);
}

TEST_CASE("resource_collection: the earlier slot locks a contested resource",
          "[env][resource_collection]") {
  rc e = make(2);
  netmarl::rng g(4);
  access::place(e, {follower(5, 4, 3, 0), follower(5, 6, 1, 1)},
                {resource(5, 5, 1), resource(9, 9, 0)});
  const rc::step_outcome& out = e.step(std::vector<int>{rc::dig, rc::dig}, g);
  CHECK(out.dug == std::vector<int>{1, -1});  // slot 0 locked it first; slot 1 is refused
  CHECK(out.collected == std::vector<int>{-1, -1});
  CHECK(e.remaining()[0].collector == 0);
}

TEST_CASE("resource_collection: episode ends at max_steps or when the map is empty",
          "[env][resource_collection]") {
  rc e;
  netmarl::rng g(8);
  e.reset(g);
  const std::vector<int> stops(4, rc::stop);
  for (int t = 1; t < 30; ++t) {
    CHECK_FALSE(e.step(stops, g).episode_done);
    CHECK(e.steps() == t);
  }
  CHECK(e.step(stops, g).episode_done);
  CHECK(e.done());
  CHECK(e.steps() == 30);
  CHECK_THAT(message_of([&] { e.step(stops, g); }), Contains("ended"));

  rc one = make(1, 2);
  access::place(one, {follower(5, 5, 3, 1)}, {resource(5, 6, 1), resource(5, 7, 1)});
  const std::vector<int> dig{rc::dig}, forward{rc::forward};
  CHECK_FALSE(one.step(dig, g).episode_done);
  CHECK(one.step(forward, g).collected == std::vector<int>{-1});
  const rc::step_outcome& last = one.step(dig, g);
  CHECK(last.collected == std::vector<int>{1});
  CHECK(last.episode_done);
  CHECK(one.done());
  CHECK(one.remaining().empty());
  CHECK(one.steps() == 3);
  // A new reset starts a fresh episode.
  one.reset(g);
  CHECK_FALSE(one.done());
  CHECK(one.steps() == 0);
  CHECK(one.remaining().size() == 2);
}

TEST_CASE("resource_collection: plan is the BFS shortest plan", "[env][resource_collection]") {
  rc e = make(2);
  int steps = 99;
  // Facing a resource of the type: dig now.
  access::place(e, {follower(5, 5, 3), follower(1, 1, 0)}, {resource(5, 6, 2)});
  CHECK(e.plan(0, 2, &steps) == rc::dig);
  CHECK(steps == 0);
  // No resource of the type at all.
  CHECK(e.plan(0, 1, &steps) == rc::stop);
  CHECK(steps == -1);
  CHECK(e.available(1, 0) == 0);

  // Straight to the right: turn right, forward, forward.
  access::place(e, {follower(5, 5, 0), follower(1, 1, 0)}, {resource(5, 8, 2)});
  CHECK(e.plan(0, 2, &steps) == rc::turn_right);
  CHECK(steps == 3);
  // A resource of another type in the way: around the top, forward first (F R F F F R).
  access::place(e, {follower(5, 5, 0), follower(1, 1, 0)}, {resource(5, 8, 2), resource(5, 7, 0)});
  CHECK(e.plan(0, 2, &steps) == rc::forward);
  CHECK(steps == 6);
  CHECK(e.plan(0, 0, &steps) == rc::turn_right);  // the blocker itself is 2 away (R F)
  CHECK(steps == 2);
  // A tie (two cells behind: L L F or R R F) goes to turn left.
  access::place(e, {follower(5, 5, 0), follower(1, 1, 0)}, {resource(7, 5, 3)});
  CHECK(e.plan(0, 3, &steps) == rc::turn_left);
  CHECK(steps == 3);

  // Another follower blocks: one forward without it, around it (R F L F F L) with it.
  access::place(e, {follower(1, 1, 3), follower(9, 9, 0)}, {resource(1, 3, 3)});
  CHECK(e.plan(0, 3, &steps) == rc::forward);
  CHECK(steps == 1);
  access::place(e, {follower(1, 1, 3), follower(1, 2, 0)}, {resource(1, 3, 3)});
  CHECK(e.plan(0, 3, &steps) == rc::turn_right);
  CHECK(steps == 6);

  // Walled in by other resources: available but unreachable.
  access::place(e, {follower(5, 5, 0), follower(9, 9, 0)},
                {resource(1, 1, 1), resource(1, 2, 0), resource(2, 1, 0)});
  CHECK(e.available(1, 0) == 1);
  CHECK(e.plan(0, 1, &steps) == rc::stop);
  CHECK(steps == -1);
  CHECK(e.plan(0, 0) == rc::forward);  // the steps pointer is optional

  // Locked to another slot: not a target for this one, a target for the locker.
  access::place(e, {follower(5, 5, 3), follower(9, 9, 0)}, {resource(5, 6, 2, 1)});
  CHECK(e.available(2, 0) == 0);
  CHECK(e.plan(0, 2, &steps) == rc::stop);
  CHECK(steps == -1);
  CHECK(e.available(2, 1) == 1);
  CHECK(e.plan(1, 2, &steps) != rc::stop);
  CHECK(steps > 0);
}

TEST_CASE("resource_collection: following the plan reaches the resource in its length",
          "[env][resource_collection]") {
  // On random maps, stepping plan's first action repeatedly (the others stopped) faces the
  // target after exactly the planned number of steps, and the length shrinks by one each step.
  netmarl::rng g(21);
  rc e(env::resource_collection_settings{.max_steps = 1000});
  int reached = 0;
  for (int episode = 0; episode < 100; ++episode) {
    e.reset(g);
    const int type = e.remaining()[0].type;
    int length = -1;
    e.plan(0, type, &length);
    if (length < 0) continue;
    std::vector<int> actions(4, rc::stop);
    for (int taken = 0; taken < length; ++taken) {
      int left = -1;
      actions[0] = e.plan(0, type, &left);
      REQUIRE(left == length - taken);
      REQUIRE(actions[0] != rc::dig);
      e.step(actions, g);
    }
    int done_length = -1;
    CHECK(e.plan(0, type, &done_length) == rc::dig);
    CHECK(done_length == 0);
    ++reached;
  }
  CHECK(reached > 80);
}

TEST_CASE("resource_collection: observations are one-hot", "[env][resource_collection]") {
  rc e = make(2);
  access::place(e, {follower(2, 3, 1), follower(7, 8, 2)}, {resource(4, 4, 0), resource(6, 2, 3)});
  std::vector<float> world(rc::world_features, -1.0f);
  e.world_observation(world);
  const auto at = [&](int channel, int row, int col) {
    return world[static_cast<std::size_t>(channel * 121 + row * 11 + col)];
  };
  for (int row = 0; row < 11; ++row)
    for (int col = 0; col < 11; ++col) {
      float sum = 0;
      for (int channel = 0; channel < 7; ++channel) sum += at(channel, row, col);
      CHECK(sum == 1.0f);
      const bool wall = row == 0 || row == 10 || col == 0 || col == 10;
      CHECK(at(1, row, col) == (wall ? 1.0f : 0.0f));
    }
  CHECK(at(2 + 0, 4, 4) == 1.0f);
  CHECK(at(2 + 3, 6, 2) == 1.0f);
  CHECK(at(6, 2, 3) == 1.0f);
  CHECK(at(6, 7, 8) == 1.0f);
  CHECK(at(0, 5, 5) == 1.0f);
  float total = 0;
  for (float x : world) total += x;
  CHECK(total == 121.0f);
  float followers_total = 0, resources_total = 0;
  for (int cell = 0; cell < 121; ++cell) {
    followers_total += world[static_cast<std::size_t>(6 * 121 + cell)];
    for (int type = 0; type < 4; ++type)
      resources_total += world[static_cast<std::size_t>((2 + type) * 121 + cell)];
  }
  CHECK(followers_total == 2.0f);
  CHECK(resources_total == 2.0f);

  std::vector<float> own(rc::follower_features, -1.0f);
  e.follower_observation(1, own);
  std::vector<float> expected(26, 0.0f);
  expected[7] = 1.0f;       // row 7
  expected[11 + 8] = 1.0f;  // col 8
  expected[22 + 2] = 1.0f;  // heading 2
  CHECK(own == expected);
}

TEST_CASE("resource_collection: bad input throws naming the value", "[env][resource_collection]") {
  const auto build = [](auto change) {
    env::resource_collection_settings s;
    change(s);
    return message_of([&] { rc e(s); });
  };
  CHECK_THAT(build([](auto& s) { s.bonus_levels = 0; }), Contains("bonus_levels") && Contains("0"));
  CHECK_THAT(build([](auto& s) { s.population = 0; }), Contains("population") && Contains("0"));
  CHECK_THAT(build([](auto& s) { s.followers = 0; }), Contains("followers") && Contains("0"));
  CHECK_THAT(build([](auto& s) { s.followers = 41; }),
             Contains("more followers than the population") && Contains("41"));
  CHECK_THAT(build([](auto& s) { s.resources = -1; }), Contains("resources -1"));
  CHECK_THAT(build([](auto& s) { s.resources = 78; }), Contains("resources 78") && Contains("77"));
  CHECK_THAT(build([](auto& s) { s.max_steps = 0; }), Contains("max_steps") && Contains("0"));
  CHECK_NOTHROW(rc(env::resource_collection_settings{.resources = 77}));

  rc e;
  netmarl::rng g(1);
  const std::vector<int> stops(4, rc::stop);
  CHECK_THAT(message_of([&] { e.step(stops, g); }), Contains("before reset"));
  CHECK_THAT(message_of([&] { e.plan(0, 0); }), Contains("slot 0"));
  e.reset(g);
  CHECK_THAT(message_of([&] {
               e.step(std::vector<int>{0, 0, 0}, g);
             }),
             Contains("3 actions") && Contains("4 followers"));
  CHECK_THAT(message_of([&] {
               e.step(std::vector<int>{0, 0, 5, 0}, g);
             }),
             Contains("action 5") && Contains("slot 2"));
  CHECK_THAT(message_of([&] {
               e.step(std::vector<int>{0, -1, 0, 0}, g);
             }),
             Contains("action -1") && Contains("slot 1"));
  CHECK(e.steps() == 0);  // a rejected step changes nothing
  CHECK_THAT(message_of([&] { e.plan(4, 0); }), Contains("slot 4"));
  CHECK_THAT(message_of([&] { e.plan(-1, 0); }), Contains("slot -1"));
  CHECK_THAT(message_of([&] { e.plan(0, 4); }), Contains("type 4"));
  CHECK_THAT(message_of([&] { e.available(-1, 0); }), Contains("type -1"));
  std::vector<float> small(10);
  CHECK_THAT(message_of([&] { e.world_observation(small); }), Contains("size 10"));
  CHECK_THAT(message_of([&] { e.follower_observation(0, small); }), Contains("size 10"));
  std::vector<float> own(rc::follower_features);
  CHECK_THAT(message_of([&] { e.follower_observation(7, own); }), Contains("slot 7"));
}

TEST_CASE("resource_collection: reset and step allocate nothing after the first reset",
          "[env][resource_collection]") {
  rc e;
  netmarl::rng g(2);
  e.reset(g);
  std::vector<int> actions(4, rc::stop);
  std::vector<float> world(rc::world_features), own(rc::follower_features);
  const long before = netmarl::testing::heap_allocations();
  for (int episode = 0; episode < 20; ++episode) {
    e.reset(g);
    while (!e.done()) {
      for (std::size_t slot = 0; slot < 4; ++slot) {
        const int type = static_cast<int>(g.below(4));
        actions[slot] = e.plan(static_cast<idx>(slot), type);
      }
      e.step(actions, g);
      e.world_observation(world);
      e.follower_observation(0, own);
    }
  }
  CHECK(netmarl::testing::heap_allocations() == before);
}
