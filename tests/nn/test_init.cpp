#include <catch2/catch.hpp>

#include <cmath>

#include "netmarl/nn/init.hpp"

using namespace netmarl;

namespace {
double mean_of(const matrix<double>& m) { return m.mean(); }
double stddev_of(const matrix<double>& m) {
  return std::sqrt((m.array() - m.mean()).square().mean());
}
}  // namespace

TEST_CASE("init::orthogonal: tall matrices have orthonormal columns", "[nn][init]") {
  rng g(1);
  matrix<double> w(64, 16);
  nn::init::orthogonal(w, g);
  REQUIRE((w.transpose() * w).isApprox(matrix<double>::Identity(16, 16), 1e-12));
  // Not merely the identity's first columns: the draw is random.
  REQUIRE((w - matrix<double>::Identity(64, 16)).norm() > 1.0);
}

TEST_CASE("init::orthogonal: wide matrices have orthonormal rows; gain scales", "[nn][init]") {
  rng g(2);
  matrix<float> w(8, 32);
  nn::init::orthogonal(w, g, std::sqrt(2.0));
  REQUIRE((w * w.transpose()).isApprox(2.0f * matrix<float>::Identity(8, 8), 1e-5f));
  matrix<double> square(10, 10);
  nn::init::orthogonal(square, g);
  REQUIRE((square.transpose() * square).isApprox(matrix<double>::Identity(10, 10), 1e-12));
  REQUIRE((square * square.transpose()).isApprox(matrix<double>::Identity(10, 10), 1e-12));
}

TEST_CASE("init::orthogonal: sign correction makes the result depend on the draw only",
          "[nn][init]") {
  // Q's columns are sign-fixed by R's diagonal, so Q = G R^-1 has a positive-diagonal R: the first
  // column of Q is the first Gaussian column normalised (same direction, not flipped).
  rng g(3), replay(3);
  matrix<double> w(6, 3);
  nn::init::orthogonal(w, g);
  matrix<double> gaussian(6, 3);
  for (netmarl::index r = 0; r < 6; ++r)
    for (netmarl::index c = 0; c < 3; ++c) gaussian(r, c) = replay.normal();
  REQUIRE(w.col(0).isApprox(gaussian.col(0).normalized(), 1e-12));
}

TEST_CASE("init: distributions have the documented bounds and spread", "[nn][init]") {
  rng g(4);
  matrix<double> m(200, 100);  // fan_in 200, fan_out 100

  nn::init::uniform(m, g, -0.5, 0.25);
  REQUIRE(m.minCoeff() >= -0.5);
  REQUIRE(m.maxCoeff() < 0.25);
  REQUIRE(mean_of(m) == Approx(-0.125).margin(0.01));

  nn::init::normal(m, g, 1.0, 2.0);
  REQUIRE(mean_of(m) == Approx(1.0).margin(0.05));
  REQUIRE(stddev_of(m) == Approx(2.0).epsilon(0.02));

  const double xavier_bound = std::sqrt(6.0 / 300.0);
  nn::init::xavier_uniform(m, g);
  REQUIRE(m.cwiseAbs().maxCoeff() <= xavier_bound);
  REQUIRE(stddev_of(m) == Approx(xavier_bound / std::sqrt(3.0)).epsilon(0.02));

  nn::init::xavier_normal(m, g, 2.0);
  REQUIRE(stddev_of(m) == Approx(2.0 * std::sqrt(2.0 / 300.0)).epsilon(0.02));

  nn::init::he_uniform(m, g);
  const double he_bound = std::sqrt(2.0) * std::sqrt(3.0 / 200.0);
  REQUIRE(m.cwiseAbs().maxCoeff() <= he_bound);
  REQUIRE(stddev_of(m) == Approx(std::sqrt(2.0 / 200.0)).epsilon(0.02));

  nn::init::he_normal(m, g);
  REQUIRE(stddev_of(m) == Approx(std::sqrt(2.0 / 200.0)).epsilon(0.02));

  nn::init::constant(m, 0.75);
  REQUIRE((m.array() == 0.75).all());
}

TEST_CASE("init: pytorch_default bounds and determinism", "[nn][init]") {
  rng g(5);
  nn::parameter<double> weight(25, 40), bias(1, 40);
  nn::init::pytorch_default(weight, bias, g);
  REQUIRE(weight.value.cwiseAbs().maxCoeff() <= 0.2);
  REQUIRE(weight.value.cwiseAbs().maxCoeff() > 0.19);
  REQUIRE(bias.value.cwiseAbs().maxCoeff() <= 0.2);
  REQUIRE(stddev_of(weight.value) == Approx(0.2 / std::sqrt(3.0)).epsilon(0.05));
  REQUIRE(weight.grad.isZero());  // initialisers touch values only

  rng again(5);
  nn::parameter<double> weight2(25, 40), bias2(1, 40);
  nn::init::pytorch_default(weight2, bias2, again);
  REQUIRE(weight2.value == weight.value);
  REQUIRE(bias2.value == bias.value);
}
