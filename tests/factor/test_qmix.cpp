// factor::qmix: the concept, a hand-computed mixer, gradients of every parameter and of q against
// finite differences, monotonicity, IGM, errors, and a run inside netmarl::system.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "netmarl/env/gaussian_squeeze.hpp"
#include "netmarl/factor/concept.hpp"
#include "netmarl/factor/qmix.hpp"
#include "netmarl/learn/dqn.hpp"
#include "netmarl/system.hpp"
#include "support/gradient_check.hpp"

namespace nm = netmarl;
using nm::matrix;
using idx = nm::index;  // plain `index` clashes with POSIX index()
using qmix_model = nm::factor::qmix::model<double>;
using act = nm::nn::activation;

namespace {

constexpr nm::backend::reference ref{};

matrix<double> run(qmix_model& m, const matrix<double>& q, const matrix<double>& state) {
  matrix<double> q_tot;
  m.forward(ref, q, state, q_tot);
  return q_tot;
}

matrix<double> output_of(const nm::nn::mlp<double>& net, const matrix<double>& in) {
  nm::nn::mlp_cache<double> cache;
  matrix<double> out;
  nm::nn::forward(ref, net, in, cache, out);
  return out;
}

// How far the model's non-smooth points are from the current inputs: the hypernetworks' hidden
// pre-activations (relu's kink, elu's curvature jump), the raw W1 and W_final (|.| at 0) and the
// mixing pre-activations (ELU). Finite differences need each to stay clear of 0 by more than
// the probe (2e-4 times a sensitivity of order one).
struct kink_report {
  double margin = std::numeric_limits<double>::infinity();
  bool negative_raw_weights = false;  // |.| does real work: its sign path is exercised
  bool both_mixing_signs = false;     // both ELU branches are exercised
};

kink_report kinks(const qmix_model& m, const matrix<double>& q, const matrix<double>& state) {
  kink_report r;
  auto track = [&](const matrix<double>& x) {
    r.margin = std::min(r.margin, x.cwiseAbs().minCoeff());
  };
  for (const auto* net : {&m.hyper_w1, &m.hyper_w_final, &m.value})
    if (net->depth() == 2) {
      matrix<double> hidden_pre = state * net->layers[0].weight.value;
      hidden_pre.rowwise() += net->layers[0].bias.value.row(0);
      track(hidden_pre);
    }
  const matrix<double> raw_w1 = output_of(m.hyper_w1, state);
  const matrix<double> raw_w_final = output_of(m.hyper_w_final, state);
  const matrix<double> b1 = output_of(m.hyper_b1, state);
  track(raw_w1);
  track(raw_w_final);
  r.negative_raw_weights = (raw_w1.array() < 0).any() && (raw_w_final.array() < 0).any();
  const idx n = m.agents(), e = m.embed();
  matrix<double> mixing_pre(q.rows(), e);
  for (idx b = 0; b < q.rows(); ++b) {
    const nm::const_matrix_map<double> w1(raw_w1.row(b).data(), n, e);
    mixing_pre.row(b) = q.row(b) * w1.cwiseAbs() + b1.row(b);
  }
  track(mixing_pre);
  r.both_mixing_signs = (mixing_pre.array() < 0).any() && (mixing_pre.array() > 0).any();
  return r;
}

// Joint action j of 3 agents with 3 actions: agent i's action is digit i of j in base 3.
int action_of(idx joint, int agent) {
  return int(joint / (agent == 0 ? 1 : agent == 1 ? 3 : 9)) % 3;
}

}  // namespace

TEST_CASE("qmix: is a Factorization", "[factor][qmix]") {
  STATIC_REQUIRE(nm::Factorization<nm::factor::qmix>);
  STATIC_REQUIRE(!qmix_model::per_agent);
  STATIC_REQUIRE(nm::nn::HasParameters<nm::factor::qmix::model<float>>);
}

