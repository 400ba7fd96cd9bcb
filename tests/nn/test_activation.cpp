#include <catch2/catch.hpp>

#include <cmath>

#include "netmarl/nn/activation.hpp"
#include "support/gradient_check.hpp"

using namespace netmarl;
using nn::activation;

namespace {
const activation all_activations[] = {activation::identity, activation::relu, activation::elu,
                                      activation::tanh, activation::sigmoid};
}

TEST_CASE("activation: input gradients match finite differences", "[nn][activation]") {
  for (const activation a : all_activations) {
    INFO(nn::to_string(a));
    rng g(17);
    // |x| >= 0.1 keeps relu's and elu's kink at 0 far outside the finite-difference stencil.
    matrix<double> x = testing::random_matrix_away_from_zero(4, 6, g, 0.1) * 2.0;
    const matrix<double> weight_of_out = testing::random_matrix(4, 6, g);
    auto loss = [&] {
      nn::activation_cache<double> cache;
      matrix<double> y;
      nn::forward(backend::reference{}, a, x, cache, y);
      return (y.array() * weight_of_out.array()).sum();
    };
    nn::activation_cache<double> cache;
    matrix<double> y, dx;
    nn::forward(backend::reference{}, a, x, cache, y);
    nn::backward(backend::reference{}, a, cache, weight_of_out, &dx);
    const auto report = testing::check_gradient(x, dx, loss, "x");
    INFO(report);
    REQUIRE(report.max_relative_error <= 1e-6);
  }
}

TEST_CASE("activation: forward values", "[nn][activation]") {
  matrix<double> x(1, 4);
  x << -2, -0.5, 0.5, 3;
  matrix<double> expected(5, 4);
  expected.row(0) = x;
  expected.row(1) << 0, 0, 0.5, 3;
  expected.row(2) << std::exp(-2.0) - 1, std::exp(-0.5) - 1, 0.5, 3;
  expected.row(3) << std::tanh(-2.0), std::tanh(-0.5), std::tanh(0.5), std::tanh(3.0);
  for (int j = 0; j < 4; ++j) expected(4, j) = 1 / (1 + std::exp(-x(0, j)));
  for (int k = 0; k < 5; ++k) {
    INFO(nn::to_string(all_activations[k]));
    nn::activation_cache<double> cache;
    matrix<double> y;
    nn::forward(backend::reference{}, all_activations[k], x, cache, y);
    REQUIRE(y.isApprox(expected.row(k), 1e-14));
    for (int j = 0; j < 4; ++j)
      REQUIRE(nn::activate(all_activations[k], x(0, j)) == Approx(y(0, j)));
  }
}

TEST_CASE("activation: sigmoid and elu stay finite for large inputs", "[nn][activation]") {
  matrix<float> x(1, 3);
  x << -1000.f, 0.f, 1000.f;
  matrix<float> y;
  nn::activation_cache<float> cache;
  nn::forward(backend::reference{}, activation::sigmoid, x, cache, y);
  REQUIRE(y.allFinite());
  REQUIRE(y(0, 0) == 0.f);
  REQUIRE(y(0, 2) == 1.f);
  nn::forward(backend::reference{}, activation::elu, x, cache, y);
  REQUIRE(y.allFinite());
  REQUIRE(y(0, 0) == -1.f);
}

TEST_CASE("activation: backward checks d_out's shape", "[nn][activation]") {
  nn::activation_cache<double> cache;
  matrix<double> y, dx;
  nn::forward(backend::reference{}, activation::tanh, matrix<double>::Zero(2, 3), cache, y);
  REQUIRE_THROWS_MATCHES(
      nn::backward(backend::reference{}, activation::tanh, cache, matrix<double>::Zero(2, 4), &dx),
      shape_error, Catch::Matchers::Message("activation backward: d_out: expected 2x3, got 2x4"));
}
