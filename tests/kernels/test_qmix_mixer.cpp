// kernels::qmix_mixer: the reference forward against hand-computed values, its backward against
// finite differences for every input, float against double, and the SIMD kernel against the
// reference for every instruction set this compiler can target.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <tuple>
#include <vector>

#include "netmarl/kernels/qmix_mixer.hpp"
#include "support/gradient_check.hpp"
#include "support/require_close.hpp"

namespace nm = netmarl;
namespace mixer = netmarl::kernels::qmix_mixer;
using nm::matrix;
using idx = nm::index;  // plain `index` clashes with POSIX index()

namespace {

// Inputs of one batched mixer call, each a matrix so the gradient checker can probe it.
struct inputs {
  mixer::shape s;
  matrix<double> q, w1, b1, w_final, v;  // v is [batch, 1]

  void forward(matrix<double>& pre, matrix<double>& q_tot) const {
    pre.resize(s.batch, s.embed);
    q_tot.resize(s.batch, 1);
    mixer::forward(nm::backend::reference{}, s, q.data(), w1.data(), b1.data(), w_final.data(),
                   v.data(), pre.data(), q_tot.data());
  }
};

// Random inputs whose pre-activations are chosen first (margin <= |pre| < 1, both signs) and b1
// solved for: by construction no finite-difference probe (|step| <= 2e-4) crosses ELU's kink at 0.
inputs random_inputs(idx batch, idx agents, idx embed, nm::rng& g) {
  inputs in;
  in.s = {batch, agents, embed};
  in.q = nm::testing::random_matrix(batch, agents, g);
  in.w1 = nm::testing::random_matrix(batch, agents * embed, g, 0.1, 1.0);  // non-negative, as |.|
  in.w_final = nm::testing::random_matrix(batch, embed, g, 0.1, 1.0);
  in.v = nm::testing::random_matrix(batch, 1, g);
  const matrix<double> pre = nm::testing::random_matrix_away_from_zero(batch, embed, g, 0.05);
  in.b1.resize(batch, embed);
  for (idx b = 0; b < batch; ++b)
    for (idx e = 0; e < embed; ++e) {
      double mixed = 0;
      for (idx i = 0; i < agents; ++i) mixed += in.q(b, i) * in.w1(b, i * embed + e);
      in.b1(b, e) = pre(b, e) - mixed;
    }
  return in;
}

}  // namespace

TEST_CASE("qmix_mixer: flop counts follow the spec", "[kernels][qmix]") {
  const mixer::shape s{2, 3, 4};
  CHECK(s.w1_size() == 24);
  CHECK(s.forward_flops() == 2.0 * (2 * 3 * 4 + 4 * 4 + 1));
  CHECK(s.backward_flops() == 2.0 * (3 * 3 * 4 + 5 * 4));
}

