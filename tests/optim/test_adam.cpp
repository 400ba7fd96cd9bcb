#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/optim/adam.hpp"
#include "netmarl/optim/concept.hpp"
#include "support/optim_fixtures.hpp"

using netmarl::matrix;
using netmarl::nn::parameter;
using netmarl::nn::parameter_list;
using netmarl::optim::adam;
using netmarl::optim::adam_settings;

static_assert(netmarl::optim::Optimizer<adam<float>>);
static_assert(netmarl::optim::Optimizer<adam<double>>);

namespace {

using netmarl::testing::row;
using netmarl::testing::set_grad;

// Textbook Adam (Kingma & Ba, Algorithm 1, with PyTorch's L2 weight decay added to the gradient),
// one scalar at a time, written independently of the library's vectorised form:
//   m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t), p -= lr m_hat / (sqrt(v_hat) + eps).
struct scalar_adam {
  double lr, b1, b2, eps, wd;
  std::vector<double> m, v;
  int t = 0;
  void step(std::vector<double>& p, const std::vector<double>& grad) {
    ++t;
    m.resize(p.size(), 0.0);
    v.resize(p.size(), 0.0);
    for (std::size_t i = 0; i < p.size(); ++i) {
      const double g = grad[i] + wd * p[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      const double m_hat = m[i] / (1 - std::pow(b1, t));
      const double v_hat = v[i] / (1 - std::pow(b2, t));
      p[i] -= lr * m_hat / (std::sqrt(v_hat) + eps);
    }
  }
};

const std::vector<std::vector<double>> gradients = {{0.5, -1.0}, {0.3, 0.2}, {-0.4, 0.1}};

}  // namespace

TEST_CASE("adam: first two steps match values derived by hand from torch.optim.Adam", "[optim][adam]") {
  auto p = row<double>({1.0, -2.0});
  adam<double> opt({{"p", &p}}, {.learning_rate = 0.1});

  // Step 1: m = 0.1 g, v = 0.001 g^2; bias correction makes m_hat = g and v_hat = g^2, so
  // p -= lr g / (|g| + eps):  1 - 0.1 * 0.5 / (0.5 + 1e-8) = 0.900000002,
  //                          -2 + 0.1 * 1.0 / (1.0 + 1e-8) = -1.900000001.
  set_grad(p, gradients[0]);
  opt.step();
  CHECK(p.value(0, 0) == Approx(0.900000002).epsilon(1e-13));
  CHECK(p.value(0, 1) == Approx(-1.900000001).epsilon(1e-13));
  CHECK(opt.step_count() == 1);

  // Step 2, element 0 (g = 0.3): m = 0.9 * 0.05 + 0.1 * 0.3 = 0.075,
  // v = 0.999 * 0.00025 + 0.001 * 0.09 = 0.00033975; bias corrections 1 - 0.9^2 = 0.19 and
  // 1 - 0.999^2 = 0.001999; step = 0.1 * (0.075 / 0.19) / (sqrt(0.00033975 / 0.001999) + 1e-8)
  // = 0.1 * 0.39473684 / 0.41226203 = 0.09574902, so p = 0.900000002 - 0.09574902 = 0.80425099.
  set_grad(p, gradients[1]);
  opt.step();
  CHECK(p.value(0, 0) == Approx(0.8042509867088761).epsilon(1e-13));
  CHECK(p.value(0, 1) == Approx(-1.8488973939904947).epsilon(1e-13));
}

TEMPLATE_TEST_CASE("adam: three steps match the textbook update, with and without weight decay",
                   "[optim][adam]", float, double) {
  using T = TestType;
  const double tolerance = std::is_same_v<T, float> ? 1e-6 : 1e-13;
  for (const double weight_decay : {0.0, 0.1}) {
    CAPTURE(weight_decay);
    auto p = row<T>({1.0, -2.0});
    auto q = row<T>({0.25});  // a second parameter, updated independently
    adam<T> opt({{"p", &p}, {"q", &q}}, {.learning_rate = T(0.1), .beta1 = T(0.8), .beta2 = T(0.99),
                                         .epsilon = T(1e-6), .weight_decay = T(weight_decay)});
    scalar_adam ref{0.1, 0.8, 0.99, 1e-6, weight_decay, {}, {}};
    scalar_adam ref_q = ref;
    std::vector<double> expected{1.0, -2.0}, expected_q{0.25};
    for (const auto& g : gradients) {
      set_grad(p, g);
      set_grad(q, {g[0] * 3});
      opt.step();
      ref.step(expected, g);
      ref_q.step(expected_q, {g[0] * 3});
      CHECK(p.value(0, 0) == Approx(expected[0]).epsilon(tolerance));
      CHECK(p.value(0, 1) == Approx(expected[1]).epsilon(tolerance));
      CHECK(q.value(0, 0) == Approx(expected_q[0]).epsilon(tolerance));
    }
  }
}

TEST_CASE("adam: with weight decay, matches values derived by hand", "[optim][adam]") {
  // Step 1 with weight_decay 0.1: g = 0.5 + 0.1 * 1 = 0.6, still p -= lr g / (|g| + eps):
  // 1 - 0.1 * 0.6 / (0.6 + 1e-8) = 0.9000000016666666.
  auto p = row<double>({1.0, -2.0});
  adam<double> opt({{"p", &p}}, {.learning_rate = 0.1, .weight_decay = 0.1});
  set_grad(p, gradients[0]);
  opt.step();
  CHECK(p.value(0, 0) == Approx(0.9000000016666666).epsilon(1e-13));
  set_grad(p, gradients[1]);
  opt.step();
  set_grad(p, gradients[2]);
  opt.step();
  CHECK(p.value(0, 0) == Approx(0.7610640429454931).epsilon(1e-12));
  CHECK(p.value(0, 1) == Approx(-1.777994889734778).epsilon(1e-12));
}

TEMPLATE_TEST_CASE("adam: minimises a quadratic to its known minimum", "[optim][adam]", float, double) {
  using T = TestType;
  // f(x) = 1/2 sum_i a_i (x_i - c_i)^2 has its minimum at x = c.
  const std::vector<double> a{1.0, 4.0, 0.25}, c{1.5, -2.0, 0.5};
  parameter<T> x(1, 3);
  adam<T> opt({{"x", &x}}, {.learning_rate = T(0.05)});
  for (int step = 0; step < 3000; ++step) {
    if (step == 2000) opt.set_learning_rate(T(0.005));  // settle inside Adam's ~lr-sized steps
    opt.zero_grad();
    for (int i = 0; i < 3; ++i) x.grad(0, i) = static_cast<T>(a[i] * (static_cast<double>(x.value(0, i)) - c[i]));
    opt.step();
  }
  for (int i = 0; i < 3; ++i) CHECK(std::abs(static_cast<double>(x.value(0, i)) - c[i]) < 1e-4);
}

TEST_CASE("adam: step leaves gradients alone, zero_grad clears them", "[optim][adam]") {
  auto p = row<double>({1.0, 2.0});
  adam<double> opt({{"p", &p}});
  set_grad(p, {0.5, -0.5});
  opt.step();
  CHECK(p.grad(0, 0) == 0.5);
  CHECK(p.grad(0, 1) == -0.5);
  opt.zero_grad();
  CHECK(p.grad.isZero(0.0));
}

TEST_CASE("adam: learning rate can be read and changed", "[optim][adam]") {
  auto p = row<float>({1.0});
  adam<float> opt({{"p", &p}});
  CHECK(opt.learning_rate() == 1e-3f);
  opt.set_learning_rate(0.5f);
  CHECK(opt.learning_rate() == 0.5f);
  // Step 1 moves by lr * g / (|g| + eps), about lr.
  set_grad(p, {2.0});
  opt.step();
  CHECK(p.value(0, 0) == Approx(0.5f).epsilon(1e-6));
  REQUIRE_THROWS_AS(opt.set_learning_rate(-1.0f), netmarl::invalid_argument);
}

TEST_CASE("adam: state names the moments and the step count", "[optim][adam]") {
  parameter<float> w(2, 3), b(1, 3);
  adam<float> opt({{"l0.weight", &w}, {"l0.bias", &b}});
  auto state = opt.state();
  REQUIRE(state.size() == 5);
  CHECK(state[0].name == "adam.m.l0.weight");
  CHECK(state[1].name == "adam.v.l0.weight");
  CHECK(state[2].name == "adam.m.l0.bias");
  CHECK(state[3].name == "adam.v.l0.bias");
  CHECK(state[4].name == "adam.step");
  CHECK(state[0].tensor->rows() == 2);
  CHECK(state[0].tensor->cols() == 3);
  CHECK(state[4].tensor->rows() == 1);
  CHECK(state[4].tensor->cols() == 1);
  CHECK(opt.state("critic_adam")[4].name == "critic_adam.step");

  w.grad.setConstant(1.0f);
  opt.step();
  opt.step();
  CHECK((*opt.state()[4].tensor)(0, 0) == 2.0f);
  // Writing the step tensor (as a checkpoint load does) is what the next step uses.
  (*opt.state()[4].tensor)(0, 0) = 10.0f;
  CHECK(opt.step_count() == 10);
}

TEST_CASE("adam: rejects settings PyTorch rejects, naming the value", "[optim][adam]") {
  auto p = row<double>({1.0});
  REQUIRE_THROWS_WITH((adam<double>({{"p", &p}}, {.beta1 = 1.0})),
                      Catch::Contains("beta1 = 1") && Catch::Contains("[0, 1)"));
  REQUIRE_THROWS_WITH((adam<double>({{"p", &p}}, {.beta2 = -0.5})), Catch::Contains("beta2 = -0.5"));
  REQUIRE_THROWS_WITH((adam<double>({{"p", &p}}, {.learning_rate = -1})), Catch::Contains("learning_rate = -1"));
  REQUIRE_THROWS_WITH((adam<double>({{"p", &p}}, {.epsilon = std::nan("")})), Catch::Contains("epsilon = nan"));
  REQUIRE_THROWS_AS((adam<double>({{"p", &p}}, {.weight_decay = -0.1})), netmarl::invalid_argument);
}

TEST_CASE("adam: a gradient shaped unlike its value is a shape error naming the parameter", "[optim][adam]") {
  parameter<double> p(2, 2);
  p.grad.resize(0, 0);
  REQUIRE_THROWS_AS((adam<double>({{"critic.w", &p}})), netmarl::shape_error);
  REQUIRE_THROWS_WITH((adam<double>({{"critic.w", &p}})),
                      Catch::Contains("'critic.w'") && Catch::Contains("2x2") && Catch::Contains("0x0"));
}
