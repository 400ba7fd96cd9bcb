#pragma once
// sharing::fixed ("fixed LToS", LToS section 5 and appendix C): every agent keeps the share s of
// its reward (its selfishness) and splits the rest evenly over its other neighbours; the weights
// never change. Shaped rewards sum to the environment's (LToS proposition 4.1).
#include <span>
#include <string>

#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/graph/csr.hpp"
#include "netmarl/sharing/weights.hpp"

namespace netmarl::sharing {

struct fixed {
  struct settings {
    double selfishness = 0.5;  // s in [0, 1]; LToS uses 0.5 in prisoner (appendix C)
  };
  template <class T>
  class model {
   public:
    model(index agents, const settings& s, rng&) : agents_(agents), selfishness_(s.selfishness) {
      if (!(s.selfishness >= 0 && s.selfishness <= 1))
        throw invalid_argument("sharing::fixed: selfishness must be in [0, 1], got " +
                               std::to_string(s.selfishness));
    }
    void shape(const graph::csr& g, std::span<const float> rewards, std::span<float> shaped) {
      if (graph::num_nodes(g) != agents_)
        throw shape_error("sharing::fixed: the graph has " + std::to_string(graph::num_nodes(g)) +
                          " nodes, expected " + std::to_string(agents_));
      if (weights_.rebuild(g)) set_fixed(weights_, selfishness_);
      sharing::shape(weights_, rewards, shaped);
    }
    const edge_weights& weights() const { return weights_; }

   private:
    index agents_;
    double selfishness_;
    edge_weights weights_;
  };
};

}  // namespace netmarl::sharing
