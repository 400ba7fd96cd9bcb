// factor::vast<Psi, Assign> (VAST eq. 4-5, theorem 1) and its use by the learners.
#include <catch2/catch.hpp>

#include "netmarl/env/coordination_grid.hpp"
#include "netmarl/env/gaussian_squeeze.hpp"
#include "netmarl/factor/assign/fixed.hpp"
#include "netmarl/factor/assign/meta_grad.hpp"
#include "netmarl/factor/assign/random.hpp"
#include "netmarl/factor/assign/spatial.hpp"
#include "netmarl/factor/independent.hpp"
#include "netmarl/factor/qmix.hpp"
#include "netmarl/factor/vast.hpp"
#include "netmarl/factor/vdn.hpp"
#include "netmarl/learn/dqn.hpp"
#include "netmarl/system.hpp"
#include "support/gradient_check.hpp"

namespace nm = netmarl;
namespace factor = netmarl::factor;
namespace assign = netmarl::factor::assign;
using nm::matrix;

namespace {
template <class F, class T>
void prepare_one_sample(typename F::template model<T>& m, nm::index agents, nm::rng& g) {
  factor::mixing_context<T> c;
  c.batch = 1;
  c.agents = agents;
  c.generator = &g;
  m.prepare(nm::backend::reference{}, c);
}
}  // namespace

TEST_CASE("vast: sub-team sums (eq. 4) mixed by Psi (eq. 5)", "[factor][vast]") {
  STATIC_REQUIRE(nm::Factorization<factor::vast<factor::vdn, assign::random>>);
  STATIC_REQUIRE(nm::Factorization<factor::vast<factor::qmix, assign::meta_grad>>);
  using il = factor::vast<factor::independent, assign::fixed>;
  nm::rng g(0);
  il::model<double> m(4, 1, {.eta = 0.5}, g);  // K = 2, agent i in sub-team i mod 2
  REQUIRE(m.subteams() == 2);
  REQUIRE(m.outputs() == 2);
  prepare_one_sample<il>(m, 4, g);
  matrix<double> q(1, 4), state = matrix<double>::Zero(1, 1), out, d_q;
  q << 1, 2, 3, 4;
  m.forward(nm::backend::reference{}, q, state, out);
  CHECK(out(0, 0) == Approx(4.0));  // agents 0 and 2
  CHECK(out(0, 1) == Approx(6.0));  // agents 1 and 3
  matrix<double> d_out(1, 2);
  d_out << 0.5, -1;
  m.backward(nm::backend::reference{}, d_out, d_q);
  CHECK(d_q(0, 0) == Approx(0.5));
  CHECK(d_q(0, 3) == Approx(-1.0));
  // Forward before prepare for this batch size is a clear error.
  matrix<double> two(2, 4);
  REQUIRE_THROWS_WITH(m.forward(nm::backend::reference{}, two, matrix<double>::Zero(2, 1), out),
                      Catch::Contains("call prepare for this batch of 2 samples first"));
}

TEST_CASE("vast: eta outside (0, 1] is an error naming it", "[factor][vast]") {
  nm::rng g(0);
  using v = factor::vast<factor::vdn, assign::random>;
  REQUIRE_THROWS_WITH((v::model<float>(8, 1, {.eta = 0.0}, g)),
                      Catch::Contains("eta must be in (0, 1], got 0"));
  REQUIRE_THROWS_WITH((v::model<float>(8, 1, {.eta = 1.5}, g)),
                      Catch::Contains("eta must be in (0, 1], got 1.5"));
}

TEMPLATE_TEST_CASE("vast: IGM holds for any assignment when Psi has it (theorem 1)",
                   "[factor][vast]", factor::vdn, factor::qmix) {
  using v = factor::vast<TestType, assign::random>;
  nm::rng g(21);
  for (int trial = 0; trial < 20; ++trial) {
    typename v::template model<double> m(3, 2, {.eta = 0.67}, g);  // K = 3 of 3 agents
    prepare_one_sample<v>(m, 3, g);  // one random assignment for every joint action below
    matrix<double> utilities(3, 3), state(1, 2);
    for (int i = 0; i < 9; ++i) utilities(i / 3, i % 3) = g.normal();
    state << g.normal(), g.normal();
    double best = -1e300;
    int best_joint = 0;
    for (int j = 0; j < 27; ++j) {
      matrix<double> q(1, 3), out;
      for (int i = 0; i < 3; ++i) q(0, i) = utilities(i, (j / (i == 0 ? 1 : i == 1 ? 3 : 9)) % 3);
      m.forward(nm::backend::reference{}, q, state, out);
      if (out(0, 0) > best) best = out(0, 0), best_joint = j;
    }
    for (int i = 0; i < 3; ++i) {
      nm::index greedy = 0;
      utilities.row(i).maxCoeff(&greedy);
      CHECK((best_joint / (i == 0 ? 1 : i == 1 ? 3 : 9)) % 3 == greedy);
    }
  }
}

