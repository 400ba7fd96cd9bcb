// The CUDA backend against the reference: every CUDA kernel (run through the host-data wrappers of
// cuda_kernels_device.cu) on random inputs, sizes that are not multiples of a warp, empty and
// degree-1 neighbourhoods, a high-degree hub, and NaN-prefilled outputs where the spec says
// OVERWRITES. Kernel tests skip, with a warning, on a machine without a CUDA device; the error
// helper and the no-device behaviour are checked everywhere.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "cuda/cuda_kernel_runners.hpp"
#include "netmarl/backend/cuda_context.hpp"
#include "netmarl/kernels/dense.hpp"
#include "netmarl/kernels/mean_field_step.hpp"
#include "netmarl/kernels/neighbor_aggregate.hpp"
#include "netmarl/kernels/qmix_mixer.hpp"
#include "support/kernel_graphs.hpp"
#include "support/require_close.hpp"

namespace backend = netmarl::backend;
namespace dense = netmarl::kernels::dense;
namespace na = netmarl::kernels::neighbor_aggregate;
namespace mf = netmarl::kernels::mean_field_step;
namespace mixer = netmarl::kernels::qmix_mixer;
namespace runs = netmarl::testing::cuda_runs;
using idx = netmarl::index;  // plain `index` clashes with POSIX index()
using netmarl::csr_view;
using namespace netmarl::testing;  // graphs, random data, require_close

namespace {

using floats = std::vector<float>;

// Different summation orders (cuBLAS, atomics, warp shuffles) differ from the reference's loops
// by float rounding; a wrong index or a missed term is off by O(1).
constexpr double rtol = 1e-4;

#define NETMARL_SKIP_WITHOUT_CUDA()          \
  do {                                       \
    if (!backend::cuda_device_available()) { \
      WARN("no CUDA device: skipped");       \
      return;                                \
    }                                        \
  } while (0)

floats random_floats(idx n, std::mt19937& gen, double range = 1.0) {
  return random_vector<float>(sz(n), gen, range);
}

floats nan_floats(idx n) { return nan_vector<float>(sz(n)); }

std::vector<test_graph> graphs() {
  std::vector<test_graph> g;
  g.push_back(grid(5, 7));
  g.push_back(star(200));  // the hub reads 200 rows and is read by 199
  g.push_back(random_directed(60, 9, 1));
  add_degenerate_graphs(g, 9, 6);  // degree 1, a directed path, empty rows, one empty node
  return g;
}

}  // namespace

TEST_CASE("cuda: a failed call throws cuda_error naming the call, file, line and error", "[cuda]") {
  try {
    NETMARL_CUDA_CHECK(cudaErrorInvalidValue);
    FAIL("no throw");
  } catch (const netmarl::cuda_error& e) {
    const std::string what = e.what();
    CHECK(what.find("cuda_kernels_host.cpp:") != std::string::npos);
    CHECK(what.find("cudaErrorInvalidValue") != std::string::npos);
  }
  try {
    NETMARL_CUDA_CHECK(CUBLAS_STATUS_NOT_INITIALIZED);
    FAIL("no throw");
  } catch (const netmarl::cuda_error& e) {
    CHECK(std::string(e.what()).find("CUBLAS_STATUS_NOT_INITIALIZED") != std::string::npos);
  }
  CHECK_NOTHROW(NETMARL_CUDA_CHECK(cudaSuccess));
  CHECK_NOTHROW(NETMARL_CUDA_CHECK(CUBLAS_STATUS_SUCCESS));
}

TEST_CASE("cuda: cuda_context throws without a device, and owns a stream and a handle with one",
          "[cuda]") {
  if (backend::cuda_device_available()) {
    backend::cuda_context ctx;
    CHECK(ctx.stream() != nullptr);
    CHECK(ctx.blas() != nullptr);
    backend::cuda_context moved(std::move(ctx));
    CHECK(moved.blas() != nullptr);
    CHECK(ctx.blas() == nullptr);
    CHECK(moved.workspace(100) != nullptr);
    return;
  }
  CHECK_THROWS_AS(backend::cuda_context(), netmarl::cuda_error);
  CHECK_FALSE(backend::cuda_device_available());  // asking again is still a clean false
}

