#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "netmarl/graph/generators.hpp"
#include "netmarl/graph/k_nearest.hpp"
#include "netmarl/message/concept.hpp"
#include "netmarl/message/loopy_bp.hpp"
#include "support/gradient_check.hpp"
#include "support/message_model_check.hpp"

// Counts every heap allocation in this test binary, so "no allocation after warm-up" is measured.
#include "support/count_allocations.hpp"

using namespace netmarl;
using idx = netmarl::index;  // plain `index` clashes with POSIX index()
using dmatrix = matrix<double>;
using Catch::Matchers::Contains;
using Catch::Matchers::Message;
using loopy_bp_model = message::loopy_bp::model<double>;
using testing::random_k_nearest;
using testing::run;
using testing::views;

namespace {

const backend::reference ref{};

message::loopy_bp::settings small_settings() {
  message::loopy_bp::settings s;
  s.hops = 3;
  s.hidden = 5;
  return s;
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

// The shared gradient-check driver (support/message_model_check.hpp) on this model's `naive`.
void check_gradients(const std::vector<graph::csr>& graphs, idx agents, idx batch,
                     std::uint64_t seed) {
  testing::check_gradients<loopy_bp_model>(graphs, agents, batch, seed, small_settings(), naive);
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
  testing::check_relabelling_permutes_output<loopy_bp_model>(small_settings());
}

TEST_CASE("loopy_bp: without edges each agent's output is a function of its own input",
          "[message][loopy_bp]") {
  testing::check_own_input_alone_without_edges<loopy_bp_model>(
      small_settings(), [](const loopy_bp_model& m, const dmatrix& x, const dmatrix& out) {
        // No messages: mu_i = ReLU(W3 s_i + b2).
        const dmatrix w3 = m.readout.weight.value.topRows(x.cols());
        const dmatrix expected = ((x * w3).rowwise() + m.readout.bias.value.row(0)).cwiseMax(0.0);
        REQUIRE(out.isApprox(expected, 1e-12));
      });
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
  testing::check_caches_reused_across_shapes<loopy_bp_model>(small_settings(), [](rng& g) {
    return std::vector<graph::csr>{graph::line(5), random_k_nearest(g, 5)};
  });
}

TEST_CASE("loopy_bp: forward and backward allocate nothing after warm-up", "[message][loopy_bp]") {
  testing::check_no_allocation_after_warm_up<loopy_bp_model>(message::loopy_bp::settings{},
                                                             testing::heap_allocations);
}

TEST_CASE("loopy_bp: float and the simd backend agree with the double reference",
          "[message][loopy_bp]") {
  testing::check_float_and_simd_agree_with_double<message::loopy_bp::model<float>,
                                                  loopy_bp_model>();
}
