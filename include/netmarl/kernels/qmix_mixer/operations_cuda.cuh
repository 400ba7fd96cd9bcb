#pragma once
// CUDA QMIX mixer (nvcc only): one warp per sample, the lanes over the embedding, the sums over
// the embedding by warp shuffles. Float only; every pointer but the context is DEVICE memory in
// the layouts of spec.hpp. Work is enqueued on ctx.stream() and not waited for.
#include "netmarl/backend/cuda_context.hpp"
#include "netmarl/backend/tags.hpp"
#include "netmarl/kernels/dense/operations_cuda.cuh"
#include "netmarl/kernels/qmix_mixer/spec.hpp"

namespace netmarl::kernels::qmix_mixer {

namespace cuda_kernels {

inline constexpr int warp = 32, samples_per_block = 4;

// The sum of `value` over the warp, returned to every lane.
template <class T>
__device__ T warp_sum(T value) {
  for (int offset = warp / 2; offset > 0; offset /= 2)
    value += __shfl_xor_sync(0xffffffffu, value, offset);
  return value;
}

inline unsigned sample_blocks(index batch) {
  const index wanted = (batch + samples_per_block - 1) / samples_per_block;
  return unsigned(wanted < 1 ? 1 : (wanted > 65536 ? 65536 : wanted));
}

// pre_b = q_b . W1_b + b1_b; q_tot_b = ELU(pre_b) . w_final_b + v_b. Lane e accumulates over the
// agents in the reference's order, so pre matches it to rounding of one fused multiply-add.
template <class T>
__global__ void forward(index batch, index agents, index embed, const T* q, const T* w1,
                        const T* b1, const T* w_final, const T* v, T* pre, T* q_tot) {
  for (index b = index(blockIdx.x) * blockDim.y + threadIdx.y; b < batch;
       b += index(gridDim.x) * blockDim.y) {
    const T* qb = q + b * agents;
    const T* w1b = w1 + b * agents * embed;
    T partial = T(0);
    for (index e = threadIdx.x; e < embed; e += warp) {
      T x = b1[b * embed + e];
      for (index i = 0; i < agents; ++i) x += qb[i] * w1b[i * embed + e];
      pre[b * embed + e] = x;
      partial += (x > T(0) ? x : expm1(x)) * w_final[b * embed + e];
    }
    const T total = warp_sum(partial);
    if (threadIdx.x == 0) q_tot[b] = total + v[b];
  }
}

// Every gradient is per sample and OVERWRITTEN: d_v, d_w_final and d_b1 (= d_pre) by lane e, then
// per agent i the row d_w1[i, :] and the warp-summed d_q[i]. A lane re-reads only the d_pre
// entries it wrote itself, so no barrier is needed.
template <class T>
__global__ void backward(index batch, index agents, index embed, const T* q, const T* w1,
                         const T* w_final, const T* pre, const T* d_q_tot, T* d_q, T* d_w1, T* d_b1,
                         T* d_w_final, T* d_v) {
  for (index b = index(blockIdx.x) * blockDim.y + threadIdx.y; b < batch;
       b += index(gridDim.x) * blockDim.y) {
    const T g = d_q_tot[b];
    T* d_preb = d_b1 + b * embed;
    for (index e = threadIdx.x; e < embed; e += warp) {
      const T x = pre[b * embed + e];
      const bool positive = x > T(0);
      d_w_final[b * embed + e] = g * (positive ? x : expm1(x));
      d_preb[e] = g * w_final[b * embed + e] * (positive ? T(1) : exp(x));
    }
    if (threadIdx.x == 0) d_v[b] = g;
    const T* w1b = w1 + b * agents * embed;
    T* d_w1b = d_w1 + b * agents * embed;
    for (index i = 0; i < agents; ++i) {
      const T qi = q[b * agents + i];
      T partial = T(0);
      for (index e = threadIdx.x; e < embed; e += warp) {
        d_w1b[i * embed + e] = qi * d_preb[e];
        partial += w1b[i * embed + e] * d_preb[e];
      }
      const T sum = warp_sum(partial);
      if (threadIdx.x == 0) d_q[b * agents + i] = sum;
    }
  }
}

}  // namespace cuda_kernels

// pre and q_tot OVERWRITTEN.
inline void forward(backend::cuda, backend::cuda_context& ctx, const shape& s, const float* q,
                    const float* w1, const float* b1, const float* w_final, const float* v,
                    float* pre, float* q_tot) {
  if (s.batch == 0) return;
  cuda_kernels::forward<float>
      <<<cuda_kernels::sample_blocks(s.batch),
         dim3(cuda_kernels::warp, cuda_kernels::samples_per_block), 0, ctx.stream()>>>(
          s.batch, s.agents, s.embed, q, w1, b1, w_final, v, pre, q_tot);
  NETMARL_CUDA_CHECK_LAUNCH();
}

// d_q, d_w1, d_b1, d_w_final and d_v OVERWRITTEN.
inline void backward(backend::cuda, backend::cuda_context& ctx, const shape& s, const float* q,
                     const float* w1, const float* w_final, const float* pre, const float* d_q_tot,
                     float* d_q, float* d_w1, float* d_b1, float* d_w_final, float* d_v) {
  if (s.batch == 0) return;
  cuda_kernels::backward<float>
      <<<cuda_kernels::sample_blocks(s.batch),
         dim3(cuda_kernels::warp, cuda_kernels::samples_per_block), 0, ctx.stream()>>>(
          s.batch, s.agents, s.embed, q, w1, w_final, pre, d_q_tot, d_q, d_w1, d_b1, d_w_final,
          d_v);
  NETMARL_CUDA_CHECK_LAUNCH();
}

}  // namespace netmarl::kernels::qmix_mixer
