#pragma once
// Host-data wrappers around the CUDA kernels, defined in cuda_kernels_device.cu (the nvcc
// translation unit) and called by the Catch2 tests in cuda_kernels_host.cpp (a g++ one). Each
// copies every argument, outputs included, to the device (so a NaN-prefilled output shows which
// entries a kernel forgot and an accumulated gradient starts from the caller's values), runs the
// kernel on a shared cuda_context, and copies the outputs back. Graphs are host csr_views.
#include <span>
#include <vector>

#include "netmarl/core/csr_view.hpp"
#include "netmarl/kernels/dense/spec.hpp"
#include "netmarl/kernels/mean_field_step/spec.hpp"
#include "netmarl/kernels/neighbor_aggregate/spec.hpp"
#include "netmarl/kernels/qmix_mixer/spec.hpp"

namespace netmarl::testing::cuda_runs {

using floats = std::vector<float>;

void dense_forward(const kernels::dense::shape& s, const floats& in, const floats& weight,
                   const floats& bias, floats& out);
// d_in may be null (the input gradient is skipped).
void dense_backward(const kernels::dense::shape& s, const floats& in, const floats& weight,
                    const floats& d_out, floats& d_weight, floats& d_bias, floats* d_in);

void neighbor_aggregate_forward(const kernels::neighbor_aggregate::shape& s, const csr_view& g,
                                kernels::neighbor_aggregate::reduction r, const floats& x,
                                floats& out);
void neighbor_aggregate_backward(const kernels::neighbor_aggregate::shape& s, const csr_view& g,
                                 kernels::neighbor_aggregate::reduction r, const floats& d_out,
                                 floats& d_x);

void mean_field_step_forward(const kernels::mean_field_step::shape& s,
                             std::span<const csr_view> graphs, const floats& pre_state,
                             const floats& mu_prev, const floats& w2, floats& aggregated,
                             floats& mu);
// d_aggregated and d_mu_prev null together: the upstream gradient is skipped.
void mean_field_step_backward(const kernels::mean_field_step::shape& s,
                              std::span<const csr_view> graphs, const floats& aggregated,
                              const floats& w2, const floats& mu, const floats& d_mu, floats& d_pre,
                              floats& d_w2, floats* d_aggregated, floats* d_mu_prev);

void qmix_mixer_forward(const kernels::qmix_mixer::shape& s, const floats& q, const floats& w1,
                        const floats& b1, const floats& w_final, const floats& v, floats& pre,
                        floats& q_tot);
void qmix_mixer_backward(const kernels::qmix_mixer::shape& s, const floats& q, const floats& w1,
                         const floats& w_final, const floats& pre, const floats& d_q_tot,
                         floats& d_q, floats& d_w1, floats& d_b1, floats& d_w_final, floats& d_v);

}  // namespace netmarl::testing::cuda_runs
