// assign::meta_grad (VAST section 4.2, eq. 6): the assignment policy's shape and range, its
// sampling, the REINFORCE loss and its gradient against finite differences, a small learning
// check, checkpoint accessors, no allocation once warmed up, and its errors.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "netmarl/factor/assign/meta_grad.hpp"
#include "support/count_allocations.hpp"  // replaces operator new: this file only
#include "support/gradient_check.hpp"

namespace nm = netmarl;
namespace assign = netmarl::factor::assign;
using idx = nm::index;
using nm::matrix;
using model = assign::meta_grad::model<double>;

namespace {

const nm::backend::reference reference{};

// N = 4 agents, K = 3 sub-teams, state 5, observation 6, batch 2.
constexpr idx agents = 4, subteams = 3, state_size = 5, observation_size = 6, batch = 2;
const assign::assignment_sizes sizes{agents, subteams, state_size, observation_size};

struct inputs {
  matrix<double> state, observations;
};

inputs make_inputs(std::uint64_t seed, idx b = batch) {
  nm::rng g(seed);
  return {nm::testing::random_matrix(b, state_size, g),
          nm::testing::random_matrix(b * agents, observation_size, g)};
}

model make(assign::meta_grad::settings s = {}, std::uint64_t seed = 1) {
  nm::rng g(seed);
  return model(sizes, s, g);
}

std::vector<std::int32_t> sample(model& m, const inputs& d, nm::rng& g, bool greedy = false) {
  std::vector<std::int32_t> groups(static_cast<std::size_t>(d.observations.rows()));
  m.sample(reference, g, d.state, d.observations, agents, groups, greedy);
  return groups;
}

}  // namespace

TEST_CASE("meta_grad: network concat(s, o_i) -> 128 ELU -> 128 ELU -> K, softmax rows",
          "[assign][meta_grad]") {
  model m = make();
  REQUIRE(m.network.depth() == 3);
  CHECK(m.network.input_size() == state_size + observation_size);
  CHECK(m.network.layers[0].output_size() == 128);
  CHECK(m.network.layers[1].output_size() == 128);
  CHECK(m.network.output_size() == subteams);
  CHECK(m.network.hidden_activation == nm::nn::activation::elu);
  CHECK(m.subteams() == subteams);

  const inputs d = make_inputs(3);
  nm::rng g(4);
  const auto groups = sample(m, d, g);
  REQUIRE(groups.size() == static_cast<std::size_t>(batch * agents));
  for (auto k : groups) CHECK((k >= 0 && k < subteams));
  const matrix<double>& p = m.probabilities();
  REQUIRE(p.rows() == batch * agents);
  REQUIRE(p.cols() == subteams);
  for (idx r = 0; r < p.rows(); ++r) {
    CHECK(p.row(r).sum() == Approx(1.0).epsilon(1e-12));
    CHECK(p.row(r).minCoeff() > 0.0);
    CHECK(p.row(r).maxCoeff() < 1.0);
    CHECK(m.sampled()[static_cast<std::size_t>(r)] == groups[static_cast<std::size_t>(r)]);
  }

  // Row (b = 1, i = 2) is X(. | s_1, o_{1,2}): forward the concatenation by hand.
  matrix<double> x(1, state_size + observation_size);
  x << d.state.row(1), d.observations.row(1 * agents + 2);
  nm::nn::mlp_cache<double> cache;
  matrix<double> logits;
  nm::nn::forward(reference, m.network, x, cache, logits);
  const Eigen::ArrayXd expected = logits.row(0).array().exp() / logits.row(0).array().exp().sum();
  for (idx k = 0; k < subteams; ++k)
    CHECK(p(1 * agents + 2, k) == Approx(expected(k)).epsilon(1e-12));
}

