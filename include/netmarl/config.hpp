#pragma once
// netmarl::default_config: the slot choices a named config inherits and overrides.
//
//   struct my_config : netmarl::default_config {
//     using factor  = netmarl::factor::independent;
//     using backend = netmarl::backend::reference;
//   };
#include "netmarl/backend/tags.hpp"
#include "netmarl/factor/vdn.hpp"
#include "netmarl/learn/actor_critic.hpp"
#include "netmarl/message/none.hpp"
#include "netmarl/sharing/none.hpp"
#include "netmarl/topology/models.hpp"

namespace netmarl {

struct default_config {
  using scalar = float;                       // parameters and activations
  using topology = graph::environment_graph;  // the environment's own graph, else isolated agents
  using sharing = sharing::none;              // every agent keeps its own reward
  using factor = factor::vdn;                 // Q_tot = sum_i Q_i
  using message = message::none;              // no communication
  using learner = learn::actor_critic;        // VAST's on-policy actor-critic
  using backend = backend::simd<>;            // xsimd kernels, reference where none exists
};

}  // namespace netmarl
