// Intention Propagation's toy task (IP appendix F.1, Fig. 7; environments.md 2.1): n x n agents on
// a 4-neighbour grid pick a_i in {0, 1}; the team reward -sum over edges (a_i - a_j)^2 is 0 when
// all agree. The paper: intention propagation reaches 0, an independent policy stays near random
// (-6 on 3x3). Every method here uses the same soft actor-critic and budget; only the policy's
// message passing differs (--method).
//
//   coordination_grid [--agents 9] [--method mean_field|loopy_bp|independent|dgn] [--hops 2]
//                     [--steps 3000] [--seeds 3] [--out c.csv --summary s.json --plot p.png]
#include <cmath>

#include "intention_propagation/common/run.hpp"

int main(int argc, char** argv) {
  namespace nm = netmarl;
  namespace ip = nm::examples::ip;
  ip::experiment e;
  e.tool = "coordination_grid";
  e.description =
      "Intention Propagation (Qu et al.) appendix F.1: the coordination grid; --agents must be a "
      "square (n x n grid)";
  e.env_label = "coordination grid";
  e.agents = 9;
  e.steps = 3000;
  // Small networks and batches for a 9-agent one-step game; gamma 0: every episode is one step.
  e.method.hidden = 32;
  e.method.learning_rate = 3e-3;
  e.method.gamma = 0;
  e.method.batch = 32;
  e.method.buffer = 3000;
  e.method.gradient_steps = 1;
  e.method.episodes_per_epoch = 50;
  e.method.evaluation_episodes = 10;
  e.method.epsilon_anneal_steps = 2500;
  e.method.dgn_target_interval = 50;
  bool constant_observation = false;
  e.extra_flags = [&](CLI::App& app) {
    app.add_flag("--constant-observation", constant_observation,
                 "every agent observes the constant state (the paper's setting) instead of "
                 "its one-hot id");
  };
  e.make_task = [&](nm::index agents) {
    const auto side = static_cast<nm::index>(std::lround(std::sqrt(static_cast<double>(agents))));
    if (side * side != agents)
      throw nm::invalid_argument("--agents must be a square (the grid is n x n), got " +
                                 std::to_string(agents));
    ip::task t;
    t.env = "coordination_grid";
    t.side = side;
    t.episode_length = 1;
    t.agent_ids = !constant_observation;
    return t;
  };
  e.reference = nm::examples::reference_line{0.0, "optimum"};
  return ip::run_experiment(argc, argv, e);
}
