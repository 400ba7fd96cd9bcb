#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "netmarl/graph/generators.hpp"
#include "netmarl/graph/k_nearest.hpp"
#include "netmarl/message/concept.hpp"
#include "netmarl/message/loopy_bp.hpp"
#include "support/gradient_check.hpp"

// Counts every heap allocation in this test binary, so "no allocation after warm-up" is measured.
#include "support/count_allocations.hpp"

using namespace netmarl;
using idx = netmarl::index;  // plain `index` clashes with POSIX index()
using dmatrix = matrix<double>;
using Catch::Matchers::Contains;
using Catch::Matchers::Message;
using loopy_bp_model = message::loopy_bp::model<double>;

namespace {

const backend::reference ref{};

message::loopy_bp::settings small_settings() {
  message::loopy_bp::settings s;
  s.hops = 3;
  s.hidden = 5;
  return s;
}

std::vector<csr_view> views(const std::vector<graph::csr>& graphs) {
  std::vector<csr_view> v;
  for (const auto& g : graphs) v.push_back(g.view());
  return v;
}

// A directed k-nearest graph of n random points: j reads i does not imply i reads j.
graph::csr random_k_nearest(rng& g, idx n, idx k = 2) {
  matrix<float> p(n, 2);
  for (idx i = 0; i < p.size(); ++i) p.data()[i] = static_cast<float>(g.uniform(0.0, 10.0));
  return graph::make_k_nearest(p, k);
}

// The network written literally from IP appendix B.2, sample by sample, with messages in a map
// keyed (sender, receiver) and no reverse-edge bookkeeping: the message j -> i exists for every
// j != i in N(i) and reads the messages k -> j, k in N(j), k != j, k != i. `smallest_pre` is the
// smallest |pre-activation| of any ReLU (the gradient checks keep far from the kink).
struct naive_result {
  dmatrix out;
  double smallest_pre = std::numeric_limits<double>::infinity();
};

naive_result naive(const loopy_bp_model& m, const dmatrix& x, const std::vector<graph::csr>& graphs,
                   idx agents) {
  naive_result r;
  const idx batch = x.rows() / agents, input = x.cols(), H = m.output_size();
  r.out.resize(x.rows(), H);
  const dmatrix& w1 = m.message_state.weight.value;
  const dmatrix& w2 = m.message_weight.value;
  const dmatrix w3 = m.readout.weight.value.topRows(input);
  const dmatrix w4 = m.readout.weight.value.bottomRows(H);
  using edge = std::pair<idx, idx>;  // (sender, receiver)
  for (idx b = 0; b < batch; ++b) {
    const graph::csr& g = graphs.size() == 1 ? graphs[0] : graphs[std::size_t(b)];
    const dmatrix xb = x.middleRows(b * agents, agents);
    std::map<edge, dmatrix> v;
    for (idx i = 0; i < agents; ++i)
      for (const std::int32_t j : graph::neighbors_excluding_self(g, i))
        v[{j, i}] = dmatrix::Zero(1, H);
    for (idx hop = 0; hop < m.hop_count(); ++hop) {
      std::map<edge, dmatrix> next;
      for (const auto& [e, unused] : v) {
        const auto [j, i] = e;
        dmatrix sum = dmatrix::Zero(1, H);
        for (const std::int32_t k : graph::neighbors_excluding_self(g, j))
          if (k != i) sum += v.at({k, j});
        const dmatrix pre = xb.row(j) * w1 + m.message_state.bias.value + sum * w2;
        r.smallest_pre = std::min(r.smallest_pre, pre.cwiseAbs().minCoeff());
        next[e] = pre.cwiseMax(0.0);
      }
      v = std::move(next);
    }
    for (idx i = 0; i < agents; ++i) {
      dmatrix arriving = dmatrix::Zero(1, H);
      for (const std::int32_t k : graph::neighbors_excluding_self(g, i)) arriving += v.at({k, i});
      const dmatrix pre = xb.row(i) * w3 + arriving * w4 + m.readout.bias.value;
      r.smallest_pre = std::min(r.smallest_pre, pre.cwiseAbs().minCoeff());
      r.out.row(b * agents + i) = pre.cwiseMax(0.0);
    }
  }
  return r;
}

dmatrix run(const loopy_bp_model& m, const dmatrix& x, std::span<const csr_view> graphs) {
  loopy_bp_model::cache c;
  dmatrix out;
  m.forward(ref, x, graphs, out, c);
  return out;
}

// A model and input whose ReLUs all sit at least 0.01 from their kink: seeds are tried from
// `seed` on (as the mlp test does), so the finite-difference stencil never straddles one.
struct checked_case {
  loopy_bp_model model;
  dmatrix x;
};

checked_case away_from_kinks(std::uint64_t seed, idx agents, idx input, idx rows,
                             const std::vector<graph::csr>& graphs) {
  for (;; ++seed) {
    rng g(seed);
    loopy_bp_model m(agents, input, small_settings(), g);
    dmatrix x = testing::random_matrix(rows, input, g);
    if (naive(m, x, graphs, agents).smallest_pre >= 0.01) return {std::move(m), std::move(x)};
  }
}

void check_gradients(const std::vector<graph::csr>& graphs, idx agents, idx batch,
                     std::uint64_t seed) {
  const idx input = 3;
  checked_case checked = away_from_kinks(seed, agents, input, batch * agents, graphs);
  loopy_bp_model& m = checked.model;
  dmatrix& x = checked.x;
  const auto graph_views = views(graphs);
  rng g(seed + 1000);
  const dmatrix weight_of_out = testing::random_matrix(batch * agents, m.output_size(), g);
  auto loss = [&] { return (run(m, x, graph_views).array() * weight_of_out.array()).sum(); };

  auto params = nn::parameters_of(m);
  nn::zero_grad(params);
  loopy_bp_model::cache c;
  dmatrix out, dx;
  m.forward(ref, x, graph_views, out, c);
  REQUIRE(out.isApprox(naive(m, x, graphs, agents).out, 1e-12));
  m.backward(ref, c, weight_of_out, &dx);
  const auto parameter_report = testing::check_parameter_gradients(params, loss);
  INFO(parameter_report);
  REQUIRE(parameter_report.max_relative_error <= 1e-6);
  const auto input_report = testing::check_gradient(x, dx, loss, "x");
  INFO(input_report);
  REQUIRE(input_report.max_relative_error <= 1e-6);
}

}  // namespace

