// factor::qtran_joint and factor::qtran_loss (QTRAN-base, Son et al. 2019): PyMARL's network
// shapes, a hand-computed case, finite-difference gradients of Q_jt, V and every loss term under
// the paper's detaches, the VAST authors' L_opt, dead agents, row weights, errors.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "netmarl/factor/qtran_joint.hpp"
#include "netmarl/factor/qtran_loss.hpp"
#include "support/gradient_check.hpp"

namespace nm = netmarl;
namespace loss = netmarl::factor::qtran_loss;
using nm::matrix;
using idx = nm::index;  // plain `index` clashes with POSIX index()
using qtran = nm::factor::qtran_joint;
using qtran_model = qtran::model<double>;
using act = nm::nn::activation;

namespace {

constexpr nm::backend::reference ref{};

std::span<const double> span_of(const matrix<double>& m) {
  return {m.data(), static_cast<std::size_t>(m.size())};
}

matrix<double> column(std::initializer_list<double> values) {
  matrix<double> m(static_cast<idx>(values.size()), 1);
  idx r = 0;
  for (double v : values) m(r++, 0) = v;
  return m;
}

// One batch of everything a QTRAN update reads.
struct problem {
  matrix<double> state, hidden;
  std::vector<int> taken, greedy;
  matrix<double> alive;                              // [batch * agents, 1]
  matrix<double> td_target, greedy_sum, chosen_sum;  // [batch, 1]
  matrix<double> row_weight;                         // [batch, 1]
};

matrix<double> q_of(qtran_model& m, const problem& p, const std::vector<int>& actions) {
  matrix<double> q;
  m.evaluate_q(ref, p.state, p.hidden, actions, span_of(p.alive), q);
  return q;
}

matrix<double> v_of(qtran_model& m, const problem& p) {
  matrix<double> v;
  m.forward_v(ref, p.state, v);
  return v;
}

std::vector<int> random_actions(idx rows, idx actions, nm::rng& g) {
  std::vector<int> u(static_cast<std::size_t>(rows));
  for (auto& a : u) a = static_cast<int>(g.uniform() * double(actions)) % int(actions);
  return u;
}

// Random inputs. The nopt argument sum_i Q_i(u_i) - Q_jt + V is set to +-[0.2, 1), alternating
// in sign, so both sides of min(., 0) are exercised and no probe crosses its kink. Alive mixes
// 1, 0 and fractional weights.
problem random_problem(qtran_model& m, idx batch, nm::rng& g) {
  problem p;
  const idx rows = batch * m.agents();
  p.state = nm::testing::random_matrix(batch, m.state_size(), g);
  p.hidden = nm::testing::random_matrix(rows, m.hidden_size(), g);
  p.taken = random_actions(rows, m.actions(), g);
  p.greedy = random_actions(rows, m.actions(), g);
  p.alive.resize(rows, 1);
  for (idx r = 0; r < rows; ++r)
    p.alive(r, 0) = r % 4 == 1 ? 0.0 : r % 4 == 2 ? g.uniform(0.3, 1) : 1.0;
  const matrix<double> q = q_of(m, p, p.taken), v = v_of(m, p);
  p.td_target = q + nm::testing::random_matrix_away_from_zero(batch, 1, g);
  p.greedy_sum = 2.0 * nm::testing::random_matrix(batch, 1, g);
  p.chosen_sum.resize(batch, 1);
  for (idx b = 0; b < batch; ++b)
    p.chosen_sum(b, 0) = q(b, 0) - v(b, 0) + (b % 2 == 0 ? -1.0 : 1.0) * g.uniform(0.2, 1.0);
  p.row_weight = nm::testing::random_matrix(batch, 1, g, 0.5, 1.5);
  return p;
}

// L = L_td + lambda_opt L_opt + lambda_nopt L_nopt written out again, independently of
// qtran_loss.hpp. q_bar (L_opt's Q_jt(s, u_bar)) is a constant; L_nopt's Q_jt(s, u) is the given
// snapshot when `detached` is set (the paper), else the live value (what the paper does NOT do).
double reference_loss(qtran_model& m, const problem& p, const matrix<double>& q_bar,
                      const matrix<double>* detached) {
  const matrix<double> q = q_of(m, p, p.taken), v = v_of(m, p);
  const matrix<double>& q_nopt = detached ? *detached : q;
  const auto w = p.row_weight.array();
  const double w_sum = w.sum();
  const double td = (w * (q - p.td_target).array().square()).sum() / w_sum;
  const double opt = m.authors_variant()
                         ? (w * ((p.greedy_sum - q_bar).array() + v.array().square())).sum() / w_sum
                         : (w * (p.greedy_sum - q_bar + v).array().square()).sum() / w_sum;
  const double nopt = (w * (p.chosen_sum - q_nopt + v).array().min(0.0).square()).sum() / w_sum;
  return td + m.lambda_opt() * opt + m.lambda_nopt() * nopt;
}

// The smallest |pre-activation| of an MLP's hidden layers on input x.
double mlp_margin(const nm::nn::mlp<double>& net, matrix<double> x) {
  double margin = std::numeric_limits<double>::infinity();
  for (std::size_t l = 0; l < net.depth(); ++l) {
    matrix<double> pre = x * net.layers[l].weight.value;
    pre.rowwise() += net.layers[l].bias.value.row(0);
    if (l + 1 < net.depth()) margin = std::min(margin, pre.cwiseAbs().minCoeff());
    x = pre.unaryExpr([&](double z) { return nm::nn::activate(net.activation_after(l), z); });
  }
  return margin;
}

// How far every hidden pre-activation on the taken-action path is from 0 (relu's kink, elu's
// curvature jump): finite differences need more than the probe (2e-4 times a sensitivity of
// order one). Recomputed here from the public parameters with a materialised one-hot.
double kink_margin(const qtran_model& m, const problem& p) {
  const idx rows = p.hidden.rows(), h = m.hidden_size();
  matrix<double> x = matrix<double>::Zero(rows, h + m.actions());
  x.leftCols(h) = p.hidden;
  for (idx r = 0; r < rows; ++r) x(r, h + p.taken[std::size_t(r)]) = 1.0;
  matrix<double> pre = x * m.encoder_input.weight.value;
  pre.rowwise() += m.encoder_input.bias.value.row(0);
  double margin = pre.cwiseAbs().minCoeff();
  const matrix<double> hidden_act =
      pre.unaryExpr([&](double z) { return nm::nn::activate(m.activation(), z); });
  matrix<double> e = hidden_act * m.encoder_output.weight.value;
  e.rowwise() += m.encoder_output.bias.value.row(0);
  const idx batch = p.state.rows();
  matrix<double> q_in(batch, m.state_size() + m.encoding());
  q_in.leftCols(m.state_size()) = p.state;
  for (idx b = 0; b < batch; ++b) {
    q_in.row(b).tail(m.encoding()).setZero();
    for (idx i = 0; i < m.agents(); ++i)
      q_in.row(b).tail(m.encoding()) += p.alive(b * m.agents() + i, 0) * e.row(b * m.agents() + i);
  }
  margin = std::min(margin, mlp_margin(m.joint_q, q_in));
  return std::min(margin, mlp_margin(m.value, p.state));
}

// Draws models and problems until the kinks are clear of the probes; tanh is smooth anywhere.
template <class Body>
void for_clear_draws(const qtran::settings& s, idx agents, idx batch, Body body) {
  for (std::uint64_t seed = 0;; ++seed) {
    REQUIRE(seed < 300);
    nm::rng g(seed);
    qtran_model m(agents, 3, 4, 3, s, g);
    problem p = random_problem(m, batch, g);
    if (s.activation != act::tanh && kink_margin(m, p) < 2e-3) continue;
    body(m, p, seed);
    return;
  }
}

const qtran::settings small{.embed = 6, .hidden_layers = 2, .encoder_hidden = 5, .encoding = 4};

qtran::settings with(qtran::settings s, act a) {
  s.activation = a;
  return s;
}

}  // namespace

