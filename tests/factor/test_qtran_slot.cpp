// factor::qtran in the factorization slot (QTRAN-base, VAST eq. 3): its owned critic loss, the
// same loss over VAST sub-teams, and the learners that call it.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "netmarl/env/gaussian_squeeze.hpp"
#include "netmarl/factor/assign/fixed.hpp"
#include "netmarl/factor/assign/meta_grad.hpp"
#include "netmarl/factor/assign/random.hpp"
#include "netmarl/factor/qmix.hpp"
#include "netmarl/factor/qtran.hpp"
#include "netmarl/factor/vast.hpp"
#include "netmarl/system.hpp"
#include "support/gradient_check.hpp"

namespace nm = netmarl;
namespace factor = netmarl::factor;
namespace assign = netmarl::factor::assign;
using idx = nm::index;
using nm::matrix;

namespace {

// One batch of per-agent inputs, as a learner fills it.
struct batch_data {
  idx batch, agents, hidden_size, actions, state_size;
  matrix<double> chosen, greedy, hidden, states, targets;
  std::vector<int> taken, best;
  std::vector<double> alive;

  batch_data(idx b, idx n, idx h, idx a, idx s, nm::rng& g)
      : batch(b), agents(n), hidden_size(h), actions(a), state_size(s) {
    chosen = nm::testing::random_matrix<double>(b, n, g, -1, 1);
    greedy = chosen.array() + 0.5;
    hidden = nm::testing::random_matrix<double>(b * n, h, g, -1, 1);
    states = nm::testing::random_matrix<double>(b, s, g, -1, 1);
    targets = nm::testing::random_matrix<double>(b, 1, g, -2, 2);
    for (idx r = 0; r < b * n; ++r) {
      taken.push_back(static_cast<int>(g.below(static_cast<std::uint64_t>(a))));
      best.push_back(static_cast<int>(g.below(static_cast<std::uint64_t>(a))));
      alive.push_back(r == 1 ? 0.0 : 1.0);  // one dead agent
    }
    for (idx r = 0; r < b * n; ++r)
      if (alive[static_cast<std::size_t>(r)] == 0) chosen(r / n, r % n) = greedy(r / n, r % n) = 0;
  }
  factor::joint_batch<double> view() const {
    factor::joint_batch<double> j;
    j.batch = batch;
    j.agents = agents;
    j.actions_count = actions;
    j.chosen_q = chosen.data();
    j.greedy_q = greedy.data();
    j.actions = taken.data();
    j.greedy_actions = best.data();
    j.hidden = hidden.data();
    j.hidden_size = hidden_size;
    j.states = states.data();
    j.state_size = state_size;
    j.alive = alive.data();
    j.targets = targets.data();
    return j;
  }
};

// Checks dL/d(chosen, greedy) of m.critic_loss against finite differences, and dL/d(hidden) of
// td_only's (same networks, lambdas 0). Only L_td reaches the hidden features: L_opt and L_nopt
// read Q_jt detached (QTRAN section 3), which a finite difference cannot see.
template <class Model>
void check_input_gradients(Model& m, Model& td_only, batch_data& d) {
  factor::joint_gradients<double> analytic, analytic_td;
  m.critic_loss(nm::backend::reference{}, d.view(), analytic);
  td_only.critic_loss(nm::backend::reference{}, d.view(), analytic_td);
  auto loss_of = [&](Model& model) {
    return [&] {
      factor::joint_gradients<double> scratch;
      return model.critic_loss(nm::backend::reference{}, d.view(), scratch).total;
    };
  };
  for (auto [x, dx, name] : {std::tuple{&d.chosen, &analytic.chosen_q, "chosen_q"},
                             std::tuple{&d.greedy, &analytic.greedy_q, "greedy_q"}}) {
    const auto report = nm::testing::check_gradient(*x, *dx, loss_of(m), name);
    INFO(report);
    CHECK(report.max_relative_error <= 1e-6);
  }
  const auto report = nm::testing::check_gradient(d.hidden, analytic_td.hidden, loss_of(td_only),
                                                  "hidden");
  INFO(report);
  CHECK(report.max_relative_error <= 1e-6);
  CHECK(analytic_td.hidden.norm() > 0);
  // The dead agent's hidden features reach nothing.
  CHECK(analytic.hidden.row(1).norm() == 0);
}

}  // namespace

