// assign::spatial (VAST table 1, X_Spatial): k-means on positions recovers well-separated groups,
// is reproducible from the rng, survives duplicate positions and N < K, ends at a Lloyd fixed
// point, and allocates nothing once warmed up.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <vector>

#include "netmarl/factor/assign/spatial.hpp"
#include "support/count_allocations.hpp"  // replaces operator new: this file only

namespace nm = netmarl;
namespace assign = netmarl::factor::assign;
using idx = nm::index;
using spatial_model = assign::spatial::model<double>;

namespace {

spatial_model make(assign::spatial::settings s = {}) {
  nm::rng g(0);
  return spatial_model({}, s, g);
}

// `per_centre` agents jittered by < 1 around each centre, agent order shuffled; home[i] is agent
// i's centre.
struct scene {
  std::vector<double> positions;  // [N, 2]
  std::vector<int> home;
};

scene around(const std::vector<std::pair<double, double>>& centres, int per_centre, nm::rng& g) {
  std::vector<int> order;
  for (int c = 0; c < static_cast<int>(centres.size()); ++c)
    for (int j = 0; j < per_centre; ++j) order.push_back(c);
  g.shuffle(order);
  scene s;
  for (int c : order) {
    s.positions.push_back(centres[c].first + g.uniform(-1, 1));
    s.positions.push_back(centres[c].second + g.uniform(-1, 1));
    s.home.push_back(c);
  }
  return s;
}

std::vector<std::int32_t> run(spatial_model& m, nm::rng& g, const std::vector<double>& positions,
                              idx subteams) {
  const idx n = static_cast<idx>(positions.size() / 2);
  std::vector<std::int32_t> groups(static_cast<std::size_t>(n));
  m.assign(g, assign::assignment_input<double>{.agents = n, .positions = positions.data()},
           subteams, groups);
  return groups;
}

// Agents share a sub-team exactly when they share a centre.
void require_recovered(const scene& s, const std::vector<std::int32_t>& groups) {
  for (std::size_t i = 0; i < groups.size(); ++i)
    for (std::size_t j = 0; j < groups.size(); ++j) {
      INFO("agents " << i << " and " << j);
      REQUIRE((groups[i] == groups[j]) == (s.home[i] == s.home[j]));
    }
}

}  // namespace

TEST_CASE("spatial: recovers well-separated groups (K clusters, the authors' code)",
          "[assign][spatial]") {
  const std::vector<std::pair<double, double>> centres{{0, 0}, {100, 0}, {0, 100}, {100, 100}};
  auto m = make();
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    nm::rng g(seed);
    const scene s = around(centres, 5, g);
    const auto groups = run(m, g, s.positions, 4);
    INFO("seed " << seed);
    require_recovered(s, groups);
    for (auto k : groups) REQUIRE((k >= 0 && k < 4));
    CHECK(m.clusters() == 4);
    CHECK(m.iterations() < m.config().max_iterations);
  }
}

TEST_CASE("spatial: half_subteams uses K/2 clusters (the paper, section 5.2)",
          "[assign][spatial]") {
  auto m = make({.centroids = assign::spatial::centroid_count::half_subteams});
  CHECK(m.cluster_count(8, 100) == 4);
  CHECK(m.cluster_count(5, 100) == 2);
  CHECK(m.cluster_count(1, 100) == 1);
  CHECK(m.cluster_count(8, 3) == 3);
  CHECK(make().cluster_count(8, 100) == 8);
  CHECK(make().cluster_count(8, 5) == 5);
  nm::rng g(4);
  const scene s = around({{0, 0}, {50, 0}, {0, 50}, {50, 50}}, 6, g);
  const auto groups = run(m, g, s.positions, 8);
  require_recovered(s, groups);
  for (auto k : groups) REQUIRE((k >= 0 && k < 4));  // sub-teams 4..7 stay empty
}

TEST_CASE("spatial: the same rng gives the same groups", "[assign][spatial]") {
  nm::rng data(17);
  std::vector<double> positions(80);
  for (auto& p : positions) p = data.uniform(0, 10);
  auto m = make();
  nm::rng a(5), b(5);
  const auto first = run(m, a, positions, 6);
  const auto second = run(m, b, positions, 6);
  CHECK(first == second);
  CHECK(a.position() == b.position());
}

TEST_CASE("spatial: restarts keep the lowest inertia", "[assign][spatial]") {
  nm::rng data(29);
  std::vector<double> positions(2 * 60);
  for (auto& p : positions) p = data.uniform(0, 20);
  auto single = make({.restarts = 1});
  auto many = make();  // 10 restarts; its first run draws what the single run draws
  REQUIRE(many.config().restarts == 10);
  bool strictly_better = false;
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    nm::rng a(seed), b(seed);
    const auto one = run(single, a, positions, 7);
    const auto best = run(many, b, positions, 7);
    double recomputed = 0;  // inertia of the returned groups against their own means
    for (std::int32_t k = 0; k < 7; ++k) {
      double sx = 0, sy = 0, count = 0;
      for (std::size_t i = 0; i < best.size(); ++i)
        if (best[i] == k) sx += positions[2 * i], sy += positions[2 * i + 1], ++count;
      for (std::size_t i = 0; i < best.size(); ++i)
        if (best[i] == k) {
          const double dx = positions[2 * i] - sx / count, dy = positions[2 * i + 1] - sy / count;
          recomputed += dx * dx + dy * dy;
        }
    }
    CHECK(many.inertia() == Approx(recomputed).epsilon(1e-12));
    CHECK(many.inertia() <= single.inertia());
    if (many.inertia() < single.inertia() - 1e-9) strictly_better = true;
  }
  CHECK(strictly_better);  // over ten seeds, some single run lands in a worse local optimum
}

