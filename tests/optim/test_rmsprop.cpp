#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/optim/concept.hpp"
#include "support/optim_fixtures.hpp"
#include "netmarl/optim/rmsprop.hpp"

using netmarl::nn::parameter;
using netmarl::optim::rmsprop;
using netmarl::optim::rmsprop_settings;

static_assert(netmarl::optim::Optimizer<rmsprop<float>>);
static_assert(netmarl::optim::Optimizer<rmsprop<double>>);

namespace {

using netmarl::testing::row;
using netmarl::testing::set_grad;

// RMSprop as torch.optim.RMSprop documents it, one scalar at a time, written independently of the
// library's vectorised form.
struct scalar_rmsprop {
  double lr, alpha, eps, wd, momentum;
  bool centered;
  std::vector<double> square_avg{}, grad_avg{}, buffer{};
  void step(std::vector<double>& p, const std::vector<double>& grad) {
    square_avg.resize(p.size(), 0.0);
    grad_avg.resize(p.size(), 0.0);
    buffer.resize(p.size(), 0.0);
    for (std::size_t i = 0; i < p.size(); ++i) {
      const double g = grad[i] + wd * p[i];
      square_avg[i] = alpha * square_avg[i] + (1 - alpha) * g * g;
      double avg;
      if (centered) {
        grad_avg[i] = alpha * grad_avg[i] + (1 - alpha) * g;
        avg = std::sqrt(square_avg[i] - grad_avg[i] * grad_avg[i]) + eps;
      } else {
        avg = std::sqrt(square_avg[i]) + eps;
      }
      if (momentum > 0) {
        buffer[i] = momentum * buffer[i] + g / avg;
        p[i] -= lr * buffer[i];
      } else {
        p[i] -= lr * g / avg;
      }
    }
  }
};

const std::vector<std::vector<double>> gradients = {{0.5, -1.0}, {0.3, 0.2}, {-0.4, 0.1}};

}  // namespace

TEST_CASE("rmsprop: defaults are PyTorch's", "[optim][rmsprop]") {
  const rmsprop_settings<double> s;
  CHECK(s.learning_rate == 1e-2);
  CHECK(s.alpha == 0.99);
  CHECK(s.epsilon == 1e-8);
  CHECK(s.momentum == 0.0);
  CHECK(s.weight_decay == 0.0);
  CHECK_FALSE(s.centered);
}

TEST_CASE("rmsprop: first two steps match values derived by hand", "[optim][rmsprop]") {
  auto p = row<double>({1.0, -2.0});
  rmsprop<double> opt({{"p", &p}});  // lr 0.01, alpha 0.99, eps 1e-8

  // Step 1, element 0 (g = 0.5): s = 0.01 * 0.25 = 0.0025, sqrt(s) = 0.05,
  // p = 1 - 0.01 * 0.5 / (0.05 + 1e-8) = 1 - 0.09999998 = 0.90000002.
  // Element 1 (g = -1): s = 0.01, sqrt(s) = 0.1, p = -2 + 0.01 / (0.1 + 1e-8) = -1.90000001.
  set_grad(p, gradients[0]);
  opt.step();
  CHECK(p.value(0, 0) == Approx(0.900000019999996).epsilon(1e-13));
  CHECK(p.value(0, 1) == Approx(-1.900000009999999).epsilon(1e-13));

  // Step 2, element 0 (g = 0.3): s = 0.99 * 0.0025 + 0.01 * 0.09 = 0.003375,
  // sqrt(s) = 0.05809475, p = 0.90000002 - 0.01 * 0.3 / 0.05809476 = 0.90000002 - 0.05163977.
  set_grad(p, gradients[1]);
  opt.step();
  CHECK(p.value(0, 0) == Approx(0.8483602509394512).epsilon(1e-13));
  CHECK(p.value(0, 1) == Approx(-1.9197065936215374).epsilon(1e-13));
  CHECK(opt.step_count() == 2);
}

TEST_CASE("rmsprop: centered with momentum and weight decay matches pinned values", "[optim][rmsprop]") {
  // Pinned from the scalar formulas above (Python, double): a regression anchor for the fused path.
  auto p = row<double>({1.0, -2.0});
  rmsprop<double> opt({{"p", &p}}, {.weight_decay = 0.1, .momentum = 0.9, .centered = true});
  for (const auto& g : gradients) {
    set_grad(p, g);
    opt.step();
  }
  CHECK(p.value(0, 0) == Approx(0.6644774097114177).epsilon(1e-12));
  CHECK(p.value(0, 1) == Approx(-1.7224030554979284).epsilon(1e-12));
}