TEST_CASE("factor::qtran owns its loss and builds its networks when bound", "[factor][qtran]") {
  STATIC_REQUIRE(nm::Factorization<factor::qtran>);
  STATIC_REQUIRE(nm::Factorization<factor::vast<factor::qtran, assign::meta_grad>>);
  nm::rng g(1);
  factor::qtran::model<double> m(3, 4, {}, g);
  CHECK(factor::owns_critic_loss(m));
  CHECK_FALSE(factor::is_per_agent(m));
  nm::nn::parameter_list<double> before;
  m.append_parameters(before, "");
  CHECK(before.empty());
  batch_data d(2, 3, 5, 3, 4, g);
  factor::joint_gradients<double> grads;
  REQUIRE_THROWS_WITH(m.critic_loss(nm::backend::reference{}, d.view(), grads),
                      Catch::Contains("did not call bind_utilities"));
  m.bind_utilities({5, 3}, g);
  nm::nn::parameter_list<double> after;
  m.append_parameters(after, "factor.");
  CHECK(after.size() == 4 + 2 * 3 + 2 * 3);  // encoder 2 layers, Q_jt and V 3 layers each
  REQUIRE_THROWS_WITH(m.bind_utilities({5, 3}, g), Catch::Contains("twice"));
  batch_data wrong(2, 3, 6, 3, 4, g);
  REQUIRE_THROWS_WITH(m.critic_loss(nm::backend::reference{}, wrong.view(), grads),
                      Catch::Contains("hidden 6"));
  // Q' = sum_i Q_i for evaluation.
  matrix<double> out;
  m.forward(nm::backend::reference{}, d.chosen, d.states, out);
  CHECK(out(0, 0) == Approx(d.chosen.row(0).sum()));
}

TEST_CASE("factor::qtran: the owned loss's input gradients match finite differences",
          "[factor][qtran]") {
  nm::rng g(2), same(2);
  factor::qtran::model<double> m(3, 4, {.embed = 8, .lambda_nopt = 0.5}, g);
  m.bind_utilities({5, 3}, g);
  factor::qtran::model<double> td_only(3, 4, {.embed = 8, .lambda_opt = 0, .lambda_nopt = 0},
                                       same);
  td_only.bind_utilities({5, 3}, same);
  batch_data d(4, 3, 5, 3, 4, g);
  check_input_gradients(m, td_only, d);
}

