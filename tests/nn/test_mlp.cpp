#include <catch2/catch.hpp>

#include "netmarl/nn/mlp.hpp"
#include "support/gradient_check.hpp"

using namespace netmarl;
using nn::activation;

namespace {

struct mlp_gradient_reports {
  testing::gradient_check_report parameters, input;
};

mlp_gradient_reports check_mlp(activation hidden, activation output, std::uint64_t seed) {
  rng g(seed);
  nn::mlp<double> net({4, 7, 6, 3}, hidden, output, g);
  matrix<double> x = testing::random_matrix(5, 4, g);
  const matrix<double> weight_of_out = testing::random_matrix(5, 3, g);
  auto loss = [&] {
    nn::mlp_cache<double> cache;
    matrix<double> y;
    nn::forward(backend::reference{}, net, x, cache, y);
    return (y.array() * weight_of_out.array()).sum();
  };
  auto params = nn::parameters_of(net);
  nn::zero_grad(params);
  nn::mlp_cache<double> cache;
  matrix<double> y, dx;
  nn::forward(backend::reference{}, net, x, cache, y);
  nn::backward(backend::reference{}, net, cache, weight_of_out, &dx);
  return {testing::check_parameter_gradients(params, loss),
          testing::check_gradient(x, dx, loss, "x")};
}

// The smallest |pre-activation| of any hidden unit over the batch, for the network and input
// check_mlp builds from `seed` (same draws in the same order).
double smallest_hidden_pre_activation(std::uint64_t seed) {
  rng g(seed);
  nn::mlp<double> net({4, 7, 6, 3}, activation::identity, activation::identity, g);
  matrix<double> a = testing::random_matrix(5, 4, g);
  double smallest = 1e300;
  for (std::size_t i = 0; i + 1 < net.depth(); ++i) {
    a = (a * net.layers[i].weight.value).rowwise() + net.layers[i].bias.value.row(0);
    smallest = std::min(smallest, a.cwiseAbs().minCoeff());
    a = a.cwiseMax(0.0);
  }
  return smallest;
}

}  // namespace

TEST_CASE("mlp: gradients match finite differences for every activation", "[nn][mlp]") {
  const activation hidden_choices[] = {activation::relu, activation::elu, activation::tanh,
                                       activation::sigmoid, activation::identity};
  const activation output_choices[] = {activation::identity, activation::tanh, activation::sigmoid,
                                       activation::elu};
  std::uint64_t seed = 100;
  for (const activation hidden : hidden_choices)
    for (const activation output : output_choices) {
      ++seed;
      // relu's kink: take the next seed whose hidden pre-activations are all >= 0.01 away from 0,
      // far outside the finite-difference stencil (2 * 1e-4).
      if (hidden == activation::relu)
        while (smallest_hidden_pre_activation(seed) < 0.01) ++seed;
      INFO("hidden " << nn::to_string(hidden) << ", output " << nn::to_string(output) << ", seed "
                     << seed);
      const auto reports = check_mlp(hidden, output, seed);
      INFO(reports.parameters);
      REQUIRE(reports.parameters.max_relative_error <= 1e-6);
      INFO(reports.input);
      REQUIRE(reports.input.max_relative_error <= 1e-6);
    }
}

TEST_CASE("mlp: forward equals the composed dense layers", "[nn][mlp]") {
  rng g(7);
  nn::mlp<double> net({3, 5, 2}, activation::tanh, activation::sigmoid, g);
  const matrix<double> x = testing::random_matrix(4, 3, g);
  nn::mlp_cache<double> cache;
  matrix<double> y;
  nn::forward(backend::reference{}, net, x, cache, y);
  const matrix<double> hidden =
      ((x * net.layers[0].weight.value).rowwise() + net.layers[0].bias.value.row(0))
          .array()
          .tanh()
          .matrix();
  const matrix<double> pre =
      (hidden * net.layers[1].weight.value).rowwise() + net.layers[1].bias.value.row(0);
  const matrix<double> expected = (1.0 / (1.0 + (-pre.array()).exp())).matrix();
  REQUIRE(y.isApprox(expected, 1e-14));
}

TEST_CASE("mlp: sizes, names and shape errors", "[nn][mlp]") {
  rng g(8);
  nn::mlp<float> net({6, 32, 32, 4}, activation::relu, activation::identity, g);
  REQUIRE(net.input_size() == 6);
  REQUIRE(net.output_size() == 4);
  REQUIRE(net.depth() == 3);
  auto params = nn::parameters_of(net, "actor.");
  REQUIRE(params.size() == 6);
  REQUIRE(params[0].name == "actor.0.weight");
  REQUIRE(params[5].name == "actor.2.bias");
  REQUIRE(nn::parameter_count(params) == 6 * 32 + 32 + 32 * 32 + 32 + 32 * 4 + 4);

  nn::mlp_cache<float> cache;
  matrix<float> y;
  REQUIRE_THROWS_MATCHES(
      nn::forward(backend::reference{}, net, matrix<float>::Zero(2, 5), cache, y), shape_error,
      Catch::Matchers::Message("mlp forward: input width: expected 6, got 5"));
  nn::forward(backend::reference{}, net, matrix<float>::Zero(2, 6), cache, y);
  REQUIRE_THROWS_MATCHES(nn::backward(backend::reference{}, net, cache, matrix<float>::Zero(2, 3)),
                         shape_error,
                         Catch::Matchers::Message("mlp backward: d_out: expected 2x4, got 2x3"));
  REQUIRE_THROWS_AS(nn::mlp<float>({6}, activation::relu, activation::identity, g), shape_error);
  REQUIRE_THROWS_AS(nn::mlp<float>({6, 0, 2}, activation::relu, activation::identity, g),
                    shape_error);
}

TEST_CASE("mlp: simd backend gives the reference numbers", "[nn][mlp]") {
  rng g(9);
  nn::mlp<float> net({8, 16, 4}, activation::relu, activation::identity, g);
  nn::mlp<float> copy = net;
  const matrix<float> x = testing::random_matrix<float>(5, 8, g);
  const matrix<float> d_out = testing::random_matrix<float>(5, 4, g);
  nn::mlp_cache<float> cache_reference, cache_simd;
  matrix<float> y_reference, y_simd, dx_reference, dx_simd;
  nn::forward(backend::reference{}, net, x, cache_reference, y_reference);
  nn::backward(backend::reference{}, net, cache_reference, d_out, &dx_reference);
  nn::forward(backend::simd<>{}, copy, x, cache_simd, y_simd);
  nn::backward(backend::simd<>{}, copy, cache_simd, d_out, &dx_simd);
  REQUIRE(y_simd.isApprox(y_reference, 1e-5f));
  REQUIRE(dx_simd.isApprox(dx_reference, 1e-5f));
  REQUIRE(copy.layers[0].weight.grad.isApprox(net.layers[0].weight.grad, 1e-5f));
}
