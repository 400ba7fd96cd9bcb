// The reward-sharing models: the shaped rewards keep the environment's total for any weights
// (LToS proposition 4.1), the selfishness initializer gives w_ii = s exactly for any neighbourhood
// size, NeurComm's spatial discount, and the incoming/route pair being adjoint.
#include <catch2/catch.hpp>
#include <cmath>
#include <numeric>
#include <vector>

#include "netmarl/graph/generators.hpp"
#include "netmarl/graph/k_nearest.hpp"
#include "netmarl/sharing/fixed.hpp"
#include "netmarl/sharing/learned.hpp"
#include "netmarl/sharing/none.hpp"
#include "netmarl/sharing/spatial_discount.hpp"

namespace nm = netmarl;
using idx = nm::index;

namespace {

std::vector<nm::graph::csr> test_graphs() {
  nm::rng g(11);
  nm::matrix<float> positions(9, 2);
  for (idx i = 0; i < 9; ++i) {
    positions(i, 0) = static_cast<float>(g.uniform());
    positions(i, 1) = static_cast<float>(g.uniform());
  }
  return {nm::graph::line(3), nm::graph::ring(5), nm::graph::star(6),
          nm::graph::grid2d(3, 3), nm::graph::isolated(4), nm::graph::complete(2),
          nm::graph::make_k_nearest(positions, 3)};  // directed: closed before sharing
}

std::vector<float> random_rewards(idx n, nm::rng& g) {
  std::vector<float> r(static_cast<std::size_t>(n));
  for (float& x : r) x = static_cast<float>(g.uniform(-4.0, 2.0));
  return r;
}

double sum(const std::vector<float>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }

// Random softmax weights on every row of ew.
void randomize(nm::sharing::edge_weights& ew, nm::rng& g) {
  for (idx i = 0; i < ew.agents(); ++i) {
    const auto first = static_cast<std::size_t>(ew.graph.offsets[static_cast<std::size_t>(i)]);
    const auto last = static_cast<std::size_t>(ew.graph.offsets[static_cast<std::size_t>(i) + 1]);
    double total = 0;
    for (std::size_t e = first; e < last; ++e) total += ew.w[e] = static_cast<float>(std::exp(3 * g.normal()));
    for (std::size_t e = first; e < last; ++e) ew.w[e] = static_cast<float>(ew.w[e] / total);
  }
}

}  // namespace

TEST_CASE("shared rewards sum to the global reward for any weights (LToS proposition 4.1)",
          "[sharing]") {
  nm::rng g(5);
  for (const auto& graph : test_graphs()) {
    const idx n = nm::graph::num_nodes(graph);
    nm::sharing::edge_weights ew;
    ew.rebuild(graph);
    REQUIRE(nm::graph::is_symmetric(ew.graph));
    for (int trial = 0; trial < 20; ++trial) {
      randomize(ew, g);
      const auto r = random_rewards(n, g);
      std::vector<float> shaped(r.size());
      nm::sharing::shape(ew, r, shaped);
      CHECK(sum(shaped) == Approx(sum(r)).margin(1e-4));
    }
    // fixed sharing, several selfishness values
    for (double s : {0.0, 0.3, 0.5, 1.0}) {
      nm::sharing::fixed::model<float> m(n, {.selfishness = s}, g);
      const auto r = random_rewards(n, g);
      std::vector<float> shaped(r.size());
      m.shape(graph, r, shaped);
      CHECK(sum(shaped) == Approx(sum(r)).margin(1e-4));
    }
  }
}

TEST_CASE("fixed sharing keeps s and splits the rest evenly", "[sharing]") {
  nm::rng g(1);
  nm::sharing::fixed::model<float> m(3, {.selfishness = 0.6}, g);
  const std::vector<float> r{1.0f, 10.0f, 100.0f};
  std::vector<float> shaped(3);
  m.shape(nm::graph::line(3), r, shaped);  // 0 - 1 - 2
  // agent 0 keeps 0.6 and gets 0.2 of agent 1's (agent 1 splits 0.4 over two neighbours)
  CHECK(shaped[0] == Approx(0.6 * 1 + 0.2 * 10));
  CHECK(shaped[1] == Approx(0.4 * 1 + 0.6 * 10 + 0.4 * 100));
  CHECK(shaped[2] == Approx(0.2 * 10 + 0.6 * 100));
  CHECK_THROWS_WITH((nm::sharing::fixed::model<float>(3, {.selfishness = 1.5}, g)),
                    Catch::Contains("selfishness must be in [0, 1]"));
  CHECK_THROWS_WITH(m.shape(nm::graph::line(4), std::vector<float>(4), shaped),
                    Catch::Contains("4 nodes, expected 3"));
}

TEST_CASE("none keeps every agent's own reward", "[sharing]") {
  nm::rng g(1);
  nm::sharing::none::model<float> m(3, {}, g);
  const std::vector<float> r{1.0f, -2.0f, 3.0f};
  std::vector<float> shaped(3);
  m.shape(nm::graph::complete(3), r, shaped);
  CHECK(shaped == r);
}