TEST_CASE("loopy_bp: meets the MessagePassing slot", "[message][loopy_bp]") {
  STATIC_REQUIRE(MessagePassing<message::loopy_bp>);
  STATIC_REQUIRE(message::loopy_bp::model<float>::uses_graph);
}

TEST_CASE("loopy_bp: gradients match finite differences, one shared graph", "[message][loopy_bp]") {
  check_gradients({graph::ring(6)}, 6, 2, 100);
  check_gradients({graph::grid2d(2, 2, {8, false})}, 4, 3, 200);
}

TEST_CASE("loopy_bp: gradients match finite differences, one graph per sample",
          "[message][loopy_bp]") {
  // Degrees differ per sample: a line, a hub, a directed k-nearest graph.
  rng g(3);
  check_gradients({graph::line(5), graph::star(5), random_k_nearest(g, 5)}, 5, 3, 300);
  check_gradients({random_k_nearest(g, 4, 1), graph::isolated(4)}, 4, 2, 400);
}

TEST_CASE("loopy_bp: forward matches the literal edge-by-edge network", "[message][loopy_bp]") {
  rng g(11);
  message::loopy_bp::settings s;
  s.hops = 4;
  s.hidden = 13;
  const idx agents = 12, batch = 4;
  loopy_bp_model m(agents, 7, s, g);
  const dmatrix x = testing::random_matrix(batch * agents, 7, g);
  const std::vector<graph::csr> per_sample = {graph::grid2d(3, 4), random_k_nearest(g, agents, 3),
                                              graph::star(agents), graph::isolated(agents)};
  REQUIRE(run(m, x, views(per_sample)).isApprox(naive(m, x, per_sample, agents).out, 1e-12));
  const std::vector<graph::csr> shared = {graph::grid2d(3, 4, {8, true})};
  REQUIRE(run(m, x, views(shared)).isApprox(naive(m, x, shared, agents).out, 1e-12));
  // One hop never reads a message: on a line each message is ReLU(W1 s_sender + b1).
  s.hops = 1;
  rng same(12);
  loopy_bp_model one_hop(agents, 7, s, same);
  const std::vector<graph::csr> line = {graph::line(agents)};
  REQUIRE(run(one_hop, x, views(line)).isApprox(naive(one_hop, x, line, agents).out, 1e-12));
}