TEST_CASE("qmix: PyMARL defaults give PyMARL's network shapes", "[factor][qmix]") {
  const nm::factor::qmix::settings s;
  CHECK(s.embed == 32);
  CHECK(s.hypernet_layers == 2);
  CHECK(s.hypernet_hidden == 64);
  CHECK(s.hypernet_activation == act::relu);
  nm::rng g(0);
  qmix_model m(4, 10, s, g);
  CHECK(m.outputs() == 1);
  const auto params = nm::nn::parameters_of(m, "factor.");
  std::vector<std::string> names;
  for (const auto& p : params)
    names.push_back(p.name + " " + std::to_string(p.param->value.rows()) + "x" +
                    std::to_string(p.param->value.cols()));
  const std::vector<std::string> expected{
      "factor.hyper_w1.0.weight 10x64",      "factor.hyper_w1.0.bias 1x64",
      "factor.hyper_w1.1.weight 64x128",     "factor.hyper_w1.1.bias 1x128",
      "factor.hyper_w_final.0.weight 10x64", "factor.hyper_w_final.0.bias 1x64",
      "factor.hyper_w_final.1.weight 64x32", "factor.hyper_w_final.1.bias 1x32",
      "factor.hyper_b1.0.weight 10x32",      "factor.hyper_b1.0.bias 1x32",
      "factor.value.0.weight 10x32",         "factor.value.0.bias 1x32",
      "factor.value.1.weight 32x1",          "factor.value.1.bias 1x1"};
  CHECK(names == expected);
  CHECK(m.hyper_w1.hidden_activation == act::relu);
  CHECK(m.value.hidden_activation == act::relu);
  // Single-layer hypernetworks and the VAST code's ELU.
  qmix_model one(4, 10, {.embed = 8, .hypernet_layers = 1, .hypernet_activation = act::elu}, g);
  CHECK(one.hyper_w1.depth() == 1);
  CHECK(one.hyper_w1.output_size() == 32);
  CHECK(one.hyper_w_final.depth() == 1);
  CHECK(one.value.hidden_activation == act::elu);
}

TEST_CASE("qmix: a hand-computed example (N = 2, E = 1)", "[factor][qmix]") {
  nm::rng g(0);
  qmix_model m(2, 1, {.embed = 1, .hypernet_layers = 1}, g);
  // State s = 1: raw W1 = [0.5, -1.9] -> |.| = [0.5, 1.9]; raw W_final = -1.5 -> 1.5;
  // b1 = 0.3 - 1 = -0.7; V = 0.5 * relu(2) + 0.25 = 1.25.
  m.hyper_w1.layers[0].weight.value << 0.5, -2.0;
  m.hyper_w1.layers[0].bias.value << 0.0, 0.1;
  m.hyper_w_final.layers[0].weight.value << -1.5;
  m.hyper_w_final.layers[0].bias.value << 0.0;
  m.hyper_b1.layers[0].weight.value << 0.3;
  m.hyper_b1.layers[0].bias.value << -1.0;
  m.value.layers[0].weight.value << 2.0;
  m.value.layers[0].bias.value << 0.0;
  m.value.layers[1].weight.value << 0.5;
  m.value.layers[1].bias.value << 0.25;
  matrix<double> q(1, 2), state(1, 1);
  q << 1.0, -0.5;
  state << 1.0;
  // pre = 1 * 0.5 + (-0.5) * 1.9 - 0.7 = -1.15; Q_tot = 1.5 * ELU(-1.15) + 1.25.
  const double elu = std::exp(-1.15) - 1.0;
  CHECK(run(m, q, state)(0, 0) == Approx(1.5 * elu + 1.25));

  const auto params = nm::nn::parameters_of(m);
  nm::nn::zero_grad(params);
  matrix<double> d_q, d_out(1, 1);
  d_out << 1.0;
  m.backward(ref, d_out, d_q);
  const double d_pre = 1.5 * std::exp(-1.15);
  CHECK(d_q(0, 0) == Approx(0.5 * d_pre));
  CHECK(d_q(0, 1) == Approx(1.9 * d_pre));
  // Through |.|: raw W1[1] = -1.9 < 0 flips the sign of d W1[1] = q_1 d_pre = -0.5 d_pre.
  CHECK(m.hyper_w1.layers[0].weight.grad(0, 0) == Approx(d_pre));
  CHECK(m.hyper_w1.layers[0].weight.grad(0, 1) == Approx(0.5 * d_pre));
  CHECK(m.hyper_w1.layers[0].bias.grad(0, 1) == Approx(0.5 * d_pre));
  CHECK(m.hyper_w_final.layers[0].weight.grad(0, 0) == Approx(-elu));  // sign(-1.5) * ELU(pre)
  CHECK(m.hyper_b1.layers[0].bias.grad(0, 0) == Approx(d_pre));
  CHECK(m.value.layers[1].bias.grad(0, 0) == Approx(1.0));
  CHECK(m.value.layers[1].weight.grad(0, 0) == Approx(2.0));
  CHECK(m.value.layers[0].weight.grad(0, 0) == Approx(0.5));
}