TEST_CASE("qmix_mixer: a hand-computed batch of two (N = 2, E = 1), both ELU branches",
          "[kernels][qmix]") {
  // Sample 0: pre = 1 * 0.5 + (-0.5) * 1.9 - 0.7 = -1.15 (ELU's exponential side).
  // Sample 1: pre = 2 * 1 + 1 * 0.5 + 0.25 = 2.75 (the identity side).
  const double q[] = {1.0, -0.5, 2.0, 1.0};
  const double w1[] = {0.5, 1.9, 1.0, 0.5};
  const double b1[] = {-0.7, 0.25};
  const double w_final[] = {1.5, 2.0};
  const double v[] = {1.25, -1.0};
  double pre[2], q_tot[2];
  const mixer::shape s{2, 2, 1};
  mixer::forward(nm::backend::reference{}, s, q, w1, b1, w_final, v, pre, q_tot);
  CHECK(pre[0] == Approx(-1.15));
  CHECK(pre[1] == Approx(2.75));
  CHECK(q_tot[0] == Approx(1.5 * (std::exp(-1.15) - 1.0) + 1.25));
  CHECK(q_tot[1] == Approx(2.0 * 2.75 - 1.0));

  const double d_q_tot[] = {1.0, 2.0};
  double d_q[4], d_w1[4], d_b1[2], d_w_final[2], d_v[2];
  mixer::backward(nm::backend::reference{}, s, q, w1, w_final, pre, d_q_tot, d_q, d_w1, d_b1,
                  d_w_final, d_v);
  const double d_pre0 = 1.5 * std::exp(-1.15);  // d_out * w_final * ELU'(pre)
  CHECK(d_b1[0] == Approx(d_pre0));
  CHECK(d_q[0] == Approx(0.5 * d_pre0));
  CHECK(d_q[1] == Approx(1.9 * d_pre0));
  CHECK(d_w1[0] == Approx(1.0 * d_pre0));
  CHECK(d_w1[1] == Approx(-0.5 * d_pre0));
  CHECK(d_w_final[0] == Approx(std::exp(-1.15) - 1.0));
  CHECK(d_v[0] == 1.0);
  // Sample 1: d_pre = 2 * 2 * 1 = 4.
  CHECK(d_b1[1] == Approx(4.0));
  CHECK(d_q[2] == Approx(4.0));
  CHECK(d_q[3] == Approx(2.0));
  CHECK(d_w1[2] == Approx(8.0));
  CHECK(d_w1[3] == Approx(4.0));
  CHECK(d_w_final[1] == Approx(2.0 * 2.75));
  CHECK(d_v[1] == 2.0);
}

TEST_CASE("qmix_mixer: backward matches finite differences for every input", "[kernels][qmix]") {
  nm::rng g(7);
  for (auto [batch, agents, embed] : {std::tuple<idx, idx, idx>{4, 3, 5}, {1, 1, 1}, {3, 6, 2}}) {
    inputs in = random_inputs(batch, agents, embed, g);
    const matrix<double> weights = nm::testing::random_matrix(batch, 1, g, 0.5, 1.5);
    // L = sum_b c_b Q_tot_b: a different upstream gradient per sample.
    auto loss = [&] {
      matrix<double> pre, q_tot;
      in.forward(pre, q_tot);
      return (weights.array() * q_tot.array()).sum();
    };
    matrix<double> pre, q_tot;
    in.forward(pre, q_tot);
    if (embed > 1) {  // both ELU branches are exercised
      CHECK((pre.array() < 0).any());
      CHECK((pre.array() > 0).any());
    }
    matrix<double> d_q(batch, agents), d_w1(batch, agents * embed), d_b1(batch, embed),
        d_w_final(batch, embed), d_v(batch, 1);
    mixer::backward(nm::backend::reference{}, in.s, in.q.data(), in.w1.data(), in.w_final.data(),
                    pre.data(), weights.data(), d_q.data(), d_w1.data(), d_b1.data(),
                    d_w_final.data(), d_v.data());
    nm::testing::gradient_check_report report;
    nm::testing::check_gradient_into(report, in.q, d_q, loss, "q");
    nm::testing::check_gradient_into(report, in.w1, d_w1, loss, "w1");
    nm::testing::check_gradient_into(report, in.b1, d_b1, loss, "b1");
    nm::testing::check_gradient_into(report, in.w_final, d_w_final, loss, "w_final");
    nm::testing::check_gradient_into(report, in.v, d_v, loss, "v");
    INFO("batch " << batch << ", agents " << agents << ", embed " << embed << ": " << report);
    CHECK(report.entries_checked == batch * (agents + agents * embed + 2 * embed + 1));
    REQUIRE(report.max_relative_error <= 1e-6);
  }
}

