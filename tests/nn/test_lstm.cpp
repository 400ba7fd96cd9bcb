#include <catch2/catch.hpp>

#include <cmath>

#include "netmarl/nn/lstm.hpp"
#include "support/gradient_check.hpp"

using namespace netmarl;

namespace {
double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }
}  // namespace

TEST_CASE("lstm_cell: gradients w.r.t. parameters, x, h_prev and c_prev match finite differences",
          "[nn][lstm]") {
  rng g(41);
  nn::lstm_cell<double> cell(4, 3, g);
  matrix<double> x = testing::random_matrix(5, 4, g), h = testing::random_matrix(5, 3, g),
                 c = testing::random_matrix(5, 3, g);
  // The loss reads both h' and c', so both upstream gradients are exercised.
  const matrix<double> weight_of_h = testing::random_matrix(5, 3, g),
                       weight_of_c = testing::random_matrix(5, 3, g);
  auto loss = [&] {
    nn::lstm_cache<double> cache;
    matrix<double> h_next, c_next;
    nn::forward(backend::reference{}, cell, x, h, c, cache, h_next, c_next);
    return (h_next.array() * weight_of_h.array()).sum() +
           (c_next.array() * weight_of_c.array()).sum();
  };
  auto params = nn::parameters_of(cell, "rnn.");
  nn::zero_grad(params);
  nn::lstm_cache<double> cache;
  matrix<double> h_next, c_next, dx, dh, dc;
  nn::forward(backend::reference{}, cell, x, h, c, cache, h_next, c_next);
  nn::backward(backend::reference{}, cell, cache, weight_of_h, weight_of_c, &dx, &dh, &dc);

  const auto p = testing::check_parameter_gradients(params, loss);
  INFO(p);
  REQUIRE(p.max_relative_error <= 1e-6);
  const auto ix = testing::check_gradient(x, dx, loss, "x");
  INFO(ix);
  REQUIRE(ix.max_relative_error <= 1e-6);
  const auto ih = testing::check_gradient(h, dh, loss, "h_prev");
  INFO(ih);
  REQUIRE(ih.max_relative_error <= 1e-6);
  const auto ic = testing::check_gradient(c, dc, loss, "c_prev");
  INFO(ic);
  REQUIRE(ic.max_relative_error <= 1e-6);
}

TEST_CASE("lstm_cell: two steps through time, reusing state buffers, empty d_c_next",
          "[nn][lstm]") {
  rng g(42);
  nn::lstm_cell<double> cell(2, 3, g);
  matrix<double> x0 = testing::random_matrix(4, 2, g), x1 = testing::random_matrix(4, 2, g);
  matrix<double> h0 = testing::random_matrix(4, 3, g), c0 = testing::random_matrix(4, 3, g);
  const matrix<double> w1 = testing::random_matrix(4, 3, g), w2 = testing::random_matrix(4, 3, g);
  auto loss = [&] {  // reads h1 and h2 only
    nn::lstm_cache<double> k0, k1;
    matrix<double> h1, c1, h2, c2;
    nn::forward(backend::reference{}, cell, x0, h0, c0, k0, h1, c1);
    nn::forward(backend::reference{}, cell, x1, h1, c1, k1, h2, c2);
    return (h1.array() * w1.array()).sum() + (h2.array() * w2.array()).sum();
  };
  auto params = nn::parameters_of(cell);
  nn::zero_grad(params);
  nn::lstm_cache<double> k0, k1;
  matrix<double> h = h0, c = c0;
  nn::forward(backend::reference{}, cell, x0, h, c, k0, h, c);  // outputs may be the inputs
  nn::forward(backend::reference{}, cell, x1, h, c, k1, h, c);
  matrix<double> dh = w2, dc, dx1, dx0;  // dc empty: the loss does not read c2
  nn::backward(backend::reference{}, cell, k1, dh, dc, &dx1, &dh, &dc);
  dh += w1;
  nn::backward(backend::reference{}, cell, k0, dh, dc, &dx0, &dh, &dc);

  const auto p = testing::check_parameter_gradients(params, loss);
  INFO(p);
  REQUIRE(p.max_relative_error <= 1e-6);
  const auto i0 = testing::check_gradient(x0, dx0, loss, "x0");
  INFO(i0);
  REQUIRE(i0.max_relative_error <= 1e-6);
  const auto ih = testing::check_gradient(h0, dh, loss, "h0");
  INFO(ih);
  REQUIRE(ih.max_relative_error <= 1e-6);
  const auto ic = testing::check_gradient(c0, dc, loss, "c0");
  INFO(ic);
  REQUIRE(ic.max_relative_error <= 1e-6);
}