TEST_CASE("qmix: gradients of every parameter and of q match finite differences",
          "[factor][qmix]") {
  for (idx layers : {1, 2})
    for (act activation : {act::relu, act::elu}) {
      const nm::factor::qmix::settings s{.embed = 4,
                                         .hypernet_layers = layers,
                                         .hypernet_hidden = 5,
                                         .hypernet_activation = activation};
      const idx agents = 3, state_size = 3, batch = 3;
      // Draw models and inputs until every non-smooth point is clear of the probes (margin
      // 2e-3, ten times the largest step): about half the draws qualify, so the search is short.
      for (std::uint64_t seed = 0;; ++seed) {
        REQUIRE(seed < 200);
        nm::rng g(seed);
        qmix_model m(agents, state_size, s, g);
        matrix<double> q = nm::testing::random_matrix(batch, agents, g);
        const matrix<double> state = nm::testing::random_matrix(batch, state_size, g);
        const kink_report k = kinks(m, q, state);
        if (k.margin < 2e-3) continue;
        const matrix<double> weights = nm::testing::random_matrix(batch, 1, g, 0.5, 1.5);
        auto loss = [&] { return (weights.array() * run(m, q, state).array()).sum(); };

        const auto params = nm::nn::parameters_of(m);
        nm::nn::zero_grad(params);
        run(m, q, state);
        matrix<double> d_q;
        m.backward(ref, weights, d_q);
        auto report = nm::testing::check_parameter_gradients(params, loss);
        nm::testing::check_gradient_into(report, q, d_q, loss, "q");
        INFO("hypernet_layers " << layers << ", " << nm::nn::to_string(activation) << ", seed "
                                << seed << ", margin " << k.margin << ": " << report);
        CHECK(k.negative_raw_weights);
        CHECK(k.both_mixing_signs);
        CHECK(report.entries_checked == nm::nn::parameter_count(params) + batch * agents);
        REQUIRE(report.max_relative_error <= 1e-6);
        break;
      }
    }
}

TEST_CASE("qmix: dQ_tot/dQ_i >= 0 for random inputs and states (QMIX eq. 5)", "[factor][qmix]") {
  const idx agents = 5, state_size = 6, batch = 512;
  for (act activation : {act::relu, act::elu})
    for (std::uint64_t seed = 0; seed < 4; ++seed) {
      nm::rng g(100 + seed);
      qmix_model m(agents, state_size, {.hypernet_activation = activation}, g);
      const matrix<double> q = 5.0 * nm::testing::random_matrix(batch, agents, g);
      const matrix<double> state = 2.0 * nm::testing::random_matrix(batch, state_size, g);
      // The raw hypernetwork outputs take both signs: without |.| some slopes would be negative.
      CHECK(output_of(m.hyper_w1, state).minCoeff() < 0);
      const matrix<double> q_tot = run(m, q, state);
      matrix<double> d_q;
      m.backward(ref, matrix<double>::Ones(batch, 1), d_q);
      INFO(nm::nn::to_string(activation) << ", seed " << seed);
      CHECK(d_q.minCoeff() >= 0.0);
      CHECK(d_q.maxCoeff() > 0.0);
      // The same without derivatives: raising one Q_i never lowers Q_tot.
      for (idx i = 0; i < agents; ++i) {
        matrix<double> raised = q;
        raised.col(i).array() += 0.5;
        const matrix<double> up = run(m, raised, state);
        CHECK(((up - q_tot).array() >= -1e-12 * (1.0 + q_tot.array().abs())).all());
      }
    }
}