TEST_CASE("qmix_mixer: float on backend::simd agrees with the double reference",
          "[kernels][qmix]") {
  nm::rng g(3);
  const idx batch = 64, agents = 8, embed = 32;
  const inputs in = random_inputs(batch, agents, embed, g);
  const matrix<double> d_out = nm::testing::random_matrix(batch, 1, g);
  matrix<double> pre, q_tot;
  in.forward(pre, q_tot);
  matrix<double> d_q(batch, agents), d_w1(batch, agents * embed), d_b1(batch, embed),
      d_w_final(batch, embed), d_v(batch, 1);
  mixer::backward(nm::backend::reference{}, in.s, in.q.data(), in.w1.data(), in.w_final.data(),
                  pre.data(), d_out.data(), d_q.data(), d_w1.data(), d_b1.data(), d_w_final.data(),
                  d_v.data());

  const matrix<float> qf = in.q.cast<float>(), w1f = in.w1.cast<float>(), b1f = in.b1.cast<float>(),
                      wff = in.w_final.cast<float>(), vf = in.v.cast<float>(),
                      d_outf = d_out.cast<float>();
  matrix<float> pref(batch, embed), q_totf(batch, 1), d_qf(batch, agents),
      d_w1f(batch, agents * embed), d_b1f(batch, embed), d_wff(batch, embed), d_vf(batch, 1);
  const nm::backend::simd<> simd;
  mixer::forward(simd, in.s, qf.data(), w1f.data(), b1f.data(), wff.data(), vf.data(), pref.data(),
                 q_totf.data());
  mixer::backward(simd, in.s, qf.data(), w1f.data(), wff.data(), pref.data(), d_outf.data(),
                  d_qf.data(), d_w1f.data(), d_b1f.data(), d_wff.data(), d_vf.data());
  // Relative to the largest entry: float keeps ~7 digits through sums of 32 terms.
  auto close = [](const matrix<float>& f, const matrix<double>& d) {
    return (f.cast<double>() - d).cwiseAbs().maxCoeff() <= 1e-5 * (1.0 + d.cwiseAbs().maxCoeff());
  };
  CHECK(close(q_totf, q_tot));
  CHECK(close(pref, pre));
  CHECK(close(d_qf, d_q));
  CHECK(close(d_w1f, d_w1));
  CHECK(close(d_b1f, d_b1));
  CHECK(close(d_wff, d_w_final));
  CHECK(close(d_vf, d_v));
}

namespace {

// Every instruction set this compiler can target (as in test_dense.cpp), so each vector width's
// chunking and tails run on one machine.
using archs = std::tuple<xsimd::default_arch
#if XSIMD_WITH_FMA3_AVX2
                         ,
                         xsimd::fma3<xsimd::avx2>
#endif
#if XSIMD_WITH_SSE4_2
                         ,
                         xsimd::sse4_2
#endif
                         >;

std::size_t sz(idx n) { return static_cast<std::size_t>(n); }

template <class T>
std::vector<T> uniform_vector(idx n, std::mt19937& gen, double lo, double hi) {
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<T> v(sz(n));
  for (auto& x : v) x = T(u(gen));
  return v;
}

template <class T>
std::vector<T> nan_vector(idx n) {
  return std::vector<T>(sz(n), std::numeric_limits<T>::quiet_NaN());
}

// One mixer call's inputs and every output, the outputs NaN-prefilled: the spec says every
// output is OVERWRITTEN, so a missed entry shows as NaN.
template <class T>
struct mixer_call {
  mixer::shape s;
  std::vector<T> q, w1, b1, w_final, v, d_q_tot;
  std::vector<T> pre, q_tot, d_q, d_w1, d_b1, d_w_final, d_v;

  mixer_call(idx batch, idx agents, idx embed, unsigned seed) : s{batch, agents, embed} {
    std::mt19937 gen(seed);
    q = uniform_vector<T>(batch * agents, gen, -1.0, 1.0);
    w1 = uniform_vector<T>(s.w1_size(), gen, 0.0, 1.0);  // non-negative, as |hyper_w1(s)|
    b1 = uniform_vector<T>(batch * embed, gen, -1.0, 1.0);
    w_final = uniform_vector<T>(batch * embed, gen, 0.0, 1.0);
    v = uniform_vector<T>(batch, gen, -1.0, 1.0);
    d_q_tot = uniform_vector<T>(batch, gen, -1.0, 1.0);
    pre = nan_vector<T>(batch * embed);
    q_tot = nan_vector<T>(batch);
    d_q = nan_vector<T>(batch * agents);
    d_w1 = nan_vector<T>(s.w1_size());
    d_b1 = nan_vector<T>(batch * embed);
    d_w_final = nan_vector<T>(batch * embed);
    d_v = nan_vector<T>(batch);
  }