TEST_CASE("cuda: device_buffer round-trips and moves", "[cuda]") {
  NETMARL_SKIP_WITHOUT_CUDA();
  const backend::cuda_context ctx;
  const floats host{1.0f, -2.0f, 3.5f};
  backend::device_buffer<float> a(host.size());
  a.copy_from_host(host.data(), ctx.stream());
  backend::device_buffer<float> b(std::move(a));
  CHECK(a.data() == nullptr);
  CHECK(a.size() == 0);
  CHECK(b.size() == 3);
  floats back(3);
  b.copy_to_host(back.data(), ctx.stream());
  CHECK(back == host);
  backend::device_buffer<float> empty;
  CHECK(empty.data() == nullptr);
}

TEST_CASE("cuda dense matches the reference", "[cuda][dense]") {
  NETMARL_SKIP_WITHOUT_CUDA();
  const std::vector<dense::shape> shapes{{1, 1, 1}, {7, 33, 65}, {64, 100, 37}, {130, 257, 31},
                                         {0, 5, 3}, {5, 0, 3},   {5, 3, 0},     {33, 1, 70}};
  for (const auto& s : shapes) {
    INFO("batch " << s.batch << ", inputs " << s.inputs << ", outputs " << s.outputs);
    std::mt19937 gen(unsigned(s.batch * 131 + s.inputs * 17 + s.outputs));
    const floats in = random_floats(s.batch * s.inputs, gen);
    const floats weight = random_floats(s.inputs * s.outputs, gen);
    const floats bias = random_floats(s.outputs, gen);
    const floats d_out = random_floats(s.batch * s.outputs, gen);

    floats out_ref = nan_floats(s.batch * s.outputs), out = out_ref;
    dense::forward(backend::reference{}, s, in.data(), weight.data(), bias.data(), out_ref.data());
    runs::dense_forward(s, in, weight, bias, out);
    require_close(out, out_ref, rtol, "forward");

    // Parameter gradients accumulate onto what is there; d_in is overwritten.
    const floats d_weight0 = random_floats(s.inputs * s.outputs, gen);
    const floats d_bias0 = random_floats(s.outputs, gen);
    floats d_weight_ref = d_weight0, d_bias_ref = d_bias0,
           d_in_ref = nan_floats(s.batch * s.inputs);
    dense::backward(backend::reference{}, s, in.data(), weight.data(), d_out.data(),
                    d_weight_ref.data(), d_bias_ref.data(), d_in_ref.data());
    floats d_weight = d_weight0, d_bias = d_bias0, d_in = nan_floats(s.batch * s.inputs);
    runs::dense_backward(s, in, weight, d_out, d_weight, d_bias, &d_in);
    require_close(d_weight, d_weight_ref, rtol, "d_weight");
    require_close(d_bias, d_bias_ref, rtol, "d_bias");
    require_close(d_in, d_in_ref, rtol, "d_in");

    floats d_weight_no_input = d_weight0, d_bias_no_input = d_bias0;
    runs::dense_backward(s, in, weight, d_out, d_weight_no_input, d_bias_no_input, nullptr);
    require_close(d_weight_no_input, d_weight_ref, rtol, "d_weight without d_in");
    require_close(d_bias_no_input, d_bias_ref, rtol, "d_bias without d_in");
  }
}

