#pragma once
// Tiny parameters for the optimizer tests: a 1 x n row with given values and gradients.
#include <cstddef>
#include <vector>

#include "netmarl/nn/parameter.hpp"

namespace netmarl::testing {

template <class T>
nn::parameter<T> row(const std::vector<double>& values) {
  nn::parameter<T> p(1, static_cast<index>(values.size()));
  for (std::size_t i = 0; i < values.size(); ++i)
    p.value(0, static_cast<index>(i)) = static_cast<T>(values[i]);
  return p;
}

template <class T>
void set_grad(nn::parameter<T>& p, const std::vector<double>& g) {
  for (std::size_t i = 0; i < g.size(); ++i) p.grad(0, static_cast<index>(i)) = static_cast<T>(g[i]);
}

}  // namespace netmarl::testing
