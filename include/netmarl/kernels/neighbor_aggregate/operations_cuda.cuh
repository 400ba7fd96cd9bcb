#pragma once
// CUDA neighbour aggregation (nvcc only): a gather kernel for forward and an atomic scatter for
// backward, one warp per (sample, node) row with the lanes over features. Float only; the graph is
// a csr_view whose offsets and indices are DEVICE pointers (device_csr below makes one from a host
// graph), every buffer is DEVICE memory in the layouts of spec.hpp. Work is enqueued on
// ctx.stream() and not waited for. The graph gather/scatter kernels are shared with
// mean_field_step, which reads per-sample graphs.
#include <cstdint>
#include <string>

#include "netmarl/backend/cuda_context.hpp"
#include "netmarl/backend/tags.hpp"
#include "netmarl/kernels/dense/operations_cuda.cuh"
#include "netmarl/kernels/neighbor_aggregate/spec.hpp"

namespace netmarl::kernels {

// A device copy of a CSR graph's offsets and indices: upload once (on the context's stream), pass
// view() to the kernels for as long as the topology lasts. Move-only (owns device memory).
class device_csr {
 public:
  device_csr() = default;
  device_csr(const backend::cuda_context& ctx, const csr_view& host) : nodes_(host.nodes) {
#if defined(NETMARL_ENABLE_ASSERTS) && NETMARL_ENABLE_ASSERTS
    neighbor_aggregate::validate(host);  // the device kernels cannot check their graph
#endif
    const std::int32_t empty_offsets = 0;  // a graph without nodes still gets offsets[0] = 0
    offsets_ = backend::device_buffer<std::int32_t>(std::size_t(host.nodes) + 1);
    if (host.nodes == 0)
      offsets_.copy_from_host(&empty_offsets, ctx.stream());
    else
      offsets_.copy_from_host(host.offsets, ctx.stream());
    indices_ = backend::device_buffer<std::int32_t>(std::size_t(host.edges()));
    indices_.copy_from_host(host.indices, ctx.stream());
  }

  // offsets and indices point to device memory: for the CUDA kernels only.
  csr_view view() const { return {offsets_.data(), indices_.data(), nodes_}; }
  index nodes() const { return nodes_; }

 private:
  backend::device_buffer<std::int32_t> offsets_, indices_;
  index nodes_ = 0;
};

namespace cuda_detail {

// The graphs of a batch as a kernel reads them: one view shared by every sample, or a device
// table of one view per sample (dynamic topologies). Views hold device pointers.
struct graph_table {
  csr_view shared;
  const csr_view* per_sample = nullptr;  // device memory, `batch` entries; null when shared

