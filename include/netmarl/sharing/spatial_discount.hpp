#pragma once
// sharing::spatial_discount (NeurComm, Chu et al. 2020, as LToS compares against it): agent i
// learns from every agent's reward discounted by hop distance,
//   r_i = sum_j alpha^d(i, j) r_j,   d over the symmetric closure of the topology's graph,
// counting agents up to max_distance hops (all reachable ones by default). alpha = 0 is no
// sharing, alpha = 1 gives every connected agent the component's summed reward. Unlike LToS's
// weights these do not sum to 1 per agent, so the total reward is not preserved (LToS appendix D
// compares the two by the self-neighbour ratio SNR = 1 / alpha).
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/graph/csr.hpp"
#include "netmarl/graph/symmetric_closure.hpp"

namespace netmarl::sharing {

struct spatial_discount {
  struct settings {
    double alpha = 0.1;       // NeurComm's spatial discount factor (LToS table 6: 1, 0.33, 0.1)
    index max_distance = -1;  // hops counted; -1: all reachable agents
  };
  template <class T>
  class model {
   public:
    model(index agents, const settings& s, rng&) : agents_(agents), settings_(s) {
      if (!(s.alpha >= 0 && s.alpha <= 1))
        throw invalid_argument("sharing::spatial_discount: alpha must be in [0, 1], got " +
                               std::to_string(s.alpha));
      if (s.max_distance < -1)
        throw invalid_argument("sharing::spatial_discount: max_distance must be >= 0 or -1 (all), "
                               "got " + std::to_string(s.max_distance));
    }

    void shape(const graph::csr& g, std::span<const float> rewards, std::span<float> shaped) {
      if (graph::num_nodes(g) != agents_ || static_cast<index>(rewards.size()) != agents_ ||
          shaped.size() != rewards.size())
        throw shape_error("sharing::spatial_discount: expected a graph of " +
                          std::to_string(agents_) + " nodes and as many rewards, got " +
                          std::to_string(graph::num_nodes(g)) + " and " +
                          std::to_string(rewards.size()));
      if (g != topology_ || factor_.empty()) recompute(g);
      const auto n = static_cast<std::size_t>(agents_);
      for (std::size_t i = 0; i < n; ++i) {
        double sum = 0;
        for (std::size_t j = 0; j < n; ++j)
          sum += factor_[i * n + j] * static_cast<double>(rewards[j]);
        shaped[i] = static_cast<float>(sum);
      }
    }

    // alpha^d(i, j), 0 beyond max_distance or unreachable.
    double factor(index i, index j) const {
      return factor_[static_cast<std::size_t>(i * agents_ + j)];
    }

   private:
    // Breadth-first search from every agent (graphs here have tens of agents; a dynamic topology
    // recomputes only when the graph changed).
    void recompute(const graph::csr& g) {
      topology_ = g;
      graph::build_symmetric_closure(closure_, g);
      const auto n = static_cast<std::size_t>(agents_);
      factor_.assign(n * n, 0.0);
      std::vector<index> distance(n), queue;
      for (std::size_t source = 0; source < n; ++source) {
        std::fill(distance.begin(), distance.end(), index(-1));
        queue.assign(1, static_cast<index>(source));
        distance[source] = 0;
        for (std::size_t head = 0; head < queue.size(); ++head) {
          const index u = queue[head];
          const index d = distance[static_cast<std::size_t>(u)];
          factor_[source * n + static_cast<std::size_t>(u)] =
              std::pow(settings_.alpha, static_cast<double>(d));
          if (settings_.max_distance >= 0 && d >= settings_.max_distance) continue;
          for (const std::int32_t v : graph::neighbors_excluding_self(closure_, u))
            if (distance[static_cast<std::size_t>(v)] < 0) {
              distance[static_cast<std::size_t>(v)] = d + 1;
              queue.push_back(v);
            }
        }
      }
    }

    index agents_;
    settings settings_;
    graph::csr topology_, closure_;
    std::vector<double> factor_;  // [agents, agents]
  };
};

}  // namespace netmarl::sharing
