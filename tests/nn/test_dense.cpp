#include <catch2/catch.hpp>

#include "netmarl/nn/dense.hpp"
#include "support/gradient_check.hpp"

using namespace netmarl;
using nn::dense;
using nn::dense_cache;
using testing::random_matrix;

TEMPLATE_TEST_CASE("dense: gradients match finite differences", "[nn][dense]", backend::reference,
                   backend::simd<>) {
  const TestType b{};
  rng g(11);
  dense<double> layer(5, 3, g);
  matrix<double> x = random_matrix(4, 5, g);
  const matrix<double> weight_of_out = random_matrix(4, 3, g);  // loss = sum(weight_of_out * y)
  auto loss = [&] {
    dense_cache<double> cache;
    matrix<double> y;
    nn::forward(b, layer, x, cache, y);
    return (y.array() * weight_of_out.array()).sum();
  };
  auto params = nn::parameters_of(layer, "fc.");
  nn::zero_grad(params);
  dense_cache<double> cache;
  matrix<double> y, dx;
  nn::forward(b, layer, x, cache, y);
  nn::backward(b, layer, cache, weight_of_out, &dx);

  const auto p = testing::check_parameter_gradients(params, loss);
  INFO(p);
  REQUIRE(p.max_relative_error <= 1e-6);
  const auto i = testing::check_gradient(x, dx, loss, "x");
  INFO(i);
  REQUIRE(i.max_relative_error <= 1e-6);
}

TEST_CASE("dense: forward matches a hand computation", "[nn][dense]") {
  dense<double> layer(2, 3);
  layer.weight.value << 1, 2, 3,  //
      -1, 0.5, 4;
  layer.bias.value << 0.5, -1, 2;
  matrix<double> x(2, 2);
  x << 1, 2,  //
      -3, 0.25;
  dense_cache<double> cache;
  matrix<double> y;
  nn::forward(backend::reference{}, layer, x, cache, y);
  matrix<double> expected(2, 3);
  // row 0: [1*1 + 2*-1, 1*2 + 2*0.5, 1*3 + 2*4] + bias; row 1: [-3 - 0.25, -6 + 0.125, -9 + 1] +
  // bias
  expected << -0.5, 2, 13,  //
      -2.75, -6.875, -6;
  REQUIRE(y.isApprox(expected, 1e-15));
}

TEST_CASE("dense: backward accumulates parameter gradients and overwrites d_in", "[nn][dense]") {
  rng g(3);
  dense<double> layer(3, 2, g);
  const matrix<double> x = random_matrix(4, 3, g), d_out = random_matrix(4, 2, g);
  dense_cache<double> cache;
  matrix<double> y, dx = matrix<double>::Constant(4, 3, 100.0);
  nn::forward(backend::reference{}, layer, x, cache, y);
  nn::backward(backend::reference{}, layer, cache, d_out, &dx);
  const matrix<double> once_weight = layer.weight.grad, once_bias = layer.bias.grad, once_dx = dx;
  REQUIRE(once_weight.isApprox(x.transpose() * d_out));
  REQUIRE(once_dx.isApprox(d_out * layer.weight.value.transpose()));
  nn::backward(backend::reference{}, layer, cache, d_out, &dx);
  REQUIRE(layer.weight.grad.isApprox(2 * once_weight));
  REQUIRE(layer.bias.grad.isApprox(2 * once_bias));
  REQUIRE(dx.isApprox(once_dx));
  nn::backward(backend::reference{}, layer, cache, d_out, nullptr);  // no d_in wanted
  REQUIRE(layer.weight.grad.isApprox(3 * once_weight));
}

TEST_CASE("dense: a strided d_out block gives the same gradients", "[nn][dense]") {
  rng g(5);
  dense<double> a(3, 2, g);
  dense<double> c = a;
  const matrix<double> x = random_matrix(4, 3, g), wide = random_matrix(4, 5, g);
  const matrix<double> d_out = wide.middleCols(1, 2);
  dense_cache<double> cache_a, cache_c;
  matrix<double> y, dx_a, dx_c;
  nn::forward(backend::reference{}, a, x, cache_a, y);
  nn::forward(backend::reference{}, c, x, cache_c, y);
  nn::backward(backend::reference{}, a, cache_a, d_out, &dx_a);
  nn::backward(backend::reference{}, c, cache_c, wide.middleCols(1, 2), &dx_c);
  REQUIRE(a.weight.grad.isApprox(c.weight.grad));
  REQUIRE(a.bias.grad.isApprox(c.bias.grad));
  REQUIRE(dx_a.isApprox(dx_c));
}

TEST_CASE("dense: wrong sizes throw shape_error naming expected and got", "[nn][dense]") {
  dense<float> layer(4, 2);
  dense_cache<float> cache;
  matrix<float> y;
  const matrix<float> x = matrix<float>::Zero(3, 5);
  REQUIRE_THROWS_MATCHES(nn::forward(backend::reference{}, layer, x, cache, y), shape_error,
                         Catch::Matchers::Message("dense forward: input width: expected 4, got 5"));
  nn::forward(backend::reference{}, layer, matrix<float>::Zero(3, 4), cache, y);
  REQUIRE_THROWS_MATCHES(
      nn::backward(backend::reference{}, layer, cache, matrix<float>::Zero(3, 3), nullptr),
      shape_error, Catch::Matchers::Message("dense backward: d_out: expected 3x2, got 3x3"));
}

TEST_CASE("dense: parameters are named and pytorch_default bounds hold", "[nn][dense][init]") {
  rng g(9);
  dense<float> layer(16, 8, g);
  auto params = nn::parameters_of(layer, "q.");
  REQUIRE(params.size() == 2);
  REQUIRE(params[0].name == "q.weight");
  REQUIRE(params[1].name == "q.bias");
  REQUIRE(params[0].param == &layer.weight);
  const float bound = 1.0f / 4.0f;
  REQUIRE(layer.weight.value.cwiseAbs().maxCoeff() <= bound);
  REQUIRE(layer.bias.value.cwiseAbs().maxCoeff() <= bound);
  REQUIRE(layer.weight.value.cwiseAbs().maxCoeff() > 0.8f * bound);  // really spread, not zero
  rng same(9);
  dense<float> again(16, 8, same);
  REQUIRE(again.weight.value == layer.weight.value);
}
