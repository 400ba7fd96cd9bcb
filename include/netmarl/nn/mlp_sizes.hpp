#pragma once
// The layer sizes of an MLP with `layers` hidden layers of width `hidden`: {in, hidden..., out}.
#include <string>
#include <vector>

#include "netmarl/core/assert.hpp"
#include "netmarl/core/tensor.hpp"

namespace netmarl::nn {

inline std::vector<index> mlp_sizes(index in, index hidden, index layers, index out) {
  require(hidden >= 1, "mlp_sizes: hidden must be >= 1, got " + std::to_string(hidden));
  require(layers >= 0, "mlp_sizes: hidden_layers must be >= 0, got " + std::to_string(layers));
  std::vector<index> sizes{in};
  for (index l = 0; l < layers; ++l) sizes.push_back(hidden);
  sizes.push_back(out);
  return sizes;
}

}  // namespace netmarl::nn