TEST_CASE("qtran: PyMARL defaults give QTranBase's qtran_paper network shapes", "[factor][qtran]") {
  const qtran::settings s;
  CHECK(s.embed == 64);
  CHECK(s.hidden_layers == 2);
  CHECK(s.activation == act::relu);
  CHECK(s.lambda_opt == 1.0);
  CHECK(s.lambda_nopt == 0.1);
  CHECK_FALSE(s.authors_variant);
  nm::rng g(0);
  // 4 agents, state 10, rnn hidden 64, 16 actions: the action encoding is 80 -> 80 -> 80 and
  // Q reads state + 80 = 90 inputs, as PyMARL's q_input_size = state_dim + rnn_hidden + n_actions.
  qtran_model m(4, 10, 64, 16, s, g);
  CHECK(m.encoder_hidden() == 80);
  CHECK(m.encoding() == 80);
  std::vector<std::string> names;
  for (const auto& p : nm::nn::parameters_of(m, "factor."))
    names.push_back(p.name + " " + std::to_string(p.param->value.rows()) + "x" +
                    std::to_string(p.param->value.cols()));
  const std::vector<std::string> expected{
      "factor.encoder.0.weight 80x80", "factor.encoder.0.bias 1x80",
      "factor.encoder.1.weight 80x80", "factor.encoder.1.bias 1x80",
      "factor.joint_q.0.weight 90x64", "factor.joint_q.0.bias 1x64",
      "factor.joint_q.1.weight 64x64", "factor.joint_q.1.bias 1x64",
      "factor.joint_q.2.weight 64x1",  "factor.joint_q.2.bias 1x1",
      "factor.value.0.weight 10x64",   "factor.value.0.bias 1x64",
      "factor.value.1.weight 64x64",   "factor.value.1.bias 1x64",
      "factor.value.2.weight 64x1",    "factor.value.2.bias 1x1"};
  CHECK(names == expected);
  CHECK(m.joint_q.hidden_activation == act::relu);
  CHECK(m.joint_q.output_activation == act::identity);
  // network_size "big" and explicit encoder widths.
  qtran_model big(4, 10, 64, 16, {.hidden_layers = 3, .encoder_hidden = 32, .encoding = 8}, g);
  CHECK(big.joint_q.depth() == 4);
  CHECK(big.value.depth() == 4);
  CHECK(big.encoder_input.weight.value.rows() == 80);
  CHECK(big.encoder_input.weight.value.cols() == 32);
  CHECK(big.encoder_output.weight.value.cols() == 8);
  CHECK(big.joint_q.input_size() == 18);
}

