// Cooperative navigation (IP appendix D.2 and G, Fig. 11; environments.md 2.2): N agents cover N
// landmarks in MPE point-mass physics; the team reward is minus the summed distance from each
// landmark to its nearest agent, minus collisions, over 25-step episodes. Each agent talks to its
// 4 nearest agents (a dynamic k-nearest graph). --violation-weight adds appendix F.3's
// log-distance term, where far agents matter and more hops should help (--hops 1/2/3).
//
//   cooperative_navigation [--agents 15] [--method mean_field|loopy_bp|independent|dgn]
//                          [--hops 2] [--steps 30000] [--seeds 3] [--violation-weight 0]
//                          [--continuous-actions]
//                          [--out c.csv --summary s.json --plot p.png]
#include "intention_propagation/common/run.hpp"

int main(int argc, char** argv) {
  namespace nm = netmarl;
  namespace ip = nm::examples::ip;
  ip::experiment e;
  e.tool = "cooperative_navigation";
  e.description =
      "Intention Propagation (Qu et al.) appendix D.2: cooperative navigation (MPE simple "
      "spread) on a dynamic 4-nearest graph";
  e.env_label = "cooperative navigation";
  e.agents = 15;
  e.steps = 30'000;
  // Budget-sized defaults (IP table 2's 128 units, batch 1024 and 8 gradient steps per step would
  // take days here); --hidden/--batch/--gradient-steps/--lr restore them.
  e.method.hidden = 64;
  e.method.learning_rate = 1e-3;
  e.method.batch = 64;
  e.method.buffer = 100'000;
  e.method.gradient_steps = 1;
  e.method.episodes_per_epoch = 40;
  e.method.evaluation_episodes = 10;
  e.method.epsilon_anneal_steps = 25'000;
  nm::index landmarks = 0;
  double violation_weight = 0;
  bool continuous_actions = false;
  e.extra_flags = [&](CLI::App& app) {
    app.add_option("--landmarks", landmarks, "landmarks (0: as many as agents)")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app.add_option("--violation-weight", violation_weight,
                   "weight of IP appendix F.3's sum of log inter-agent distances (0: off)")
        ->capture_default_str();
    app.add_flag("--continuous-actions", continuous_actions,
                 "2-D forces in [-1, 1]^2 instead of MPE's five discrete pushes; the soft "
                 "actor-critic then uses its Gaussian (reparameterised, tanh-squashed) head "
                 "(not with --method dgn)");
  };
  e.make_task = [&](nm::index agents) {
    ip::task t;
    t.env = "cooperative_navigation";
    t.agents = agents;
    t.landmarks = landmarks;
    t.episode_length = 25;
    t.violation_weight = violation_weight;
    t.continuous_actions = continuous_actions;
    return t;
  };
  return ip::run_experiment(argc, argv, e);
}
