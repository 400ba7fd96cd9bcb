#include <catch2/catch.hpp>

#include <cmath>
#include <optional>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/optim/concept.hpp"
#include "support/optim_fixtures.hpp"
#include "netmarl/optim/sgd.hpp"

using netmarl::nn::parameter;
using netmarl::optim::sgd;
using netmarl::optim::sgd_settings;

static_assert(netmarl::optim::Optimizer<sgd<float>>);
static_assert(netmarl::optim::Optimizer<sgd<double>>);

namespace {

using netmarl::testing::row;
using netmarl::testing::set_grad;

// torch.optim.SGD's documented algorithm, one scalar at a time; the buffer starts as "None".
struct scalar_sgd {
  double lr, momentum, dampening, wd;
  bool nesterov;
  std::vector<std::optional<double>> buffer{};
  void step(std::vector<double>& p, const std::vector<double>& grad) {
    buffer.resize(p.size());
    for (std::size_t i = 0; i < p.size(); ++i) {
      double g = grad[i] + wd * p[i];
      if (momentum != 0) {
        buffer[i] = buffer[i] ? momentum * *buffer[i] + (1 - dampening) * g : g;
        g = nesterov ? g + momentum * *buffer[i] : *buffer[i];
      }
      p[i] -= lr * g;
    }
  }
};

const std::vector<std::vector<double>> gradients = {{0.5, -1.0}, {0.3, 0.2}, {-0.4, 0.1}};

}  // namespace

TEST_CASE("sgd: plain steps are p -= lr g", "[optim][sgd]") {
  auto p = row<double>({1.0, -2.0});
  sgd<double> opt({{"p", &p}}, {.learning_rate = 0.1});
  // 1 - 0.1 * 0.5 = 0.95, then 0.95 - 0.1 * 0.3 = 0.92, then 0.92 + 0.1 * 0.4 = 0.96.
  const std::vector<double> expected0{0.95, 0.92, 0.96}, expected1{-1.9, -1.92, -1.93};
  for (int t = 0; t < 3; ++t) {
    set_grad(p, gradients[t]);
    opt.step();
    CHECK(p.value(0, 0) == Approx(expected0[t]).epsilon(1e-14));
    CHECK(p.value(0, 1) == Approx(expected1[t]).epsilon(1e-14));
  }
  CHECK(opt.state().size() == 1);  // only the step count: no momentum buffers without momentum
}

TEST_CASE("sgd: momentum matches values derived by hand", "[optim][sgd]") {
  auto p = row<double>({1.0, -2.0});
  sgd<double> opt({{"p", &p}}, {.learning_rate = 0.1, .momentum = 0.9});
  // Element 0: b1 = g1 = 0.5 (PyTorch copies the first gradient), p = 1 - 0.05 = 0.95;
  // b2 = 0.9 * 0.5 + 0.3 = 0.75, p = 0.95 - 0.075 = 0.875;
  // b3 = 0.9 * 0.75 - 0.4 = 0.275, p = 0.875 - 0.0275 = 0.8475.
  const std::vector<double> expected0{0.95, 0.875, 0.8475}, expected1{-1.9, -1.83, -1.777};
  for (int t = 0; t < 3; ++t) {
    set_grad(p, gradients[t]);
    opt.step();
    CHECK(p.value(0, 0) == Approx(expected0[t]).epsilon(1e-14));
    CHECK(p.value(0, 1) == Approx(expected1[t]).epsilon(1e-14));
  }
}

TEST_CASE("sgd: dampening does not scale the first gradient (PyTorch's buffer starts as a copy)", "[optim][sgd]") {
  auto p = row<double>({1.0, -2.0});
  sgd<double> opt({{"p", &p}}, {.learning_rate = 0.1, .momentum = 0.9, .dampening = 0.5});
  // b1 = 0.5 (not 0.5 * 0.5), p = 0.95; b2 = 0.9 * 0.5 + 0.5 * 0.3 = 0.6, p = 0.95 - 0.06 = 0.89.
  set_grad(p, gradients[0]);
  opt.step();
  CHECK(p.value(0, 0) == Approx(0.95).epsilon(1e-14));
  set_grad(p, gradients[1]);
  opt.step();
  CHECK(p.value(0, 0) == Approx(0.89).epsilon(1e-14));
  CHECK(p.value(0, 1) == Approx(-1.82).epsilon(1e-14));
}

