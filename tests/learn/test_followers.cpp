// The RL followers of the resource-collection game (EBPG section 4.3, lemma 3, appendix B.2):
// their input vector, the REINFORCE gradient of the epsilon-mixture policy (finite differences in
// double), learning a fixed-contract bandit with a known optimum, heap use, and bad input.
//
// Heap use after warm-up is counted two ways, set up before anything includes Eigen: the replaced
// operator new of support/count_allocations.hpp (std::vector growth) and Eigen's malloc hook
// (EIGEN_RUNTIME_NO_MALLOC: Eigen allocates with malloc; a forbidden one fails eigen_assert).
namespace eigen_allocation_counter {
inline long count = 0;
inline void failed(const char*) { ++count; }
}  // namespace eigen_allocation_counter
#define EIGEN_RUNTIME_NO_MALLOC
#define eigen_assert(x) ((x) ? (void)0 : ::eigen_allocation_counter::failed(#x))

#include <algorithm>
#include <catch2/catch.hpp>
#include <vector>

#include "netmarl/env/resource_collection.hpp"
#include "netmarl/learn/followers/follower_input.hpp"
#include "netmarl/learn/followers/meta_goal_follower.hpp"
#include "netmarl/learn/followers/primitive_follower.hpp"
#include "support/count_allocations.hpp"
#include "support/gradient_check.hpp"

namespace nm = netmarl;
namespace fl = netmarl::learn::followers;
using idx = netmarl::index;
using rc = nm::env::resource_collection;

namespace {

rc one_follower_world(int bonus_levels = 2, idx population = 40) {
  return rc({.bonus_levels = bonus_levels, .population = population, .followers = 1});
}

// Records a synthetic 3-step trajectory for two followers with fixed random inputs, fixed choices
// and rewards, then compares the surrogate loss's gradient with finite differences.
template <class Follower>
void check_surrogate_gradient(Follower& follower, int heads) {
  auto& policy = follower.policy();
  nm::rng data(17);
  // A first episode, so the baseline the gradient subtracts is not zero.
  for (idx slot = 0; slot < 2; ++slot) {
    const auto x = nm::testing::random_matrix<float>(1, policy.input_size(), data);
    const std::vector<int> chosen(static_cast<std::size_t>(heads), 1);
    policy.record(slot, {x.data(), static_cast<std::size_t>(x.size())}, chosen);
    policy.reward(slot, 1.5 + static_cast<double>(slot));
  }
  policy.end_episode();
  REQUIRE(policy.baseline() != 0.0);

  for (int t = 0; t < 3; ++t)
    for (idx slot = 0; slot < 2; ++slot) {
      const auto x = nm::testing::random_matrix_away_from_zero<float>(1, policy.input_size(), data);
      std::vector<int> chosen;
      for (int h = 0; h < heads; ++h) chosen.push_back(static_cast<int>(data.below(5)));
      policy.record(slot, {x.data(), static_cast<std::size_t>(x.size())}, chosen);
      policy.reward(slot, data.uniform(-1.0, 2.0));
    }
  REQUIRE(policy.recorded_steps() == 6);
  policy.surrogate_loss(true);
  const auto report = nm::testing::check_parameter_gradients(
      policy.parameters(), [&] { return policy.surrogate_loss(false); });
  INFO(report);
  CHECK(report.max_relative_error <= 1e-6);
}

// The fixed-contract bandit: a population of one follower, every step the leader offers goal 0 at
// bonus 0, and the test pays the follower 1 when its (intended) goal is its skill type, else 0; 20
// steps per episode on a fresh map each episode. The optimum is to pick the skill type whatever the
// map. (With a population of 40 the shared network would also have to learn to read the skill
// one-hot; plain REINFORCE does not manage that in a test's budget: it settles on the majority
// skill type.)
template <class Follower, class GoalProbabilities>
double worst_rewarded_goal_probability(Follower& follower, rc& world, nm::rng& g,
                                       GoalProbabilities&& goal_probabilities) {
  follower.training = false;
  double worst = 1.0;
  for (int trial = 0; trial < 30; ++trial) {
    world.reset(g);
    follower.decide(world, 0, 0, 0, g);
    const int skill = world.followers()[0].traits.skill_type;
    worst = std::min(worst, static_cast<double>(goal_probabilities()[std::size_t(skill)]));
  }
  follower.training = true;
  follower.end_episode();
  return worst;
}

template <class Follower>
void train_bandit(Follower& follower, rc& world, nm::rng& g, int episodes) {
  for (int episode = 0; episode < episodes; ++episode) {
    world.reset(g);
    const int skill = world.followers()[0].traits.skill_type;
    for (int t = 0; t < 20; ++t) {
      const auto d = follower.decide(world, 0, 0, 0, g);
      follower.observe_reward(0, d.goal == skill ? 1.0 : 0.0);
    }
    follower.end_episode();
  }
}

}  // namespace

