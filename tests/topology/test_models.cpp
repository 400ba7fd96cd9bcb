#include <catch2/catch.hpp>
#include <span>
#include <string>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/env/concept.hpp"
#include "netmarl/env/stand_in.hpp"
#include "netmarl/topology/concept.hpp"
#include "netmarl/graph/generators.hpp"
#include "netmarl/topology/models.hpp"

namespace graph = netmarl::graph;
namespace env = netmarl::env;
using Catch::Contains;
using netmarl::Topology;
using netmarl::TopologyFor;

namespace {

// A non-spatial environment: an Environment without positions().
struct no_positions {
  netmarl::env::step_result result;
  std::string name() const { return "no_positions"; }
  long num_agents() const { return 3; }
  long observation_size() const { return 1; }
  long num_actions() const { return 2; }
  long state_size() const { return 1; }
  long episode_limit() const { return 1; }
  const env::step_result& reset(netmarl::rng&) { return result; }
  const env::step_result& step(std::span<const int>) { return result; }
  std::span<const float> state() const { return {}; }
};
static_assert(env::Environment<no_positions> && !env::SpatialEnvironment<no_positions>);

// The same with its own graph (a triangle).
struct with_graph : no_positions {
  graph::csr g = graph::complete(3);
  std::string name() const { return "with_graph"; }
  const graph::csr& graph() const { return g; }
};

// Negative models: each misses one requirement.
struct missing_graph {
  static constexpr bool dynamic = false;
  template <class E>
  void reset(const E&) {}
  template <class E>
  void update(const E&) {}
};
struct missing_update {
  static constexpr bool dynamic = false;
  template <class E>
  void reset(const E&) {}
  const graph::csr& graph() const { return g; }
  graph::csr g;
};
struct runtime_dynamic {  // `dynamic` must be a compile-time constant
  bool dynamic = false;
  template <class E>
  void reset(const E&) {}
  template <class E>
  void update(const E&) {}
  const graph::csr& graph() const { return g; }
  graph::csr g;
};
struct graph_by_value {  // must return a reference, not a copy every step
  static constexpr bool dynamic = false;
  template <class E>
  void reset(const E&) {}
  template <class E>
  void update(const E&) {}
  graph::csr graph() const { return {}; }
};
struct minimal_model {  // the smallest positive model written by a user
  static constexpr bool dynamic = true;
  template <class E>
  void reset(const E& e) {
    g = graph::isolated(e.num_agents());
  }
  template <class E>
  void update(const E&) {}
  const graph::csr& graph() const { return g; }
  graph::csr g;
};

}  // namespace

// Positive and negative checks of the Topology concept.
static_assert(Topology<graph::environment_graph>);
static_assert(Topology<graph::fixed>);
static_assert(Topology<graph::k_nearest<1>>);
static_assert(Topology<graph::k_nearest<3>>);
static_assert(Topology<minimal_model>);
static_assert(!Topology<missing_graph>);
static_assert(!Topology<missing_update>);
static_assert(!Topology<runtime_dynamic>);
static_assert(!Topology<graph_by_value>);
static_assert(!Topology<int>);
static_assert(!graph::environment_graph::dynamic && !graph::fixed::dynamic);
static_assert(graph::k_nearest<3>::dynamic && graph::k_nearest<3>::k == 3);
// k_nearest serves only environments with positions().
static_assert(TopologyFor<graph::k_nearest<2>, env::stand_in>);
static_assert(!TopologyFor<graph::k_nearest<2>, no_positions>);
static_assert(TopologyFor<graph::environment_graph, no_positions>);
static_assert(TopologyFor<graph::fixed, no_positions>);
static_assert(graph::check_topology_for<graph::k_nearest<2>, env::stand_in>());
static_assert(graph::ProvidesGraph<with_graph> && !graph::ProvidesGraph<no_positions>);

TEST_CASE("topology: environment_graph uses env.graph() when there is one", "[graph][topology]") {
  netmarl::rng rng(1);
  with_graph e;
  graph::environment_graph t;
  t.reset(e);
  CHECK(t.graph() == graph::complete(3));
  t.update(e);
  CHECK(t.graph() == graph::complete(3));
}

