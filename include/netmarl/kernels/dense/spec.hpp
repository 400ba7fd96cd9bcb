#pragma once
// dense: out = in . weight + bias, over a batch of rows.
// Buffers (all row-major, contiguous, caller-owned):
//   in      [batch, inputs]     weight  [inputs, outputs]   bias [outputs]
//   out     [batch, outputs]
// Backward accumulates parameter gradients and overwrites the input gradient:
//   d_weight += in^T . d_out    d_bias += column sums of d_out    d_in = d_out . weight^T
#include "netmarl/core/tensor.hpp"

namespace netmarl::kernels::dense {

struct shape {
  index batch = 0;
  index inputs = 0;
  index outputs = 0;

  double forward_flops() const { return 2.0 * batch * inputs * outputs; }
  // d_weight and d_in products: twice the forward work.
  double backward_flops() const { return 4.0 * batch * inputs * outputs; }
};

}  // namespace netmarl::kernels::dense