TEST_CASE("spatial discount weights rewards by alpha^distance (NeurComm)", "[sharing]") {
  nm::rng g(1);
  const std::vector<float> r{1.0f, 10.0f, 100.0f};
  std::vector<float> shaped(3);
  nm::sharing::spatial_discount::model<float> half(3, {.alpha = 0.5}, g);
  half.shape(nm::graph::line(3), r, shaped);
  CHECK(shaped[0] == Approx(1 + 0.5 * 10 + 0.25 * 100));
  CHECK(shaped[1] == Approx(0.5 * 1 + 10 + 0.5 * 100));
  CHECK(half.factor(0, 2) == Approx(0.25));
  nm::sharing::spatial_discount::model<float> near(3, {.alpha = 0.5, .max_distance = 1}, g);
  near.shape(nm::graph::line(3), r, shaped);
  CHECK(shaped[0] == Approx(1 + 0.5 * 10));
  nm::sharing::spatial_discount::model<float> none(3, {.alpha = 0.0}, g);
  none.shape(nm::graph::line(3), r, shaped);
  CHECK(shaped == r);
  // unreachable agents contribute nothing
  nm::sharing::spatial_discount::model<float> apart(3, {.alpha = 1.0}, g);
  apart.shape(nm::graph::isolated(3), r, shaped);
  CHECK(shaped == r);
  CHECK_THROWS_WITH((nm::sharing::spatial_discount::model<float>(3, {.alpha = -0.1}, g)),
                    Catch::Contains("alpha must be in [0, 1]"));
}

TEST_CASE("the selfishness initializer gives w_ii = s exactly for any neighbourhood size",
          "[sharing][ltos]") {
  for (double s : {0.2, 0.5, 0.8, 0.9}) {
    for (const auto& graph : test_graphs()) {
      const idx n = nm::graph::num_nodes(graph);
      nm::rng g(7);
      nm::sharing::learned::settings ls;
      ls.selfishness = s;
      nm::sharing::learned::model<float> m(n, 4, ls, g);
      nm::matrix<float> obs(n, 4);
      for (idx k = 0; k < obs.size(); ++k) obs.data()[k] = static_cast<float>(g.normal());
      m.begin_episode();
      m.decide(obs, graph, /*explore=*/false);
      const auto& ew = m.weights();
      for (idx i = 0; i < n; ++i) {
        const idx degree = nm::graph::degree(ew.graph, i);
        INFO("s " << s << ", agent " << i << ", |N_i| " << degree);
        CHECK(ew.selfishness(i) == Approx(degree > 1 ? s : 1.0).margin(1e-6));
        double row = 0;
        for (auto e = ew.graph.offsets[static_cast<std::size_t>(i)];
             e < ew.graph.offsets[static_cast<std::size_t>(i) + 1]; ++e)
          row += ew.w[static_cast<std::size_t>(e)];
        CHECK(row == Approx(1.0).margin(1e-6));
      }
    }
  }
}

TEST_CASE("route is the adjoint of incoming, folding included", "[sharing][ltos]") {
  nm::rng g(3);
  for (const auto& graph : test_graphs()) {
    nm::sharing::edge_weights ew;
    ew.rebuild(graph);
    randomize(ew, g);
    const idx n = ew.agents();
    for (idx slots : {1, 2, 5}) {
      nm::matrix<double> f(n, slots), d_f(n, slots);
      nm::sharing::incoming(ew, slots, f.data(), slots);
      for (idx k = 0; k < d_f.size(); ++k) d_f.data()[k] = g.normal();
      std::vector<double> d_w(ew.w.size());
      nm::sharing::route(ew, slots, d_f.data(), slots, std::span<double>(d_w));
      double lhs = (f.array() * d_f.array()).sum(), rhs = 0;
      for (std::size_t e = 0; e < d_w.size(); ++e) rhs += d_w[e] * ew.w[e];
      CHECK(lhs == Approx(rhs).margin(1e-6));
      // every row of incoming sums to the weight the agent receives in total
      for (idx i = 0; i < n; ++i) {
        double received = 0;
        for (const auto e : ew.edges.in_edges(i)) received += ew.w[static_cast<std::size_t>(e)];
        CHECK(f.row(i).sum() == Approx(received).margin(1e-6));
      }
    }
  }
}

TEST_CASE("learned sharing rejects bad settings and shapes", "[sharing][ltos]") {
  nm::rng g(1);
  nm::sharing::learned::settings s;
  s.selfishness = 1.0;
  CHECK_THROWS_WITH((nm::sharing::learned::model<float>(3, 4, s, g)),
                    Catch::Contains("selfishness must be in (0, 1)"));
  s = {};
  s.update_interval_episodes = 5;  // both set
  CHECK_THROWS_WITH((nm::sharing::learned::model<float>(3, 4, s, g)),
                    Catch::Contains("exactly one of update_interval_steps"));
  s = {};
  s.action_interval = 0;
  CHECK_THROWS_WITH((nm::sharing::learned::model<float>(3, 4, s, g)),
                    Catch::Contains("action_interval must be >= 1"));
  nm::sharing::learned::model<float> m(3, 4, {}, g);
  std::vector<float> shaped(3);
  CHECK_THROWS_WITH(m.shape(nm::graph::line(3), std::vector<float>(3), shaped),
                    Catch::Contains("before decide"));
  CHECK_THROWS_WITH(m.decide(nm::matrix<float>::Zero(3, 5), nm::graph::line(3), false),
                    Catch::Contains("3x5, expected 3x4"));
}

TEST_CASE("the action interval holds the weights between decisions", "[sharing][ltos]") {
  nm::rng g(2);
  nm::sharing::learned::settings s;
  s.action_interval = 3;
  s.noise_sigma = 1.0;
  s.epsilon = {1.0, 1.0, 0};  // always noisy
  nm::sharing::learned::model<float> m(3, 2, s, g);
  nm::matrix<float> obs = nm::matrix<float>::Ones(3, 2);
  m.begin_episode();
  std::vector<std::vector<float>> seen;
  for (int t = 0; t < 6; ++t) {
    m.decide(obs, nm::graph::line(3), true);
    seen.push_back(m.weights().w);
  }
  CHECK(seen[1] == seen[0]);
  CHECK(seen[2] == seen[0]);
  CHECK(seen[3] != seen[0]);  // noise redrawn at the next decision
  CHECK(seen[4] == seen[3]);
}
