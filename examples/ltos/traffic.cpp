// LToS section 5.3, traffic (environments.md 3.3): a rows x cols grid of signalised
// intersections, each an agent choosing the phase of its next 10 s; vehicles arrive on straight
// routes by LToS table 2's schedule. Reward: -0.25 x queued vehicles at the intersection.
// Metric: the average number of red lights a vehicle waits for per intersection (table 3; lower
// is better). Ours is a queue-level simulator, not CityFlow: the methods' ranking is what carries
// over, not the absolute numbers.
//
//   traffic [--method ltos|fixed|dgn|dqn|qmix] [--rows 4 --cols 4] [--steps ...]
//           [--selfishness-plot w.png]
#include "ltos/common/run.hpp"

int main(int argc, char** argv) {
  namespace nm = netmarl;
  namespace ltos = nm::examples::ltos;
  ltos::experiment e;
  e.tool = "traffic";
  e.description = "LToS (Yi et al.) section 5.3: traffic-signal control on a grid (--agents is "
                  "rows x cols, set by --rows and --cols)";
  e.env_label = "traffic";
  e.metric = "red_lights_per_intersection";
  e.lower_is_better = true;
  e.agents = 16;
  e.steps = 36'000;  // 100 episodes of 360 decisions
  // LToS tables 4 and 5, traffic column (the paper's low level uses RMSProp; our dqn uses Adam).
  auto& m = e.method;
  m.units = {32, 32};
  m.heads = 1;
  m.learning_rate = 1e-3;
  m.gamma = 0.8;
  m.tau = 0.1;
  m.batch = 20;
  m.buffer = 10'000;
  m.epsilon_start = 0.4;
  m.epsilon_finish = 0.05;
  m.epsilon_anneal_steps = 10'800;  // the paper's 0.4 * 0.9^episode reaches 0.05 in ~20 episodes
  m.selfishness = 0.8;
  m.high_learning_rate = 1e-3;
  m.high_update_steps = 0;
  m.high_update_episodes = 20;
  m.action_interval = 15;
  m.high_sample = 1000;
  m.high_batch = 20;
  m.noise = "ou";
  m.noise_sigma = 0.25;
  m.high_epsilon_start = 0.4;
  m.high_epsilon_finish = 0.05;
  m.high_epsilon_anneal_steps = 10'800;
  m.qmix_embed = 16;
  m.episodes_per_epoch = 2;
  m.evaluation_episodes = 1;
  nm::index rows = 4, cols = 4;
  e.extra_flags = [&](CLI::App& app) {
    app.add_option("--rows", rows, "intersection rows (the paper: 6)")->check(CLI::PositiveNumber)->capture_default_str();
    app.add_option("--cols", cols, "intersection columns (the paper: 6)")->check(CLI::PositiveNumber)->capture_default_str();
  };
  e.make_task = [&](nm::index agents) {
    if (agents != rows * cols)
      throw nm::invalid_argument("--agents (" + std::to_string(agents) + ") must equal --rows x --cols (" +
                                 std::to_string(rows * cols) + "); set --rows and --cols");
    ltos::task t;
    t.env = "traffic";
    t.rows = rows;
    t.cols = cols;
    return t;
  };
  e.reference = nm::examples::reference_line{0.5, "paper's lower bound (CityFlow)"};
  return ltos::run_experiment(argc, argv, e);
}