TEMPLATE_TEST_CASE("rmsprop: three steps match PyTorch's formulas for every option", "[optim][rmsprop]", float,
                   double) {
  using T = TestType;
  const double tolerance = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  for (const bool centered : {false, true})
    for (const double momentum : {0.0, 0.5})
      for (const double weight_decay : {0.0, 0.2}) {
        CAPTURE(centered, momentum, weight_decay);
        auto p = row<T>({1.0, -2.0});
        rmsprop<T> opt({{"p", &p}}, {.learning_rate = T(0.05), .alpha = T(0.9), .epsilon = T(1e-6),
                                     .weight_decay = T(weight_decay), .momentum = T(momentum),
                                     .centered = centered});
        scalar_rmsprop ref{0.05, 0.9, 1e-6, weight_decay, momentum, centered};
        std::vector<double> expected{1.0, -2.0};
        for (const auto& g : gradients) {
          set_grad(p, g);
          opt.step();
          ref.step(expected, g);
          CHECK(p.value(0, 0) == Approx(expected[0]).epsilon(tolerance));
          CHECK(p.value(0, 1) == Approx(expected[1]).epsilon(tolerance));
        }
      }
}

TEMPLATE_TEST_CASE("rmsprop: minimises a quadratic to its known minimum", "[optim][rmsprop]", float, double) {
  using T = TestType;
  const std::vector<double> a{1.0, 4.0, 0.25}, c{1.5, -2.0, 0.5};
  for (const bool centered : {false, true}) {
    CAPTURE(centered);
    parameter<T> x(1, 3);
    rmsprop<T> opt({{"x", &x}}, {.learning_rate = T(0.01), .momentum = T(0.5), .centered = centered});
    for (int step = 0; step < 4000; ++step) {
      if (step == 2000) opt.set_learning_rate(T(0.001));  // settle inside RMSprop's ~lr-sized steps
      if (step == 3000) opt.set_learning_rate(T(0.0001));
      opt.zero_grad();
      for (int i = 0; i < 3; ++i) x.grad(0, i) = static_cast<T>(a[i] * (static_cast<double>(x.value(0, i)) - c[i]));
      opt.step();
    }
    for (int i = 0; i < 3; ++i) CHECK(std::abs(static_cast<double>(x.value(0, i)) - c[i]) < 1e-4);
  }
}

TEST_CASE("rmsprop: state holds only the buffers the settings use", "[optim][rmsprop]") {
  parameter<float> w(2, 3);
  {
    rmsprop<float> opt({{"w", &w}});
    auto state = opt.state();
    REQUIRE(state.size() == 2);
    CHECK(state[0].name == "rmsprop.square_avg.w");
    CHECK(state[1].name == "rmsprop.step");
  }
  {
    rmsprop<float> opt({{"w", &w}}, {.momentum = 0.9f, .centered = true});
    auto state = opt.state("critic_rmsprop");
    REQUIRE(state.size() == 4);
    CHECK(state[0].name == "critic_rmsprop.square_avg.w");
    CHECK(state[1].name == "critic_rmsprop.grad_avg.w");
    CHECK(state[2].name == "critic_rmsprop.momentum.w");
    CHECK(state[3].name == "critic_rmsprop.step");
    CHECK(state[2].tensor->rows() == 2);
    CHECK(state[2].tensor->cols() == 3);
  }
}

TEST_CASE("rmsprop: step keeps gradients, zero_grad clears them, learning rate is settable", "[optim][rmsprop]") {
  auto p = row<double>({1.0});
  rmsprop<double> opt({{"p", &p}});
  set_grad(p, {0.5});
  opt.step();
  CHECK(p.grad(0, 0) == 0.5);
  opt.zero_grad();
  CHECK(p.grad(0, 0) == 0.0);
  opt.set_learning_rate(0.25);
  CHECK(opt.learning_rate() == 0.25);
  REQUIRE_THROWS_WITH(opt.set_learning_rate(-0.5), Catch::Contains("learning_rate = -0.5"));
}

TEST_CASE("rmsprop: rejects settings PyTorch rejects", "[optim][rmsprop]") {
  auto p = row<double>({1.0});
  REQUIRE_THROWS_WITH((rmsprop<double>({{"p", &p}}, {.alpha = -0.1})), Catch::Contains("alpha = -0.1"));
  REQUIRE_THROWS_WITH((rmsprop<double>({{"p", &p}}, {.momentum = -1})), Catch::Contains("momentum = -1"));
  REQUIRE_THROWS_AS((rmsprop<double>({{"p", &p}}, {.epsilon = -1e-8})), netmarl::invalid_argument);
  parameter<double> bad(3, 1);
  bad.grad.resize(1, 3);
  REQUIRE_THROWS_AS((rmsprop<double>({{"bad", &bad}})), netmarl::shape_error);
}