TEST_CASE("cuda neighbor_aggregate matches the reference", "[cuda][neighbor_aggregate]") {
  NETMARL_SKIP_WITHOUT_CUDA();
  for (const auto& g : graphs())
    for (idx batch : {1, 3})
      for (idx features : {1, 5, 33, 70})
        for (na::reduction r : {na::reduction::sum, na::reduction::mean}) {
          INFO(g.name << ", batch " << batch << ", features " << features << ", "
                      << (r == na::reduction::sum ? "sum" : "mean"));
          const na::shape s{batch, g.nodes(), features};
          std::mt19937 gen(unsigned(batch * 7919 + features * 31 + g.nodes()));
          const floats x = random_floats(s.elements(), gen);
          const floats d_out = random_floats(s.elements(), gen);
          floats out_ref = nan_floats(s.elements()), out = out_ref;
          na::forward(backend::reference{}, s, g.view(), r, x.data(), out_ref.data());
          runs::neighbor_aggregate_forward(s, g.view(), r, x, out);
          require_close(out, out_ref, rtol, "forward");
          floats dx_ref = nan_floats(s.elements()), dx = dx_ref;
          na::backward(backend::reference{}, s, g.view(), r, d_out.data(), dx_ref.data());
          runs::neighbor_aggregate_backward(s, g.view(), r, d_out, dx);
          require_close(dx, dx_ref, rtol, "backward");
        }
}

namespace {

void check_mean_field(const mf::shape& s, std::span<const csr_view> graphs,
                      const std::string& what) {
  INFO(what << ", batch " << s.batch << ", nodes " << s.nodes << ", inputs " << s.inputs
            << ", hidden " << s.hidden);
  const idx rows = s.rows(), D = s.inputs, H = s.hidden;
  std::mt19937 gen(unsigned(rows * 977 + D * 13 + H));
  const floats pre = random_floats(rows * H, gen);
  const floats mu_prev = random_floats(rows * D, gen);
  const floats w2 = random_floats(D * H, gen, 0.5);
  const floats d_mu = random_floats(rows * H, gen);

  floats agg_ref = nan_floats(rows * D), mu_ref = nan_floats(rows * H);
  mf::forward(backend::reference{}, s, graphs, pre.data(), mu_prev.data(), w2.data(),
              agg_ref.data(), mu_ref.data());
  floats agg = nan_floats(rows * D), mu = nan_floats(rows * H);
  runs::mean_field_step_forward(s, graphs, pre, mu_prev, w2, agg, mu);
  require_close(agg, agg_ref, rtol, "aggregated");
  require_close(mu, mu_ref, rtol, "mu");

  // Backward from the reference's forward cache, so both read the same ReLU mask.
  const floats d_w2_0 = random_floats(D * H, gen);
  floats d_pre_ref = nan_floats(rows * H), d_w2_ref = d_w2_0, d_agg_ref = nan_floats(rows * D),
         d_mu_prev_ref = nan_floats(rows * D);
  mf::backward(backend::reference{}, s, graphs, agg_ref.data(), w2.data(), mu_ref.data(),
               d_mu.data(), d_pre_ref.data(), d_w2_ref.data(), d_agg_ref.data(),
               d_mu_prev_ref.data());
  floats d_pre = nan_floats(rows * H), d_w2 = d_w2_0, d_agg = nan_floats(rows * D),
         d_mu_prev = nan_floats(rows * D);
  runs::mean_field_step_backward(s, graphs, agg_ref, w2, mu_ref, d_mu, d_pre, d_w2, &d_agg,
                                 &d_mu_prev);
  require_close(d_pre, d_pre_ref, rtol, "d_pre");
  require_close(d_w2, d_w2_ref, rtol, "d_w2");
  require_close(d_agg, d_agg_ref, rtol, "d_aggregated");
  require_close(d_mu_prev, d_mu_prev_ref, rtol, "d_mu_prev");

  floats d_pre_only = nan_floats(rows * H), d_w2_only = d_w2_0;
  runs::mean_field_step_backward(s, graphs, agg_ref, w2, mu_ref, d_mu, d_pre_only, d_w2_only,
                                 nullptr, nullptr);
  require_close(d_pre_only, d_pre_ref, rtol, "d_pre without d_mu_prev");
  require_close(d_w2_only, d_w2_ref, rtol, "d_w2 without d_mu_prev");
}

}  // namespace