TEST_CASE("loopy_bp: on an undirected graph the message back to the sender is excluded",
          "[message][loopy_bp]") {
  // Two agents joined by one edge: v_01 = ReLU(W1 s_0 + b1 + W2 * (nothing)) at every hop, since
  // the only message into 0 comes from 1, the receiver; so any number of hops gives one hop's
  // output. A model that summed all arriving messages would differ from the second hop on.
  rng g(13);
  message::loopy_bp::settings s;
  s.hidden = 6;
  s.hops = 5;
  loopy_bp_model five(2, 3, s, g);
  s.hops = 1;
  rng same(13);
  loopy_bp_model one(2, 3, s, same);
  REQUIRE(five.message_weight.value == one.message_weight.value);
  const std::vector<graph::csr> pair = {graph::line(2)};
  const dmatrix x = testing::random_matrix(6, 3, g);
  REQUIRE(run(five, x, views(pair)).isApprox(run(one, x, views(pair)), 1e-14));
  // A directed pair (1 reads 0, 0 reads nobody but itself) is different on purpose: 0 -> 1 exists,
  // 1 -> 0 does not, and only one message is ever sent.
  graph::csr directed;
  directed.offsets = {0, 1, 3};
  directed.indices = {0, 1, 0};
  graph::check_csr(directed);
  const std::vector<graph::csr> one_way = {directed};
  REQUIRE(run(five, x, views(one_way)).isApprox(naive(five, x, one_way, 2).out, 1e-12));
}

TEST_CASE("loopy_bp: relabelling agents permutes the output", "[message][loopy_bp]") {
  rng g(21);
  const idx agents = 7, batch = 2, input = 4;
  loopy_bp_model m(agents, input, small_settings(), g);
  const dmatrix x = testing::random_matrix(batch * agents, input, g);
  std::vector<int> perm(agents);  // agent i becomes agent perm[i]
  std::iota(perm.begin(), perm.end(), 0);
  g.shuffle(perm);

  // An undirected graph from an edge list, and a directed k-nearest graph from positions.
  std::vector<std::pair<int, int>> edges = {{0, 1}, {1, 2}, {2, 3}, {3, 0}, {4, 5}, {1, 5}, {2, 6}};
  std::vector<std::pair<int, int>> relabelled;
  for (auto [u, v] : edges) relabelled.emplace_back(perm[std::size_t(u)], perm[std::size_t(v)]);
  matrix<float> points(agents, 2), relabelled_points(agents, 2);
  for (idx i = 0; i < points.size(); ++i) points.data()[i] = static_cast<float>(g.uniform(0, 10));
  for (idx i = 0; i < agents; ++i) relabelled_points.row(perm[std::size_t(i)]) = points.row(i);

  const std::vector<graph::csr> original = {graph::from_edges(agents, edges),
                                            graph::make_k_nearest(points, 2)};
  const std::vector<graph::csr> permuted = {graph::from_edges(agents, relabelled),
                                            graph::make_k_nearest(relabelled_points, 2)};
  dmatrix x_permuted(x.rows(), x.cols());
  for (idx b = 0; b < batch; ++b)
    for (idx i = 0; i < agents; ++i)
      x_permuted.row(b * agents + perm[std::size_t(i)]) = x.row(b * agents + i);

  const dmatrix out = run(m, x, views(original)),
                out_permuted = run(m, x_permuted, views(permuted));
  for (idx b = 0; b < batch; ++b)
    for (idx i = 0; i < agents; ++i) {
      INFO("sample " << b << ", agent " << i);
      REQUIRE(out_permuted.row(b * agents + perm[std::size_t(i)])
                  .isApprox(out.row(b * agents + i), 1e-12));
    }
}

TEST_CASE("loopy_bp: without edges each agent's output is a function of its own input",
          "[message][loopy_bp]") {
  const idx agents = 5, batch = 2, input = 3;
  rng g(31);
  loopy_bp_model m(agents, input, small_settings(), g);
  rng same(31);  // the parameters do not depend on the agent count: same draws, same weights
  const loopy_bp_model single(1, input, small_settings(), same);
  const dmatrix x = testing::random_matrix(batch * agents, input, g);
  const std::vector<graph::csr> isolated_graph = {graph::isolated(agents)};
  const std::vector<graph::csr> alone_graph = {graph::isolated(1)};
  const std::vector<csr_view> isolated = views(isolated_graph), alone = views(alone_graph);
  const dmatrix out = run(m, x, isolated);
  // No messages: mu_i = ReLU(W3 s_i + b2).
  const dmatrix w3 = m.readout.weight.value.topRows(input);
  const dmatrix expected = ((x * w3).rowwise() + m.readout.bias.value.row(0)).cwiseMax(0.0);
  REQUIRE(out.isApprox(expected, 1e-12));
  for (idx r = 0; r < x.rows(); ++r) {
    INFO("row " << r);
    REQUIRE(out.row(r).isApprox(run(single, x.row(r), alone), 1e-12));
  }
  // Perturbing agent j moves row j alone.
  for (idx j = 0; j < x.rows(); ++j) {
    dmatrix moved = x;
    moved.row(j).array() += 0.5;
    const dmatrix out_moved = run(m, moved, isolated);
    for (idx r = 0; r < x.rows(); ++r) {
      INFO("perturbed row " << j << ", row " << r);
      if (r == j)
        REQUIRE_FALSE(out_moved.row(r) == out.row(r));
      else
        REQUIRE(out_moved.row(r) == out.row(r));
    }
  }
  // With edges the neighbours' inputs do matter (the check above can fail).
  const std::vector<graph::csr> line = {graph::line(agents)};
  dmatrix moved = x;
  moved.row(1).array() += 0.5;
  REQUIRE_FALSE(run(m, moved, views(line)).row(0) == run(m, x, views(line)).row(0));
}

