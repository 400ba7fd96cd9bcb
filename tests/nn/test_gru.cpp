#include <catch2/catch.hpp>

#include <cmath>

#include "netmarl/nn/gru.hpp"
#include "support/gradient_check.hpp"

using namespace netmarl;

namespace {
double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }
}  // namespace

TEST_CASE("gru_cell: gradients w.r.t. parameters, x and h_prev match finite differences",
          "[nn][gru]") {
  rng g(31);
  nn::gru_cell<double> cell(4, 3, g);
  matrix<double> x = testing::random_matrix(5, 4, g), h = testing::random_matrix(5, 3, g);
  const matrix<double> weight_of_out = testing::random_matrix(5, 3, g);
  auto loss = [&] {
    nn::gru_cache<double> cache;
    matrix<double> h_next;
    nn::forward(backend::reference{}, cell, x, h, cache, h_next);
    return (h_next.array() * weight_of_out.array()).sum();
  };
  auto params = nn::parameters_of(cell, "rnn.");
  nn::zero_grad(params);
  nn::gru_cache<double> cache;
  matrix<double> h_next, dx, dh;
  nn::forward(backend::reference{}, cell, x, h, cache, h_next);
  nn::backward(backend::reference{}, cell, cache, weight_of_out, &dx, &dh);

  const auto p = testing::check_parameter_gradients(params, loss);
  INFO(p);
  REQUIRE(p.max_relative_error <= 1e-6);
  const auto ix = testing::check_gradient(x, dx, loss, "x");
  INFO(ix);
  REQUIRE(ix.max_relative_error <= 1e-6);
  const auto ih = testing::check_gradient(h, dh, loss, "h_prev");
  INFO(ih);
  REQUIRE(ih.max_relative_error <= 1e-6);
}

TEST_CASE("gru_cell: two steps through time, reusing one state buffer", "[nn][gru]") {
  // h1 = cell(x0, h0), h2 = cell(x1, h1); loss reads h1 and h2. Backward through time passes
  // d_h_prev into the same buffer as d_h_next, which the cell must allow.
  rng g(32);
  nn::gru_cell<double> cell(2, 3, g);
  matrix<double> x0 = testing::random_matrix(4, 2, g), x1 = testing::random_matrix(4, 2, g);
  matrix<double> h0 = testing::random_matrix(4, 3, g);
  const matrix<double> w1 = testing::random_matrix(4, 3, g), w2 = testing::random_matrix(4, 3, g);
  auto loss = [&] {
    nn::gru_cache<double> c0, c1;
    matrix<double> h1, h2;
    nn::forward(backend::reference{}, cell, x0, h0, c0, h1);
    nn::forward(backend::reference{}, cell, x1, h1, c1, h2);
    return (h1.array() * w1.array()).sum() + (h2.array() * w2.array()).sum();
  };
  auto params = nn::parameters_of(cell);
  nn::zero_grad(params);
  nn::gru_cache<double> c0, c1;
  matrix<double> h = h0;
  nn::forward(backend::reference{}, cell, x0, h, c0, h);  // h_next may be h_prev
  nn::forward(backend::reference{}, cell, x1, h, c1, h);
  matrix<double> dh = w2, dx1, dx0;
  nn::backward(backend::reference{}, cell, c1, dh, &dx1, &dh);
  dh += w1;
  nn::backward(backend::reference{}, cell, c0, dh, &dx0, &dh);

  const auto p = testing::check_parameter_gradients(params, loss);
  INFO(p);
  REQUIRE(p.max_relative_error <= 1e-6);
  const auto i0 = testing::check_gradient(x0, dx0, loss, "x0");
  INFO(i0);
  REQUIRE(i0.max_relative_error <= 1e-6);
  const auto ih = testing::check_gradient(h0, dh, loss, "h0");
  INFO(ih);
  REQUIRE(ih.max_relative_error <= 1e-6);
}

TEST_CASE("gru_cell: forward follows PyTorch's equations and gate order r, z, n", "[nn][gru]") {
  rng g(33);
  const netmarl::index inputs = 2, hidden = 3;
  nn::gru_cell<double> cell(inputs, hidden, g);
  const matrix<double> x = testing::random_matrix(2, inputs, g);
  const matrix<double> h = testing::random_matrix(2, hidden, g);
  nn::gru_cache<double> cache;
  matrix<double> h_next;
  nn::forward(backend::reference{}, cell, x, h, cache, h_next);
  const auto& wi = cell.weight_ih.value;
  const auto& wh = cell.weight_hh.value;
  const auto& bi = cell.bias_ih.value;
  const auto& bh = cell.bias_hh.value;
  for (netmarl::index b = 0; b < 2; ++b)
    for (netmarl::index k = 0; k < hidden; ++k) {
      // Scalar loops over PyTorch's formula, column k of gate block j at j * hidden + k.
      auto input_part = [&](netmarl::index j) {
        double s = bi(0, j * hidden + k);
        for (netmarl::index i = 0; i < inputs; ++i) s += x(b, i) * wi(i, j * hidden + k);
        return s;
      };
      auto hidden_part = [&](netmarl::index j) {
        double s = bh(0, j * hidden + k);
        for (netmarl::index i = 0; i < hidden; ++i) s += h(b, i) * wh(i, j * hidden + k);
        return s;
      };
      const double r = sigmoid(input_part(0) + hidden_part(0));
      const double z = sigmoid(input_part(1) + hidden_part(1));
      const double n = std::tanh(input_part(2) + r * hidden_part(2));
      REQUIRE(h_next(b, k) == Approx((1 - z) * n + z * h(b, k)).epsilon(1e-13));
    }
}

TEST_CASE("gru_cell: shapes, names and errors", "[nn][gru]") {
  rng g(34);
  nn::gru_cell<float> cell(5, 8, g);
  REQUIRE(cell.input_size() == 5);
  REQUIRE(cell.hidden_size() == 8);
  REQUIRE(cell.weight_ih.value.cols() == 24);
  const float bound = 1.0f / std::sqrt(8.0f);
  REQUIRE(cell.weight_hh.value.cwiseAbs().maxCoeff() <= bound);
  REQUIRE(cell.bias_hh.value.cwiseAbs().maxCoeff() > 0.0f);
  auto params = nn::parameters_of(cell, "gru.");
  REQUIRE(params.size() == 4);
  REQUIRE(params[0].name == "gru.weight_ih");
  REQUIRE(params[3].name == "gru.bias_hh");

  nn::gru_cache<float> cache;
  matrix<float> h_next;
  REQUIRE_THROWS_MATCHES(
      nn::forward(backend::reference{}, cell, matrix<float>::Zero(2, 4), matrix<float>::Zero(2, 8),
                  cache, h_next),
      shape_error, Catch::Matchers::Message("gru_cell forward: input width: expected 5, got 4"));
  REQUIRE_THROWS_MATCHES(
      nn::forward(backend::reference{}, cell, matrix<float>::Zero(2, 5), matrix<float>::Zero(3, 8),
                  cache, h_next),
      shape_error, Catch::Matchers::Message("gru_cell forward: h_prev: expected 2x8, got 3x8"));
  nn::forward(backend::reference{}, cell, matrix<float>::Zero(2, 5), matrix<float>::Zero(2, 8),
              cache, h_next);
  REQUIRE_THROWS_MATCHES(
      nn::backward(backend::reference{}, cell, cache, matrix<float>::Zero(2, 7), nullptr, nullptr),
      shape_error, Catch::Matchers::Message("gru_cell backward: d_h_next: expected 2x8, got 2x7"));
}