TEST_CASE("factor::vast<qtran>: the loss over sub-teams, its gradients and its joint value",
          "[factor][vast][qtran]") {
  SECTION("input gradients through the sub-team sums (K = 3 of 5, fixed)") {
    using v = factor::vast<factor::qtran, assign::fixed>;
    nm::rng g(3), same(3);
    v::model<double> m(5, 4, {.eta = 0.5, .psi = {.embed = 8}}, g);
    v::model<double> td_only(5, 4, {.eta = 0.5, .psi = {.embed = 8, .lambda_opt = 0, .lambda_nopt = 0}},
                             same);
    REQUIRE(m.subteams() == 3);
    factor::bind_utilities(m, {5, 3}, g);
    factor::bind_utilities(td_only, {5, 3}, same);
    REQUIRE(factor::owns_critic_loss(m));
    batch_data d(3, 5, 5, 3, 4, g);
    factor::mixing_context<double> c;
    c.batch = 3;
    c.agents = 5;
    c.generator = &g;
    m.prepare(nm::backend::reference{}, c);
    td_only.prepare(nm::backend::reference{}, c);
    check_input_gradients(m, td_only, d);
  }
  SECTION("one agent per sub-team is flat QTRAN (the counts form equals the one-hot form)") {
    nm::rng g1(4), g2(4);
    factor::vast<factor::qtran, assign::fixed>::model<double> sub(4, 3, {.eta = 1.0}, g1);
    factor::qtran::model<double> flat(4, 3, {}, g2);
    factor::bind_utilities(sub, {5, 2}, g1);
    flat.bind_utilities({5, 2}, g2);
    nm::rng g(5);
    batch_data d(3, 4, 5, 2, 3, g);
    factor::mixing_context<double> c;
    c.batch = 3;
    c.agents = 4;
    c.generator = &g;
    sub.prepare(nm::backend::reference{}, c);
    matrix<double> q_sub, q_flat;
    sub.joint_value(nm::backend::reference{}, d.view(), q_sub);
    flat.joint_value(nm::backend::reference{}, d.view(), q_flat);
    REQUIRE(q_sub.rows() == 3);
    CHECK((q_sub - q_flat).cwiseAbs().maxCoeff() < 1e-12);
    factor::joint_gradients<double> gs, gf;
    CHECK(sub.critic_loss(nm::backend::reference{}, d.view(), gs).total ==
          Approx(flat.critic_loss(nm::backend::reference{}, d.view(), gf).total).epsilon(1e-12));
    CHECK((gs.hidden - gf.hidden).cwiseAbs().maxCoeff() < 1e-12);
  }
}

namespace {
template <class Factor>
struct ac_config : nm::default_config {
  using factor = Factor;
};

template <class Config>
double final_squeeze(nm::settings<Config> s, std::uint64_t seed, std::int64_t epochs) {
  nm::env::gaussian_squeeze env({.agents = 10, .mu = 20, .sigma = 10});
  s.learner.gamma = 1.0;
  nm::system<Config> sys(nm::env::spec_of(env), s, seed);
  const auto result = sys.train(env, nm::epochs{epochs});
  double sum = 0;
  for (std::size_t i = result.curve.size() - 10; i < result.curve.size(); ++i)
    sum += result.curve[i].metric / 10;
  return sum;
}
}  // namespace

TEST_CASE("actor_critic with QTRAN and VAST(QTRAN) learns GaussianSqueeze[10]",
          "[factor][qtran][learn]") {
  const double optimum = nm::env::gaussian_squeeze_optimum(10, 10, 20, 10).value;
  SECTION("flat QTRAN") {
    const double gs = final_squeeze<ac_config<factor::qtran>>({}, 0, 1000);
    INFO("GS " << gs << " (optimum " << optimum << ")");
    CHECK(gs >= 0.9 * optimum);
  }
  SECTION("VAST(QTRAN, meta_grad), eta 1/2") {
    using config = ac_config<factor::vast<factor::qtran, assign::meta_grad>>;
    nm::settings<config> s;
    s.factor.eta = 0.5;
    const double gs = final_squeeze<config>(s, 0, 1000);
    INFO("GS " << gs << " (optimum " << optimum << ")");
    CHECK(gs >= 0.9 * optimum);
  }
}

TEST_CASE("actor_critic trains a parametric mixer (QMIX's hypernetworks move)",
          "[factor][qmix][learn]") {
  using config = ac_config<factor::qmix>;
  nm::env::gaussian_squeeze env({.agents = 4, .mu = 8, .sigma = 4});
  nm::system<config> sys(nm::env::spec_of(env), {}, 0);
  auto& mixer = sys.learner().factor();
  // GaussianSqueeze's state is all zeros (as in the authors' code), so the first layers' weights
  // get no gradient; their biases and the later layers do.
  const matrix<float> w_before = mixer.hyper_w1.layers[0].bias.value;
  const matrix<float> v_before = mixer.value.layers[1].weight.value;
  sys.train(env, nm::epochs{2});
  CHECK((mixer.hyper_w1.layers[0].bias.value - w_before).norm() > 0);
  CHECK((mixer.value.layers[1].weight.value - v_before).norm() > 0);
}
