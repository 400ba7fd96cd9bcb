#include <catch2/catch.hpp>

#include <cmath>

#include "netmarl/nn/softmax.hpp"
#include "support/gradient_check.hpp"

using namespace netmarl;

namespace {
// d/dx of sum(weight_of_out * layer(x)), checked against the layer's backward.
template <class Layer>
testing::gradient_check_report check_layer(Layer layer, std::uint64_t seed) {
  rng g(seed);
  matrix<double> x = testing::random_matrix(3, 5, g, -3, 3);
  const matrix<double> weight_of_out = testing::random_matrix(3, 5, g);
  auto loss = [&] {
    nn::softmax_cache<double> cache;
    matrix<double> y;
    nn::forward(backend::reference{}, layer, x, cache, y);
    return (y.array() * weight_of_out.array()).sum();
  };
  nn::softmax_cache<double> cache;
  matrix<double> y, dx;
  nn::forward(backend::reference{}, layer, x, cache, y);
  nn::backward(backend::reference{}, layer, cache, weight_of_out, &dx);
  return testing::check_gradient(x, dx, loss, "x");
}
}  // namespace

TEST_CASE("softmax: input gradients match finite differences", "[nn][softmax]") {
  const auto report = check_layer(nn::softmax{}, 21);
  INFO(report);
  REQUIRE(report.max_relative_error <= 1e-6);
}

TEST_CASE("log_softmax: input gradients match finite differences", "[nn][softmax]") {
  const auto report = check_layer(nn::log_softmax{}, 22);
  INFO(report);
  REQUIRE(report.max_relative_error <= 1e-6);
}

TEST_CASE("softmax: values, and stability for huge logits", "[nn][softmax]") {
  matrix<double> x(2, 3);
  x << 1, 2, 3,          //
      1000, 1001, 1002;  // naive exp overflows; the max-subtracted form gives row 0's answer
  nn::softmax_cache<double> cache;
  matrix<double> p, log_p;
  nn::forward(backend::reference{}, nn::softmax{}, x, cache, p);
  const double total = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  matrix<double> expected(1, 3);
  expected << std::exp(1.0) / total, std::exp(2.0) / total, std::exp(3.0) / total;
  REQUIRE(p.row(0).isApprox(expected, 1e-14));
  REQUIRE(p.row(1).isApprox(expected, 1e-14));
  nn::forward(backend::reference{}, nn::log_softmax{}, x, cache, log_p);
  REQUIRE(log_p.allFinite());
  REQUIRE(log_p.row(1).isApprox(expected.array().log().matrix(),
                                1e-12));  // 1000 - 1002.4: cancellation

  matrix<float> very_negative(1, 2);
  very_negative << -1e30f, 0.f;
  matrix<float> lp;
  nn::softmax_cache<float> float_cache;
  nn::forward(backend::reference{}, nn::log_softmax{}, very_negative, float_cache, lp);
  REQUIRE(lp(0, 1) == 0.f);
  REQUIRE(std::isfinite(lp(0, 0)));
}

TEST_CASE("softmax: backward checks d_out's shape", "[nn][softmax]") {
  nn::softmax_cache<double> cache;
  matrix<double> y, dx;
  nn::forward(backend::reference{}, nn::softmax{}, matrix<double>::Zero(2, 3), cache, y);
  REQUIRE_THROWS_MATCHES(
      nn::backward(backend::reference{}, nn::softmax{}, cache, matrix<double>::Zero(3, 3), &dx),
      shape_error, Catch::Matchers::Message("softmax backward: d_out: expected 2x3, got 3x3"));
}
