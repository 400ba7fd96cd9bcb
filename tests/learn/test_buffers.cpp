// The learners' buffers: Monte-Carlo returns, and which agents count as alive at each step.
#include <catch2/catch.hpp>
#include <vector>

#include "netmarl/graph/generators.hpp"
#include "netmarl/learn/epoch_buffer.hpp"
#include "netmarl/learn/replay.hpp"

namespace nm = netmarl;

namespace {
// A 2-agent, 3-step episode in which agent 1 dies during step 0.
struct scripted_episode {
  nm::env::spec spec{
      .agents = 2, .observation_size = 1, .actions = 2, .state_size = 1, .episode_limit = 3};
  nm::matrix<float> obs = nm::matrix<float>::Zero(2, 1);
  std::vector<float> state{0.0f};
  nm::graph::csr graph = nm::graph::isolated(2);
  std::vector<int> actions{1, 0};

  template <class Buffer>
  void play(Buffer& buffer) {
    const std::vector<std::vector<float>> rewards{{1, 2}, {3, 0}, {5, 0}};
    const std::vector<std::vector<std::uint8_t>> done{{0, 1}, {0, 1}, {1, 1}};
    for (std::size_t t = 0; t < 3; ++t) {
      buffer.push(nm::learn::transition{obs, state, graph, actions, rewards[t],
                                        rewards[t][0] + rewards[t][1], obs, state, graph, done[t],
                                        t == 2});
    }
  }
};
}  // namespace

TEST_CASE("epoch_buffer: returns, and agents that died earlier are masked", "[learn][buffers]") {
  scripted_episode e;
  nm::learn::epoch_buffer<double> buffer(e.spec);
  e.play(buffer);
  buffer.finish_episode(0.5);
  REQUIRE(buffer.steps() == 3);
  // Agent 0: 1 + 0.5 (3 + 0.5 * 5) = 3.75; agent 1: 2.
  CHECK(buffer.agent_returns()(0, 0) == Approx(3.75));
  CHECK(buffer.agent_returns()(0, 1) == Approx(2.0));
  CHECK(buffer.global_returns()(0, 0) == Approx(3 + 0.5 * (3 + 0.5 * 5)));
  // Agent 1 acted alive at step 0 (it died during it), not afterwards.
  CHECK(buffer.alive()(0, 1) == 1.0);
  CHECK(buffer.alive()(1, 1) == 0.0);
  CHECK(buffer.alive()(2, 1) == 0.0);
  CHECK(buffer.alive()(2, 0) == 1.0);
  // A new episode starts with everyone alive.
  e.play(buffer);
  CHECK(buffer.alive()(3, 1) == 1.0);
}

TEST_CASE("replay_buffer: alive and next_alive follow the done flags", "[learn][buffers]") {
  scripted_episode e;
  nm::learn::replay_buffer<float> replay(e.spec, 8, false);
  e.play(replay);
  e.play(replay);
  REQUIRE(replay.size() == 6);
  CHECK(replay.alive()(0, 1) == 1.0f);
  CHECK(replay.next_alive()(0, 1) == 0.0f);
  CHECK(replay.alive()(1, 1) == 0.0f);
  CHECK(replay.next_alive()(2, 0) == 0.0f);
  CHECK(replay.done()(2, 0) == 1.0f);
  CHECK(replay.alive()(3, 1) == 1.0f);  // the next episode
  nm::rng g(0);
  std::vector<std::int64_t> indices(100);
  replay.sample(g, indices);
  for (auto i : indices) CHECK((i >= 0 && i < 6));
}