TEST_CASE("meta_grad: sampling follows X, greedy takes its argmax, same rng same groups",
          "[assign][meta_grad]") {
  model m = make();
  const inputs d = make_inputs(5);
  nm::rng a(9), b(9);
  CHECK(sample(m, d, a) == sample(m, d, b));

  nm::rng g(10);
  const auto greedy = sample(m, d, g, true);
  for (idx r = 0; r < batch * agents; ++r) {
    idx best = 0;
    m.probabilities().row(r).maxCoeff(&best);
    CHECK(greedy[static_cast<std::size_t>(r)] == best);
  }

  // Frequencies over many draws match X within 5 standard deviations.
  const int draws = 4000;
  matrix<double> counts = matrix<double>::Zero(batch * agents, subteams);
  for (int t = 0; t < draws; ++t) {
    const auto groups = sample(m, d, g);
    for (idx r = 0; r < batch * agents; ++r) counts(r, groups[static_cast<std::size_t>(r)]) += 1;
  }
  const matrix<double>& p = m.probabilities();
  for (idx r = 0; r < p.rows(); ++r)
    for (idx k = 0; k < subteams; ++k) {
      const double sd = std::sqrt(p(r, k) * (1 - p(r, k)) / draws);
      CHECK(std::abs(counts(r, k) / draws - p(r, k)) < 5 * sd);
    }
}

TEST_CASE("meta_grad: REINFORCE loss value and its gradient match finite differences",
          "[assign][meta_grad]") {
  model m = make({.hidden = 16});
  const inputs d = make_inputs(12);
  nm::rng g(13);
  const auto groups = sample(m, d, g);
  const std::vector<double> advantages{0.7, -1.3, 0.2, 2.0, -0.4, 1.1, -0.9, 0.5};

  const double loss = m.loss_and_gradients(reference, advantages);
  double expected = 0;
  for (idx r = 0; r < batch * agents; ++r)
    expected -= advantages[r] * std::log(m.probabilities()(r, groups[r]));
  CHECK(loss == Approx(expected / (batch * agents)).epsilon(1e-12));
  CHECK(m.evaluate_loss(reference, advantages) == Approx(loss).epsilon(1e-14));

  auto f = [&] { return m.evaluate_loss(reference, advantages); };
  const auto report = nm::testing::check_parameter_gradients(m.parameters(), f);
  INFO(report);
  CHECK(report.entries_checked == 11 * 16 + 16 + 16 * 16 + 16 + 16 * 3 + 3);
  REQUIRE(report.max_relative_error <= 1e-6);
}

TEST_CASE("meta_grad: reinforce steps with advantage +1 for sub-team 0 raise X(0 | .) above 0.9",
          "[assign][meta_grad]") {
  model m = make();
  const inputs d = make_inputs(21);
  nm::rng g(22);
  sample(m, d, g);
  REQUIRE(m.probabilities().col(0).maxCoeff() < 0.6);  // starts near uniform
  std::vector<double> advantages(batch * agents);
  for (int step = 0; step < 300; ++step) {
    const auto groups = sample(m, d, g);
    for (std::size_t r = 0; r < groups.size(); ++r) advantages[r] = groups[r] == 0 ? 1.0 : -1.0;
    const double loss = m.reinforce_step(reference, advantages);
    REQUIRE(std::isfinite(loss));
    REQUIRE(m.last_grad_norm() > 0.0);
  }
  CHECK(m.optimizer().step_count() == 300);
  sample(m, d, g);
  INFO("X(0 | .) per row: " << m.probabilities().col(0).transpose());
  CHECK(m.probabilities().col(0).minCoeff() > 0.9);
}

TEST_CASE("meta_grad: a step moves the parameters; later losses use the new ones",
          "[assign][meta_grad]") {
  model m = make({.hidden = 8});
  const inputs d = make_inputs(31);
  nm::rng g(32);
  sample(m, d, g);
  const std::vector<double> advantages(batch * agents, 1.0);
  const matrix<double> before = m.network.layers[0].weight.value;
  const double first = m.reinforce_step(reference, advantages);
  CHECK((m.network.layers[0].weight.value - before).norm() > 0);
  // Positive advantages for the drawn sub-teams: one step makes them likelier, so the loss drops.
  const double now = m.evaluate_loss(reference, advantages);
  CHECK(now < first);
  CHECK(m.loss_and_gradients(reference, advantages) == Approx(now).epsilon(1e-14));

  // Moving the model keeps the optimizer's parameter pointers valid.
  model moved = std::move(m);
  const matrix<double> held = moved.network.layers[0].weight.value;
  moved.reinforce_step(reference, advantages);
  CHECK((moved.network.layers[0].weight.value - held).norm() > 0);
  CHECK(moved.optimizer().step_count() == 2);
}

