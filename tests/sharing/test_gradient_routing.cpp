// LToS algorithm 1, lines 18-21: the gradient of the receivers' max-Q with respect to w_i^in is
// found at each receiver and routed back to the sender of each weight. On a 3-agent line, with
// learn::dqn's Q network as the critic, every routed component equals a central finite
// difference of the critic's value in that one weight, and phi's parameter gradient equals a
// finite difference through the softmax and the pairwise scorer.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "netmarl/factor/independent.hpp"
#include "netmarl/graph/generators.hpp"
#include "netmarl/learn/dqn.hpp"
#include "netmarl/message/attention.hpp"
#include "netmarl/message/none.hpp"
#include "netmarl/sharing/learned.hpp"
#include "netmarl/sharing/none.hpp"

namespace nm = netmarl;
using idx = nm::index;

namespace {

template <class Message>
struct slots {
  using scalar = double;
  using sharing = nm::sharing::none;
  using factor = nm::factor::independent;
  using message = Message;
  using learner = nm::learn::dqn;
  using backend = nm::backend::reference;
};

constexpr idx agents = 3, observation_size = 4, actions = 3;

template <class Message>
struct fixture {
  nm::rng g{21};
  nm::sharing::learned::settings high_settings = [] {
    nm::sharing::learned::settings s;
    s.incoming_slots = 3;
    s.encoder = {8};
    s.pair_width = 6;
    return s;
  }();
  nm::sharing::learned::model<double> high{agents, observation_size, high_settings, g};
  nm::learn::slot_settings<slots<Message>> low_settings = [] {
    nm::learn::slot_settings<slots<Message>> s;
    if constexpr (requires { s.message.heads; }) {
      s.message.encoder = {8};
      s.message.dim = 4;
      s.message.heads = 2;
    }
    s.learner.hidden = 8;
    return s;
  }();
  nm::learn::dqn::model<slots<Message>> low{
      nm::env::spec{.agents = agents, .observation_size = observation_size + 3, .actions = actions},
      low_settings, g};
  nm::graph::csr line = nm::graph::line(agents);
  nm::matrix<float> obs = [this] {
    nm::matrix<float> o(agents, observation_size);
    for (idx k = 0; k < o.size(); ++k) o.data()[k] = static_cast<float>(g.normal());
    return o;
  }();
  // The critic is q's max over actions (learn::dqn::max_q_input_gradient).
  auto critic() {
    return [this](const nm::matrix<double>& x, std::span<const nm::csr_view> graphs,
                  nm::matrix<double>& d_x) { return low.max_q_input_gradient(x, graphs, d_x); };
  }
  double value(const nm::sharing::edge_weights& ew) {
    std::vector<double> unused;
    return high.value_and_weight_gradient(obs, line, ew, critic(), unused);
  }
};

}  // namespace

TEMPLATE_TEST_CASE("each sender receives the finite-difference derivative of the receivers' "
                   "max-Q in its weights",
                   "[sharing][ltos]", nm::message::attention, nm::message::none) {
  fixture<TestType> f;
  f.high.begin_episode();
  f.high.decide(f.obs, f.line, /*explore=*/true);  // noisy weights: not at the initializer
  nm::sharing::edge_weights ew = f.high.weights();
  std::vector<double> d_w;
  f.high.value_and_weight_gradient(f.obs, f.line, ew, f.critic(), d_w);
  REQUIRE(d_w.size() == 7);  // 3 self-loops + 2 x 2 directions
  const double h = 1e-4;
  double largest = 0;
  for (std::size_t e = 0; e < ew.w.size(); ++e) {
    nm::sharing::edge_weights plus = ew, minus = ew;
    plus.w[e] += static_cast<float>(h);
    minus.w[e] -= static_cast<float>(h);
    // the float weights round h: divide by the step actually taken
    const double step = static_cast<double>(plus.w[e]) - static_cast<double>(minus.w[e]);
    const double numeric = (f.value(plus) - f.value(minus)) / step;
    INFO("edge " << ew.edges.from[e] << " -> " << ew.edges.to[e]);
    CHECK(d_w[e] == Approx(numeric).margin(1e-4).epsilon(1e-3));
    largest = std::max(largest, std::abs(d_w[e]));
  }
  CHECK(largest > 1e-3);  // the check is not vacuous: the critic depends on the weights
}