TEST_CASE("qtran: a hand-computed case (N = 2, every width 1, 2 actions)", "[factor][qtran]") {
  nm::rng g(0);
  qtran_model m(2, 1, 1, 2, {.embed = 1, .hidden_layers = 1, .encoder_hidden = 1, .encoding = 1},
                g);
  m.encoder_input.weight.value << 0.5, 1.0, -2.0;  // [w_h; W_a[0]; W_a[1]]
  m.encoder_input.bias.value << 0.25;
  m.encoder_output.weight.value << 2.0;
  m.encoder_output.bias.value << -0.5;
  m.joint_q.layers[0].weight.value << 0.5, 1.0;  // [state; E]
  m.joint_q.layers[0].bias.value << -1.0;
  m.joint_q.layers[1].weight.value << 2.0;
  m.joint_q.layers[1].bias.value << 0.5;
  m.value.layers[0].weight.value << 1.5;
  m.value.layers[0].bias.value << 0.5;
  m.value.layers[1].weight.value << -1.0;
  m.value.layers[1].bias.value << 0.25;
  const matrix<double> state = column({1.0}), hidden = column({2.0, -1.0});
  const std::vector<int> taken{0, 1}, greedy{1, 0};

  // Taken: agent 0 pre = 0.5*2 + 1 + 0.25 = 2.25 -> e_0 = 2*2.25 - 0.5 = 4;
  //        agent 1 pre = -0.5 - 2 + 0.25 = -2.25 -> relu 0 -> e_1 = -0.5.   E = 3.5
  // Q_jt = 2 relu(0.5*1 + 3.5 - 1) + 0.5 = 6.5;   V = -relu(1.5 + 0.5) + 0.25 = -1.75.
  matrix<double> q_jt, q_bar, v;
  m.forward_q(ref, state, hidden, taken, {}, q_jt);
  CHECK(q_jt(0, 0) == Approx(6.5));
  // Greedy: agent 0 pre = 1 - 2 + 0.25 < 0 -> e = -0.5; agent 1 pre = -0.5 + 1 + 0.25 = 0.75 ->
  // e = 1; E = 0.5, Q pre = 0.5 + 0.5 - 1 = 0 -> Q_jt(s, u_bar) = 0.5.
  m.evaluate_q(ref, state, hidden, greedy, {}, q_bar);
  CHECK(q_bar(0, 0) == Approx(0.5));
  m.forward_v(ref, state, v);
  CHECK(v(0, 0) == Approx(-1.75));

  const auto params = nm::nn::parameters_of(m);
  nm::nn::zero_grad(params);
  qtran_model::loss_gradients grads;
  // y = 5.5: L_td = 1.  L_opt = (3 - 0.5 - 1.75)^2 = 0.5625.  L_nopt = min(4 - 6.5 - 1.75, 0)^2
  // = 18.0625.  L = 1 + 0.5625 + 0.1 * 18.0625.
  const auto l = m.loss(ref,
                        {.td_target = column({5.5}),
                         .greedy_utility_sum = column({3.0}),
                         .greedy_q_jt = q_bar,
                         .chosen_utility_sum = column({4.0})},
                        grads);
  CHECK(l.td == Approx(1.0));
  CHECK(l.opt == Approx(0.5625));
  CHECK(l.nopt == Approx(18.0625));
  CHECK(l.total == Approx(3.36875));
  // dL/d sum max Q_i = 2 * 0.75;  dL/d sum Q_i(u_i) = 0.1 * 2 * (-4.25).
  CHECK(grads.greedy_utility_sum(0, 0) == Approx(1.5));
  CHECK(grads.chosen_utility_sum(0, 0) == Approx(-0.85));
  // dL/dV = 1.5 - 0.85 = 0.65, through V = -relu(1.5 s + 0.5) + 0.25.
  CHECK(m.value.layers[1].bias.grad(0, 0) == Approx(0.65));
  CHECK(m.value.layers[1].weight.grad(0, 0) == Approx(0.65 * 2.0));
  CHECK(m.value.layers[0].weight.grad(0, 0) == Approx(-0.65));
  CHECK(m.value.layers[0].bias.grad(0, 0) == Approx(-0.65));
  // dL/dQ_jt = 2 (6.5 - 5.5) = 2, from L_td alone: Q pre = 3, d pre = 4, dE = 4.
  CHECK(m.joint_q.layers[1].bias.grad(0, 0) == Approx(2.0));
  CHECK(m.joint_q.layers[1].weight.grad(0, 0) == Approx(6.0));
  CHECK(m.joint_q.layers[0].weight.grad(0, 0) == Approx(4.0));
  CHECK(m.joint_q.layers[0].weight.grad(1, 0) == Approx(14.0));
  CHECK(m.joint_q.layers[0].bias.grad(0, 0) == Approx(4.0));
  // de_i = 4 each; encoder output: dW2 = 2.25 * 4 + 0 * 4, db2 = 8; first layer: agent 0's
  // d pre = 8 (agent 1's relu is off): dW_h = 2 * 8, dW_a[0] = 8, dW_a[1] = 0, dc = 8, dh_0 = 4.
  CHECK(m.encoder_output.weight.grad(0, 0) == Approx(9.0));
  CHECK(m.encoder_output.bias.grad(0, 0) == Approx(8.0));
  CHECK(m.encoder_input.weight.grad(0, 0) == Approx(16.0));
  CHECK(m.encoder_input.weight.grad(1, 0) == Approx(8.0));
  CHECK(m.encoder_input.weight.grad(2, 0) == 0.0);
  CHECK(m.encoder_input.bias.grad(0, 0) == Approx(8.0));
  REQUIRE(grads.hidden.rows() == 2);
  CHECK(grads.hidden(0, 0) == Approx(4.0));
  CHECK(grads.hidden(1, 0) == 0.0);

  SECTION("the VAST authors' L_opt: sum max Q_i - Q_jt(s, u_bar) + V^2, unsquared") {
    qtran_model authors(2, 1, 1, 2,
                        {.embed = 1,
                         .hidden_layers = 1,
                         .encoder_hidden = 1,
                         .encoding = 1,
                         .authors_variant = true},
                        g);
    const auto to = nm::nn::parameters_of(authors);
    for (std::size_t k = 0; k < params.size(); ++k) to[k].param->value = params[k].param->value;
    authors.forward_q(ref, state, hidden, taken, {}, q_jt);
    authors.forward_v(ref, state, v);
    const auto a = authors.loss(ref,
                                {.td_target = column({5.5}),
                                 .greedy_utility_sum = column({3.0}),
                                 .greedy_q_jt = q_bar,
                                 .chosen_utility_sum = column({4.0})},
                                grads);
    CHECK(a.opt == Approx(3.0 - 0.5 + 1.75 * 1.75));
    CHECK(a.total == Approx(1.0 + 5.5625 + 0.1 * 18.0625));
    CHECK(grads.greedy_utility_sum(0, 0) == Approx(1.0));
    // A larger utility sum lowers nothing: the term is linear, and can go negative.
    const auto negative = authors.loss(ref,
                                       {.td_target = column({5.5}),
                                        .greedy_utility_sum = column({-10.0}),
                                        .greedy_q_jt = q_bar,
                                        .chosen_utility_sum = column({4.0})},
                                       grads);
    CHECK(negative.opt == Approx(-10.0 - 0.5 + 1.75 * 1.75));
    CHECK(negative.opt < 0);
  }
}

