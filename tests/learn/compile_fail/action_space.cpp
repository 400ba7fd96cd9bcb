// Built by tests/learn/extra.cmake. Without NETMARL_BREAK_ACTION_SPACE it must compile and run: a
// learner that acts only with continuous actions drives a ContinuousEnvironment that has no
// discrete step through the whole system loop. With NETMARL_BREAK_ACTION_SPACE=1 (a discrete-only
// learner, actor_critic, on that environment) or =2 (the continuous-only learner on a discrete
// environment) the build must fail with exactly one error, the sentence that names the mismatch.
#include <cmath>
#include <span>
#include <string>

#include "netmarl/env/gaussian_squeeze.hpp"
#include "netmarl/factor/independent.hpp"
#include "netmarl/system.hpp"

namespace nm = netmarl;

// One agent on a line: the action moves it, the reward is minus its distance to 0.
class line_world {
 public:
  std::string name() const { return "line_world"; }
  nm::index num_agents() const { return 1; }
  nm::index observation_size() const { return 1; }
  nm::index action_size() const { return 1; }
  nm::index state_size() const { return 1; }
  nm::index episode_limit() const { return 4; }
  const nm::env::step_result& reset(nm::rng& g) {
    result_.resize(1, 1);
    result_.begin_episode();
    x_ = static_cast<float>(g.uniform(-1, 1));
    time_ = 0;
    result_.observations(0, 0) = x_;
    return result_;
  }
  const nm::env::step_result& step(std::span<const float> actions) {
    result_.check_can_step(name());
    nm::env::check_continuous_actions(actions, 1, 1, name());
    x_ += 0.5f * actions[0];
    result_.observations(0, 0) = x_;
    result_.rewards[0] = result_.global_reward = -std::abs(x_);
    result_.episode_done = ++time_ >= episode_limit();
    return result_;
  }
  std::span<const float> state() const { return {&x_, 1}; }

 private:
  nm::env::step_result result_;
  float x_ = 0;
  int time_ = 0;
};
static_assert(nm::env::ContinuousEnvironment<line_world> && !nm::env::Environment<line_world>);

// Acts at random in [-1, 1] and counts what it observes; continuous actions only.
struct random_continuous {
  struct settings {};
  template <class Slots>
  struct model {
    model(const nm::env::spec& spec, const nm::learn::slot_settings<Slots>&, nm::rng&) {
      if (!spec.continuous_actions()) throw nm::invalid_argument("random_continuous: discrete spec");
    }
    void act(const nm::learn::decision& d, std::span<float> actions, nm::learn::mode) {
      for (float& a : actions) a = static_cast<float>(d.agent_rngs[0].uniform(-1, 1));
    }
    void observe(const nm::learn::transition& t) {
      if (t.continuous_actions.size() != 1 || !t.actions.empty())
        throw nm::internal_error("random_continuous: the transition carries the wrong actions");
      ++observed;
    }
    void end_episode() {}
    nm::learn::update_stats end_epoch() { return {}; }
    long observed = 0;
  };
};
static_assert(nm::Learner<random_continuous>);

#ifndef NETMARL_BREAK_ACTION_SPACE
#define NETMARL_BREAK_ACTION_SPACE 0
#endif

struct config : nm::default_config {
  using factor = nm::factor::independent;
#if NETMARL_BREAK_ACTION_SPACE != 1
  using learner = random_continuous;
#endif
};

int main() {
#if NETMARL_BREAK_ACTION_SPACE == 2
  nm::env::gaussian_squeeze env({.agents = 1});
#else
  line_world env;
#endif
  nm::settings<config> s;
  s.episodes_per_epoch = 3;
  s.evaluation_episodes = 1;
  const nm::env::spec spec{.agents = 1, .observation_size = 1, .state_size = 1,
                           .episode_limit = 4, .action_size = 1};
  nm::system<config> sys(spec, s, 0);
  sys.train(env, nm::epochs{2});
#if NETMARL_BREAK_ACTION_SPACE == 0
  // 2 epochs x 3 episodes x 4 steps observed; the evaluation episodes are not.
  return sys.learner().observed == 24 && sys.env_steps() == 24 ? 0 : 1;
#else
  return 0;
#endif
}
