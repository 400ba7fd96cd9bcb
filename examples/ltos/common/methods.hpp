#pragma once
// The methods the LToS examples compare (LToS section 5), behind one run-time entry point so each
// method's systems are compiled once, in its own translation unit (method_*.cpp):
//
//   dqn     independent DQN: learn::dqn, no messages, own rewards
//   dgn     DGN: the same dqn over message::attention (LToS's low level without sharing)
//   fixed   "fixed LToS": DGN learning from sharing::fixed rewards (w_ii = selfishness)
//   ltos    LToS: DGN whose rewards follow sharing::learned, the high level trained against it
//   qmix    QMIX: dqn over a factor::qmix mixer of the global reward (no messages)
//
// Every system uses backend::simd<> (the reference kernels are the tests' oracle).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "netmarl/core/tensor.hpp"
#include "netmarl/system.hpp"

namespace netmarl::examples::ltos {

// Which environment, and its sizes.
struct task {
  std::string env = "prisoner";  // prisoner, jungle or traffic
  index corridor = 7;            // prisoner: corridor length (goals at both ends and the middle)
  index agents = 20;             // jungle
  index foods = 12;              // jungle
  index map_size = 30;           // jungle: map side, wall border included
  index episode_length = 120;    // jungle
  index rows = 6, cols = 6;      // traffic
};

// Low level: LToS appendix table 4; high level: table 5. Each main sets its scenario's column.
struct method_options {
  std::string method = "ltos";
  std::vector<index> units = {32, 32};  // MLP units (DGN: encoder widths; DQN: hidden layers)
  index heads = 4;                      // DGN attention heads
  double learning_rate = 1e-3;          // low level, Adam
  double gamma = 0.99;
  double tau = 0.1;  // soft target update every gradient step
  std::int64_t batch = 10;
  std::int64_t buffer = 200'000;
  std::int64_t updates_per_step = 1;
  double epsilon_start = 0.8, epsilon_finish = 0.8;
  std::int64_t epsilon_anneal_steps = 0;  // linear in environment steps (the paper decays per
                                          // episode: start * decay^episode)
  // high level
  double selfishness = 0.5;
  double high_learning_rate = 0.1;  // SGD
  std::int64_t high_update_steps = 1;     // update round every this many steps, or
  std::int64_t high_update_episodes = 0;  // every this many episodes
  std::int64_t action_interval = 1;
  std::int64_t high_sample = 2000, high_batch = 32;
  std::string noise = "gaussian";  // gaussian (epsilon + Gaussian) or ou
  double noise_sigma = 1.0;
  double high_epsilon_start = 0.8, high_epsilon_finish = 0.8;
  std::int64_t high_epsilon_anneal_steps = 0;
  index qmix_embed = 20;
  // loop
  std::int64_t episodes_per_epoch = 50;
  std::int64_t evaluation_episodes = 20;
  std::string evaluation = "greedy";  // or "explore"
};

inline const std::vector<std::string>& method_names() {
  static const std::vector<std::string> names{"dqn", "dgn", "fixed", "ltos", "qmix"};
  return names;
}

std::string method_label(const method_options& m);

// Each agent's w_ii at every step of one greedy episode after training (LToS Fig. 7a), for the
// methods that share (fixed, ltos); empty otherwise.
using selfishness_trace = std::vector<std::vector<float>>;  // [steps][agents]

struct method_result {
  train_result training;
  selfishness_trace selfishness;
};

using epoch_callback = std::function<void(const epoch_report&)>;

method_result train_method(const task& t, const method_options& m, std::uint64_t seed,
                           std::int64_t steps, const epoch_callback& on_epoch);

method_result train_dqn(const task&, const method_options&, std::uint64_t, std::int64_t,
                        const epoch_callback&);
method_result train_dgn(const task&, const method_options&, std::uint64_t, std::int64_t,
                        const epoch_callback&);
method_result train_fixed(const task&, const method_options&, std::uint64_t, std::int64_t,
                          const epoch_callback&);
method_result train_ltos(const task&, const method_options&, std::uint64_t, std::int64_t,
                         const epoch_callback&);
method_result train_qmix(const task&, const method_options&, std::uint64_t, std::int64_t,
                         const epoch_callback&);

}  // namespace netmarl::examples::ltos