TEST_CASE("follower input: layout, one-hots and size", "[learn][followers]") {
  for (int levels : {2, 4}) {
    rc world = one_follower_world(levels);
    nm::rng g(3);
    world.reset(g);
    const idx size = fl::follower_input_size(levels);
    REQUIRE(size == 7 * 11 * 11 + 26 + 4 + 4 + 4 + levels + 1);
    std::vector<float> x(static_cast<std::size_t>(size), -1.0f);
    fl::write_follower_input(world, 0, 2, levels - 1, true, x);

    std::vector<float> world_part(rc::world_features), own(rc::follower_features);
    world.world_observation(world_part);
    world.follower_observation(0, own);
    CHECK(std::equal(world_part.begin(), world_part.end(), x.begin()));
    CHECK(std::equal(own.begin(), own.end(), x.begin() + rc::world_features));
    const auto traits = world.followers()[0].traits;
    auto at = static_cast<std::size_t>(rc::world_features + rc::follower_features);
    auto block = [&](std::size_t n) {
      std::vector<float> b(x.begin() + std::ptrdiff_t(at), x.begin() + std::ptrdiff_t(at + n));
      at += n;
      return b;
    };
    auto one_hot = [](std::size_t n, int hot) {
      std::vector<float> v(n, 0.0f);
      v[std::size_t(hot)] = 1.0f;
      return v;
    };
    CHECK(block(4) == one_hot(4, traits.desire));
    CHECK(block(4) == one_hot(4, traits.skill_type));
    CHECK(block(4) == one_hot(4, 2));
    CHECK(block(std::size_t(levels)) == one_hot(std::size_t(levels), levels - 1));
    CHECK(block(1) == std::vector<float>{1.0f});
    CHECK(at == x.size());

    fl::write_follower_input(world, 0, 0, 0, false, x);
    CHECK(x.back() == 0.0f);
  }
}

TEST_CASE("follower input: bad input throws naming the value", "[learn][followers]") {
  rc world = one_follower_world();
  nm::rng g(3);
  world.reset(g);
  std::vector<float> x(static_cast<std::size_t>(fl::follower_input_size(2)));
  CHECK_THROWS_WITH(fl::write_follower_input(world, 1, 0, 0, false, x),
                    Catch::Contains("slot 1") && Catch::Contains("[0, 1)"));
  CHECK_THROWS_WITH(fl::write_follower_input(world, 0, 4, 0, false, x),
                    Catch::Contains("offered goal 4") && Catch::Contains("[0, 4)"));
  CHECK_THROWS_WITH(fl::write_follower_input(world, 0, 0, 2, false, x),
                    Catch::Contains("offered bonus 2") && Catch::Contains("[0, 2)"));
  std::vector<float> short_x(10);
  CHECK_THROWS_WITH(fl::write_follower_input(world, 0, 0, 0, false, short_x),
                    Catch::Contains("10 entries"));
}

TEST_CASE(
    "meta-goal follower: REINFORCE gradient of the epsilon mixture matches finite "
    "differences",
    "[learn][followers]") {
  const double epsilon = GENERATE(0.0, 0.3);
  INFO("epsilon " << epsilon);
  nm::rng init(5);
  fl::meta_goal_follower<double, nm::backend::reference> follower(
      2, 2, {.hidden = 6, .epsilon = epsilon, .gamma = 0.9}, init);
  check_surrogate_gradient(follower, 1);
}