TEST_CASE("lstm_cell: forward follows PyTorch's equations and gate order i, f, g, o",
          "[nn][lstm]") {
  rng g(43);
  const netmarl::index inputs = 2, hidden = 3;
  nn::lstm_cell<double> cell(inputs, hidden, g);
  const matrix<double> x = testing::random_matrix(2, inputs, g);
  const matrix<double> h = testing::random_matrix(2, hidden, g);
  const matrix<double> c = testing::random_matrix(2, hidden, g);
  nn::lstm_cache<double> cache;
  matrix<double> h_next, c_next;
  nn::forward(backend::reference{}, cell, x, h, c, cache, h_next, c_next);
  const auto& wi = cell.weight_ih.value;
  const auto& wh = cell.weight_hh.value;
  const auto& bi = cell.bias_ih.value;
  const auto& bh = cell.bias_hh.value;
  for (netmarl::index b = 0; b < 2; ++b)
    for (netmarl::index k = 0; k < hidden; ++k) {
      auto pre = [&](netmarl::index j) {  // gate block j, unit k
        double s = bi(0, j * hidden + k) + bh(0, j * hidden + k);
        for (netmarl::index i = 0; i < inputs; ++i) s += x(b, i) * wi(i, j * hidden + k);
        for (netmarl::index i = 0; i < hidden; ++i) s += h(b, i) * wh(i, j * hidden + k);
        return s;
      };
      const double input_gate = sigmoid(pre(0)), forget_gate = sigmoid(pre(1));
      const double candidate = std::tanh(pre(2)), output_gate = sigmoid(pre(3));
      const double expected_c = forget_gate * c(b, k) + input_gate * candidate;
      REQUIRE(c_next(b, k) == Approx(expected_c).epsilon(1e-13));
      REQUIRE(h_next(b, k) == Approx(output_gate * std::tanh(expected_c)).epsilon(1e-13));
    }
}

TEST_CASE("lstm_cell: shapes, names and errors", "[nn][lstm]") {
  rng g(44);
  nn::lstm_cell<float> cell(5, 8, g);
  REQUIRE(cell.input_size() == 5);
  REQUIRE(cell.hidden_size() == 8);
  REQUIRE(cell.weight_hh.value.cols() == 32);
  auto params = nn::parameters_of(cell, "lstm.");
  REQUIRE(params.size() == 4);
  REQUIRE(params[1].name == "lstm.weight_hh");

  nn::lstm_cache<float> cache;
  matrix<float> h_next, c_next;
  const matrix<float> h = matrix<float>::Zero(2, 8);
  REQUIRE_THROWS_MATCHES(
      nn::forward(backend::reference{}, cell, matrix<float>::Zero(2, 6), h, h, cache, h_next,
                  c_next),
      shape_error, Catch::Matchers::Message("lstm_cell forward: input width: expected 5, got 6"));
  REQUIRE_THROWS_MATCHES(
      nn::forward(backend::reference{}, cell, matrix<float>::Zero(2, 5), h,
                  matrix<float>::Zero(2, 9), cache, h_next, c_next),
      shape_error, Catch::Matchers::Message("lstm_cell forward: c_prev: expected 2x8, got 2x9"));
  nn::forward(backend::reference{}, cell, matrix<float>::Zero(2, 5), h, h, cache, h_next, c_next);
  REQUIRE_THROWS_MATCHES(
      nn::backward(backend::reference{}, cell, cache, h, matrix<float>::Zero(1, 8), nullptr,
                   nullptr, nullptr),
      shape_error, Catch::Matchers::Message("lstm_cell backward: d_c_next: expected 2x8, got 1x8"));
}
