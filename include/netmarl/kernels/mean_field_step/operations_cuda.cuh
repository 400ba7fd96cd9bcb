#pragma once
// CUDA mean-field hop (nvcc only): the graph gather and scatter of neighbor_aggregate's CUDA
// kernels (per-sample graphs through a device table of views), the products through cublasSgemm,
// the add-and-ReLU and the ReLU mask as __global__ kernels. Float only; the csr_views hold DEVICE
// pointers (device_csr::view()) and every buffer is DEVICE memory in the layouts of spec.hpp; the
// span of views itself is host memory. Work is enqueued on ctx.stream() and not waited for.
#include <span>
#include <string>

#include "netmarl/backend/cuda_context.hpp"
#include "netmarl/backend/tags.hpp"
#include "netmarl/kernels/dense/operations_cuda.cuh"
#include "netmarl/kernels/mean_field_step/spec.hpp"
#include "netmarl/kernels/neighbor_aggregate/operations_cuda.cuh"

namespace netmarl::kernels::cuda_detail {

// One shared graph goes to the kernels by value; per-sample graphs are copied into the context's
// workspace as a device table (the views are plain pointers and a count, the same bytes on both
// sides). The source is pageable host memory, so the copy has read it before this returns.
inline graph_table upload_graph_table(backend::cuda_context& ctx, index batch,
                                      std::span<const csr_view> graphs) {
  NETMARL_CHECK(
      graphs.size() == 1 || index(graphs.size()) == batch, shape_error,
      "expected 1 or " + std::to_string(batch) + " graphs, got " + std::to_string(graphs.size()));
  graph_table table{graphs[0]};
  if (graphs.size() > 1) {
    void* device_table = ctx.workspace(graphs.size_bytes());
    NETMARL_CUDA_CHECK(cudaMemcpyAsync(device_table, graphs.data(), graphs.size_bytes(),
                                       cudaMemcpyHostToDevice, ctx.stream()));
    table.per_sample = static_cast<const csr_view*>(device_table);
  }
  return table;
}

}  // namespace netmarl::kernels::cuda_detail

namespace netmarl::kernels::mean_field_step {

namespace cuda_kernels {

// mu = max(mu + pre, 0), in place over the GEMM's aggregated . W2.
template <class T>
__global__ void add_relu(index total, const T* pre, T* mu) {
  for (index e = index(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += index(gridDim.x) * blockDim.x) {
    const T value = mu[e] + pre[e];
    mu[e] = value > T(0) ? value : T(0);
  }
}

// d_pre = d_mu where mu > 0, else 0.
template <class T>
__global__ void relu_mask(index total, const T* mu, const T* d_mu, T* d_pre) {
  for (index e = index(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += index(gridDim.x) * blockDim.x)
    d_pre[e] = mu[e] > T(0) ? d_mu[e] : T(0);
}

}  // namespace cuda_kernels

// aggregated = A mu_prev, mu = ReLU(pre_state + aggregated . W2) (both OVERWRITTEN).
inline void forward(backend::cuda, backend::cuda_context& ctx, const shape& s,
                    std::span<const csr_view> graphs, const float* pre_state, const float* mu_prev,
                    const float* w2, float* aggregated, float* mu) {
  if (s.rows() == 0) return;
  const auto table = cuda_detail::upload_graph_table(ctx, s.batch, graphs);
  const index D = s.inputs, H = s.hidden;
  cuda_detail::launch_gather(ctx, s.batch, s.nodes, D, table, false, mu_prev, aggregated);
  if (H == 0) return;
  cuda_detail::gemm_row_major(ctx, false, false, s.rows(), H, D, 1.0f, aggregated, D, w2, H, 0.0f,
                              mu, H);
  cuda_kernels::add_relu<float>
      <<<cuda_detail::blocks_for(s.rows() * H), cuda_detail::threads_per_block, 0, ctx.stream()>>>(
          s.rows() * H, pre_state, mu);
  NETMARL_CUDA_CHECK_LAUNCH();
}

// d_pre = d_mu * [mu > 0] (OVERWRITES), d_w2 += aggregated^T . d_pre (ACCUMULATES); when
// d_mu_prev is not null, d_aggregated = d_pre . W2^T and d_mu_prev = A^T d_aggregated (both
// OVERWRITTEN).
inline void backward(backend::cuda, backend::cuda_context& ctx, const shape& s,
                     std::span<const csr_view> graphs, const float* aggregated, const float* w2,
                     const float* mu, const float* d_mu, float* d_pre, float* d_w2,
                     float* d_aggregated, float* d_mu_prev) {
  const index D = s.inputs, H = s.hidden, rows = s.rows();
  if (rows * H > 0) {
    cuda_kernels::relu_mask<float>
        <<<cuda_detail::blocks_for(rows * H), cuda_detail::threads_per_block, 0, ctx.stream()>>>(
            rows * H, mu, d_mu, d_pre);
    NETMARL_CUDA_CHECK_LAUNCH();
  }
  cuda_detail::gemm_row_major(ctx, true, false, D, H, rows, 1.0f, aggregated, D, d_pre, H, 1.0f,
                              d_w2, H);
  if (!d_mu_prev || rows == 0) return;
  cuda_detail::gemm_row_major(ctx, false, true, rows, D, H, 1.0f, d_pre, H, w2, H, 0.0f,
                              d_aggregated, D);
  const auto table = cuda_detail::upload_graph_table(ctx, s.batch, graphs);
  cuda_detail::launch_scatter(ctx, s.batch, s.nodes, D, table, false, d_aggregated, d_mu_prev);
}

}  // namespace netmarl::kernels::mean_field_step