TEST_CASE("loopy_bp: bad settings and bad input are rejected with the value",
          "[message][loopy_bp]") {
  rng g(41);
  auto with = [](auto change) {
    auto s = small_settings();
    change(s);
    return s;
  };
  REQUIRE_THROWS_MATCHES(loopy_bp_model(4, 3, with([](auto& s) { s.hops = 0; }), g),
                         invalid_argument, Message("message::loopy_bp: hops must be >= 1, got 0"));
  REQUIRE_THROWS_MATCHES(loopy_bp_model(4, 3, with([](auto& s) { s.hidden = 0; }), g),
                         invalid_argument,
                         Message("message::loopy_bp: hidden must be >= 1, got 0"));
  REQUIRE_THROWS_MATCHES(loopy_bp_model(-1, 3, small_settings(), g), invalid_argument,
                         Message("message::loopy_bp: agents must be >= 1, got -1"));
  REQUIRE_THROWS_MATCHES(loopy_bp_model(4, 0, small_settings(), g), invalid_argument,
                         Message("message::loopy_bp: input_size must be >= 1, got 0"));

  loopy_bp_model m(4, 3, small_settings(), g);
  loopy_bp_model::cache c;
  dmatrix out;
  const std::vector<graph::csr> two = {graph::ring(4), graph::line(4)};
  const std::vector<graph::csr> three = {graph::ring(4), graph::line(4), graph::star(4)};
  const std::vector<graph::csr> wrong_nodes = {graph::line(3)};
  REQUIRE_THROWS_MATCHES(
      m.forward(ref, dmatrix::Zero(12, 3), views(two), out, c), shape_error,
      Message("message::loopy_bp: expected 1 graph (shared) or 3 (one per sample), got 2"));
  REQUIRE_THROWS_AS(m.forward(ref, dmatrix::Zero(12, 3), {}, out, c), shape_error);
  REQUIRE_THROWS_WITH(m.forward(ref, dmatrix::Zero(12, 3), {}, out, c), Contains("got 0"));
  REQUIRE_THROWS_MATCHES(m.forward(ref, dmatrix::Zero(9, 3), views(three), out, c), shape_error,
                         Message("message::loopy_bp: x has 9 rows, not a multiple of 4 agents"));
  REQUIRE_THROWS_MATCHES(m.forward(ref, dmatrix::Zero(12, 2), views(three), out, c), shape_error,
                         Message("message::loopy_bp: x has 2 features, expected input_size 3"));
  REQUIRE_THROWS_MATCHES(m.forward(ref, dmatrix::Zero(8, 3), views(wrong_nodes), out, c),
                         shape_error,
                         Message("message::loopy_bp: graph 0 has 3 nodes, expected 4 agents"));
  REQUIRE_THROWS_MATCHES(m.backward(ref, c, dmatrix::Zero(12, 5), nullptr), shape_error,
                         Message("message::loopy_bp backward: call forward first"));
  m.forward(ref, dmatrix::Zero(12, 3), views(three), out, c);
  REQUIRE_THROWS_MATCHES(m.backward(ref, c, dmatrix::Zero(11, 5), nullptr), shape_error,
                         Message("message::loopy_bp backward: d_out: expected 12x5, got 11x5"));
}