TEST_CASE("qmix: argmax of Q_tot over joint actions equals the per-agent argmaxes (IGM)",
          "[factor][qmix]") {
  // All 27 joint actions of 3 agents x 3 actions, one state per trial replicated over the rows.
  const idx state_size = 4;
  for (const nm::factor::qmix::settings& s :
       {nm::factor::qmix::settings{},
        nm::factor::qmix::settings{
            .embed = 128, .hypernet_hidden = 128, .hypernet_activation = act::elu}}) {
    nm::rng g(11);
    qmix_model m(3, state_size, s, g);
    for (int trial = 0; trial < 50; ++trial) {
      matrix<double> utilities(3, 3);
      for (idx k = 0; k < 9; ++k) utilities.data()[k] = g.normal();
      const matrix<double> one_state = 2.0 * nm::testing::random_matrix(1, state_size, g);
      matrix<double> joint(27, 3);
      for (idx j = 0; j < 27; ++j)
        for (int i = 0; i < 3; ++i) joint(j, i) = utilities(i, action_of(j, i));
      const matrix<double> q_tot = run(m, joint, one_state.replicate(27, 1));
      idx best_joint = 0;
      q_tot.col(0).maxCoeff(&best_joint);
      for (int i = 0; i < 3; ++i) {
        idx best = 0;
        utilities.row(i).maxCoeff(&best);
        INFO("embed " << s.embed << ", trial " << trial << ", agent " << i);
        CHECK(action_of(best_joint, i) == best);
      }
    }
  }
}

TEST_CASE("qmix: bad settings and shapes are clear errors", "[factor][qmix]") {
  nm::rng g(0);
  using settings = nm::factor::qmix::settings;
  auto make = [&](idx agents, idx state_size, settings s) {
    static_cast<void>(qmix_model(agents, state_size, s, g));
  };
  REQUIRE_THROWS_AS(make(2, 3, {.embed = 0}), nm::invalid_argument);
  REQUIRE_THROWS_WITH(make(2, 3, {.embed = 0}), Catch::Contains("embed must be >= 1, got 0"));
  REQUIRE_THROWS_AS(make(2, 3, {.hypernet_layers = 3}), nm::invalid_argument);
  REQUIRE_THROWS_WITH(make(2, 3, {.hypernet_layers = 3}),
                      Catch::Contains("hypernet_layers must be 1 or 2, got 3"));
  REQUIRE_THROWS_WITH(make(2, 3, {.hypernet_layers = 0}),
                      Catch::Contains("hypernet_layers must be 1 or 2, got 0"));
  REQUIRE_THROWS_WITH(make(2, 3, {.hypernet_hidden = 0}),
                      Catch::Contains("hypernet_hidden must be >= 1, got 0"));
  REQUIRE_NOTHROW(make(2, 3, {.hypernet_layers = 1, .hypernet_hidden = 0}));  // unused then
  REQUIRE_THROWS_WITH(make(0, 3, {}), Catch::Contains("agents must be >= 1, got 0"));
  REQUIRE_THROWS_AS(make(2, 0, {}), nm::invalid_argument);
  REQUIRE_THROWS_WITH(make(2, 0, {}), Catch::Contains("state_size must be >= 1"));

  qmix_model m(4, 3, {.embed = 4, .hypernet_hidden = 8}, g);
  matrix<double> q = matrix<double>::Zero(5, 4), state = matrix<double>::Zero(5, 3), q_tot, d_q;
  REQUIRE_THROWS_AS(m.backward(ref, matrix<double>::Zero(5, 1), d_q), nm::shape_error);
  REQUIRE_THROWS_WITH(m.backward(ref, matrix<double>::Zero(5, 1), d_q),
                      Catch::Contains("call forward first"));
  REQUIRE_THROWS_AS(m.forward(ref, matrix<double>::Zero(5, 3), state, q_tot), nm::shape_error);
  REQUIRE_THROWS_WITH(m.forward(ref, matrix<double>::Zero(5, 3), state, q_tot),
                      Catch::Contains("q has 3 columns, expected 4 agents"));
  REQUIRE_THROWS_WITH(m.forward(ref, q, matrix<double>::Zero(5, 2), q_tot),
                      Catch::Contains("state is 5x2, expected 5x3"));
  REQUIRE_THROWS_WITH(m.forward(ref, q, matrix<double>::Zero(6, 3), q_tot),
                      Catch::Contains("state is 6x3, expected 5x3"));
  m.forward(ref, q, state, q_tot);
  REQUIRE_THROWS_AS(m.backward(ref, matrix<double>::Zero(5, 2), d_q), nm::shape_error);
  REQUIRE_THROWS_WITH(m.backward(ref, matrix<double>::Zero(4, 1), d_q),
                      Catch::Contains("d_q_tot is 4x1, expected 5x1"));
}

