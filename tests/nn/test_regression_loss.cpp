#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "netmarl/nn/regression_loss.hpp"
#include "support/gradient_check.hpp"

using namespace netmarl;

namespace {

// Residuals pred - target whose magnitudes lie in [0.1, 0.8] * delta or [1.2, 3] * delta (half
// each, random signs): both huber branches, none within the stencil of the seam at |r| = delta.
matrix<double> residuals_clear_of_seam(netmarl::index rows, netmarl::index cols, rng& g,
                                       double delta) {
  matrix<double> r(rows, cols);
  for (netmarl::index i = 0; i < r.size(); ++i) {
    const double magnitude = g.bernoulli(0.5) ? g.uniform(0.1, 0.8) : g.uniform(1.2, 3.0);
    r.data()[i] = (g.bernoulli(0.5) ? magnitude : -magnitude) * delta;
  }
  return r;
}

template <class Loss>
testing::gradient_check_report check_loss(matrix<double>& pred, Loss loss_with_gradient) {
  matrix<double> d_pred;
  loss_with_gradient(d_pred);
  auto loss = [&] {
    matrix<double> scratch;
    return loss_with_gradient(scratch);
  };
  return testing::check_gradient(pred, d_pred, loss, "pred");
}

}  // namespace

TEST_CASE("mse: value and gradient", "[nn][loss][mse]") {
  matrix<double> pred(2, 2), target(2, 2);
  pred << 1, 2, 3, 4;
  target << 0, 2, 5, 1;
  matrix<double> d;
  REQUIRE(nn::mse<double>(pred, target, d) == Approx((1.0 + 0 + 4 + 9) / 4).epsilon(1e-15));
  matrix<double> expected_d(2, 2);
  expected_d << 0.5, 0, -1, 1.5;  // 2 (p - t) / 4
  REQUIRE(d.isApprox(expected_d, 1e-15));

  rng g(51);
  matrix<double> p = testing::random_matrix(5, 3, g);
  const matrix<double> t = testing::random_matrix(5, 3, g);
  const auto report = check_loss(p, [&](matrix<double>& dp) { return nn::mse<double>(p, t, dp); });
  INFO(report);
  REQUIRE(report.max_relative_error <= 1e-6);
}

TEST_CASE("mse with row weights: masked rows do not count", "[nn][loss][mse]") {
  rng g(52);
  matrix<double> p = testing::random_matrix(4, 3, g);
  const matrix<double> t = testing::random_matrix(4, 3, g);
  const std::vector<double> mask{1, 0, 1, 1};
  matrix<double> d, d_kept;
  const double masked = nn::mse<double>(p, t, mask, d);
  // Same as the unweighted loss over rows 0, 2, 3 only.
  matrix<double> p_kept(3, 3), t_kept(3, 3);
  p_kept << p.row(0), p.row(2), p.row(3);
  t_kept << t.row(0), t.row(2), t.row(3);
  REQUIRE(masked == Approx(nn::mse<double>(p_kept, t_kept, d_kept)).epsilon(1e-14));
  REQUIRE(d.row(1).isZero());
  REQUIRE(d.row(2).isApprox(d_kept.row(1), 1e-14));

  const std::vector<double> ones(4, 1.0), zeros(4, 0.0);
  matrix<double> d_plain;
  REQUIRE(nn::mse<double>(p, t, ones, d) == Approx(nn::mse<double>(p, t, d_plain)).epsilon(1e-15));
  REQUIRE(d.isApprox(d_plain, 1e-15));
  REQUIRE(nn::mse<double>(p, t, zeros, d) == 0.0);
  REQUIRE(d.isZero());

  const std::vector<double> weights{0.5, 0.0, 2.0, 1.0};
  const auto report =
      check_loss(p, [&](matrix<double>& dp) { return nn::mse<double>(p, t, weights, dp); });
  INFO(report);
  REQUIRE(report.max_relative_error <= 1e-6);
}

TEST_CASE("huber: PyTorch's values on both branches", "[nn][loss][huber]") {
  matrix<double> pred(1, 4), target = matrix<double>::Zero(1, 4);
  pred << 0.5, -0.25, 3, -2;
  matrix<double> d;
  // delta 1: 0.5 x^2 inside, |x| - 0.5 outside.
  const double expected = (0.125 + 0.03125 + 2.5 + 1.5) / 4;
  REQUIRE(nn::huber<double>(pred, target, d) == Approx(expected).epsilon(1e-15));
  matrix<double> expected_d(1, 4);
  expected_d << 0.5 / 4, -0.25 / 4, 1.0 / 4, -1.0 / 4;
  REQUIRE(d.isApprox(expected_d, 1e-15));
  // delta 2: 0.5 x^2 for |x| < 2, 2 (|x| - 1) beyond.
  const double expected_delta2 = (0.125 + 0.03125 + 4.0 + 2.0) / 4;
  REQUIRE(nn::huber<double>(pred, target, 2.0, d) == Approx(expected_delta2).epsilon(1e-15));
  // smooth_l1 = huber / beta.
  REQUIRE(nn::smooth_l1<double>(pred, target, 2.0, d) ==
          Approx(expected_delta2 / 2).epsilon(1e-15));
}

TEST_CASE("huber and smooth_l1: gradients match finite differences", "[nn][loss][huber]") {
  for (const double delta : {1.0, 0.5, 3.0}) {
    INFO("delta " << delta);
    rng g(53);
    matrix<double> p = testing::random_matrix(6, 4, g);
    const matrix<double> t = p - residuals_clear_of_seam(6, 4, g, delta);
    const auto huber_report =
        check_loss(p, [&](matrix<double>& dp) { return nn::huber<double>(p, t, delta, dp); });
    INFO(huber_report);
    REQUIRE(huber_report.max_relative_error <= 1e-6);
    const auto smooth_report =
        check_loss(p, [&](matrix<double>& dp) { return nn::smooth_l1<double>(p, t, delta, dp); });
    INFO(smooth_report);
    REQUIRE(smooth_report.max_relative_error <= 1e-6);
    const std::vector<double> weights{1, 0, 0.5, 1, 2, 0};
    const auto weighted_report = check_loss(
        p, [&](matrix<double>& dp) { return nn::huber<double>(p, t, delta, weights, dp); });
    INFO(weighted_report);
    REQUIRE(weighted_report.max_relative_error <= 1e-6);
  }
}

TEST_CASE("regression losses: bad shapes and parameters throw", "[nn][loss]") {
  matrix<float> d;
  const matrix<float> a = matrix<float>::Zero(3, 2), b = matrix<float>::Zero(3, 1);
  REQUIRE_THROWS_MATCHES(nn::mse<float>(a, b, d), shape_error,
                         Catch::Matchers::Message("mse: target: expected 3x2, got 3x1"));
  const std::vector<float> two{1, 1};
  REQUIRE_THROWS_MATCHES(
      nn::mse<float>(a, a, two, d), shape_error,
      Catch::Matchers::Message("mse: row weights (one per row of pred): expected 3, got 2"));
  REQUIRE_THROWS_AS(nn::huber<float>(a, a, 0.0, d), invalid_argument);
  REQUIRE_THROWS_AS(nn::smooth_l1<float>(a, a, -1.0, d), invalid_argument);
}