TEST_CASE("cuda mean_field_step matches the reference: one shared graph",
          "[cuda][mean_field_step]") {
  NETMARL_SKIP_WITHOUT_CUDA();
  for (const auto& g : graphs()) {
    const csr_view view = g.view();
    for (const mf::shape& s : {mf::shape{1, g.nodes(), 5, 33}, mf::shape{3, g.nodes(), 33, 7},
                               mf::shape{2, g.nodes(), 70, 45}})
      check_mean_field(s, std::span<const csr_view>(&view, 1), g.name);
  }
}

TEST_CASE("cuda mean_field_step matches the reference: a graph per sample",
          "[cuda][mean_field_step]") {
  NETMARL_SKIP_WITHOUT_CUDA();
  // Five samples over 40 nodes with different topologies: a hub, random rows (some empty), self
  // loops only, a grid, and one with no entries at all.
  std::vector<test_graph> per_sample{star(40), random_directed(40, 6, 3), self_only(40), grid(5, 8),
                                     test_graph("all empty", adjacency_lists(40))};
  std::vector<csr_view> views;
  for (const auto& g : per_sample) views.push_back(g.view());
  for (const mf::shape& s : {mf::shape{5, 40, 5, 33}, mf::shape{5, 40, 37, 1}})
    check_mean_field(s, views, "per-sample graphs");
}

TEST_CASE("cuda qmix_mixer matches the reference", "[cuda][qmix]") {
  NETMARL_SKIP_WITHOUT_CUDA();
  for (idx batch : {1, 5, 33})
    for (idx agents : {1, 3, 20})
      for (idx embed : {1, 32, 45}) {
        const mixer::shape s{batch, agents, embed};
        INFO("batch " << batch << ", agents " << agents << ", embed " << embed);
        std::mt19937 gen(unsigned(batch * 101 + agents * 11 + embed));
        const floats q = random_floats(batch * agents, gen);
        floats w1 = random_floats(s.w1_size(), gen), w_final = random_floats(batch * embed, gen);
        for (float& w : w1) w = std::abs(w);  // as the caller's |.| makes them
        for (float& w : w_final) w = std::abs(w);
        const floats b1 = random_floats(batch * embed, gen);
        const floats v = random_floats(batch, gen);
        const floats d_q_tot = random_floats(batch, gen);

        floats pre_ref = nan_floats(batch * embed), q_tot_ref = nan_floats(batch);
        mixer::forward(backend::reference{}, s, q.data(), w1.data(), b1.data(), w_final.data(),
                       v.data(), pre_ref.data(), q_tot_ref.data());
        floats pre = nan_floats(batch * embed), q_tot = nan_floats(batch);
        runs::qmix_mixer_forward(s, q, w1, b1, w_final, v, pre, q_tot);
        require_close(pre, pre_ref, rtol, "pre");
        require_close(q_tot, q_tot_ref, rtol, "q_tot");

        floats d_q_ref = nan_floats(batch * agents), d_w1_ref = nan_floats(s.w1_size()),
               d_b1_ref = nan_floats(batch * embed), d_wf_ref = nan_floats(batch * embed),
               d_v_ref = nan_floats(batch);
        mixer::backward(backend::reference{}, s, q.data(), w1.data(), w_final.data(),
                        pre_ref.data(), d_q_tot.data(), d_q_ref.data(), d_w1_ref.data(),
                        d_b1_ref.data(), d_wf_ref.data(), d_v_ref.data());
        floats d_q = nan_floats(batch * agents), d_w1 = nan_floats(s.w1_size()),
               d_b1 = nan_floats(batch * embed), d_wf = nan_floats(batch * embed),
               d_v = nan_floats(batch);
        runs::qmix_mixer_backward(s, q, w1, w_final, pre_ref, d_q_tot, d_q, d_w1, d_b1, d_wf, d_v);
        require_close(d_q, d_q_ref, rtol, "d_q");
        require_close(d_w1, d_w1_ref, rtol, "d_w1");
        require_close(d_b1, d_b1_ref, rtol, "d_b1");
        require_close(d_wf, d_wf_ref, rtol, "d_w_final");
        require_close(d_v, d_v_ref, rtol, "d_v");
      }
}
