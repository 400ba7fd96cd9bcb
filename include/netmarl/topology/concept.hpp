#pragma once
// The Topology slot (DESIGN.md section 1): who talks to whom. A model owns a graph::csr over the
// agents, builds it on reset(env) and, when `dynamic`, rebuilds it on update(env) every step.
//
// A concept cannot quantify over every Environment, so Topology<T> checks reset/update against
// env::stand_in (the smallest SpatialEnvironment); TopologyFor<T, E> checks a model against one
// concrete environment (graph::k_nearest accepts only environments with positions()).
//
// The slot lives on the slots' floor (6), above env/ (5) which it reads; graph/ (4) holds only the
// data structures the models build.
#include <concepts>
#include <type_traits>

#include "netmarl/env/concept.hpp"
#include "netmarl/env/stand_in.hpp"
#include "netmarl/graph/csr.hpp"

namespace netmarl {

template <class T>
concept Topology = requires(T topology, const T& const_topology, const env::stand_in& environment) {
  requires std::same_as < std::remove_cv_t<decltype(T::dynamic)>,
  bool > ;
  typename std::bool_constant<T::dynamic>;  // a compile-time constant, not a data member
  { topology.reset(environment) } -> std::same_as<void>;
  { topology.update(environment) } -> std::same_as<void>;
  { const_topology.graph() } -> std::same_as<const graph::csr&>;
};

template <class T, class E>
concept TopologyFor = Topology<T> && env::AnyEnvironment<E> &&
    requires(T topology, const E& environment) {
  { topology.reset(environment) } -> std::same_as<void>;
  { topology.update(environment) } -> std::same_as<void>;
};

// For the system boundary: static_assert(graph::check_topology_for<Config::topology, Env>()) turns
// a wrong composition into one sentence.
namespace graph {
template <class T, class E>
consteval bool check_topology_for() {
  static_assert(Topology<T>,
                "Config::topology is not a Topology: it needs `static constexpr bool dynamic`, "
                "`void reset(const Env&)`, `void update(const Env&)` and "
                "`const graph::csr& graph() const`");
  static_assert(!Topology<T> || TopologyFor<T, E>,
                "Config::topology cannot serve this environment: its reset(env)/update(env) "
                "reject it (graph::k_nearest needs a SpatialEnvironment, one with positions())");
  return true;
}
}  // namespace graph

}  // namespace netmarl
