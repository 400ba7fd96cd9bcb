// The nvcc half of the CUDA kernel tests: host-data wrappers (cuda_kernel_runners.hpp) that copy
// in, launch one CUDA kernel, and copy out. No test logic here; the comparisons live in
// cuda_kernels_host.cpp.
#include <vector>

#include "cuda/cuda_kernel_runners.hpp"
#include "netmarl/backend/cuda_context.hpp"
#include "netmarl/kernels/dense/operations_cuda.cuh"
#include "netmarl/kernels/mean_field_step/operations_cuda.cuh"
#include "netmarl/kernels/neighbor_aggregate/operations_cuda.cuh"
#include "netmarl/kernels/qmix_mixer/operations_cuda.cuh"

namespace netmarl::testing::cuda_runs {
namespace {

using backend::cuda_context;
using buffer = backend::device_buffer<float>;

// cuBLAS handle creation costs tens of milliseconds: one context for the whole test binary.
cuda_context& context() {
  static cuda_context ctx;
  return ctx;
}

buffer upload(const floats& host) {
  buffer device(host.size());
  device.copy_from_host(host.data(), context().stream());
  return device;
}

// Copies one output back once the kernels before it on the stream are done.
void download(const buffer& device, floats& host) {
  device.copy_to_host(host.data(), context().stream());
}

// Device copies of a batch's graphs, and views of them in the same order.
struct device_graphs {
  std::vector<kernels::device_csr> owned;
  std::vector<csr_view> views;