TEST_CASE("qmix: a copy (a target network) computes the same values from its own parameters",
          "[factor][qmix]") {
  nm::rng g(5);
  qmix_model m(3, 2, {.embed = 6, .hypernet_hidden = 7}, g);
  const matrix<double> q = nm::testing::random_matrix(4, 3, g);
  const matrix<double> state = nm::testing::random_matrix(4, 2, g);
  qmix_model copy = m;
  CHECK(run(copy, q, state) == run(m, q, state));
  copy.value.layers[1].bias.value(0, 0) += 1.0;  // V(s) shifts Q_tot by exactly its change
  CHECK((run(copy, q, state) - run(m, q, state)).isApproxToConstant(1.0, 1e-12));
  // A strided column as d_q_tot (a block of a wider matrix) is accepted.
  const matrix<double> wide = nm::testing::random_matrix(4, 3, g);
  matrix<double> d_q_block, d_q_plain;
  run(m, q, state);
  m.backward(ref, wide.col(1), d_q_block);
  m.backward(ref, matrix<double>(wide.col(1)), d_q_plain);
  CHECK(d_q_block == d_q_plain);
}

namespace {
struct qmix_actor_critic : nm::default_config {
  using factor = nm::factor::qmix;
};
struct qmix_dqn : nm::default_config {
  using factor = nm::factor::qmix;
  using learner = nm::learn::dqn;
};

template <class Config, class Adjust>
std::vector<double> train_two_epochs(std::uint64_t seed, Adjust adjust) {
  nm::env::gaussian_squeeze env({.agents = 4});
  nm::settings<Config> s;
  adjust(s);
  nm::system<Config> sys(nm::env::spec_of(env), s, seed);
  const auto result = sys.train(env, nm::epochs{2});
  std::vector<double> numbers;
  for (const auto& r : result.curve) {
    numbers.push_back(r.metric);
    numbers.push_back(r.stats.critic_loss);
    numbers.push_back(r.stats.critic_grad_norm);
  }
  return numbers;
}
}  // namespace

TEST_CASE("qmix: plugs into netmarl::system (gaussian_squeeze, 4 agents, 2 epochs)",
          "[factor][qmix][system]") {
  auto defaults = [](auto&) {};
  const auto a = train_two_epochs<qmix_actor_critic>(1, defaults);
  REQUIRE(a.size() == 6);
  for (double x : a) CHECK(std::isfinite(x));
  CHECK(a[1] > 0);  // the critic regressed Q_tot on returns: a real loss
  CHECK(a == train_two_epochs<qmix_actor_critic>(1, defaults));  // reproducible

  // DQN: TD error on Q_tot with a target mixer (a copy of the model). GS episodes last one
  // step, so small batches make the 20 stored transitions enough for updates and target syncs.
  const auto d = train_two_epochs<qmix_dqn>(1, [](nm::settings<qmix_dqn>& s) {
    s.learner.batch_size = 4;
    s.learner.target_update_interval = 5;
  });
  REQUIRE(d.size() == 6);
  for (double x : d) CHECK(std::isfinite(x));
}