TEST_CASE("qtran_loss: each term by hand, its gradients, and the detached inputs",
          "[factor][qtran]") {
  const matrix<double> a = column({1.0, -2.0, 0.5}), b = column({0.25, 1.0, -1.0}),
                       v = column({0.5, -0.5, 2.0});
  matrix<double> d_a, d_v;
  SECTION("L_td is the mean squared error to the target") {
    CHECK(loss::td<double>(a, b, {}, d_a) == Approx((0.5625 + 9.0 + 2.25) / 3));
    CHECK(d_a(1, 0) == Approx(2.0 * -3.0 / 3));
  }
  SECTION("L_opt squares sum max Q_i - Q_jt(s, u_bar) + V, or (authors) adds V^2 unsquared") {
    // x = a - b + v = {1.25, -3.5, 3.5}
    CHECK(loss::opt<double>(a, b, v, false, {}, d_a, d_v) == Approx((1.5625 + 12.25 + 12.25) / 3));
    CHECK(d_a(0, 0) == Approx(2.0 * 1.25 / 3));
    CHECK(d_v(1, 0) == Approx(2.0 * -3.5 / 3));
    // a - b + v^2 = {1, -2.75, 5.5}
    CHECK(loss::opt<double>(a, b, v, true, {}, d_a, d_v) == Approx((1.0 - 2.75 + 5.5) / 3));
    CHECK(d_a(1, 0) == Approx(1.0 / 3));
    CHECK(d_v(2, 0) == Approx(2.0 * 2.0 / 3));
  }
  SECTION("L_nopt is zero where its argument is positive") {
    // x = {1.25, -3.5, 3.5}: only the middle sample counts.
    CHECK(loss::nopt<double>(a, b, v, {}, d_a, d_v) == Approx(12.25 / 3));
    CHECK(d_a(0, 0) == 0.0);
    CHECK(d_a(1, 0) == Approx(2.0 * -3.5 / 3));
    CHECK(d_v(1, 0) == Approx(2.0 * -3.5 / 3));
    CHECK(d_a(2, 0) == 0.0);
    CHECK(d_v(0, 0) == 0.0);
    CHECK(d_v(2, 0) == 0.0);
    const matrix<double> all_positive = column({3.0, 3.0, 3.0});
    CHECK(loss::nopt<double>(all_positive, b, v, {}, d_a, d_v) == 0.0);
    CHECK(d_a.isZero(0.0));
    CHECK(d_v.isZero(0.0));
  }
  SECTION("row weights: a zero row is ignored, the rest is their weighted mean") {
    const matrix<double> w = column({2.0, 0.0, 1.0});
    CHECK(loss::td<double>(a, b, nm::nn::row_weights<double>(span_of(w)), d_a) ==
          Approx((2.0 * 0.5625 + 2.25) / 3.0));
    CHECK(d_a(1, 0) == 0.0);
    const matrix<double> zero = matrix<double>::Zero(3, 1);
    CHECK(loss::opt<double>(a, b, v, false, span_of(zero), d_a, d_v) == 0.0);
    CHECK(d_a.isZero(0.0));
  }
  SECTION("finite differences; the detached Q_jt inputs are not differentiated") {
    nm::rng g(4);
    matrix<double> x = nm::testing::random_matrix(5, 1, g), q = nm::testing::random_matrix(5, 1, g);
    matrix<double> value = nm::testing::random_matrix(5, 1, g);
    const matrix<double> w = nm::testing::random_matrix(5, 1, g, 0.5, 1.5);
    // Keep min(x - q + V, 0) clear of its kink.
    for (idx r = 0; r < 5; ++r)
      x(r, 0) = q(r, 0) - value(r, 0) + (r % 2 ? 1.0 : -1.0) * g.uniform(0.2, 1.0);
    for (bool authors : {false, true}) {
      loss::opt<double>(x, q, value, authors, span_of(w), d_a, d_v);
      auto f_opt = [&] {
        matrix<double> s1, s2;
        return loss::opt<double>(x, q, value, authors, span_of(w), s1, s2);
      };
      auto r1 = nm::testing::check_gradient(x, d_a, f_opt, "utility sum");
      nm::testing::check_gradient_into(r1, value, d_v, f_opt, "v");
      INFO("opt, authors " << authors << ": " << r1);
      CHECK(r1.max_relative_error <= 1e-6);
    }
    loss::nopt<double>(x, q, value, span_of(w), d_a, d_v);
    auto f_nopt = [&] {
      matrix<double> s1, s2;
      return loss::nopt<double>(x, q, value, span_of(w), s1, s2);
    };
    auto r2 = nm::testing::check_gradient(x, d_a, f_nopt, "utility sum");
    nm::testing::check_gradient_into(r2, value, d_v, f_nopt, "v");
    INFO("nopt: " << r2);
    CHECK(r2.max_relative_error <= 1e-6);
    loss::td<double>(q, x, span_of(w), d_a);
    auto f_td = [&] {
      matrix<double> s1;
      return loss::td<double>(q, x, span_of(w), s1);
    };
    const auto r3 = nm::testing::check_gradient(q, d_a, f_td, "q_jt");
    INFO("td: " << r3);
    CHECK(r3.max_relative_error <= 1e-6);
  }
}

TEST_CASE(
    "qtran: gradients of Q_jt w.r.t. parameters and hidden features, and of V, match "
    "finite differences",
    "[factor][qtran]") {
  for (act a : {act::tanh, act::relu, act::elu})
    for_clear_draws(with(small, a), 3, 4, [&](qtran_model& m, problem& p, std::uint64_t seed) {
      nm::rng g(1000 + seed);
      const matrix<double> weights = nm::testing::random_matrix(4, 1, g, 0.5, 1.5);
      const auto params = nm::nn::parameters_of(m);

      nm::nn::zero_grad(params);
      matrix<double> q, d_hidden;
      m.forward_q(ref, p.state, p.hidden, p.taken, span_of(p.alive), q);
      m.backward_q(ref, weights, &d_hidden);
      auto q_loss = [&] { return (weights.array() * q_of(m, p, p.taken).array()).sum(); };
      auto report = nm::testing::check_parameter_gradients(params, q_loss);
      nm::testing::check_gradient_into(report, p.hidden, d_hidden, q_loss, "hidden");
      INFO("Q_jt, " << nm::nn::to_string(a) << ", seed " << seed << ": " << report);
      CHECK(report.max_relative_error <= 1e-6);
      // Dead agents (alive 0: rows 1 and 5, ...) get no gradient.
      CHECK(d_hidden.row(1).isZero(0.0));
      CHECK(d_hidden.row(5).isZero(0.0));
      CHECK_FALSE(d_hidden.row(0).isZero(0.0));
      for (const auto& param : nm::nn::parameters_of(m.value)) CHECK(param.param->grad.isZero(0.0));

      nm::nn::zero_grad(params);
      matrix<double> v;
      m.forward_v(ref, p.state, v);
      m.backward_v(ref, weights);
      auto v_loss = [&] { return (weights.array() * v_of(m, p).array()).sum(); };
      const auto v_report = nm::testing::check_parameter_gradients(params, v_loss);
      INFO("V, " << nm::nn::to_string(a) << ": " << v_report);
      CHECK(v_report.max_relative_error <= 1e-6);
      CHECK_FALSE(m.value.layers[0].weight.grad.isZero(0.0));
    });
}