  template <class Backend>
  void run(Backend b) {
    mixer::forward(b, s, q.data(), w1.data(), b1.data(), w_final.data(), v.data(), pre.data(),
                   q_tot.data());
    mixer::backward(b, s, q.data(), w1.data(), w_final.data(), pre.data(), d_q_tot.data(),
                    d_q.data(), d_w1.data(), d_b1.data(), d_w_final.data(), d_v.data());
  }
};

template <class Backend>
void check_simd_against_reference(Backend b, idx batch, idx agents, idx embed) {
  INFO(b.name() << ": batch " << batch << ", agents " << agents << ", embed " << embed);
  const unsigned seed = unsigned(batch * 7919 + agents * 101 + embed);
  mixer_call<float> want(batch, agents, embed, seed), got(batch, agents, embed, seed);
  want.run(nm::backend::reference{});
  got.run(b);
  // Sums of up to a few hundred float terms in another order, and xsimd's expm1.
  constexpr double rtol = 2e-5;
  using nm::testing::require_close;
  require_close(got.pre, want.pre, rtol, "pre");
  require_close(got.q_tot, want.q_tot, rtol, "q_tot");
  require_close(got.d_q, want.d_q, rtol, "d_q");
  require_close(got.d_w1, want.d_w1, rtol, "d_w1");
  require_close(got.d_b1, want.d_b1, rtol, "d_b1");
  require_close(got.d_w_final, want.d_w_final, rtol, "d_w_final");
  require_close(got.d_v, want.d_v, rtol, "d_v");
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("qmix_mixer simd: matches the reference, embed and agent tails included",
                        "[kernels][qmix][simd]", archs) {
  const nm::backend::simd<TestType> b;
  // Embed sizes below, at and past every chunk (1, 2, 4, 8 vectors of 4, 8 or 16 lanes) with
  // tails; agent counts odd and even, below and past one haddp block (up to 16 agents).
  for (idx embed : {1, 3, 4, 15, 16, 17, 32, 33, 64, 100, 128, 129, 200})
    for (idx agents : {1, 2, 3, 8, 15, 16, 17, 33, 40})
      check_simd_against_reference(b, 3, agents, embed);
}

TEMPLATE_LIST_TEST_CASE("qmix_mixer simd: PyMARL and VAST shapes, and a many-agent sample",
                        "[kernels][qmix][simd]", archs) {
  const nm::backend::simd<TestType> b;
  check_simd_against_reference(b, 32, 8, 32);    // PyMARL QMixer, N = 8
  check_simd_against_reference(b, 10, 20, 128);  // the VAST authors' QMIXNet
  check_simd_against_reference(b, 2, 800, 32);   // the hub: one sample mixes 800 agents
  check_simd_against_reference(b, 1, 1, 1);
}

TEMPLATE_LIST_TEST_CASE("qmix_mixer simd: an empty batch writes nothing", "[kernels][qmix][simd]",
                        archs) {
  const nm::backend::simd<TestType> b;
  mixer_call<float> c(0, 5, 32, 1);
  c.run(b);  // every buffer is empty: nothing to read or write
  CHECK(c.pre.empty());
  CHECK(c.d_w1.empty());
}

TEST_CASE("qmix_mixer simd: double delegates to the reference", "[kernels][qmix][simd]") {
  mixer_call<double> want(4, 7, 33, 11), got(4, 7, 33, 11);
  want.run(nm::backend::reference{});
  got.run(nm::backend::simd<>{});
  CHECK(got.pre == want.pre);
  CHECK(got.q_tot == want.q_tot);
  CHECK(got.d_q == want.d_q);
  CHECK(got.d_w1 == want.d_w1);
  CHECK(got.d_b1 == want.d_b1);
  CHECK(got.d_w_final == want.d_w_final);
  CHECK(got.d_v == want.d_v);
}