TEST_CASE("meta_grad: parameters and optimizer state for checkpoints", "[assign][meta_grad]") {
  model m = make();
  REQUIRE(m.parameters().size() == 6);
  CHECK(m.parameters()[0].name == "assignment.0.weight");
  CHECK(m.parameters()[5].name == "assignment.2.bias");
  nm::nn::parameter_list<double> list;
  m.append_parameters(list, "vast.assign.");
  REQUIRE(list.size() == 6);
  CHECK(list[2].name == "vast.assign.1.weight");
  CHECK(list[2].param == m.parameters()[2].param);
  const auto state = m.optimizer_state();
  REQUIRE(state.size() == 13);
  CHECK(state[0].name == "assignment_adam.m.assignment.0.weight");
  CHECK(state[12].name == "assignment_adam.step");
  CHECK(m.optimizer_state("x")[1].name == "x.v.assignment.0.weight");
  CHECK(m.checkpoint_tensors().size() == 19);
}

TEST_CASE("meta_grad: one sample through the AssignmentStrategy interface", "[assign][meta_grad]") {
  model m = make();
  const inputs d = make_inputs(41, 1);
  std::vector<std::int32_t> groups(agents), batched(agents);
  nm::rng a(42), b(42);
  m.assign(a,
           {.agents = agents,
            .observations = d.observations.data(),
            .observation_size = observation_size,
            .state = d.state.data(),
            .state_size = state_size},
           subteams, groups);
  m.sample(reference, b, d.state, d.observations, agents, batched);
  CHECK(groups == batched);
}

TEST_CASE("meta_grad: no allocation once warmed up", "[assign][meta_grad]") {
  model m = make({.hidden = 32});
  const inputs d = make_inputs(51, 8);
  nm::rng g(52);
  std::vector<std::int32_t> groups(8 * agents);
  std::vector<double> advantages(8 * agents, 0.5);
  const long cold = nm::testing::heap_allocations();
  m.sample(reference, g, d.state, d.observations, agents, groups);
  m.reinforce_step(reference, advantages);
  m.reinforce_step(reference, advantages);  // the re-forward path
  REQUIRE(nm::testing::heap_allocations() > cold);
  const long before = nm::testing::heap_allocations();
  for (int t = 0; t < 5; ++t) {
    m.sample(reference, g, d.state, d.observations, agents, groups);
    m.reinforce_step(reference, advantages);
    m.reinforce_step(reference, advantages);
  }
  CHECK(nm::testing::heap_allocations() == before);
}