TEST_CASE(
    "qtran: every loss term's gradients match finite differences with the paper's "
    "detaches",
    "[factor][qtran]") {
  struct variant {
    const char* name;
    double lambda_opt, lambda_nopt;
    bool authors, td_at_zero;  // td_at_zero: y = Q_jt, so L_td and its gradient vanish
  };
  const variant variants[] = {{"L_td alone", 0.0, 0.0, false, false},
                              {"L_opt (L_td at its minimum)", 1.0, 0.0, false, true},
                              {"L_nopt (L_td at its minimum)", 0.0, 1.0, false, true},
                              {"combined, PyMARL lambdas", 1.0, 0.1, false, false},
                              {"combined, other lambdas", 2.5, 0.7, false, false},
                              {"combined, the authors' L_opt", 1.0, 1.0, true, false}};
  for (act a : {act::tanh, act::relu})
    for (const variant& var : variants) {
      qtran::settings s = with(small, a);
      s.lambda_opt = var.lambda_opt;
      s.lambda_nopt = var.lambda_nopt;
      s.authors_variant = var.authors;
      for_clear_draws(s, 3, 4, [&](qtran_model& m, problem& p, std::uint64_t seed) {
        const matrix<double> q_bar = q_of(m, p, p.greedy);
        const matrix<double> q_snapshot = q_of(m, p, p.taken);
        if (var.td_at_zero) p.td_target = q_snapshot;
        const auto params = nm::nn::parameters_of(m);
        nm::nn::zero_grad(params);
        matrix<double> q, q_greedy, v;
        m.forward_q(ref, p.state, p.hidden, p.taken, span_of(p.alive), q);
        m.evaluate_q(ref, p.state, p.hidden, p.greedy, span_of(p.alive), q_greedy);
        m.forward_v(ref, p.state, v);
        qtran_model::loss_gradients grads;
        const auto l = m.loss(ref,
                              {.td_target = p.td_target,
                               .greedy_utility_sum = p.greedy_sum,
                               .greedy_q_jt = q_greedy,
                               .chosen_utility_sum = p.chosen_sum,
                               .row_weight = span_of(p.row_weight)},
                              grads);
        auto total = [&] { return reference_loss(m, p, q_bar, &q_snapshot); };
        INFO(var.name << ", " << nm::nn::to_string(a) << ", seed " << seed);
        CHECK(l.total == Approx(total()).epsilon(1e-12));
        CHECK(l.total == Approx(l.td + var.lambda_opt * l.opt + var.lambda_nopt * l.nopt));
        CHECK(l.nopt > 0);  // the even samples violate the constraint
        auto report = nm::testing::check_parameter_gradients(params, total);
        nm::testing::check_gradient_into(report, p.hidden, grads.hidden, total, "hidden");
        nm::testing::check_gradient_into(report, p.greedy_sum, grads.greedy_utility_sum, total,
                                         "greedy_utility_sum");
        nm::testing::check_gradient_into(report, p.chosen_sum, grads.chosen_utility_sum, total,
                                         "chosen_utility_sum");
        INFO(report);
        CHECK(report.max_relative_error <= 1e-6);
        if (var.td_at_zero) {
          // Detach: with L_td at rest nothing reaches Q_jt's networks or the hidden features,
          // although L_opt or L_nopt is non-zero and does move V.
          CHECK(l.td == 0.0);
          for (const auto& param : nm::nn::parameters_of(m.joint_q))
            CHECK(param.param->grad.isZero(0.0));
          CHECK(m.encoder_input.weight.grad.isZero(0.0));
          CHECK(m.encoder_output.weight.grad.isZero(0.0));
          CHECK(grads.hidden.isZero(0.0));
          CHECK_FALSE(m.value.layers[0].weight.grad.isZero(0.0));
          // The check above could fail: without the detach the same loss has a gradient in
          // Q_jt's parameters (L_nopt's Q_jt(s, u) is live there).
          if (var.lambda_nopt > 0) {
            auto live = [&] { return reference_loss(m, p, q_bar, nullptr); };
            const auto undetached = nm::testing::check_parameter_gradients(params, live);
            CHECK(undetached.max_relative_error > 1e-2);
          }
        }
      });
    }
}

TEST_CASE("qtran: evaluate_q (greedy or target) leaves forward_q's cache alone",
          "[factor][qtran]") {
  nm::rng g(6);
  qtran_model m(3, 3, 4, 3, with(small, act::tanh), g);
  problem p = random_problem(m, 4, g);
  const auto params = nm::nn::parameters_of(m);
  auto gradients = [&](bool evaluate_between) {
    nm::nn::zero_grad(params);
    matrix<double> q, q_greedy, v;
    m.evaluate_q(ref, p.state, p.hidden, p.greedy, span_of(p.alive), q_greedy);
    m.forward_q(ref, p.state, p.hidden, p.taken, span_of(p.alive), q);
    if (evaluate_between) {  // another batch size and other actions, as a target pass has
      problem other = random_problem(m, 7, g);
      matrix<double> scratch;
      m.evaluate_q(ref, other.state, other.hidden, other.taken, {}, scratch);
    }
    m.forward_v(ref, p.state, v);
    qtran_model::loss_gradients grads;
    m.loss(ref,
           {.td_target = p.td_target,
            .greedy_utility_sum = p.greedy_sum,
            .greedy_q_jt = q_greedy,
            .chosen_utility_sum = p.chosen_sum},
           grads);
    std::vector<matrix<double>> out{grads.hidden, grads.greedy_utility_sum,
                                    grads.chosen_utility_sum};
    for (const auto& param : params) out.push_back(param.param->grad);
    return out;
  };
  CHECK(gradients(true) == gradients(false));
  // The same inputs give the same Q_jt through either path; a copy (a target network) too.
  matrix<double> q1, q2, q3;
  m.forward_q(ref, p.state, p.hidden, p.taken, span_of(p.alive), q1);
  m.evaluate_q(ref, p.state, p.hidden, p.taken, span_of(p.alive), q2);
  qtran_model target = m;
  target.evaluate_q(ref, p.state, p.hidden, p.taken, span_of(p.alive), q3);
  CHECK(q1 == q2);
  CHECK(q1 == q3);
}

