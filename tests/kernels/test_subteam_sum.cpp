// kernels::subteam_sum (VAST eq. 4): the reference forward against hand-computed values (empty
// sub-teams give 0), its backward against finite differences, float against double, and the
// errors for group ids out of range.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <vector>

#include "netmarl/kernels/subteam_sum.hpp"
#include "support/gradient_check.hpp"

namespace nm = netmarl;
namespace st = netmarl::kernels::subteam_sum;
using idx = nm::index;  // plain `index` clashes with POSIX index()
using nm::matrix;

namespace {

const nm::backend::reference reference{};

std::vector<std::int32_t> random_groups(idx batch, idx agents, idx subteams, nm::rng& g) {
  std::vector<std::int32_t> groups(static_cast<std::size_t>(batch * agents));
  for (auto& k : groups)
    k = static_cast<std::int32_t>(g.below(static_cast<std::uint64_t>(subteams)));
  return groups;
}

}  // namespace

TEST_CASE("subteam_sum: sizes and flop counts follow the spec", "[kernels][subteam_sum]") {
  const st::shape s{3, 5, 2};
  CHECK(s.q_elements() == 15);
  CHECK(s.group_elements() == 6);
  CHECK(s.forward_flops() == 15.0);
  CHECK(s.backward_flops() == 15.0);
}

TEST_CASE("subteam_sum: hand-computed batch of two; empty sub-teams give 0",
          "[kernels][subteam_sum]") {
  const st::shape s{2, 5, 3};
  const double q[] = {1,  2,   3, 4,  5,  //
                      -1, 0.5, 2, 10, -3};
  const std::int32_t groups[] = {0, 2, 0, 2, 1,   //
                                 1, 1, 1, 1, 1};  // sample 1: sub-teams 0 and 2 are empty
  const double nan = std::numeric_limits<double>::quiet_NaN();
  double q_group[6] = {nan, nan, nan, nan, nan, nan};  // overwritten, never read
  st::forward(reference, s, q, groups, q_group);
  CHECK(q_group[0] == 4.0);  // agents 0, 2
  CHECK(q_group[1] == 5.0);  // agent 4
  CHECK(q_group[2] == 6.0);  // agents 1, 3
  CHECK(q_group[3] == 0.0);
  CHECK(q_group[4] == 8.5);
  CHECK(q_group[5] == 0.0);

  const double d_q_group[] = {1, 2, 3, 4, 5, 6};
  double d_q[10];
  std::fill(d_q, d_q + 10, nan);
  st::backward(reference, s, groups, d_q_group, d_q);
  const double expected[] = {1, 3, 1, 3, 2, 5, 5, 5, 5, 5};
  for (int i = 0; i < 10; ++i) CHECK(d_q[i] == expected[i]);
}

TEST_CASE("subteam_sum: sub-team values add up to the team's sum (VDN over all agents)",
          "[kernels][subteam_sum]") {
  nm::rng g(7);
  const st::shape s{4, 13, 5};
  const matrix<double> q = nm::testing::random_matrix(s.batch, s.agents, g);
  const auto groups = random_groups(s.batch, s.agents, s.subteams, g);
  matrix<double> q_group(s.batch, s.subteams);
  st::forward(reference, s, q.data(), groups.data(), q_group.data());
  for (idx b = 0; b < s.batch; ++b) CHECK(q_group.row(b).sum() == Approx(q.row(b).sum()));
}

TEST_CASE("subteam_sum: backward matches finite differences", "[kernels][subteam_sum]") {
  nm::rng g(11);
  const st::shape s{3, 9, 4};
  matrix<double> q = nm::testing::random_matrix(s.batch, s.agents, g);
  const auto groups = random_groups(s.batch, s.agents, s.subteams, g);
  const matrix<double> weight = nm::testing::random_matrix(s.batch, s.subteams, g);
  // L = sum_{b,k} weight[b,k] Q^G[b,k], so dL/dQ^G = weight.
  auto loss = [&] {
    matrix<double> q_group(s.batch, s.subteams);
    st::forward(reference, s, q.data(), groups.data(), q_group.data());
    return q_group.cwiseProduct(weight).sum();
  };
  matrix<double> d_q(s.batch, s.agents);
  st::backward(reference, s, groups.data(), weight.data(), d_q.data());
  const auto report = nm::testing::check_gradient(q, d_q, loss, "q");
  INFO(report);
  REQUIRE(report.max_relative_error <= 1e-6);
}

TEST_CASE("subteam_sum: float agrees with double", "[kernels][subteam_sum]") {
  nm::rng g(13);
  const st::shape s{5, 20, 6};
  const matrix<double> q = nm::testing::random_matrix(s.batch, s.agents, g);
  const matrix<float> qf = q.cast<float>();
  const auto groups = random_groups(s.batch, s.agents, s.subteams, g);
  matrix<double> out(s.batch, s.subteams);
  matrix<float> outf(s.batch, s.subteams);
  st::forward(reference, s, q.data(), groups.data(), out.data());
  st::forward(reference, s, qf.data(), groups.data(), outf.data());
  CHECK((outf.cast<double>() - out).cwiseAbs().maxCoeff() < 1e-5);
}

TEST_CASE("subteam_sum: bad group ids and shapes throw with the value", "[kernels][subteam_sum]") {
  const st::shape s{2, 3, 3};
  const double q[6] = {};
  double out[6], d_q[6];
  const double d_out[6] = {};
  const std::int32_t too_big[] = {0, 1, 2, 0, 1, 3};
  REQUIRE_THROWS_MATCHES(
      st::forward(reference, s, q, too_big, out), nm::invalid_argument,
      Catch::Matchers::Message("subteam_sum forward: groups[1, 2] = 3 is out of range [0, 3)"));
  REQUIRE_THROWS_MATCHES(
      st::backward(reference, s, too_big, d_out, d_q), nm::invalid_argument,
      Catch::Matchers::Message("subteam_sum backward: groups[1, 2] = 3 is out of range [0, 3)"));
  const std::int32_t negative[] = {0, -1, 2, 0, 1, 2};
  REQUIRE_THROWS_MATCHES(
      st::forward(reference, s, q, negative, out), nm::invalid_argument,
      Catch::Matchers::Message("subteam_sum forward: groups[0, 1] = -1 is out of range [0, 3)"));
  const std::int32_t fine[] = {0, 1, 2, 0, 1, 2};
  REQUIRE_THROWS_MATCHES(
      st::forward(reference, st::shape{2, 3, 0}, q, fine, out), nm::invalid_argument,
      Catch::Matchers::Message("subteam_sum forward: shape {batch 2, agents 3, subteams 0} is "
                               "invalid (sizes must be >= 0 and subteams >= 1 when agents > 0)"));
  // No agents: every sub-team is empty.
  double empty_out[4] = {1, 1, 1, 1};
  st::forward(reference, st::shape{2, 0, 2}, q, fine, empty_out);
  for (double v : empty_out) CHECK(v == 0.0);
}