TEST_CASE("loopy_bp: caches are reused across shapes and held by the caller",
          "[message][loopy_bp]") {
  rng g(51);
  const idx agents = 5, input = 3, H = small_settings().hidden;
  loopy_bp_model m(agents, input, small_settings(), g);
  auto params = nn::parameters_of(m);
  const std::vector<graph::csr> shared = {graph::ring(5)};
  const std::vector<graph::csr> per_sample = {graph::line(5), random_k_nearest(g, 5)};
  const dmatrix x3 = testing::random_matrix(3 * agents, input, g);
  const dmatrix x2 = testing::random_matrix(2 * agents, input, g);
  const dmatrix d3 = testing::random_matrix(3 * agents, H, g);
  const dmatrix d2 = testing::random_matrix(2 * agents, H, g);

  // Fresh caches: the expected outputs and gradients of each batch alone.
  auto fresh = [&](const dmatrix& x, const std::vector<graph::csr>& graphs, const dmatrix& d) {
    nn::zero_grad(params);
    loopy_bp_model::cache c;
    dmatrix out, dx;
    m.forward(ref, x, views(graphs), out, c);
    m.backward(ref, c, d, &dx);
    std::vector<dmatrix> grads;
    for (auto& p : params) grads.push_back(p.param->grad);
    return std::make_tuple(out, dx, grads);
  };
  const auto [out3, dx3, grads3] = fresh(x3, shared, d3);
  const auto [out2, dx2, grads2] = fresh(x2, per_sample, d2);

  // One cache through both shapes, twice over.
  loopy_bp_model::cache c;
  dmatrix out, dx;
  const auto views_shared = views(shared);
  const auto views_per_sample = views(per_sample);
  for (int round = 0; round < 2; ++round) {
    nn::zero_grad(params);
    m.forward(ref, x3, views_shared, out, c);
    REQUIRE(out == out3);
    m.backward(ref, c, d3, &dx);
    REQUIRE(dx == dx3);
    for (std::size_t k = 0; k < params.size(); ++k) REQUIRE(params[k].param->grad == grads3[k]);
    nn::zero_grad(params);
    m.forward(ref, x2, views_per_sample, out, c);
    REQUIRE(out == out2);
    m.backward(ref, c, d2, &dx);
    REQUIRE(dx == dx2);
    for (std::size_t k = 0; k < params.size(); ++k) REQUIRE(params[k].param->grad == grads2[k]);
  }

  // Two caches (s and s'): backward of the first after the second's forward is unaffected, and
  // gradients accumulate over both backwards.
  loopy_bp_model::cache on_s, on_s_next;
  nn::zero_grad(params);
  m.forward(ref, x3, views_shared, out, on_s);
  m.forward(ref, x2, views_per_sample, out, on_s_next);
  m.backward(ref, on_s, d3, &dx);
  REQUIRE(dx == dx3);
  m.backward(ref, on_s_next, d2, nullptr);
  for (std::size_t k = 0; k < params.size(); ++k)
    REQUIRE(params[k].param->grad.isApprox(grads3[k] + grads2[k], 1e-14));
}

TEST_CASE("loopy_bp: forward and backward allocate nothing after warm-up", "[message][loopy_bp]") {
  rng g(61);
  const idx agents = 9;
  message::loopy_bp::settings s;  // the paper's sizes
  loopy_bp_model m(agents, 26, s, g);
  const std::vector<graph::csr> per_sample = {graph::grid2d(3, 3), graph::star(9),
                                              random_k_nearest(g, 9, 3), graph::isolated(9)};
  const auto graph_views = views(per_sample);
  const dmatrix x = testing::random_matrix(4 * agents, 26, g);
  const dmatrix d_out = testing::random_matrix(4 * agents, 128, g);
  loopy_bp_model::cache c;
  dmatrix out, dx;
  auto step = [&] {
    m.forward(ref, x, graph_views, out, c);
    m.backward(ref, c, d_out, &dx);
  };
  step();
  const long before = testing::heap_allocations();
  step();
  step();
  REQUIRE(testing::heap_allocations() == before);
}

TEST_CASE("loopy_bp: float and the simd backend agree with the double reference",
          "[message][loopy_bp]") {
  rng g(71), same(71);
  const idx agents = 9;
  message::loopy_bp::model<float> mf(agents, 26, {}, g);
  loopy_bp_model md(agents, 26, {}, same);
  const std::vector<graph::csr> grid_graph = {graph::grid2d(3, 3)};
  const std::vector<csr_view> grid = views(grid_graph);
  const dmatrix x = testing::random_matrix(3 * agents, 26, g);
  const matrix<float> xf = x.cast<float>();
  message::loopy_bp::model<float>::cache cf;
  matrix<float> out_simd, out_reference;
  mf.forward(backend::simd<>{}, xf, grid, out_simd, cf);
  mf.forward(ref, xf, grid, out_reference, cf);
  const dmatrix out_double = run(md, x, grid);
  REQUIRE(out_simd.cast<double>().isApprox(out_double, 1e-5));
  REQUIRE(out_reference.cast<double>().isApprox(out_double, 1e-5));
}