TEST_CASE("qtran: a dead agent's encoding is removed from the sum", "[factor][qtran]") {
  nm::rng g(12);
  qtran_model three(3, 3, 4, 3, small, g);
  qtran_model two(2, 3, 4, 3, small, g);
  const auto from = nm::nn::parameters_of(three), to = nm::nn::parameters_of(two);
  for (std::size_t k = 0; k < from.size(); ++k) to[k].param->value = from[k].param->value;
  const idx batch = 2;
  const matrix<double> state = nm::testing::random_matrix(batch, 3, g);
  matrix<double> hidden3 = nm::testing::random_matrix(batch * 3, 4, g);
  std::vector<int> actions3 = random_actions(batch * 3, 3, g);
  // Agent 1 is dead in both samples: the 3-agent model must equal the 2-agent one on agents 0, 2.
  const std::vector<double> alive{1, 0, 1, 1, 0, 1};
  matrix<double> hidden2(batch * 2, 4);
  std::vector<int> actions2;
  for (idx b = 0; b < batch; ++b)
    for (idx i : {0, 2}) {
      hidden2.row(idx(actions2.size())) = hidden3.row(b * 3 + i);
      actions2.push_back(actions3[std::size_t(b * 3 + i)]);
    }
  matrix<double> q3, q2, q_all;
  three.forward_q(ref, state, hidden3, actions3, alive, q3);
  two.forward_q(ref, state, hidden2, actions2, {}, q2);
  CHECK((q3 - q2).cwiseAbs().maxCoeff() <= 1e-12);
  three.evaluate_q(ref, state, hidden3, actions3, {}, q_all);
  CHECK((q_all - q3).cwiseAbs().maxCoeff() > 1e-6);  // agent 1 did matter when alive
  // Whatever the dead agent holds or does changes nothing.
  hidden3.row(1) *= -3.0;
  hidden3.row(4).setConstant(5.0);
  actions3[1] = (actions3[1] + 1) % 3;
  matrix<double> q3_changed;
  three.evaluate_q(ref, state, hidden3, actions3, alive, q3_changed);
  CHECK(q3_changed == q3);
  // An all-ones mask is no mask.
  const std::vector<double> ones(6, 1.0);
  matrix<double> q_ones, q_none;
  three.evaluate_q(ref, state, hidden3, actions3, ones, q_ones);
  three.evaluate_q(ref, state, hidden3, actions3, {}, q_none);
  CHECK(q_ones == q_none);
}

TEST_CASE("qtran: float computes what double computes", "[factor][qtran]") {
  nm::rng g(9);
  qtran_model md(3, 3, 4, 3, small, g);
  qtran::model<float> mf(3, 3, 4, 3, small, g);
  const auto pd = nm::nn::parameters_of(md);
  const auto pf = nm::nn::parameters_of(mf);
  for (std::size_t k = 0; k < pd.size(); ++k) pf[k].param->value = pd[k].param->value.cast<float>();
  problem p = random_problem(md, 4, g);
  matrix<double> qd, qbd, vd;
  md.forward_q(ref, p.state, p.hidden, p.taken, span_of(p.alive), qd);
  md.evaluate_q(ref, p.state, p.hidden, p.greedy, span_of(p.alive), qbd);
  md.forward_v(ref, p.state, vd);
  qtran_model::loss_gradients gd;
  const auto ld = md.loss(ref,
                          {.td_target = p.td_target,
                           .greedy_utility_sum = p.greedy_sum,
                           .greedy_q_jt = qbd,
                           .chosen_utility_sum = p.chosen_sum},
                          gd);
  const matrix<float> state = p.state.cast<float>(), hidden = p.hidden.cast<float>(),
                      alive = p.alive.cast<float>();
  const std::span<const float> alive_span(alive.data(), std::size_t(alive.size()));
  matrix<float> qf, qbf, vf;
  mf.forward_q(ref, state, hidden, p.taken, alive_span, qf);
  mf.evaluate_q(ref, state, hidden, p.greedy, alive_span, qbf);
  mf.forward_v(ref, state, vf);
  qtran::model<float>::loss_gradients gf;
  const auto lf = mf.loss(ref,
                          {.td_target = p.td_target.cast<float>(),
                           .greedy_utility_sum = p.greedy_sum.cast<float>(),
                           .greedy_q_jt = qbf,
                           .chosen_utility_sum = p.chosen_sum.cast<float>()},
                          gf);
  CHECK((qf.cast<double>() - qd).cwiseAbs().maxCoeff() <= 1e-5);
  CHECK(double(lf.total) == Approx(ld.total).epsilon(1e-4));
  CHECK((gf.hidden.cast<double>() - gd.hidden).cwiseAbs().maxCoeff() <= 1e-4);
}

