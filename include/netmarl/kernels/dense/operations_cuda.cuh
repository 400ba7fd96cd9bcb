#pragma once
// CUDA dense kernel (nvcc only): the products through cublasSgemm, the bias broadcast and the
// bias-gradient column sums as __global__ kernels. Float only; every pointer but the context is
// DEVICE memory, in the layouts of spec.hpp. Work is enqueued on ctx.stream() and not waited for.
// Also home of the CUDA helpers the other ops share: the row-major GEMM and the launch geometry.
#include <climits>
#include <string>

#include "netmarl/backend/cuda_context.hpp"
#include "netmarl/backend/tags.hpp"
#include "netmarl/core/assert.hpp"
#include "netmarl/kernels/dense/spec.hpp"

namespace netmarl::kernels::cuda_detail {

inline constexpr int threads_per_block = 256;

// Blocks for a grid-stride loop over `total` items: enough to fill the GPU, never more than the
// work needs (and at least one, so an empty launch stays valid when callers do not skip it).
inline unsigned blocks_for(index total) {
  const index wanted = (total + threads_per_block - 1) / threads_per_block;
  return unsigned(wanted < 1 ? 1 : (wanted > 65536 ? 65536 : wanted));
}

// Reports a launch-configuration error at the launch site (asynchronous faults surface at the
// next synchronising call).
#define NETMARL_CUDA_CHECK_LAUNCH() NETMARL_CUDA_CHECK(cudaGetLastError())

inline int to_int(index n, const char* what) {
  NETMARL_CHECK(n >= 0 && n <= INT_MAX, shape_error,
                std::string("cuBLAS sizes are 32-bit: ") + what + " = " + std::to_string(n));
  return int(n);
}

// Row-major C[m, n] (leading dimension ldc) = alpha op(A) op(B) + beta C, with A stored [m, k]
// (or [k, m] when transpose_a) and B stored [k, n] (or [n, k] when transpose_b), row-major with
// leading dimensions lda and ldb. cuBLAS is column-major, so it computes C^T = op(B)^T op(A)^T on
// the same memory. k == 0 leaves beta C (zero for beta 0; only 0 and 1 are used then), as BLAS
// defines it.
inline void gemm_row_major(backend::cuda_context& ctx, bool transpose_a, bool transpose_b, index m,
                           index n, index k, float alpha, const float* a, index lda, const float* b,
                           index ldb, float beta, float* c, index ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    NETMARL_ASSERT(beta == 0.0f || beta == 1.0f, "an empty product only overwrites or keeps C");
    if (beta == 0.0f)
      NETMARL_CUDA_CHECK(cudaMemset2DAsync(c, std::size_t(ldc) * sizeof(float), 0,
                                           std::size_t(n) * sizeof(float), std::size_t(m),
                                           ctx.stream()));
    return;
  }
  const auto at_least_one = [](index ld) { return ld < 1 ? index(1) : ld; };
  NETMARL_CUDA_CHECK(cublasSgemm(
      ctx.blas(), transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N, transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N,
      to_int(n, "n"), to_int(m, "m"), to_int(k, "k"), &alpha, b, to_int(at_least_one(ldb), "ldb"),
      a, to_int(at_least_one(lda), "lda"), &beta, c, to_int(at_least_one(ldc), "ldc")));
}

}  // namespace netmarl::kernels::cuda_detail

namespace netmarl::kernels::dense {

namespace cuda_kernels {

// out[r, c] = bias[c]: the initial C of the forward GEMM (beta = 1 then adds the product).
template <class T>
__global__ void broadcast_bias(index rows, index cols, const T* bias, T* out) {
  const index total = rows * cols;
  for (index e = index(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += index(gridDim.x) * blockDim.x)
    out[e] = bias[e % cols];
}

// d_bias[c] += sum_r d_out[r, c]. A 32 x 8 block owns 32 columns: lanes read 32 adjacent floats
// of a row (coalesced), the 8 row groups are reduced in shared memory. Deterministic.
inline constexpr int column_tile = 32, row_groups = 8;

template <class T>
__global__ void add_column_sums(index rows, index cols, const T* d_out, T* d_bias) {
  __shared__ T partial[row_groups][column_tile];
  const index c = index(blockIdx.x) * column_tile + threadIdx.x;
  T sum = T(0);
  if (c < cols)
    for (index r = threadIdx.y; r < rows; r += row_groups) sum += d_out[r * cols + c];
  partial[threadIdx.y][threadIdx.x] = sum;
  __syncthreads();
  if (threadIdx.y == 0 && c < cols) {
    for (int g = 1; g < row_groups; ++g) sum += partial[g][threadIdx.x];
    d_bias[c] += sum;
  }
}

}  // namespace cuda_kernels

// out = in . weight + bias (OVERWRITES out).
inline void forward(backend::cuda, backend::cuda_context& ctx, const shape& s, const float* in,
                    const float* weight, const float* bias, float* out) {
  if (s.batch == 0 || s.outputs == 0) return;
  cuda_kernels::broadcast_bias<float>
      <<<cuda_detail::blocks_for(s.batch * s.outputs), cuda_detail::threads_per_block, 0,
         ctx.stream()>>>(s.batch, s.outputs, bias, out);
  NETMARL_CUDA_CHECK_LAUNCH();
  cuda_detail::gemm_row_major(ctx, false, false, s.batch, s.outputs, s.inputs, 1.0f, in, s.inputs,
                              weight, s.outputs, 1.0f, out, s.outputs);
}

// d_weight += in^T . d_out, d_bias += column sums of d_out (ACCUMULATE);
// d_in = d_out . weight^T (OVERWRITES; skipped when d_in is null).
inline void backward(backend::cuda, backend::cuda_context& ctx, const shape& s, const float* in,
                     const float* weight, const float* d_out, float* d_weight, float* d_bias,
                     float* d_in) {
  cuda_detail::gemm_row_major(ctx, true, false, s.inputs, s.outputs, s.batch, 1.0f, in, s.inputs,
                              d_out, s.outputs, 1.0f, d_weight, s.outputs);
  if (s.outputs > 0 && s.batch > 0) {
    const dim3 block(cuda_kernels::column_tile, cuda_kernels::row_groups);
    const unsigned blocks =
        unsigned((s.outputs + cuda_kernels::column_tile - 1) / cuda_kernels::column_tile);
    cuda_kernels::add_column_sums<float>
        <<<blocks, block, 0, ctx.stream()>>>(s.batch, s.outputs, d_out, d_bias);
    NETMARL_CUDA_CHECK_LAUNCH();
  }
  if (d_in)
    cuda_detail::gemm_row_major(ctx, false, true, s.batch, s.inputs, s.outputs, 1.0f, d_out,
                                s.outputs, weight, s.outputs, 0.0f, d_in, s.inputs);
}

}  // namespace netmarl::kernels::dense
