#pragma once
// Hand-made resource-collection states for tests: resource_collection_test_access (the class's
// friend) replaces an episode's followers and resources after a reset, and follower() builds one
// follower's state.
#include <catch2/catch.hpp>
#include <utility>
#include <vector>

#include "netmarl/env/resource_collection.hpp"

namespace netmarl::env {
struct resource_collection_test_access {
  static void place(resource_collection& e, std::vector<resource_collection::follower_state> f,
                    std::vector<resource_collection::resource> r) {
    REQUIRE(static_cast<index>(f.size()) == e.settings_.followers);
    e.followers_ = std::move(f);
    e.resources_ = std::move(r);
    e.steps_ = 0;
    e.done_ = e.resources_.empty();
    e.started_ = true;
  }
};
}  // namespace netmarl::env

namespace netmarl::test {
inline env::resource_collection::follower_state follower(int row, int col, int heading,
                                                         int skill_type = 0, int desire = 0) {
  env::resource_collection::follower_state f;
  f.row = row;
  f.col = col;
  f.heading = heading;
  f.traits.skill_type = skill_type;
  f.traits.desire = desire;
  return f;
}
}  // namespace netmarl::test
