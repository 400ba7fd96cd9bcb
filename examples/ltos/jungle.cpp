// LToS section 5.2, jungle (environments.md 3.2; MAgent's "eat" as used by DGN): N agents and L
// stationary foods on a walled grid. Eating pays +1, attacking another agent +2 to the attacker and
// -4 to the victim (negative-sum), every attack costs 0.01. Each agent reads its 3 nearest agents.
// Metric: the average reward per agent per step (the paper's table 1; upper bound about 0.95 at
// N = 20). The paper's setting is N = 20, 12 foods, 30 x 30; the defaults here are the shrunk
// setting of examples/ltos/README.md (N = 10, 6 foods, 20 x 20) so that a run fits this machine.
//
//   jungle [--method ltos|fixed|dgn|dqn|qmix] [--agents 10] [--foods 6] [--map 20] [--steps ...]
#include "ltos/common/run.hpp"

int main(int argc, char** argv) {
  namespace nm = netmarl;
  namespace ltos = nm::examples::ltos;
  ltos::experiment e;
  e.tool = "jungle";
  e.description = "LToS (Yi et al.) section 5.2: jungle (MAgent eat scenario, DGN's setting)";
  e.env_label = "jungle";
  e.metric = "reward_per_agent_step";
  e.agents = 10;
  e.steps = 60'000;
  // LToS table 4 (jungle: Adam 1e-4, gamma 0.96, tau 0.01, 512 & 128 units, 4 heads) with the
  // widths and learning rate scaled to the shrunk map; table 5 (jungle: SGD 1e-4, OU sigma
  // 0.025 epsilon, an update round every 100 episodes of 5000 samples in batches of 32).
  auto& m = e.method;
  m.units = {128, 64};
  m.heads = 4;
  m.learning_rate = 3e-4;
  m.gamma = 0.96;
  m.tau = 0.01;
  m.batch = 32;
  m.buffer = 100'000;
  m.epsilon_start = 0.6;
  m.epsilon_finish = 0.01;
  m.epsilon_anneal_steps = 40'000;
  m.selfishness = 0.5;
  m.high_learning_rate = 1e-3;
  m.high_update_steps = 0;
  m.high_update_episodes = 10;
  m.action_interval = 1;
  m.high_sample = 320;
  m.high_batch = 32;
  m.noise = "ou";
  m.noise_sigma = 0.025;
  m.high_epsilon_start = 0.6;
  m.high_epsilon_finish = 0.01;
  m.high_epsilon_anneal_steps = 40'000;
  m.qmix_embed = 32;
  m.episodes_per_epoch = 10;
  m.evaluation_episodes = 5;
  nm::index foods = 6, map = 20, episode = 120;
  e.extra_flags = [&](CLI::App& app) {
    app.add_option("--foods", foods, "stationary foods L (the paper: 12 at N = 20)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--map", map, "map side, wall border included (the paper: 30)")
        ->check(CLI::Range(5, 1000))
        ->capture_default_str();
    app.add_option("--episode", episode, "steps per episode (DGN's code: 120)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
  };
  e.make_task = [&](nm::index agents) {
    if (agents < 2) throw nm::invalid_argument("jungle needs at least 2 agents, got " + std::to_string(agents));
    ltos::task t;
    t.env = "jungle";
    t.agents = agents;
    t.foods = foods;
    t.map_size = map;
    t.episode_length = episode;
    return t;
  };
  return ltos::run_experiment(argc, argv, e);
}
