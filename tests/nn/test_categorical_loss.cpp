// GCC 12 warns falsely inside its own AVX-512 header ("'__Y' is used uninitialized", GCC bug
// 105593) when Eigen's vectorised double exp is emitted out of line. The warning's location is
// avx512fintrin.h, so it is silenced where that header is first included.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <Eigen/Core>
#pragma GCC diagnostic pop

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "netmarl/nn/categorical_loss.hpp"
#include "support/gradient_check.hpp"

using namespace netmarl;

namespace {

const std::vector<int> actions{2, 0, 3, 1, 3};
const std::vector<double> upstream{0.7, -1.3, 0.2, 2.0, -0.4};  // one weight per row

matrix<double> random_logits(std::uint64_t seed) {
  rng g(seed);
  return testing::random_matrix(5, 4, g, -3, 3);
}

// log pi(a | row) straight from the definition, for comparison.
double log_prob_by_definition(const matrix<double>& logits, netmarl::index r, int a) {
  return logits(r, a) - std::log(logits.row(r).array().exp().sum());
}

}  // namespace

TEST_CASE("cross_entropy: value, gradient and errors", "[nn][loss][categorical]") {
  matrix<double> logits = random_logits(61);
  matrix<double> d;
  const double loss = nn::cross_entropy(logits, actions, d);
  double expected = 0;
  for (netmarl::index r = 0; r < 5; ++r) expected -= log_prob_by_definition(logits, r, actions[r]);
  REQUIRE(loss == Approx(expected / 5).epsilon(1e-14));

  auto f = [&] {
    matrix<double> scratch;
    return nn::cross_entropy(logits, actions, scratch);
  };
  const auto report = testing::check_gradient(logits, d, f, "logits");
  INFO(report);
  REQUIRE(report.max_relative_error <= 1e-6);

  const std::vector<int> out_of_range{2, 0, 4, 1, 3};
  REQUIRE_THROWS_MATCHES(
      nn::cross_entropy(logits, out_of_range, d), invalid_argument,
      Catch::Matchers::Message("cross_entropy: labels[2] = 4 is out of range [0, 4)"));
  const std::vector<int> too_few{0, 1};
  REQUIRE_THROWS_MATCHES(
      nn::cross_entropy(logits, too_few, d), shape_error,
      Catch::Matchers::Message("cross_entropy: labels (one per row of logits): expected 5, got 2"));
}

TEST_CASE("cross_entropy: stable for huge logits", "[nn][loss][categorical]") {
  matrix<float> logits(1, 3);
  logits << 1000.f, 0.f, -1000.f;
  matrix<float> d;
  const std::vector<int> label{1};
  REQUIRE(nn::cross_entropy(logits, label, d) == Approx(1000.f));
  REQUIRE(d.allFinite());
  REQUIRE(d(0, 0) == Approx(1.f));
  REQUIRE(d(0, 1) == Approx(-1.f));
}

TEST_CASE("categorical_log_prob: values and gradient", "[nn][loss][categorical]") {
  matrix<double> logits = random_logits(62);
  column_vector<double> log_prob;
  nn::categorical_log_prob(logits, actions, log_prob);
  for (netmarl::index r = 0; r < 5; ++r)
    REQUIRE(log_prob(r) == Approx(log_prob_by_definition(logits, r, actions[r])).epsilon(1e-14));

  matrix<double> d;
  nn::categorical_log_prob_backward(logits, actions, upstream, d);
  auto f = [&] {  // sum_r upstream_r log pi(a_r | r)
    column_vector<double> lp;
    nn::categorical_log_prob(logits, actions, lp);
    return lp.dot(Eigen::Map<const column_vector<double>>(upstream.data(), 5));
  };
  const auto report = testing::check_gradient(logits, d, f, "logits");
  INFO(report);
  REQUIRE(report.max_relative_error <= 1e-6);
}

TEST_CASE("policy_gradient_loss: value and gradient", "[nn][loss][categorical]") {
  matrix<double> logits = random_logits(63);
  matrix<double> d;
  const double loss = nn::policy_gradient_loss(logits, actions, upstream, d);
  double expected = 0;
  for (netmarl::index r = 0; r < 5; ++r)
    expected -= upstream[r] * log_prob_by_definition(logits, r, actions[r]);
  REQUIRE(loss == Approx(expected / 5).epsilon(1e-14));

  auto f = [&] {
    matrix<double> scratch;
    return nn::policy_gradient_loss(logits, actions, upstream, scratch);
  };
  const auto report = testing::check_gradient(logits, d, f, "logits");
  INFO(report);
  REQUIRE(report.max_relative_error <= 1e-6);

  const std::vector<double> masked{0, 0, 0, 0, 0};
  REQUIRE(nn::policy_gradient_loss(logits, actions, masked, d) == 0.0);
  REQUIRE(d.isZero());
}

TEST_CASE("categorical_entropy: values and gradients", "[nn][loss][categorical]") {
  matrix<double> logits = random_logits(64);
  logits.row(0).setConstant(2.5);  // uniform: H = log 4
  column_vector<double> entropy;
  nn::categorical_entropy(logits, entropy);
  REQUIRE(entropy(0) == Approx(std::log(4.0)).epsilon(1e-14));
  for (netmarl::index r = 1; r < 5; ++r) {
    const Eigen::ArrayXd p = logits.row(r).array().exp() / logits.row(r).array().exp().sum();
    REQUIRE(entropy(r) == Approx(-(p * p.log()).sum()).epsilon(1e-14));
  }

  matrix<double> d;
  nn::categorical_entropy_backward(logits, upstream, d);
  REQUIRE(d.row(0).norm() < 1e-15);  // the uniform distribution is entropy's maximum
  auto weighted = [&] {
    column_vector<double> h;
    nn::categorical_entropy(logits, h);
    return h.dot(Eigen::Map<const column_vector<double>>(upstream.data(), 5));
  };
  rng g(65);
  logits.row(0) = testing::random_matrix(1, 4, g);  // off the maximum
  nn::categorical_entropy_backward(logits, upstream, d);
  const auto report = testing::check_gradient(logits, d, weighted, "logits");
  INFO(report);
  REQUIRE(report.max_relative_error <= 1e-6);

  matrix<double> d_mean;
  const double mean = nn::mean_entropy(logits, d_mean);
  nn::categorical_entropy(logits, entropy);
  REQUIRE(mean == Approx(entropy.mean()).epsilon(1e-14));
  auto mean_only = [&] {
    matrix<double> scratch;
    return nn::mean_entropy(logits, scratch);
  };
  const auto mean_report = testing::check_gradient(logits, d_mean, mean_only, "logits");
  INFO(mean_report);
  REQUIRE(mean_report.max_relative_error <= 1e-6);
}
