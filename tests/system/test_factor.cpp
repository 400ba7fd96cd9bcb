// The first factorizations: shapes, values, gradients and the IGM property.
#include <catch2/catch.hpp>

#include "netmarl/factor/independent.hpp"
#include "netmarl/factor/vdn.hpp"

namespace nm = netmarl;
using nm::matrix;

TEST_CASE("vdn: Q_tot is the sum of the utilities and dQ_tot/dQ_i = 1", "[factor][vdn]") {
  nm::rng g(0);
  nm::factor::vdn::model<double> vdn(3, 2, {}, g);
  matrix<double> q(2, 3), state = matrix<double>::Zero(2, 2), q_tot, d_q;
  q << 1, 2, 3, -1, 0.5, 4;
  vdn.forward(nm::backend::reference{}, q, state, q_tot);
  REQUIRE(q_tot.rows() == 2);
  REQUIRE(q_tot.cols() == 1);
  CHECK(q_tot(0, 0) == Approx(6.0));
  CHECK(q_tot(1, 0) == Approx(3.5));
  matrix<double> d_tot(2, 1);
  d_tot << 0.5, -2;
  vdn.backward(nm::backend::reference{}, d_tot, d_q);
  CHECK(d_q(0, 2) == Approx(0.5));
  CHECK(d_q(1, 0) == Approx(-2.0));
}

TEST_CASE("vdn: argmax of Q_tot equals the per-agent argmaxes (IGM)", "[factor][vdn]") {
  // Enumerate all joint actions of 3 agents x 3 actions for random utilities.
  nm::rng g(11);
  nm::factor::vdn::model<double> vdn(3, 1, {}, g);
  for (int trial = 0; trial < 20; ++trial) {
    matrix<double> utilities(3, 3);
    for (int i = 0; i < 9; ++i) utilities(i / 3, i % 3) = g.normal();
    matrix<double> joint(27, 3), state = matrix<double>::Zero(27, 1), q_tot;
    for (int j = 0; j < 27; ++j)
      for (int i = 0; i < 3; ++i)
        joint(j, i) = utilities(i, (j / (i == 0 ? 1 : i == 1 ? 3 : 9)) % 3);
    vdn.forward(nm::backend::reference{}, joint, state, q_tot);
    nm::index best_joint = 0;
    q_tot.col(0).maxCoeff(&best_joint);
    for (int i = 0; i < 3; ++i) {
      nm::index best = 0;
      utilities.row(i).maxCoeff(&best);
      CHECK((best_joint / (i == 0 ? 1 : i == 1 ? 3 : 9)) % 3 == best);
    }
  }
}

TEST_CASE("independent: one output per agent, identity gradient, shape errors", "[factor]") {
  nm::rng g(0);
  nm::factor::independent::model<float> il(4, 1, {}, g);
  REQUIRE(il.outputs() == 4);
  matrix<float> q = matrix<float>::Random(5, 4), state(5, 1), out, d;
  il.forward(nm::backend::reference{}, q, state, out);
  CHECK(out == q);
  il.backward(nm::backend::reference{}, q, d);
  CHECK(d == q);
  matrix<float> wrong(5, 3);
  REQUIRE_THROWS_WITH(il.forward(nm::backend::reference{}, wrong, state, out),
                      Catch::Contains("q has 3 columns, expected 4 agents"));
}
