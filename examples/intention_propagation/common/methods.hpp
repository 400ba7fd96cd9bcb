#pragma once
// The methods the Intention Propagation examples compare, behind one run-time entry point so each
// (method, environment, backend) system is compiled once, in its own translation unit
// (method_*.cpp), instead of in every main.
//
//   mean_field    IP: soft actor-critic whose policy is message::mean_field (IP appendix B.1)
//   loopy_bp      IP with message::loopy_bp (IP appendix B.2)
//   independent   the same soft actor-critic with message::none (IP appendix F.1's baseline)
//   dgn           DGN: dqn over message::attention (Jiang et al. 2020)
//   random        uniform random actions (the floor every method should clear)
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "netmarl/core/tensor.hpp"
#include "netmarl/system.hpp"

namespace netmarl::examples::ip {

// Which environment, and its sizes.
struct task {
  std::string env = "coordination_grid";  // or "cooperative_navigation"
  index side = 3;                         // coordination grid: side x side agents
  index agents = 15;                      // cooperative navigation
  index landmarks = 0;                    // 0: as many as agents
  index episode_length = 1;
  bool agent_ids = true;        // coordination grid: one-hot ids, else the constant state
  double violation_weight = 0;  // IP appendix F.3's log-distance term (0: off)
  bool continuous_actions = false;  // cooperative navigation: 2-D forces (the SAC's Gaussian head)
};

// Every learner setting a main exposes. Defaults are IP table 2; the mains override what their
// budget needs and say so in --help.
struct method_options {
  std::string method = "mean_field";
  index hops = 2;
  index hidden = 128;
  index policy_head_layers = 0;  // hidden layers of the policy head (IP: one FC layer on top)
  double learning_rate = 0.01;
  double gamma = 0.95;
  double alpha = 0.2;
  double tau = 0.01;
  std::int64_t batch = 1024;
  std::int64_t buffer = 1'000'000;
  std::int64_t gradient_steps = 8;
  std::int64_t train_interval = 1;
  std::int64_t episodes_per_epoch = 10;
  std::int64_t evaluation_episodes = 10;
  std::int64_t epsilon_anneal_steps = 50'000;  // dgn's epsilon-greedy schedule
  index dgn_target_interval = 200;             // dgn: gradient steps between target copies
  std::string evaluation = "greedy";            // or "sample": actions drawn from the policy
  std::string policy_neighbours = "expected";   // soft_actor_critic::neighbour_actions, or "sampled"
};

inline const std::vector<std::string>& method_names() {
  static const std::vector<std::string> names{"mean_field", "loopy_bp", "independent", "dgn",
                                              "random"};
  return names;
}

// What a method reports as its name in outputs ("IP (mean-field, M = 2)").
std::string method_label(const method_options& m);

using epoch_callback = std::function<void(const epoch_report&)>;

// Trains one seed for `steps` environment steps; calls on_epoch after every epoch.
train_result train_method(const std::string& backend, const task& t, const method_options& m,
                          std::uint64_t seed, std::int64_t steps, const epoch_callback& on_epoch);

// One per method, in method_<name>.cpp.
train_result train_mean_field(const std::string& backend, const task& t, const method_options& m,
                              std::uint64_t seed, std::int64_t steps, const epoch_callback& cb);
train_result train_loopy_bp(const std::string& backend, const task& t, const method_options& m,
                            std::uint64_t seed, std::int64_t steps, const epoch_callback& cb);
train_result train_independent(const std::string& backend, const task& t, const method_options& m,
                               std::uint64_t seed, std::int64_t steps, const epoch_callback& cb);
train_result train_dgn(const std::string& backend, const task& t, const method_options& m,
                       std::uint64_t seed, std::int64_t steps, const epoch_callback& cb);
train_result train_random(const std::string& backend, const task& t, const method_options& m,
                          std::uint64_t seed, std::int64_t steps, const epoch_callback& cb);

}  // namespace netmarl::examples::ip