TEST_CASE("spatial: ends at a Lloyd fixed point (each agent nearest its own group's mean)",
          "[assign][spatial]") {
  nm::rng g(23);
  auto m = make();
  for (int trial = 0; trial < 10; ++trial) {
    std::vector<double> positions(2 * 60);
    for (auto& p : positions) p = g.uniform(0, 20);
    const auto groups = run(m, g, positions, 7);
    REQUIRE(m.iterations() < m.config().max_iterations);
    std::vector<double> sx(7, 0), sy(7, 0), count(7, 0);
    for (std::size_t i = 0; i < groups.size(); ++i) {
      sx[groups[i]] += positions[2 * i];
      sy[groups[i]] += positions[2 * i + 1];
      ++count[groups[i]];
    }
    for (std::size_t i = 0; i < groups.size(); ++i) {
      const auto d2 = [&](std::size_t k) {
        const double dx = positions[2 * i] - sx[k] / count[k];
        const double dy = positions[2 * i + 1] - sy[k] / count[k];
        return dx * dx + dy * dy;
      };
      for (std::size_t k = 0; k < 7; ++k)
        if (count[k] > 0) REQUIRE(d2(groups[i]) <= d2(k) + 1e-12);
    }
  }
}

TEST_CASE("spatial: duplicate positions and fewer agents than sub-teams", "[assign][spatial]") {
  auto m = make();
  nm::rng g(2);
  SECTION("two distinct positions, four sub-teams: two clusters, the rest empty") {
    const std::vector<double> positions{1, 1, 5, 5, 1, 1, 5, 5, 5, 5, 1, 1};
    const auto groups = run(m, g, positions, 4);
    CHECK(m.clusters() == 2);
    CHECK(groups[0] == groups[2]);
    CHECK(groups[0] == groups[5]);
    CHECK(groups[1] == groups[3]);
    CHECK(groups[1] == groups[4]);
    CHECK(groups[0] != groups[1]);
    for (auto k : groups) CHECK((k >= 0 && k < 2));
  }
  SECTION("all agents on one cell: one sub-team") {
    const std::vector<double> positions(10, 3.0);
    const auto groups = run(m, g, positions, 3);
    CHECK(m.clusters() == 1);
    for (auto k : groups) CHECK(k == 0);
  }
  SECTION("N = 3 < K = 5: min(K, N) clusters, one agent each") {
    const std::vector<double> positions{0, 0, 10, 0, 0, 10};
    const auto groups = run(m, g, positions, 5);
    CHECK(m.clusters() == 3);
    CHECK(std::set<std::int32_t>(groups.begin(), groups.end()).size() == 3);
    for (auto k : groups) CHECK((k >= 0 && k < 3));
  }
  SECTION("no agents: nothing to do") {
    const auto groups = run(m, g, {}, 2);
    CHECK(groups.empty());
    CHECK(m.clusters() == 0);
  }
}

TEST_CASE("spatial: no allocation after the first call at a size", "[assign][spatial]") {
  nm::rng g(8);
  std::vector<double> positions(2 * 40);
  for (auto& p : positions) p = g.uniform(0, 30);
  auto m = make();
  std::vector<std::int32_t> groups(40);
  const assign::assignment_input<double> input{.agents = 40, .positions = positions.data()};
  const long cold = nm::testing::heap_allocations();
  m.assign(g, input, 6, groups);                    // warm-up: sizes the buffers
  REQUIRE(nm::testing::heap_allocations() > cold);  // the counter sees this binary's allocations
  const assign::assignment_input<double> fewer{.agents = 25, .positions = positions.data()};
  const std::span<std::int32_t> first_25(groups.data(), 25);
  const long before = nm::testing::heap_allocations();
  for (int call = 0; call < 10; ++call) {
    m.assign(g, input, 6, groups);
    m.assign(g, fewer, 4, first_25);  // smaller sizes reuse the same buffers
  }
  CHECK(nm::testing::heap_allocations() == before);
}

TEST_CASE("spatial: bad input throws with the value", "[assign][spatial]") {
  using Catch::Matchers::Message;
  auto m = make();
  nm::rng g(0);
  std::vector<std::int32_t> groups(3);
  REQUIRE_THROWS_MATCHES(m.assign(g, assign::assignment_input<double>{.agents = 3}, 2, groups),
                         nm::invalid_argument,
                         Message("assign::spatial: needs positions (assignment_input::positions "
                                 "is null)"));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> positions{0, 0, 1, 1, nan, 1};
  REQUIRE_THROWS_MATCHES(
      m.assign(g, assign::assignment_input<double>{.agents = 3, .positions = positions.data()}, 2,
               groups),
      nm::invalid_argument, Message("assign::spatial: positions[2] = (nan, 1) is not finite"));
  REQUIRE_THROWS_MATCHES(
      m.assign(g, assign::assignment_input<double>{.agents = 3, .positions = positions.data()}, 0,
               groups),
      nm::invalid_argument, Message("assign::spatial: subteams must be >= 1, got 0"));
  REQUIRE_THROWS_MATCHES(make({.max_iterations = 0}), nm::invalid_argument,
                         Message("assign::spatial: max_iterations must be >= 1, got 0"));
  REQUIRE_THROWS_MATCHES(make({.restarts = 0}), nm::invalid_argument,
                         Message("assign::spatial: restarts must be >= 1, got 0"));
}