TEST_CASE("meta_grad: bad input throws with the value", "[assign][meta_grad]") {
  using Catch::Matchers::Message;
  nm::rng g(0);
  model m = make({.hidden = 4});
  const inputs d = make_inputs(61);
  std::vector<std::int32_t> groups(batch * agents);
  const std::vector<double> advantages(batch * agents, 1.0);

  REQUIRE_THROWS_MATCHES(m.loss_and_gradients(reference, advantages), nm::invalid_argument,
                         Message("assign::meta_grad loss_and_gradients: call sample first"));
  const matrix<double> wide_state(batch, state_size + 1);
  REQUIRE_THROWS_MATCHES(
      m.sample(reference, g, wide_state, d.observations, agents, groups), nm::shape_error,
      Message("assign::meta_grad sample: state (batch x state_size): expected 2x5, got 2x6"));
  REQUIRE_THROWS_MATCHES(
      m.sample(reference, g, d.state, d.observations, agents - 1, groups), nm::shape_error,
      Message("assign::meta_grad sample: observations (batch * agents x observation_size): "
              "expected 6x6, got 8x6"));
  std::vector<std::int32_t> short_groups(5);
  REQUIRE_THROWS_MATCHES(
      m.sample(reference, g, d.state, d.observations, agents, short_groups), nm::shape_error,
      Message("assign::meta_grad sample: groups (batch * agents): expected 8, got 5"));
  REQUIRE_THROWS_MATCHES(m.sample(reference, g, d.state, d.observations, 0, groups),
                         nm::invalid_argument,
                         Message("assign::meta_grad sample: agents must be >= 1, got 0"));
  inputs bad = d;
  bad.observations(3, 1) = std::numeric_limits<double>::quiet_NaN();
  REQUIRE_THROWS_MATCHES(m.sample(reference, g, bad.state, bad.observations, agents, groups),
                         nm::invalid_argument,
                         Message("assign::meta_grad sample: X(. | row 3) is not finite "
                                 "(non-finite state or observation values, or diverged "
                                 "parameters)"));
  REQUIRE_THROWS_MATCHES(m.loss_and_gradients(reference, advantages), nm::invalid_argument,
                         Message("assign::meta_grad loss_and_gradients: call sample first"));

  m.sample(reference, g, d.state, d.observations, agents, groups);
  const std::vector<double> too_few(3, 1.0);
  REQUIRE_THROWS_MATCHES(m.reinforce_step(reference, too_few), nm::shape_error,
                         Message("assign::meta_grad loss_and_gradients: advantages (one per "
                                 "sampled row, batch * agents): expected 8, got 3"));
  std::vector<double> with_nan(advantages);
  with_nan[6] = std::numeric_limits<double>::quiet_NaN();
  REQUIRE_THROWS_MATCHES(m.reinforce_step(reference, with_nan), nm::invalid_argument,
                         Message("assign::meta_grad loss_and_gradients: advantages[6] = nan is "
                                 "not finite"));
  REQUIRE_THROWS_MATCHES(m.evaluate_loss(reference, too_few), nm::shape_error,
                         Message("assign::meta_grad evaluate_loss: advantages (one per sampled "
                                 "row, batch * agents): expected 8, got 3"));

  std::vector<std::int32_t> one(agents);
  const assign::assignment_input<double> input{.agents = agents,
                                               .observations = d.observations.data(),
                                               .observation_size = observation_size,
                                               .state = d.state.data(),
                                               .state_size = state_size};
  REQUIRE_THROWS_MATCHES(
      m.assign(g, input, 4, one), nm::invalid_argument,
      Message("assign::meta_grad: asked for 4 sub-teams, but the network outputs 3"));
  auto no_state = input;
  no_state.state = nullptr;
  REQUIRE_THROWS_MATCHES(m.assign(g, no_state, subteams, one), nm::invalid_argument,
                         Message("assign::meta_grad: needs the state (assignment_input::state "
                                 "is null)"));
  auto short_observation = input;
  short_observation.observation_size = 2;
  REQUIRE_THROWS_MATCHES(m.assign(g, short_observation, subteams, one), nm::shape_error,
                         Message("assign::meta_grad: observations has size 2, expected 6"));

  REQUIRE_THROWS_MATCHES(model({agents, 0, state_size, observation_size}, {}, g),
                         nm::invalid_argument,
                         Message("assign::meta_grad: subteams must be >= 1, got 0"));
  REQUIRE_THROWS_MATCHES(model({agents, subteams, 0, 0}, {}, g), nm::invalid_argument,
                         Message("assign::meta_grad: the network reads concat(state, "
                                 "observation), which needs state_size + observation_size >= 1 "
                                 "(both >= 0), got state_size 0 and observation_size 0"));
  REQUIRE_THROWS_MATCHES(model(sizes, {.learning_rate = 0}, g), nm::invalid_argument,
                         Message("assign::meta_grad: learning_rate must be positive, got 0"));
  REQUIRE_THROWS_MATCHES(model(sizes, {.clip_norm = -1}, g), nm::invalid_argument,
                         Message("assign::meta_grad: clip_norm must be positive, got -1"));
  REQUIRE_THROWS_MATCHES(model(sizes, {.hidden = 0}, g), nm::invalid_argument,
                         Message("assign::meta_grad: hidden must be >= 1, got 0"));
}

TEST_CASE("meta_grad: float model samples in range", "[assign][meta_grad]") {
  nm::rng g(71);
  assign::meta_grad::model<float> m(sizes, {}, g);
  const matrix<float> state = nm::testing::random_matrix<float>(3, state_size, g);
  const matrix<float> observations =
      nm::testing::random_matrix<float>(3 * agents, observation_size, g);
  std::vector<std::int32_t> groups(3 * agents);
  m.sample(reference, g, state, observations, agents, groups);
  for (auto k : groups) CHECK((k >= 0 && k < subteams));
  std::vector<float> advantages(3 * agents, 1.0f);
  CHECK(std::isfinite(m.reinforce_step(reference, advantages)));
}