TEST_CASE("qtran: bad settings and shapes are clear errors", "[factor][qtran]") {
  nm::rng g(0);
  auto make = [&](idx agents, idx state_size, idx hidden, idx actions, qtran::settings s) {
    static_cast<void>(qtran_model(agents, state_size, hidden, actions, s, g));
  };
  using Catch::Contains;
  REQUIRE_THROWS_AS(make(0, 3, 4, 2, {}), nm::invalid_argument);
  REQUIRE_THROWS_WITH(make(0, 3, 4, 2, {}), Contains("agents must be >= 1, got 0"));
  REQUIRE_THROWS_WITH(make(2, 0, 4, 2, {}), Contains("state_size must be >= 1"));
  REQUIRE_THROWS_WITH(make(2, 3, 0, 2, {}), Contains("hidden_size must be >= 1, got 0"));
  REQUIRE_THROWS_WITH(make(2, 3, 4, 0, {}), Contains("actions must be >= 1, got 0"));
  REQUIRE_THROWS_WITH(make(2, 3, 4, 2, {.embed = 0}), Contains("embed must be >= 1, got 0"));
  REQUIRE_THROWS_WITH(make(2, 3, 4, 2, {.hidden_layers = 0}),
                      Contains("hidden_layers must be >= 1, got 0"));
  REQUIRE_THROWS_WITH(make(2, 3, 4, 2, {.encoder_hidden = -1}),
                      Contains("encoder_hidden must be >= 0 (0: hidden_size + actions), got -1"));
  REQUIRE_THROWS_WITH(make(2, 3, 4, 2, {.encoding = -2}), Contains("encoding must be >= 0"));
  REQUIRE_THROWS_AS(make(2, 3, 4, 2, {.lambda_opt = -1.0}), nm::invalid_argument);
  REQUIRE_THROWS_WITH(make(2, 3, 4, 2, {.lambda_opt = -1.0}),
                      Contains("lambda_opt must be finite and >= 0, got -1"));
  REQUIRE_THROWS_WITH(make(2, 3, 4, 2, {.lambda_nopt = std::nan("")}),
                      Contains("lambda_nopt must be finite and >= 0"));

  qtran_model m(2, 3, 4, 5, {.embed = 4}, g);
  const idx batch = 3;
  const matrix<double> state = matrix<double>::Zero(batch, 3), hidden = matrix<double>::Zero(6, 4);
  const std::vector<int> actions{0, 1, 2, 3, 4, 0};
  matrix<double> q, v, d;
  qtran_model::loss_gradients grads;
  const matrix<double> y = matrix<double>::Zero(batch, 1);
  // (A braced argument would split a Catch macro's arguments at its commas.)
  auto loss_of = [&](const matrix<double>& td_target, const matrix<double>& greedy_q_jt,
                     const matrix<double>& chosen_sum, std::span<const double> row_weight) {
    return m.loss(ref,
                  {.td_target = td_target,
                   .greedy_utility_sum = y,
                   .greedy_q_jt = greedy_q_jt,
                   .chosen_utility_sum = chosen_sum,
                   .row_weight = row_weight},
                  grads);
  };
  REQUIRE_THROWS_AS(m.backward_q(ref, y, &d), nm::shape_error);
  REQUIRE_THROWS_WITH(m.backward_q(ref, y, &d), Contains("call forward_q first"));
  REQUIRE_THROWS_WITH(m.backward_v(ref, y), Contains("call forward_v first"));
  REQUIRE_THROWS_WITH(loss_of(y, y, y, {}),
                      Contains("call forward_q (at the taken actions) first"));
  REQUIRE_THROWS_AS(m.forward_q(ref, matrix<double>::Zero(batch, 2), hidden, actions, {}, q),
                    nm::shape_error);
  REQUIRE_THROWS_WITH(m.forward_q(ref, matrix<double>::Zero(batch, 2), hidden, actions, {}, q),
                      Contains("forward_q: state is 3x2, expected 3x3 (batch x state_size)"));
  REQUIRE_THROWS_WITH(m.forward_q(ref, state, matrix<double>::Zero(5, 4), actions, {}, q),
                      Contains("hidden is 5x4, expected 6x4 (batch * agents x hidden_size)"));
  REQUIRE_THROWS_WITH(m.evaluate_q(ref, state, hidden, std::vector<int>{0, 1}, {}, q),
                      Contains("evaluate_q: actions has 2 entries, expected 6"));
  REQUIRE_THROWS_WITH(m.forward_q(ref, state, hidden, actions, std::vector<double>(4, 1.0), q),
                      Contains("alive has 4 entries, expected 6"));
  REQUIRE_THROWS_AS(m.forward_q(ref, state, hidden, std::vector<int>{0, 1, 2, 5, 0, 0}, {}, q),
                    nm::invalid_argument);
  REQUIRE_THROWS_WITH(m.forward_q(ref, state, hidden, std::vector<int>{0, 1, 2, 5, 0, 0}, {}, q),
                      Contains("actions[3] = 5 is out of range [0, 5)"));
  REQUIRE_THROWS_WITH(m.forward_q(ref, state, hidden, std::vector<int>{0, -1, 2, 3, 0, 0}, {}, q),
                      Contains("actions[1] = -1 is out of range"));
  REQUIRE_THROWS_WITH(m.forward_v(ref, matrix<double>::Zero(batch, 4), v),
                      Contains("forward_v: state is 3x4, expected 3x3"));

  m.forward_q(ref, state, hidden, actions, {}, q);
  REQUIRE_THROWS_WITH(m.backward_q(ref, matrix<double>::Zero(2, 1), &d),
                      Contains("d_q_jt: expected 3x1, got 2x1"));
  REQUIRE_THROWS_WITH(loss_of(y, y, y, {}),
                      Contains("call forward_v on the batch of forward_q first"));
  m.forward_v(ref, matrix<double>::Zero(2, 3), v);
  REQUIRE_THROWS_WITH(loss_of(y, y, y, {}), Contains("(V has 2 rows, Q_jt 3)"));
  m.forward_v(ref, state, v);
  const matrix<double> short_column = matrix<double>::Zero(2, 1);
  REQUIRE_THROWS_AS(loss_of(short_column, y, y, {}), nm::shape_error);
  REQUIRE_THROWS_WITH(loss_of(short_column, y, y, {}),
                      Contains("qtran_loss::td: target: expected 3x1, got 2x1"));
  REQUIRE_THROWS_WITH(loss_of(y, short_column, y, {}),
                      Contains("qtran_loss::opt: greedy_q_jt: expected 3x1, got 2x1"));
  REQUIRE_THROWS_WITH(loss_of(y, y, matrix<double>::Zero(3, 2), {}),
                      Contains("qtran_loss::nopt: chosen_utility_sum: expected 3x1, got 3x2"));
  const std::vector<double> two_weights{1.0, 1.0};
  REQUIRE_THROWS_WITH(loss_of(y, y, y, two_weights),
                      Contains("row weights (one per sample): expected 3, got 2"));
  REQUIRE_NOTHROW(loss_of(y, y, y, {}));
}

