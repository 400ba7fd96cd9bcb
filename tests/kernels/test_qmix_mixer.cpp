// kernels::qmix_mixer: the reference forward against hand-computed values, its backward against
// finite differences for every input, and float against double.
#include <catch2/catch.hpp>
#include <cmath>
#include <tuple>

#include "netmarl/kernels/qmix_mixer.hpp"
#include "support/gradient_check.hpp"

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

TEST_CASE("qmix_mixer: float agrees with double; backend::simd falls back to the reference",
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
  const nm::backend::simd<> simd;  // no SIMD mixer yet: resolves to the reference overload
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
