#pragma once
// Topology models (the Topology concept is in topology/concept.hpp):
//   graph::environment_graph  the environment's own graph (env.graph()), else isolated agents;
//   static graph::fixed              a csr given at construction (a generator, an edge file);
//   static graph::k_nearest<K>       each agent's K nearest by env.positions(), rebuilt every step;
//   dynamic
#include <concepts>
#include <string>
#include <utility>

#include "netmarl/core/error.hpp"
#include "netmarl/env/concept.hpp"
#include "netmarl/topology/concept.hpp"
#include "netmarl/graph/csr.hpp"
#include "netmarl/graph/generators.hpp"
#include "netmarl/graph/k_nearest.hpp"

namespace netmarl::graph {

// An environment that defines its own interaction graph (the coordination grid, traffic).
template <class E>
concept ProvidesGraph = requires(const E& environment) {
  { environment.graph() } -> std::convertible_to<const csr&>;
};

namespace detail {
inline void require_agent_count(const char* who, const csr& g, index agents,
                                const std::string& env_name) {
  if (num_nodes(g) != agents)
    throw invalid_argument(std::string(who) + ": the graph has " + std::to_string(num_nodes(g)) +
                           " nodes but environment " + env_name + " has " + std::to_string(agents) +
                           " agents");
}
}  // namespace detail

// The environment's graph when it has one, else isolated agents (N(i) = {i}: independent
// learners). Static: an environment whose graph changes every step needs a dynamic model.
class environment_graph {
 public:
  static constexpr bool dynamic = false;

  template <env::AnyEnvironment E>
  void reset(const E& environment) {
    if constexpr (ProvidesGraph<E>) {
      graph_ = environment.graph();  // copy-assignment reuses capacity
      detail::require_agent_count("graph::environment_graph", graph_, environment.num_agents(),
                                  environment.name());
    } else {
      graph_ = isolated(environment.num_agents());
    }
  }
  template <env::AnyEnvironment E>
  void update(const E&) {}

  const csr& graph() const { return graph_; }

 private:
  csr graph_;
};

// A graph fixed at construction. Default-constructed it has no nodes, so reset fails until one is
// assigned: the count check names both sizes.
class fixed {
 public:
  static constexpr bool dynamic = false;

  fixed() = default;
  // Checks the csr layout invariant (csr.hpp): a hand-built csr may break it.
  explicit fixed(csr g) : graph_(std::move(g)) { check_csr(graph_, "graph::fixed"); }

  template <env::AnyEnvironment E>
  void reset(const E& environment) {
    detail::require_agent_count("graph::fixed", graph_, environment.num_agents(),
                                environment.name());
  }
  template <env::AnyEnvironment E>
  void update(const E&) {}

  const csr& graph() const { return graph_; }

 private:
  csr graph_;
};

// N(i) = {i} + the K agents nearest to i (directed: out-neighbourhoods; see k_nearest.hpp),
// rebuilt from env.positions() on reset and every update without allocating after the first.
// Only for environments with positions(): graph::check_topology_for says so in a sentence.
template <int K>
class k_nearest {
  static_assert(K >= 1,
                "graph::k_nearest<K>: K must be at least 1 (for no neighbours use "
                "graph::environment_graph on an environment without a graph)");

 public:
  static constexpr bool dynamic = true;
  static constexpr int k = K;

  template <env::SpatialEnvironment E>
  void reset(const E& environment) {
    rebuild(environment);
  }
  template <env::SpatialEnvironment E>
  void update(const E& environment) {
    rebuild(environment);
  }

  const csr& graph() const { return graph_; }

 private:
  template <class E>
  void rebuild(const E& environment) {
    const matrix<float>& positions = environment.positions();
    if (positions.rows() != environment.num_agents())
      throw shape_error("graph::k_nearest: environment " + environment.name() + " has " +
                        std::to_string(environment.num_agents()) + " agents but " +
                        std::to_string(positions.rows()) + " positions");
    build_k_nearest(graph_, positions, K, workspace_);
  }

  csr graph_;
  k_nearest_workspace workspace_;
};

static_assert(Topology<environment_graph>);
static_assert(Topology<fixed>);
static_assert(Topology<k_nearest<3>>);

}  // namespace netmarl::graph