TEST_CASE(
    "qtran: backend::simd<> (SIMD dense layers, gather and agent sum) matches the "
    "reference backend",
    "[factor][qtran]") {
  nm::rng g(17);
  qtran::model<float> a(3, 3, 4, 3, small, g);
  qtran::model<float> b = a;
  problem p;
  {
    qtran_model shape_source(3, 3, 4, 3, small, g);
    p = random_problem(shape_source, 5, g);
  }
  const matrix<float> state = p.state.cast<float>(), hidden = p.hidden.cast<float>();
  const matrix<float> y = p.td_target.cast<float>(), gs = p.greedy_sum.cast<float>(),
                      cs = p.chosen_sum.cast<float>();
  auto run = [&](auto backend, qtran::model<float>& m, qtran::model<float>::loss_gradients& grads) {
    nm::nn::zero_grad(nm::nn::parameters_of(m));
    matrix<float> q, q_bar, v;
    m.forward_q(backend, state, hidden, p.taken, {}, q);
    m.evaluate_q(backend, state, hidden, p.greedy, {}, q_bar);
    m.forward_v(backend, state, v);
    return m.loss(
        backend,
        {.td_target = y, .greedy_utility_sum = gs, .greedy_q_jt = q_bar, .chosen_utility_sum = cs},
        grads);
  };
  qtran::model<float>::loss_gradients ga, gb;
  const auto la = run(nm::backend::reference{}, a, ga);
  const auto lb = run(nm::backend::simd<>{}, b, gb);
  CHECK(lb.total == Approx(la.total).epsilon(1e-5));
  CHECK((gb.hidden - ga.hidden).cwiseAbs().maxCoeff() <= 1e-4f);
  const auto pa = nm::nn::parameters_of(a), pb = nm::nn::parameters_of(b);
  for (std::size_t k = 0; k < pa.size(); ++k) {
    INFO(pa[k].name);
    CHECK((pb[k].param->grad - pa[k].param->grad).cwiseAbs().maxCoeff() <= 1e-4f);
  }
}

// forward_q and backward_q work through the batch in chunks of whole samples (about 512 rows):
// a batch spanning several chunks must give exactly what one-sample calls give, on both
// backends, for the actions and the counts forms, with and without the alive mask.
TEMPLATE_TEST_CASE("qtran: a multi-chunk batch equals one-sample-at-a-time calls",
                   "[factor][qtran]", nm::backend::reference, nm::backend::simd<>) {
  using M = matrix<float>;
  const idx agents = 5, batch = 300, state_size = 7, hidden_size = 9, actions = 4;
  const TestType b{};
  for (const bool counts_form : {false, true})
    for (const bool masked : {false, true}) {
      INFO("counts form " << counts_form << ", masked " << masked);
      nm::rng g(3);
      qtran::model<float> full(agents, state_size, hidden_size, actions, {}, g);
      qtran::model<float> single = full;
      const M state = nm::testing::random_matrix(batch, state_size, g).cast<float>();
      const M hidden = nm::testing::random_matrix(batch * agents, hidden_size, g).cast<float>();
      const M d_q = nm::testing::random_matrix(batch, 1, g).cast<float>();
      std::vector<int> taken(static_cast<std::size_t>(batch * agents));
      for (auto& a : taken) a = static_cast<int>(g.below(static_cast<std::uint64_t>(actions)));
      M counts = M::Zero(batch * agents, actions);
      for (idx r = 0; r < batch * agents; ++r) counts(r, taken[static_cast<std::size_t>(r)]) = 1;
      std::vector<float> alive(taken.size());
      for (std::size_t r = 0; r < alive.size(); ++r) alive[r] = r % 3 ? 1.0f : 0.0f;
      const std::span<const float> all_alive =
          masked ? std::span<const float>(alive) : std::span<const float>();
      M q, d_hidden;
      if (counts_form)
        full.forward_q(b, state, hidden, nm::const_matrix_ref<float>(counts), all_alive, q);
      else
        full.forward_q(b, state, hidden, std::span<const int>(taken), all_alive, q);
      full.backward_q(b, d_q, &d_hidden);
      float worst = 0;
      for (idx s = 0; s < batch; ++s) {
        M q1, d_hidden1;
        const auto alive1 = masked ? all_alive.subspan(static_cast<std::size_t>(s * agents),
                                                       static_cast<std::size_t>(agents))
                                   : std::span<const float>();
        if (counts_form)
          single.forward_q(b, state.middleRows(s, 1), hidden.middleRows(s * agents, agents),
                           nm::const_matrix_ref<float>(counts.middleRows(s * agents, agents)),
                           alive1, q1);
        else
          single.forward_q(b, state.middleRows(s, 1), hidden.middleRows(s * agents, agents),
                           std::span<const int>(taken).subspan(static_cast<std::size_t>(s * agents),
                                                               static_cast<std::size_t>(agents)),
                           alive1, q1);
        single.backward_q(b, d_q.middleRows(s, 1), &d_hidden1);
        worst = std::max(worst, (q1.row(0) - q.row(s)).cwiseAbs().maxCoeff());
        worst = std::max(
            worst, (d_hidden1 - d_hidden.middleRows(s * agents, agents)).cwiseAbs().maxCoeff());
      }
      CHECK(worst <= 1e-5f);
      const auto pf = nm::nn::parameters_of(full), ps = nm::nn::parameters_of(single);
      for (std::size_t k = 0; k < pf.size(); ++k) {
        INFO(pf[k].name);
        const float scale = 1e-3f + ps[k].param->grad.cwiseAbs().maxCoeff();
        CHECK((pf[k].param->grad - ps[k].param->grad).cwiseAbs().maxCoeff() <= 1e-5f * scale * 10);
      }
    }
}
