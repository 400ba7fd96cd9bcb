#pragma once
// What the Intention Propagation mains share: the flags (common ones, the method and its learner
// settings), the seeds loop with a progress bar, and the CSV / JSON / PNG outputs. The budget is
// environment steps, so methods are compared at equal interaction (as the paper's plots are).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "common/final_score.hpp"
#include "common/flags.hpp"
#include "common/plot.hpp"
#include "common/summary.hpp"
#include "intention_propagation/common/methods.hpp"
#include "netmarl/io/learning_curve.hpp"
#include "netmarl/io/progress.hpp"

namespace netmarl::examples::ip {

// One experiment of the paper: its defaults and how to read the flags into a task.
struct experiment {
  std::string tool;         // the program's name
  std::string description;  // --help's first line
  std::string env_label;    // "coordination grid" (the JSON's and the plot's environment)
  std::string metric = "reward";
  index agents = 9;
  std::int64_t steps = 10'000;
  method_options method;
  std::function<void(CLI::App&)> extra_flags = [](CLI::App&) {};
  std::function<task(index agents)> make_task;
  std::optional<reference_line> reference;
};

inline void add_method_flags(CLI::App& app, method_options& m) {
  app.add_option("--method", m.method,
                 "mean_field or loopy_bp (intention propagation), independent (no messages), "
                 "dgn (dqn over DGN attention), random (uniform actions)")
      ->check(CLI::IsMember(method_names()))
      ->capture_default_str();
  app.add_option("--hops", m.hops, "message-passing rounds M (IP: 2)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--hidden", m.hidden, "units per hidden layer (IP table 2: 128)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--lr", m.learning_rate, "Adam learning rate of every network (IP table 2: 0.01)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--gamma", m.gamma, "discount")->check(CLI::Range(0.0, 1.0))->capture_default_str();
  app.add_option("--alpha", m.alpha, "entropy weight (IP table 2: 0.2)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--tau", m.tau, "Polyak coefficient of the target V (IP table 2: 0.01)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--batch", m.batch, "transitions per gradient step (IP table 2: 1024)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--buffer", m.buffer, "replay capacity in transitions (IP table 2: 1e6)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--gradient-steps", m.gradient_steps,
                 "gradient steps per update round (IP table 2: 8)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--train-interval", m.train_interval, "environment steps between update rounds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--episodes-per-epoch", m.episodes_per_epoch,
                 "training episodes between two evaluations (one learning-curve point)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--eval-episodes", m.evaluation_episodes, "evaluation episodes per epoch")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--eval-mode", m.evaluation,
                 "greedy: evaluate the argmax action; sample: evaluate actions drawn from the "
                 "policy (dgn: epsilon-greedy)")
      ->check(CLI::IsMember({"greedy", "sample"}))
      ->capture_default_str();
  app.add_option("--policy-neighbours", m.policy_neighbours,
                 "what the policy loss feeds Q_i for the neighbours' actions: expected (their "
                 "probabilities; the gradient reaches them) or sampled (one draw; it does not)")
      ->check(CLI::IsMember({"expected", "sampled"}))
      ->capture_default_str();
  app.add_option("--epsilon-anneal", m.epsilon_anneal_steps,
                 "dgn: environment steps of epsilon's linear decay from 1 to 0.05")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
}

inline int run_experiment(int argc, char** argv, experiment e) {
  CLI::App app{e.description};
  app.name(e.tool);
  common_options o;
  o.agents = e.agents;
  o.steps = e.steps;
  method_options& m = e.method;
  add_common_flags(app, o, budget_flags::steps);
  add_method_flags(app, m);
  e.extra_flags(app);
  if (int rc = parse_flags(app, argc, argv); rc >= 0) return rc;
  try {
    if (m.buffer < m.batch)
      throw invalid_argument("--buffer (" + std::to_string(m.buffer) + ") must be >= --batch (" +
                             std::to_string(m.batch) + ")");
    const task t = e.make_task(o.agents);
    const std::string method = method_label(m);
    io::learning_curve curve("epoch", e.metric, {e.metric + "_std", "train_" + e.metric,
                                                 "critic_loss", "actor_loss"});
    std::vector<double> finals;
    const auto start = std::chrono::steady_clock::now();
    for (std::uint64_t seed : seed_list(o)) {
      io::progress_bar bar(o.steps, "seed " + std::to_string(seed), std::cerr, !o.quiet);
      const train_result r = train_method(o.backend, t, m, seed, o.steps, [&](const epoch_report& x) {
        curve.add(seed, x.epoch, x.env_steps, x.metric,
                  {x.metric_std, x.train_metric, x.stats.critic_loss, x.stats.actor_loss});
        bar.update(std::min(x.env_steps, o.steps), {{e.metric, x.metric}});
      });
      bar.finish();
      finals.push_back(final_score(r));
      std::printf("seed %llu: final %s %.3f (%lld steps, %.1f s)\n",
                  static_cast<unsigned long long>(seed), e.metric.c_str(), finals.back(),
                  static_cast<long long>(r.curve.empty() ? 0 : r.curve.back().env_steps),
                  r.wall_seconds);
      std::fflush(stdout);
    }
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto stats = io::mean_and_std(finals);
    const std::string env_name = e.env_label + "[" + std::to_string(o.agents) + "]";
    std::printf("%s, %s: final %s %.3f +- %.3f over %d seed(s); %lld steps; %.1f s\n",
                env_name.c_str(), method.c_str(), e.metric.c_str(), stats.mean, stats.std, o.seeds,
                static_cast<long long>(o.steps), wall);
    if (!o.out_csv.empty()) curve.write_csv(o.out_csv);
    if (!o.summary_json.empty()) {
      run_summary s;
      s.env = env_name;
      s.method = method;
      s.metric = e.metric;
      s.final = stats.mean;
      s.final_std = stats.std;
      s.seeds = o.seeds;
      s.budget = format_budget({{o.steps, "steps"}});
      s.wall_seconds = wall;
      s.extra["method_id"] = m.method;
      s.extra["hops"] = m.hops;
      s.extra["hidden"] = m.hidden;
      s.extra["learning_rate"] = m.learning_rate;
      s.extra["batch"] = m.batch;
      s.extra["gradient_steps"] = m.gradient_steps;
      s.extra["evaluation"] = m.evaluation;
      s.extra["policy_neighbours"] = m.policy_neighbours;
      s.extra["finals"] = finals;
      s.extra["backend"] = o.backend;
      if (e.reference) s.extra[e.reference->label] = e.reference->y;
      write_summary(o.summary_json, s);
    }
    if (!o.plot_png.empty())
      plot_learning_curve(curve, o.plot_png, env_name + ", " + method, "env_steps", e.metric,
                          e.reference);
    return 0;
  } catch (const error& x) {
    std::cerr << e.tool << ": " << x.what() << "\n";
    return 1;
  }
}

}  // namespace netmarl::examples::ip