  explicit device_graphs(std::span<const csr_view> host) {
    for (const csr_view& g : host) owned.emplace_back(context(), g);
    for (const auto& g : owned) views.push_back(g.view());
  }
};

}  // namespace

void dense_forward(const kernels::dense::shape& s, const floats& in, const floats& weight,
                   const floats& bias, floats& out) {
  const buffer d_in = upload(in), d_weight = upload(weight), d_bias = upload(bias);
  buffer d_out = upload(out);
  kernels::dense::forward(backend::cuda{}, context(), s, d_in.data(), d_weight.data(),
                          d_bias.data(), d_out.data());
  download(d_out, out);
}

void dense_backward(const kernels::dense::shape& s, const floats& in, const floats& weight,
                    const floats& d_out, floats& d_weight, floats& d_bias, floats* d_in) {
  const buffer dev_in = upload(in), dev_weight = upload(weight), dev_d_out = upload(d_out);
  buffer dev_d_weight = upload(d_weight), dev_d_bias = upload(d_bias);
  buffer dev_d_in = d_in ? upload(*d_in) : buffer();
  kernels::dense::backward(backend::cuda{}, context(), s, dev_in.data(), dev_weight.data(),
                           dev_d_out.data(), dev_d_weight.data(), dev_d_bias.data(),
                           d_in ? dev_d_in.data() : nullptr);
  download(dev_d_weight, d_weight);
  download(dev_d_bias, d_bias);
  if (d_in) download(dev_d_in, *d_in);
}

void neighbor_aggregate_forward(const kernels::neighbor_aggregate::shape& s, const csr_view& g,
                                kernels::neighbor_aggregate::reduction r, const floats& x,
                                floats& out) {
  const kernels::device_csr graph(context(), g);
  const buffer d_x = upload(x);
  buffer d_out = upload(out);
  kernels::neighbor_aggregate::forward(backend::cuda{}, context(), s, graph.view(), r, d_x.data(),
                                       d_out.data());
  download(d_out, out);
}

void neighbor_aggregate_backward(const kernels::neighbor_aggregate::shape& s, const csr_view& g,
                                 kernels::neighbor_aggregate::reduction r, const floats& d_out,
                                 floats& d_x) {
  const kernels::device_csr graph(context(), g);
  const buffer dev_d_out = upload(d_out);
  buffer dev_d_x = upload(d_x);
  kernels::neighbor_aggregate::backward(backend::cuda{}, context(), s, graph.view(), r,
                                        dev_d_out.data(), dev_d_x.data());
  download(dev_d_x, d_x);
}

void mean_field_step_forward(const kernels::mean_field_step::shape& s,
                             std::span<const csr_view> graphs, const floats& pre_state,
                             const floats& mu_prev, const floats& w2, floats& aggregated,
                             floats& mu) {
  const device_graphs g(graphs);
  const buffer d_pre = upload(pre_state), d_mu_prev = upload(mu_prev), d_w2 = upload(w2);
  buffer d_aggregated = upload(aggregated), d_mu = upload(mu);
  kernels::mean_field_step::forward(backend::cuda{}, context(), s, g.views, d_pre.data(),
                                    d_mu_prev.data(), d_w2.data(), d_aggregated.data(),
                                    d_mu.data());
  download(d_aggregated, aggregated);
  download(d_mu, mu);
}

void mean_field_step_backward(const kernels::mean_field_step::shape& s,
                              std::span<const csr_view> graphs, const floats& aggregated,
                              const floats& w2, const floats& mu, const floats& d_mu, floats& d_pre,
                              floats& d_w2, floats* d_aggregated, floats* d_mu_prev) {
  const device_graphs g(graphs);
  const buffer dev_aggregated = upload(aggregated), dev_w2 = upload(w2), dev_mu = upload(mu),
               dev_d_mu = upload(d_mu);
  buffer dev_d_pre = upload(d_pre), dev_d_w2 = upload(d_w2);
  buffer dev_d_aggregated = d_aggregated ? upload(*d_aggregated) : buffer();
  buffer dev_d_mu_prev = d_mu_prev ? upload(*d_mu_prev) : buffer();
  kernels::mean_field_step::backward(
      backend::cuda{}, context(), s, g.views, dev_aggregated.data(), dev_w2.data(), dev_mu.data(),
      dev_d_mu.data(), dev_d_pre.data(), dev_d_w2.data(),
      d_aggregated ? dev_d_aggregated.data() : nullptr, d_mu_prev ? dev_d_mu_prev.data() : nullptr);
  download(dev_d_pre, d_pre);
  download(dev_d_w2, d_w2);
  if (d_aggregated) download(dev_d_aggregated, *d_aggregated);
  if (d_mu_prev) download(dev_d_mu_prev, *d_mu_prev);
}

void qmix_mixer_forward(const kernels::qmix_mixer::shape& s, const floats& q, const floats& w1,
                        const floats& b1, const floats& w_final, const floats& v, floats& pre,
                        floats& q_tot) {
  const buffer d_q = upload(q), d_w1 = upload(w1), d_b1 = upload(b1), d_w_final = upload(w_final),
               d_v = upload(v);
  buffer d_pre = upload(pre), d_q_tot = upload(q_tot);
  kernels::qmix_mixer::forward(backend::cuda{}, context(), s, d_q.data(), d_w1.data(), d_b1.data(),
                               d_w_final.data(), d_v.data(), d_pre.data(), d_q_tot.data());
  download(d_pre, pre);
  download(d_q_tot, q_tot);
}

void qmix_mixer_backward(const kernels::qmix_mixer::shape& s, const floats& q, const floats& w1,
                         const floats& w_final, const floats& pre, const floats& d_q_tot,
                         floats& d_q, floats& d_w1, floats& d_b1, floats& d_w_final, floats& d_v) {
  const buffer dev_q = upload(q), dev_w1 = upload(w1), dev_w_final = upload(w_final),
               dev_pre = upload(pre), dev_d_q_tot = upload(d_q_tot);
  buffer dev_d_q = upload(d_q), dev_d_w1 = upload(d_w1), dev_d_b1 = upload(d_b1),
         dev_d_w_final = upload(d_w_final), dev_d_v = upload(d_v);
  kernels::qmix_mixer::backward(backend::cuda{}, context(), s, dev_q.data(), dev_w1.data(),
                                dev_w_final.data(), dev_pre.data(), dev_d_q_tot.data(),
                                dev_d_q.data(), dev_d_w1.data(), dev_d_b1.data(),
                                dev_d_w_final.data(), dev_d_v.data());
  download(dev_d_q, d_q);
  download(dev_d_w1, d_w1);
  download(dev_d_b1, d_b1);
  download(dev_d_w_final, d_w_final);
  download(dev_d_v, d_v);
}

}  // namespace netmarl::testing::cuda_runs