  __device__ csr_view of(index b) const { return per_sample ? per_sample[b] : shared; }
};

// A warp per row r = b * nodes + i, the lanes over features; 8 rows per block.
inline constexpr int rows_per_block = 8;

inline unsigned row_blocks(index rows) {
  const index wanted = (rows + rows_per_block - 1) / rows_per_block;
  return unsigned(wanted < 1 ? 1 : (wanted > 65536 ? 65536 : wanted));
}

// out[r, :] = sum_{j in N(i)} x[b * nodes + j, :], divided by |N(i)| when `mean` (an empty row
// gives zeros). Every entry of out is written.
template <class T>
__global__ void gather_rows(index batch, index nodes, index features, graph_table graphs, bool mean,
                            const T* x, T* out) {
  const index rows = batch * nodes;
  for (index r = index(blockIdx.x) * blockDim.y + threadIdx.y; r < rows;
       r += index(gridDim.x) * blockDim.y) {
    const index b = r / nodes, i = r - b * nodes;
    const csr_view g = graphs.of(b);
    const index begin = g.offsets[i], end = g.offsets[i + 1];
    const T* sample = x + b * nodes * features;
    T* o = out + r * features;
    for (index f = threadIdx.x; f < features; f += blockDim.x) {
      T sum = T(0);
      for (index e = begin; e < end; ++e) sum += sample[index(g.indices[e]) * features + f];
      if (mean && end > begin) sum /= T(end - begin);
      o[f] = sum;
    }
  }
}

// The adjoint: d_x[b * nodes + j, :] += d_out[r, :] (times 1 / |N(i)| when `mean`) for every j in
// N(i). Scatter form with atomics, so directed graphs need no transpose; d_x must be zeroed first.
// The summation order is not fixed: results match the reference to rounding, not bit for bit.
template <class T>
__global__ void scatter_rows(index batch, index nodes, index features, graph_table graphs,
                             bool mean, const T* d_out, T* d_x) {
  const index rows = batch * nodes;
  for (index r = index(blockIdx.x) * blockDim.y + threadIdx.y; r < rows;
       r += index(gridDim.x) * blockDim.y) {
    const index b = r / nodes, i = r - b * nodes;
    const csr_view g = graphs.of(b);
    const index begin = g.offsets[i], end = g.offsets[i + 1];
    const T scale = mean && end > begin ? T(1) / T(end - begin) : T(1);
    const T* gi = d_out + r * features;
    T* sample = d_x + b * nodes * features;
    for (index f = threadIdx.x; f < features; f += blockDim.x) {
      const T value = gi[f] * scale;
      for (index e = begin; e < end; ++e)
        atomicAdd(sample + index(g.indices[e]) * features + f, value);
    }
  }
}

inline void launch_gather(backend::cuda_context& ctx, index batch, index nodes, index features,
                          const graph_table& graphs, bool mean, const float* x, float* out) {
  if (batch * nodes * features == 0) return;
  gather_rows<float><<<row_blocks(batch * nodes), dim3(32, rows_per_block), 0, ctx.stream()>>>(
      batch, nodes, features, graphs, mean, x, out);
  NETMARL_CUDA_CHECK_LAUNCH();
}

// Overwrites d_x: zeroes it, then scatters.
inline void launch_scatter(backend::cuda_context& ctx, index batch, index nodes, index features,
                           const graph_table& graphs, bool mean, const float* d_out, float* d_x) {
  const index elements = batch * nodes * features;
  if (elements == 0) return;
  NETMARL_CUDA_CHECK(cudaMemsetAsync(d_x, 0, std::size_t(elements) * sizeof(float), ctx.stream()));
  scatter_rows<float><<<row_blocks(batch * nodes), dim3(32, rows_per_block), 0, ctx.stream()>>>(
      batch, nodes, features, graphs, mean, d_out, d_x);
  NETMARL_CUDA_CHECK_LAUNCH();
}

}  // namespace cuda_detail

namespace neighbor_aggregate {

// out[b, i, :] = sum (or mean) of x[b, j, :] over j in N(i) (OVERWRITES out). `g` holds device
// pointers (device_csr::view()).
inline void forward(backend::cuda, backend::cuda_context& ctx, const shape& s, const csr_view& g,
                    reduction r, const float* x, float* out) {
  NETMARL_ASSERT(g.nodes == s.nodes, "graph has " + std::to_string(g.nodes) +
                                         " nodes, tensors have " + std::to_string(s.nodes));
  cuda_detail::launch_gather(ctx, s.batch, s.nodes, s.features, cuda_detail::graph_table{g},
                             r == reduction::mean, x, out);
}

// d_x = the adjoint of forward applied to d_out (OVERWRITES d_x).
inline void backward(backend::cuda, backend::cuda_context& ctx, const shape& s, const csr_view& g,
                     reduction r, const float* d_out, float* d_x) {
  NETMARL_ASSERT(g.nodes == s.nodes, "graph has " + std::to_string(g.nodes) +
                                         " nodes, tensors have " + std::to_string(s.nodes));
  cuda_detail::launch_scatter(ctx, s.batch, s.nodes, s.features, cuda_detail::graph_table{g},
                              r == reduction::mean, d_out, d_x);
}

}  // namespace neighbor_aggregate
}  // namespace netmarl::kernels