TEST_CASE("without message passing only the receiver's own Q sees its incoming weights",
          "[sharing][ltos]") {
  // With message::none q_i reads only x_i, so dJ/dw_ji is d max_a q_i / dw_ji: perturbing the
  // weight that agent 0 sends to agent 1 moves agent 1's value alone.
  fixture<nm::message::none> f;
  f.high.begin_episode();
  f.high.decide(f.obs, f.line, true);
  nm::sharing::edge_weights ew = f.high.weights();
  const std::size_t edge_0_to_1 = 1;  // row 0 = {0, 1}
  REQUIRE(ew.edges.from[edge_0_to_1] == 0);
  REQUIRE(ew.edges.to[edge_0_to_1] == 1);
  auto per_agent_max = [&](const nm::sharing::edge_weights& w) {
    nm::matrix<double> x(agents, observation_size + 3), d_x;
    x.leftCols(observation_size) = f.obs.cast<double>();
    nm::matrix<double> in(agents, 3);
    nm::sharing::incoming(w, 3, in.data(), 3);
    x.rightCols(3) = in;
    std::vector<double> out;
    for (idx i = 0; i < agents; ++i) {
      nm::matrix<double> row = x.row(i);
      const nm::csr_view none{};
      out.push_back(f.low.max_q_input_gradient(row, std::span<const nm::csr_view>(&none, 1), d_x));
    }
    return out;
  };
  nm::sharing::edge_weights moved = ew;
  moved.w[edge_0_to_1] += 0.25f;
  const auto before = per_agent_max(ew), after = per_agent_max(moved);
  CHECK(after[0] == before[0]);
  CHECK(after[2] == before[2]);
  CHECK(after[1] != before[1]);
}

TEST_CASE("phi's parameter gradient matches finite differences through softmax and scorer",
          "[sharing][ltos]") {
  fixture<nm::message::attention> f;
  auto& policy = f.high.policy();
  auto& params = f.high.parameters();
  // Move the zero-initialised score away from 0 so every path carries gradient.
  nm::rng g(4);
  for (auto& p : params)
    for (idx k = 0; k < p.param->value.size(); ++k) p.param->value.data()[k] += 0.3 * g.normal();
  nm::sharing::edge_weights ew;
  ew.rebuild(f.line);
  nm::sharing::edge_weights* one = &ew;
  typename nm::sharing::sharing_policy<double>::cache c;
  const nm::matrix<double> x = f.obs.cast<double>();
  auto objective = [&] {
    policy.forward(x, std::span<nm::sharing::edge_weights* const>(&one, 1), c);
    // use the double-precision weights: ew.w is float
    nm::sharing::edge_weights exact = ew;
    return f.value(exact);
  };
  objective();
  std::vector<double> d_w;
  f.high.value_and_weight_gradient(f.obs, f.line, ew, f.critic(), d_w);
  for (auto& p : params) p.param->zero_grad();
  policy.backward(c, std::span<nm::sharing::edge_weights* const>(&one, 1), d_w);
  const double h = 1e-3;
  int checked = 0;
  double largest = 0;
  for (auto& p : params) {
    for (idx k = 0; k < std::min<idx>(p.param->value.size(), 6); ++k) {
      double& v = p.param->value.data()[k];
      const double saved = v;
      v = saved + h;
      const double up = objective();
      v = saved - h;
      const double down = objective();
      v = saved;
      const double numeric = (up - down) / (2 * h);
      INFO(p.name << "[" << k << "]");
      // ew.w is stored in float: compare at that precision
      CHECK(p.param->grad.data()[k] == Approx(numeric).margin(2e-7).epsilon(2e-2));
      largest = std::max(largest, std::abs(numeric));
      ++checked;
    }
  }
  CHECK(checked > 20);
  CHECK(largest > 1e-4);  // gradients far above the tolerance
}

TEST_CASE("ascent: a critic that values keeping one's own reward makes phi more selfish",
          "[sharing][ltos]") {
  // J = sum_i x_aug(i, slot 0) = sum_i w_ii: every update must raise w_ii.
  nm::rng g(8);
  nm::sharing::learned::settings s;
  s.incoming_slots = 3;
  s.encoder = {8};
  s.pair_width = 8;
  s.sample_size = 8;
  s.batch_size = 8;
  s.learning_rate = 0.5;
  nm::sharing::learned::model<double> high(agents, observation_size, s, g);
  auto critic = [](const nm::matrix<double>& x, std::span<const nm::csr_view>,
                   nm::matrix<double>& d_x) {
    d_x = nm::matrix<double>::Zero(x.rows(), x.cols());
    d_x.col(observation_size).setOnes();
    return x.col(observation_size).mean();
  };
  const nm::graph::csr line = nm::graph::line(agents);
  nm::matrix<float> obs(agents, observation_size);
  for (idx k = 0; k < obs.size(); ++k) obs.data()[k] = static_cast<float>(g.normal());
  auto mean_selfishness = [&] {
    high.begin_episode();
    high.decide(obs, line, false);
    double sum = 0;
    for (idx i = 0; i < agents; ++i) sum += high.weights().selfishness(i);
    return sum / agents;
  };
  const double before = mean_selfishness();
  for (int k = 0; k < 8; ++k) high.record(obs, line);
  for (int k = 0; k < 20; ++k) high.update_round(critic);
  const double after = mean_selfishness();
  CHECK(before == Approx(0.5));
  CHECK(after > before + 0.05);
}
