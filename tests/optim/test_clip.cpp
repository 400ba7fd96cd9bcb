#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "netmarl/core/error.hpp"
#include "netmarl/optim/clip.hpp"

using netmarl::nn::parameter;
using netmarl::nn::parameter_list;
using netmarl::optim::clip_grad_norm;
using netmarl::optim::clip_grad_value;
using netmarl::optim::grad_norm;

TEMPLATE_TEST_CASE("clip_grad_norm: scales large gradients to max_norm, returns the norm before", "[optim][clip]",
                   float, double) {
  using T = TestType;
  // Gradients (3, 4) and (12): global norm sqrt(9 + 16 + 144) = 13.
  parameter<T> a(1, 2), b(1, 1);
  a.grad << T(3), T(4);
  b.grad << T(12);
  const parameter_list<T> params{{"a", &a}, {"b", &b}};
  CHECK(grad_norm(params) == Approx(13.0));

  const T before = clip_grad_norm(params, T(2.6));
  CHECK(before == Approx(13.0));
  // PyTorch's factor max_norm / (norm + 1e-6): 2.6 / 13.000001.
  const double factor = 2.6 / (13.0 + 1e-6);
  CHECK(a.grad(0, 0) == Approx(3 * factor).epsilon(1e-6));
  CHECK(a.grad(0, 1) == Approx(4 * factor).epsilon(1e-6));
  CHECK(b.grad(0, 0) == Approx(12 * factor).epsilon(1e-6));
  CHECK(grad_norm(params) == Approx(2.6).epsilon(1e-6));
  // Directions are kept: only the length changed.
  CHECK(a.grad(0, 1) / a.grad(0, 0) == Approx(4.0 / 3.0).epsilon(1e-6));
}

TEMPLATE_TEST_CASE("clip_grad_norm: leaves gradients below max_norm untouched", "[optim][clip]", float, double) {
  using T = TestType;
  parameter<T> a(2, 2);
  a.grad << T(0.1), T(-0.2), T(0.3), T(0.05);
  const auto original = a.grad;
  const parameter_list<T> params{{"a", &a}};
  const T norm = clip_grad_norm(params, T(1));
  CHECK(norm == Approx(std::sqrt(0.01 + 0.04 + 0.09 + 0.0025)).epsilon(1e-6));
  CHECK(a.grad == original);  // bit-identical, not merely close

  // Exactly at max_norm: the factor max_norm / (norm + 1e-6) is below 1, so PyTorch scales by it.
  parameter<T> b(1, 2);
  b.grad << T(3), T(4);
  clip_grad_norm(parameter_list<T>{{"b", &b}}, T(5));
  CHECK(b.grad(0, 0) == Approx(3 * 5 / (5 + 1e-6)).epsilon(1e-7));
}

TEST_CASE("clip_grad_norm: zero gradients stay zero", "[optim][clip]") {
  parameter<double> a(2, 3);
  const parameter_list<double> params{{"a", &a}};
  CHECK(clip_grad_norm(params, 0.5) == 0.0);
  CHECK(a.grad.isZero(0.0));
}

TEST_CASE("clip_grad_norm: float gradients whose squares overflow float still get a finite norm",
          "[optim][clip]") {
  parameter<float> a(1, 2);
  a.grad << 3e20f, 4e20f;  // squares 9e40, 1.6e41 overflow float; the norm 5e20 does not
  const parameter_list<float> params{{"a", &a}};
  CHECK(clip_grad_norm(params, 1.0f) == Approx(5e20f));
  CHECK(a.grad(0, 0) == Approx(0.6f).epsilon(1e-6));
  CHECK(a.grad(0, 1) == Approx(0.8f).epsilon(1e-6));
}

TEST_CASE("clip_grad_norm: non-finite gradients throw when asked to", "[optim][clip]") {
  parameter<double> a(1, 2);
  a.grad << 1.0, std::numeric_limits<double>::quiet_NaN();
  const parameter_list<double> params{{"a", &a}};
  REQUIRE_THROWS_WITH(clip_grad_norm(params, 1.0, true), Catch::Contains("norm is nan"));
  CHECK(a.grad(0, 0) == 1.0);  // untouched when it throws
  REQUIRE_THROWS_AS(clip_grad_norm(params, -1.0), netmarl::invalid_argument);
}

TEST_CASE("clip_grad_value: clamps each element into [-c, c]", "[optim][clip]") {
  parameter<double> a(1, 4), b(1, 1);
  a.grad << -3.0, -0.5, 0.25, 2.0;
  b.grad << 0.9;
  clip_grad_value(parameter_list<double>{{"a", &a}, {"b", &b}}, 1.0);
  CHECK(a.grad(0, 0) == -1.0);
  CHECK(a.grad(0, 1) == -0.5);
  CHECK(a.grad(0, 2) == 0.25);
  CHECK(a.grad(0, 3) == 1.0);
  CHECK(b.grad(0, 0) == 0.9);
  REQUIRE_THROWS_WITH(clip_grad_value(parameter_list<double>{{"a", &a}}, -1.0), Catch::Contains("clip_value = -1"));
}