TEST_CASE("primitive follower: REINFORCE gradient of both heads matches finite differences",
          "[learn][followers]") {
  const double epsilon = GENERATE(0.0, 0.3);
  INFO("epsilon " << epsilon);
  nm::rng init(6);
  fl::primitive_follower<double, nm::backend::reference> follower(
      4, 2, {.hidden = 5, .epsilon = epsilon, .gamma = 1.0}, init);
  check_surrogate_gradient(follower, 2);
}

TEST_CASE("meta-goal follower learns the fixed-contract bandit", "[learn][followers]") {
  rc world = one_follower_world(2, 1);
  nm::rng init(1), g(2);
  fl::meta_goal_follower<> follower(2, 1, {}, init);
  auto probabilities = [&] { return follower.meta_probabilities(); };
  const double before = worst_rewarded_goal_probability(follower, world, g, probabilities);
  CHECK(before < 0.5);
  train_bandit(follower, world, g, 150);
  const double after = worst_rewarded_goal_probability(follower, world, g, probabilities);
  INFO("worst pi_meta(skill type) " << before << " -> " << after);
  CHECK(after > 0.9);
}

TEST_CASE("primitive follower's goal head learns the fixed-contract bandit", "[learn][followers]") {
  rc world = one_follower_world(2, 1);
  nm::rng init(1), g(2);
  fl::primitive_follower<> follower(2, 1, {}, init);
  auto probabilities = [&] { return follower.goal_probabilities(); };
  const double before = worst_rewarded_goal_probability(follower, world, g, probabilities);
  CHECK(before < 0.5);
  train_bandit(follower, world, g, 150);
  const double after = worst_rewarded_goal_probability(follower, world, g, probabilities);
  INFO("worst p(goal = skill type) " << before << " -> " << after);
  CHECK(after > 0.9);
}

TEST_CASE("followers: training = false is greedy and records nothing", "[learn][followers]") {
  rc world = one_follower_world();
  nm::rng init(1), g(2);
  world.reset(g);
  fl::meta_goal_follower<> meta(2, 1, {}, init);
  fl::primitive_follower<> primitive(2, 1, {}, init);

  meta.decide(world, 0, 1, 0, g);
  meta.observe_reward(0, 1.0);
  CHECK(meta.recorded_steps() == 1);  // training by default
  meta.end_episode();
  CHECK(meta.recorded_steps() == 0);
  CHECK(meta.policy().updates() == 1);

  meta.training = false;
  primitive.training = false;
  const auto weights_before = meta.policy().parameters().front().param->value;
  for (int t = 0; t < 5; ++t) {
    const auto d = meta.decide(world, 0, 1, 0, g);
    const auto p = meta.meta_probabilities();
    const auto greedy = std::max_element(p.begin(), p.end()) - p.begin();
    CHECK(d.goal == (greedy == meta.idle ? -1 : static_cast<int>(greedy)));
    meta.observe_reward(0, 1.0);
    primitive.decide(world, 0, 1, 0, g);
    primitive.observe_reward(0, 1.0);
  }
  CHECK(meta.recorded_steps() == 0);
  CHECK(primitive.recorded_steps() == 0);
  meta.end_episode();
  primitive.end_episode();
  CHECK(meta.policy().updates() == 1);
  CHECK(primitive.policy().updates() == 0);
  CHECK(meta.policy().parameters().front().param->value == weights_before);
}

TEST_CASE("meta-goal follower: the planner acts, the signed flag feeds back, noise never digs",
          "[learn][followers]") {
  rc world = one_follower_world();
  nm::rng init(1), g(4);
  world.reset(g);
  fl::meta_goal_follower<> follower(2, 1, {}, init);
  bool saw_signing = false;
  for (int t = 0; t < 40; ++t) {
    const int offered = t % 4;
    const auto d = follower.decide(world, 0, offered, 0, g);
    if (d.goal >= 0) {
      CHECK(d.action == world.plan(0, d.goal));
    } else {
      CHECK(d.action == rc::stop);
    }
    // The next step's input carries whether this step signed.
    const auto x = follower.policy().recorded_input(follower.recorded_steps() - 1);
    if (t > 0) CHECK((x.back() == 1.0f) == saw_signing);
    saw_signing = d.goal == offered;
  }
  follower.end_episode();

  fl::meta_goal_follower<> noisy(2, 1, {.noise = 1.0}, init);
  for (int t = 0; t < 200; ++t) CHECK(noisy.decide(world, 0, t % 4, 0, g).action != rc::dig);
}