TEST_CASE("sgd: nesterov with weight decay matches values derived by hand", "[optim][sgd]") {
  auto p = row<double>({1.0, -2.0});
  sgd<double> opt({{"p", &p}}, {.learning_rate = 0.1, .momentum = 0.9, .nesterov = true, .weight_decay = 0.1});
  // Element 0, step 1: g = 0.5 + 0.1 * 1 = 0.6, b = 0.6, step direction g + 0.9 b = 1.14,
  // p = 1 - 0.114 = 0.886.
  set_grad(p, gradients[0]);
  opt.step();
  CHECK(p.value(0, 0) == Approx(0.886).epsilon(1e-14));
  CHECK(p.value(0, 1) == Approx(-1.772).epsilon(1e-14));
  // Step 2: g = 0.3 + 0.0886 = 0.3886, b = 0.54 + 0.3886 = 0.9286, direction 0.3886 + 0.83574
  // = 1.22434, p = 0.886 - 0.122434 = 0.763566.
  set_grad(p, gradients[1]);
  opt.step();
  CHECK(p.value(0, 0) == Approx(0.763566).epsilon(1e-13));
  CHECK(p.value(0, 1) == Approx(-1.679132).epsilon(1e-13));
}

TEMPLATE_TEST_CASE("sgd: three steps match PyTorch's formulas for every option", "[optim][sgd]", float, double) {
  using T = TestType;
  const double tolerance = std::is_same_v<T, float> ? 1e-6 : 1e-13;
  struct option {
    double momentum, dampening;
    bool nesterov;
    double weight_decay;
  };
  for (const option o : {option{0, 0, false, 0}, option{0, 0, false, 0.3}, option{0.9, 0, false, 0},
                         option{0.5, 0.25, false, 0.1}, option{0.9, 0, true, 0}, option{0.7, 0, true, 0.2}}) {
    CAPTURE(o.momentum, o.dampening, o.nesterov, o.weight_decay);
    auto p = row<T>({1.0, -2.0});
    sgd<T> opt({{"p", &p}}, {.learning_rate = T(0.2), .momentum = T(o.momentum), .dampening = T(o.dampening),
                             .nesterov = o.nesterov, .weight_decay = T(o.weight_decay)});
    scalar_sgd ref{0.2, o.momentum, o.dampening, o.weight_decay, o.nesterov};
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

TEMPLATE_TEST_CASE("sgd: minimises a quadratic to its known minimum", "[optim][sgd]", float, double) {
  using T = TestType;
  const std::vector<double> a{1.0, 4.0, 0.25}, c{1.5, -2.0, 0.5};
  for (const bool nesterov : {false, true}) {
    CAPTURE(nesterov);
    parameter<T> x(1, 3);
    sgd<T> opt({{"x", &x}}, {.learning_rate = T(0.1), .momentum = T(0.9), .nesterov = nesterov});
    for (int step = 0; step < 1000; ++step) {
      opt.zero_grad();
      for (int i = 0; i < 3; ++i) x.grad(0, i) = static_cast<T>(a[i] * (static_cast<double>(x.value(0, i)) - c[i]));
      opt.step();
    }
    for (int i = 0; i < 3; ++i) CHECK(std::abs(static_cast<double>(x.value(0, i)) - c[i]) < 1e-4);
  }
}

TEST_CASE("sgd: state, learning rate and gradients", "[optim][sgd]") {
  parameter<float> w(2, 2);
  sgd<float> opt({{"w", &w}}, {.learning_rate = 0.5f, .momentum = 0.9f});
  auto state = opt.state();
  REQUIRE(state.size() == 2);
  CHECK(state[0].name == "sgd.momentum.w");
  CHECK(state[1].name == "sgd.step");
  CHECK(opt.learning_rate() == 0.5f);
  opt.set_learning_rate(0.25f);
  CHECK(opt.learning_rate() == 0.25f);
  w.grad.setConstant(1.0f);
  opt.step();
  CHECK(w.grad(1, 1) == 1.0f);  // step does not zero gradients
  CHECK(w.value(1, 1) == -0.25f);
  opt.zero_grad();
  CHECK(w.grad.isZero(0.0f));
}

TEST_CASE("sgd: rejects settings PyTorch rejects", "[optim][sgd]") {
  auto p = row<double>({1.0});
  REQUIRE_THROWS_WITH((sgd<double>({{"p", &p}}, {.learning_rate = -0.1})), Catch::Contains("learning_rate = -0.1"));
  REQUIRE_THROWS_WITH((sgd<double>({{"p", &p}}, {.nesterov = true})), Catch::Contains("nesterov"));
  REQUIRE_THROWS_WITH((sgd<double>({{"p", &p}}, {.momentum = 0.9, .dampening = 0.1, .nesterov = true})),
                      Catch::Contains("dampening = 0.1"));
  REQUIRE_THROWS_AS((sgd<double>({{"p", &p}}, {.momentum = -0.9})), netmarl::invalid_argument);
}