TEST_CASE("topology: environment_graph falls back to isolated agents", "[graph][topology]") {
  env::stand_in e(4);
  graph::environment_graph t;
  t.reset(e);
  REQUIRE(graph::num_nodes(t.graph()) == 4);
  CHECK(t.graph() == graph::isolated(4));
}

TEST_CASE("topology: environment_graph rejects a graph of the wrong size", "[graph][topology]") {
  with_graph e;
  e.g = graph::line(5);
  graph::environment_graph t;
  REQUIRE_THROWS_AS(t.reset(e), netmarl::invalid_argument);
  REQUIRE_THROWS_WITH(t.reset(e),
                      Contains("graph has 5 nodes but environment with_graph has 3 agents"));
}

TEST_CASE("topology: fixed keeps its graph and checks the agent count", "[graph][topology]") {
  graph::fixed t(graph::ring(3));
  no_positions e;
  REQUIRE_NOTHROW(t.reset(e));
  t.update(e);
  CHECK(t.graph() == graph::ring(3));

  graph::fixed wrong(graph::line(4));
  REQUIRE_THROWS_AS(wrong.reset(e), netmarl::invalid_argument);
  REQUIRE_THROWS_WITH(
      wrong.reset(e),
      Contains("graph::fixed: the graph has 4 nodes but environment no_positions has 3 agents"));

  graph::fixed empty;
  REQUIRE_THROWS_WITH(empty.reset(e), Contains("the graph has 0 nodes"));
}

TEST_CASE("topology: fixed rejects a csr that breaks the layout", "[graph][topology]") {
  graph::csr bad;
  bad.offsets = {0, 2, 3};
  bad.indices = {1, 0, 1};  // node 0's row does not start with itself
  REQUIRE_THROWS_AS(graph::fixed(bad), netmarl::invalid_argument);
  REQUIRE_THROWS_WITH(graph::fixed(bad), Contains("graph::fixed: node 0's first neighbour is 1"));
}

namespace {
// A spatial environment whose agents can be moved by the test.
struct movable : env::stand_in {
  netmarl::matrix<float> where;
  explicit movable(int n) : env::stand_in(n), where(n, 2) { where.setZero(); }
  const netmarl::matrix<float>& positions() const { return where; }
};
}  // namespace

TEST_CASE("topology: k_nearest rebuilds from positions on reset and update", "[graph][topology]") {
  movable e(4);
  e.where << 0, 0, 1, 0, 5, 0, 6, 0;  // pairs {0,1} and {2,3}
  graph::k_nearest<1> t;
  t.reset(e);
  CHECK(graph::has_edge(t.graph(), 0, 1));
  CHECK(graph::has_edge(t.graph(), 2, 3));
  CHECK_FALSE(graph::has_edge(t.graph(), 1, 2));
  e.where << 0, 0, 5, 0, 1, 0, 6, 0;  // now pairs {0,2} and {1,3}
  t.update(e);
  CHECK(graph::has_edge(t.graph(), 0, 2));
  CHECK(graph::has_edge(t.graph(), 1, 3));
  CHECK_FALSE(graph::has_edge(t.graph(), 0, 1));
}

TEST_CASE("topology: k_nearest rejects positions of the wrong count", "[graph][topology]") {
  movable e(4);
  e.where.resize(3, 2);
  e.where.setZero();
  graph::k_nearest<2> t;
  REQUIRE_THROWS_AS(t.reset(e), netmarl::shape_error);
  REQUIRE_THROWS_WITH(t.reset(e), Contains("environment stand_in has 4 agents but 3 positions"));
}

TEST_CASE("stand_in: a minimal spatial environment", "[env][stand_in]") {
  env::stand_in e(3);
  netmarl::rng rng(0);
  const auto& first = e.reset(rng);
  CHECK_FALSE(first.episode_done);
  const std::vector<int> actions{0, 1, 1};
  CHECK(e.step(actions).episode_done);
  CHECK(e.positions().rows() == 3);
  REQUIRE_THROWS_AS(e.step(std::vector<int>{0, 2, 0}), netmarl::invalid_argument);
  REQUIRE_THROWS_WITH(env::stand_in(0), Contains("agents must be at least 1, got 0"));
}
