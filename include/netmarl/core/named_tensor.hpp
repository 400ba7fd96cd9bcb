#pragma once
// A named, caller-owned matrix: the unit the checkpoint format stores (parameter values, optimizer
// moments, step counters).
#include <string>
#include <vector>

#include "netmarl/core/tensor.hpp"

namespace netmarl {

template <class T>
struct named_tensor {
  std::string name;
  matrix<T>* tensor;
};

template <class T>
using tensor_list = std::vector<named_tensor<T>>;

}  // namespace netmarl
