// The EBPG leader network's backward (attention, LSTM history through time, the sequential heads
// and the imitation head) against central finite differences in double.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "netmarl/backend/tags.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/learn/ebpg/leader_network.hpp"

using idx = netmarl::index;
using netmarl::matrix;
namespace eb = netmarl::learn::ebpg;

namespace {

struct episode_inputs {
  std::vector<matrix<double>> world, history, previous;
  std::vector<std::vector<int>> bonus_goal;
  std::vector<eb::leader_step_gradient<double>> upstream;  // fixed coefficients: loss = <coef, out>
};

eb::leader_network_sizes small_sizes() {
  eb::leader_network_sizes s;
  s.world = 6;
  s.history_input = 5;
  s.hidden = 4;
  s.actions = 3;
  s.goals = 3;
  s.bonuses = 2;
  return s;
}

episode_inputs make_inputs(const eb::leader_network_sizes& s, idx K, idx T, netmarl::rng& g) {
  episode_inputs in;
  auto random = [&](idx r, idx c) {
    matrix<double> m(r, c);
    for (idx i = 0; i < m.size(); ++i) m.data()[i] = g.uniform(-1, 1);
    return m;
  };
  for (idx t = 0; t < T; ++t) {
    in.world.push_back(random(1, s.world));
    in.history.push_back(random(K, s.history_input));
    in.previous.push_back(matrix<double>::Zero(K, s.previous_option()));
    std::vector<int> goals;
    for (idx k = 0; k < K; ++k) {
      goals.push_back(static_cast<int>(g.below(static_cast<std::uint64_t>(s.goals))));
      if (t > 0) in.previous.back()(k, (k + t) % s.goals) = 1;
    }
    in.bonus_goal.push_back(goals);
    eb::leader_step_gradient<double> d;
    d.termination_logit = random(K, 1);
    d.goal_logits = random(K, s.goals);
    d.bonus_logits = random(K, s.bonuses);
    d.action_logits = random(K, s.actions);
    in.upstream.push_back(d);
  }
  return in;
}

double run_loss(const eb::leader_network<double>& net, const episode_inputs& in, bool attention,
                std::vector<eb::leader_step<double>>& steps) {
  const idx K = in.history[0].rows(), H = net.sizes.hidden;
  matrix<double> h = matrix<double>::Zero(K, H), c = h;
  double loss = 0;
  steps.resize(in.world.size());
  for (std::size_t t = 0; t < in.world.size(); ++t) {
    auto& s = steps[t];
    s.world = in.world[t];
    s.history_input = in.history[t];
    s.previous_option = in.previous[t];
    eb::step_forward(netmarl::backend::reference{}, net, s, h, c, attention);
    eb::bonus_forward(netmarl::backend::reference{}, net, s, in.bonus_goal[t]);
    h = s.lstm_h;
    c = s.lstm_c;
    const auto& d = in.upstream[t];
    loss += (d.termination_logit.array() * s.termination_logit.array()).sum() +
            (d.goal_logits.array() * s.goal_logits.array()).sum() +
            (d.bonus_logits.array() * s.bonus_logits.array()).sum() +
            (d.action_logits.array() * s.action_logits.array()).sum();
  }
  return loss;
}

void check_gradients(bool attention) {
  netmarl::rng g(7);
  const auto sizes = small_sizes();
  eb::leader_network<double> net(sizes, g);
  const auto in = make_inputs(sizes, 3, 3, g);
  std::vector<eb::leader_step<double>> steps;
  run_loss(net, in, attention, steps);
  auto params = netmarl::nn::parameters_of(net);
  netmarl::nn::zero_grad(params);
  matrix<double> d_h, d_c;
  for (std::size_t t = steps.size(); t-- > 0;)
    eb::step_backward(netmarl::backend::reference{}, net, steps[t], in.upstream[t], d_h, d_c,
                      attention);
  int checked = 0;
  for (auto& p : params) {
    if (p.name.find("baseline") != std::string::npos) continue;  // not on this loss
    if (!attention && p.name.find("attention_score") != std::string::npos) continue;
    for (idx i = 0; i < p.param->value.size(); ++i) {
      double& w = p.param->value.data()[i];
      const double saved = w, h = 1e-6;
      w = saved + h;
      const double up = run_loss(net, in, attention, steps);
      w = saved - h;
      const double down = run_loss(net, in, attention, steps);
      w = saved;
      const double numeric = (up - down) / (2 * h);
      const double analytic = p.param->grad.data()[i];
      INFO(p.name << "[" << i << "] analytic " << analytic << " numeric " << numeric);
      REQUIRE(analytic == Approx(numeric).margin(1e-6).epsilon(1e-5));
      ++checked;
    }
  }
  CHECK(checked > 300);
}

}  // namespace

TEST_CASE("leader network backward matches finite differences, with attention", "[ebpg]") {
  check_gradients(true);
}

TEST_CASE("leader network backward matches finite differences, mean pooling", "[ebpg]") {
  check_gradients(false);
}

TEST_CASE("attention weights are a distribution over followers; pooling is uniform", "[ebpg]") {
  netmarl::rng g(3);
  const auto sizes = small_sizes();
  eb::leader_network<double> net(sizes, g);
  const auto in = make_inputs(sizes, 4, 1, g);
  std::vector<eb::leader_step<double>> steps;
  run_loss(net, in, true, steps);
  CHECK(steps[0].attention.sum() == Approx(1.0));
  CHECK(steps[0].attention.minCoeff() > 0);
  // c_t is the attention-weighted sum of the blended features
  const matrix<double> expected = steps[0].attention.transpose() * steps[0].blended;
  CHECK((expected - steps[0].context).norm() < 1e-12);
  run_loss(net, in, false, steps);
  for (idx k = 0; k < 4; ++k) CHECK(steps[0].attention(k, 0) == Approx(0.25));
}

TEST_CASE("the bonus head sees the goal it is conditioned on", "[ebpg]") {
  netmarl::rng g(5);
  const auto sizes = small_sizes();
  eb::leader_network<double> net(sizes, g);
  auto in = make_inputs(sizes, 2, 1, g);
  std::vector<eb::leader_step<double>> steps;
  in.bonus_goal[0] = {0, 0};
  run_loss(net, in, true, steps);
  const matrix<double> first = steps[0].bonus_logits;
  in.bonus_goal[0] = {2, 2};
  run_loss(net, in, true, steps);
  CHECK((first - steps[0].bonus_logits).norm() > 1e-6);
}