TEST_CASE("vast<qmix>: the gradient w.r.t. the utilities matches finite differences",
          "[factor][vast]") {
  using v = factor::vast<factor::qmix, assign::fixed>;
  nm::rng g(3);
  v::model<double> m(6, 2, {.eta = 0.5}, g);
  factor::mixing_context<double> c;
  c.batch = 4;
  c.agents = 6;
  c.generator = &g;
  m.prepare(nm::backend::reference{}, c);
  matrix<double> q = nm::testing::random_matrix<double>(4, 6, g, -1, 1);
  const matrix<double> state = nm::testing::random_matrix<double>(4, 2, g, -1, 1);
  matrix<double> out, d_q;
  m.forward(nm::backend::reference{}, q, state, out);
  m.backward(nm::backend::reference{}, matrix<double>::Ones(4, 1), d_q);
  const auto report = nm::testing::check_gradient(
      q, d_q,
      [&] {
        matrix<double> o;
        m.forward(nm::backend::reference{}, q, state, o);
        return o.sum();
      },
      "q");
  INFO(report);
  CHECK(report.max_relative_error <= 1e-6);
}

namespace {
template <class Factor>
struct vast_ac : nm::default_config {
  using factor = Factor;
};
struct vast_dqn : nm::default_config {
  using factor = nm::factor::vast<nm::factor::vdn, nm::factor::assign::fixed>;
  using learner = nm::learn::dqn;
};
}  // namespace

TEST_CASE("vast(vdn, random) with actor-critic learns GaussianSqueeze[10]",
          "[factor][vast][learn]") {
  using config = vast_ac<factor::vast<factor::vdn, assign::random>>;
  nm::env::gaussian_squeeze env({.agents = 10, .mu = 20, .sigma = 10});
  const double optimum = nm::env::gaussian_squeeze_optimum(10, 10, 20, 10).value;
  nm::settings<config> s;
  s.learner.gamma = 1.0;
  s.factor.eta = 0.5;
  nm::system<config> sys(nm::env::spec_of(env), s, 0);
  const auto result = sys.train(env, nm::epochs{1000});
  double last = 0;
  for (std::size_t i = result.curve.size() - 10; i < result.curve.size(); ++i)
    last += result.curve[i].metric / 10;
  INFO("GS " << last << " (optimum " << optimum << ")");
  CHECK(last >= 0.9 * optimum);
}

TEST_CASE("vast: meta-gradient, spatial and dqn compositions train", "[factor][vast][learn]") {
  SECTION("meta_grad assignment moves with the actor's advantages") {
    using config = vast_ac<factor::vast<factor::vdn, assign::meta_grad>>;
    nm::env::gaussian_squeeze env({.agents = 8, .mu = 16, .sigma = 8});
    nm::settings<config> s;
    s.factor.eta = 0.5;
    s.factor.assignment.hidden = 16;
    nm::system<config> sys(nm::env::spec_of(env), s, 0);
    sys.train(env, nm::epochs{3});
    auto& assigner = sys.learner().factor().assignment();
    REQUIRE(assigner.has_value());
    CHECK(std::isfinite(assigner->last_grad_norm()));
    CHECK(assigner->last_grad_norm() > 0);
  }
  SECTION("spatial assignment reads the environment's positions") {
    using config = vast_ac<factor::vast<factor::qmix, assign::spatial>>;
    nm::env::coordination_grid env({.side = 3});
    nm::system<config> sys(nm::env::spec_of(env), {}, 0);
    const auto r = sys.train(env, nm::epochs{2});
    CHECK(std::isfinite(r.curve.back().stats.critic_loss));
  }
  SECTION("dqn with a fixed assignment") {
    nm::env::coordination_grid env({.side = 2});
    nm::settings<vast_dqn> s;
    s.learner.batch_size = 4;
    s.factor.eta = 0.5;
    nm::system<vast_dqn> sys(nm::env::spec_of(env), s, 0);
    const auto r = sys.train(env, nm::epochs{3});
    CHECK(std::isfinite(r.curve.back().stats.critic_loss));
  }
}
