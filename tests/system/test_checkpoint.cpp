// Whole-system checkpoints: a trained learner saved and loaded into a fresh system acts the same;
// a checkpoint of another configuration is refused and leaves the system unchanged.
#include <catch2/catch.hpp>
#include <filesystem>

#include "netmarl/env/coordination_grid.hpp"
#include "netmarl/env/gaussian_squeeze.hpp"
#include "netmarl/learn/dqn.hpp"
#include "netmarl/system.hpp"

namespace nm = netmarl;

namespace {
struct ac_config : nm::default_config {};
struct dqn_config : nm::default_config {
  using learner = nm::learn::dqn;
};

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("netmarl_test_" + name)).string();
}

template <class Sys, class Env>
std::vector<int> greedy_actions(Sys& sys, Env& env) {
  // The learner's greedy choice for the first observation of an episode.
  nm::rng g(99);
  const auto& first = env.reset(g);
  std::vector<nm::rng> rngs(static_cast<std::size_t>(env.num_agents()), nm::rng(1));
  std::vector<int> actions(static_cast<std::size_t>(env.num_agents()));
  nm::graph::csr isolated = nm::graph::isolated(env.num_agents());
  sys.learner().act(nm::learn::decision{first.observations, env.state(), isolated, rngs}, actions,
                    nm::learn::mode::greedy);
  return actions;
}
}  // namespace

TEST_CASE("system checkpoint: actor-critic round trip", "[system][checkpoint]") {
  nm::env::gaussian_squeeze env({.agents = 12, .mu = 20, .sigma = 10});
  nm::system<ac_config> trained(nm::env::spec_of(env), {}, 3);
  trained.train(env, nm::epochs{40});
  const std::string path = temp_path("ac.ckpt");
  trained.save_checkpoint(path);

  nm::system<ac_config> fresh(nm::env::spec_of(env), {}, 7);  // another seed: other weights
  REQUIRE(greedy_actions(fresh, env) != greedy_actions(trained, env));
  fresh.load_checkpoint(path);
  CHECK(greedy_actions(fresh, env) == greedy_actions(trained, env));
  const auto a = trained.learner().checkpoint_tensors();
  const auto b = fresh.learner().checkpoint_tensors();
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(*a[i].tensor == *b[i].tensor);

  // Another hidden width: refused with the shape named, and nothing changed.
  nm::settings<ac_config> wide;
  wide.learner.hidden = 32;
  nm::system<ac_config> other(nm::env::spec_of(env), wide, 7);
  const auto before = greedy_actions(other, env);
  REQUIRE_THROWS_WITH(other.load_checkpoint(path),
                      Catch::Contains("has shape") && Catch::Contains("in the file"));
  CHECK(greedy_actions(other, env) == before);
  std::filesystem::remove(path);
}

TEST_CASE("system checkpoint: dqn round trip includes the target network", "[system][checkpoint]") {
  nm::env::coordination_grid env({.side = 2});
  nm::settings<dqn_config> s;
  s.learner.batch_size = 8;
  s.evaluation_episodes = 0;
  nm::system<dqn_config> trained(nm::env::spec_of(env), s, 1);
  trained.train(env, nm::steps{200});
  const std::string path = temp_path("dqn.ckpt");
  trained.save_checkpoint(path);
  nm::system<dqn_config> fresh(nm::env::spec_of(env), s, 2);
  fresh.load_checkpoint(path);
  const auto a = trained.learner().checkpoint_tensors();
  const auto b = fresh.learner().checkpoint_tensors();
  REQUIRE(a.size() == b.size());
  bool has_target = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].name == b[i].name);
    CHECK(*a[i].tensor == *b[i].tensor);
    has_target = has_target || a[i].name.rfind("target.", 0) == 0;
  }
  CHECK(has_target);
  std::filesystem::remove(path);
}