TEST_CASE("followers: bad input throws naming the value", "[learn][followers]") {
  rc world = rc({.bonus_levels = 2, .followers = 2});
  nm::rng init(1), g(2);
  world.reset(g);
  fl::meta_goal_follower<> meta(2, 1, {.hidden = 4}, init);
  fl::primitive_follower<> primitive(2, 2, {.hidden = 4}, init);

  CHECK_THROWS_WITH(meta.decide(world, 1, 0, 0, g),
                    Catch::Contains("slot 1") && Catch::Contains("[0, 1)"));
  CHECK_THROWS_WITH(primitive.decide(world, -1, 0, 0, g), Catch::Contains("slot -1"));
  CHECK_THROWS_WITH(primitive.decide(world, 0, 4, 0, g), Catch::Contains("offered goal 4"));
  CHECK_THROWS_WITH(meta.decide(world, 0, -1, 0, g), Catch::Contains("offered goal -1"));
  CHECK_THROWS_WITH(meta.decide(world, 0, 0, 2, g), Catch::Contains("offered bonus 2"));
  CHECK_THROWS_WITH(primitive.decide(world, 1, 0, -1, g), Catch::Contains("offered bonus -1"));
  CHECK_THROWS_AS(meta.observe_reward(0, 1.0), nm::invalid_argument);  // no decision yet
  CHECK_THROWS_WITH(primitive.observe_reward(2, 1.0), Catch::Contains("slot 2"));

  rc four_levels = rc({.bonus_levels = 4, .followers = 1});
  four_levels.reset(g);
  CHECK_THROWS_WITH(meta.decide(four_levels, 0, 0, 3, g), Catch::Contains("4 bonus levels"));

  using meta_follower = fl::meta_goal_follower<>;
  CHECK_THROWS_WITH(meta_follower(0, 1, {}, init),
                    Catch::Contains("bonus_levels must be >= 1, got 0"));
  CHECK_THROWS_WITH(meta_follower(2, 0, {}, init),
                    Catch::Contains("max_followers must be >= 1, got 0"));
  CHECK_THROWS_WITH(meta_follower(2, 1, {.hidden = 0}, init),
                    Catch::Contains("hidden must be >= 1, got 0"));
  CHECK_THROWS_WITH(meta_follower(2, 1, {.lr = -1}, init), Catch::Contains("lr must be > 0"));
  CHECK_THROWS_WITH(meta_follower(2, 1, {.epsilon = 1.5}, init),
                    Catch::Contains("epsilon must be in [0, 1], got 1.5"));
  CHECK_THROWS_WITH(fl::primitive_follower<>(2, 1, {.gamma = 2}, init),
                    Catch::Contains("gamma must be in [0, 1], got 2"));
  CHECK_THROWS_WITH(fl::primitive_follower<>(2, 1, {.noise = -0.5}, init),
                    Catch::Contains("noise must be in [0, 1], got -0.5"));
}

TEST_CASE("followers: no heap allocation per step or per update after warm-up",
          "[learn][followers]") {
  rc world = rc({.bonus_levels = 2, .followers = 2});
  nm::rng init(1), g(2);
  fl::meta_goal_follower<> meta(2, 2, {.hidden = 16}, init);
  fl::primitive_follower<> primitive(2, 2, {.hidden = 16}, init);
  auto episode = [&] {
    world.reset(g);
    for (int t = 0; t < 10; ++t)
      for (idx slot = 0; slot < 2; ++slot) {
        meta.observe_reward(slot, meta.decide(world, slot, t % 4, t % 2, g).goal == 1);
        primitive.observe_reward(slot, primitive.decide(world, slot, 1, 0, g).goal == 1);
      }
    meta.end_episode();
    primitive.end_episode();
  };
  episode();  // warm-up: buffers reach their sizes
  const long cpp_before = nm::testing::heap_allocations();
  Eigen::internal::set_is_malloc_allowed(false);
  episode();
  Eigen::internal::set_is_malloc_allowed(true);
  CHECK(nm::testing::heap_allocations() == cpp_before);
  CHECK(eigen_allocation_counter::count == 0);
  CHECK(meta.policy().updates() == 2);
  CHECK(primitive.policy().updates() == 2);
}
