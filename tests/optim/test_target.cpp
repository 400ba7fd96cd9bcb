#include <catch2/catch.hpp>

#include "netmarl/core/error.hpp"
#include "netmarl/optim/target.hpp"

using netmarl::matrix;
using netmarl::nn::parameter;
using netmarl::nn::parameter_list;
using netmarl::optim::hard_update;
using netmarl::optim::polyak_update;

TEST_CASE("hard_update copies every source value into the target", "[optim][target]") {
  parameter<double> s0(2, 2), s1(1, 3), t0(2, 2), t1(1, 3);
  s0.value << 1, 2, 3, 4;
  s1.value << 5, 6, 7;
  t0.value.setConstant(-1);
  t1.value.setConstant(-1);
  hard_update(parameter_list<double>{{"target.w", &t0}, {"target.b", &t1}},
              parameter_list<double>{{"w", &s0}, {"b", &s1}});
  CHECK(t0.value == s0.value);
  CHECK(t1.value == s1.value);
}

TEMPLATE_TEST_CASE("polyak_update: target = tau source + (1 - tau) target", "[optim][target]", float, double) {
  using T = TestType;
  parameter<T> s(1, 3), t(1, 3);
  s.value << T(1), T(2), T(-4);
  t.value << T(10), T(0), T(4);
  const parameter_list<T> target{{"t", &t}}, source{{"s", &s}};
  polyak_update(target, source, T(0.25));
  // 0.25 * 1 + 0.75 * 10 = 7.75; 0.25 * 2 + 0 = 0.5; 0.25 * -4 + 0.75 * 4 = 2.
  CHECK(t.value(0, 0) == Approx(7.75));
  CHECK(t.value(0, 1) == Approx(0.5));
  CHECK(t.value(0, 2) == Approx(2.0));
  polyak_update(target, source, T(0.25));
  // 0.25 * 1 + 0.75 * 7.75 = 6.0625.
  CHECK(t.value(0, 0) == Approx(6.0625));
  // tau = 1 is a hard update, tau = 0 keeps the target.
  polyak_update(target, source, T(0));
  CHECK(t.value(0, 0) == Approx(6.0625));
  polyak_update(target, source, T(1));
  CHECK(t.value == s.value);
}

TEST_CASE("target updates: mismatched lists are shape errors naming the parameter, target untouched",
          "[optim][target]") {
  parameter<double> s0(2, 2), s1(3, 4), t0(2, 2), t1(4, 4);
  s0.value.setConstant(1);
  t0.value.setConstant(7);
  const parameter_list<double> source{{"critic.l0.weight", &s0}, {"critic.l1.weight", &s1}};
  const parameter_list<double> target{{"target.l0.weight", &t0}, {"target.l1.weight", &t1}};

  REQUIRE_THROWS_AS(hard_update(target, source), netmarl::shape_error);
  REQUIRE_THROWS_WITH(polyak_update(target, source, 0.5),
                      Catch::Contains("'target.l1.weight' has shape 4x4") &&
                          Catch::Contains("'critic.l1.weight' has shape 3x4"));
  // The first pair matched, but nothing was written before the second was checked.
  CHECK(t0.value == matrix<double>::Constant(2, 2, 7));

  const parameter_list<double> short_source{{"critic.l0.weight", &s0}};
  REQUIRE_THROWS_WITH(hard_update(target, short_source),
                      Catch::Contains("target has 2 parameters, the source has 1"));
  CHECK(t0.value == matrix<double>::Constant(2, 2, 7));

  REQUIRE_THROWS_WITH(polyak_update(short_source, short_source, 1.5), Catch::Contains("tau = 1.5"));
}
