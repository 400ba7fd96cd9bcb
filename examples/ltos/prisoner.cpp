// LToS section 5.1, prisoner (environments.md 3.1): two agents in a corridor; the middle goal is
// one step away, their own ends two. Selfish learners meet in the middle ("defect/defect", about
// 0.49 each); sharing rewards lets both walk to their own ends (0.98 each). Metric: the average
// return of the two agents (greedy evaluation).
//
//   prisoner [--method ltos|fixed|dgn|dqn|qmix] [--steps 20000] [--seeds 3]
//            [--out c.csv --summary s.json --plot p.png]
#include "ltos/common/run.hpp"

int main(int argc, char** argv) {
  namespace nm = netmarl;
  namespace ltos = nm::examples::ltos;
  ltos::experiment e;
  e.tool = "prisoner";
  e.description = "LToS (Yi et al.) section 5.1: the prisoner corridor; --agents must be 2";
  e.env_label = "prisoner";
  e.agents = 2;
  e.steps = 20'000;
  // LToS tables 4 and 5, prisoner column; --selfishness 0.5 makes fixed LToS optimise the
  // average return (appendix C).
  auto& m = e.method;
  m.units = {32, 32};
  m.heads = 4;
  m.learning_rate = 1e-3;
  m.gamma = 0.99;
  m.tau = 0.1;
  m.batch = 10;
  m.buffer = 200'000;
  m.epsilon_start = m.epsilon_finish = 0.8;
  m.selfishness = 0.5;
  m.high_learning_rate = 0.1;
  m.high_update_steps = 1;
  m.action_interval = 1;
  m.high_sample = 2000;
  m.high_batch = 32;
  m.noise = "gaussian";
  m.noise_sigma = 1.0;
  m.high_epsilon_start = m.high_epsilon_finish = 0.8;
  m.qmix_embed = 20;
  m.episodes_per_epoch = 200;
  m.evaluation_episodes = 20;
  nm::index corridor = 7;
  e.extra_flags = [&](CLI::App& app) {
    app.add_option("--corridor", corridor,
                   "corridor length, odd (goals at both ends and the middle; agents start next to "
                   "the middle)")
        ->check(CLI::Range(5, 1001))
        ->capture_default_str();
  };
  e.make_task = [&](nm::index agents) {
    if (agents != 2) throw nm::invalid_argument("prisoner has 2 agents, got --agents " + std::to_string(agents));
    if (corridor % 2 == 0)
      throw nm::invalid_argument("--corridor must be odd (a middle cell), got " + std::to_string(corridor));
    ltos::task t;
    t.env = "prisoner";
    t.corridor = corridor;
    return t;
  };
  e.reference = nm::examples::reference_line{1.0, "highest possible"};
  return ltos::run_experiment(argc, argv, e);
}
