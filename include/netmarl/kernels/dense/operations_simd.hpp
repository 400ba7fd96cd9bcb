#pragma once
// SIMD dense kernel for float (double delegates to the reference), on simd_blas's GEMM. All three
// products of forward and backward are one call each:
//   forward  out   = in . W + b      A = in      (strides inputs, 1)   B = W
//   backward d_in  = d_out . W^T     A = d_out   (strides outputs, 1)  B = W^T, packed once per
//   call backward d_W  += in^T . d_out    A = in^T    (strides 1, inputs)   B = d_out
// without materialising in^T: A(m, k) of in^T is in[k, m], and the MR values a micro-kernel
// broadcasts at step k are consecutive floats of one row of `in`.
#include <algorithm>
#include <cstddef>
#include <type_traits>

#include "netmarl/backend/tags.hpp"
#include "netmarl/kernels/dense/operations_generic.hpp"
#include "netmarl/kernels/dense/spec.hpp"
#include "netmarl/kernels/simd_blas/gemm.hpp"
#include "netmarl/kernels/simd_blas/transpose.hpp"

namespace netmarl::kernels::dense {

namespace simd_detail {
struct packed_weight_t;  // the scratch owner tag of backward's W^T
}

template <class Arch, class T>
void forward(backend::simd<Arch>, const shape& s, const T* in, const T* weight, const T* bias,
             T* out) {
  if constexpr (!std::is_same_v<T, float>) {
    forward(backend::reference{}, s, in, weight, bias, out);
  } else {
    using g = simd_blas::gemm<Arch>;
    g::run(s.batch, s.outputs, s.inputs, in, s.inputs, 1, weight, s.outputs, out, s.outputs,
           simd_blas::init::bias, bias);
  }
}

// d_in may be null when the input gradient is not needed (the first layer).
template <class Arch, class T>
void backward(backend::simd<Arch>, const shape& s, const T* in, const T* weight, const T* d_out,
              T* d_weight, T* d_bias, T* d_in) {
  if constexpr (!std::is_same_v<T, float>) {
    backward(backend::reference{}, s, in, weight, d_out, d_weight, d_bias, d_in);
  } else {
    using g = simd_blas::gemm<Arch>;
    const float* weight_t = nullptr;
    if (d_in && s.batch > 0) {
      float* packed = simd_blas::scratch<simd_detail::packed_weight_t>(
          static_cast<std::size_t>(s.inputs * s.outputs));
      simd_blas::transposer<Arch>::run(s.inputs, s.outputs, weight, packed);
      weight_t = packed;
    }
    // Rows in chunks of 256, and all three products per chunk, so each chunk of d_out (and of
    // in) is read from memory once and from L2 by the other products.
    constexpr index rows_per_chunk = 256;
    for (index r0 = 0; r0 < s.batch; r0 += rows_per_chunk) {
      const index rows = std::min(rows_per_chunk, s.batch - r0);
      const float* d_out_r = d_out + r0 * s.outputs;
      const float* in_r = in + r0 * s.inputs;
      if (d_in)
        g::run(rows, s.inputs, s.outputs, d_out_r, s.outputs, 1, weight_t, s.inputs,
               d_in + r0 * s.inputs, s.inputs, simd_blas::init::zero, nullptr);
      g::run(s.inputs, s.outputs, rows, in_r, 1, s.inputs, d_out_r, s.outputs, d_weight, s.outputs,
             simd_blas::init::load, nullptr);
      g::add_column_sums(rows, s.outputs, d_out_r, s.outputs, d_bias);
    }
  }
}

}  // namespace netmarl::kernels::dense
