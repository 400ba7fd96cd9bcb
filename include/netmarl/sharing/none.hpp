#pragma once
// sharing::none: every agent keeps its own reward (w_ii = 1, w_ij = 0 for j != i).
#include <algorithm>
#include <span>

#include "netmarl/core/assert.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/graph/csr.hpp"

namespace netmarl::sharing {

struct none {
  struct settings {};
  template <class T>
  struct model {
    model(index agents, const settings&, rng&) : agents_(agents) {}
    void shape(const graph::csr&, std::span<const float> rewards, std::span<float> shaped) const {
      if (static_cast<index>(rewards.size()) != agents_ || shaped.size() != rewards.size())
        throw shape_error("sharing::none: expected " + std::to_string(agents_) + " rewards, got " +
                          std::to_string(rewards.size()));
      std::copy(rewards.begin(), rewards.end(), shaped.begin());
    }

   private:
    index agents_;
  };
};

}  // namespace netmarl::sharing
