#pragma once
// What the LToS mains share: the flags (common ones, the method, the low level of LToS table 4
// and the high level of table 5), the seeds loop with a progress bar, and the CSV / JSON / PNG
// outputs. The budget is environment steps, so methods are compared at equal interaction.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "common/final_score.hpp"
#include "common/flags.hpp"
#include "common/plot.hpp"
#include "common/summary.hpp"
#include "ltos/common/methods.hpp"
#include "netmarl/io/learning_curve.hpp"
#include "netmarl/io/progress.hpp"

namespace netmarl::examples::ltos {

// One experiment of the paper: its defaults and how to read the flags into a task.
struct experiment {
  std::string tool;
  std::string description;
  std::string env_label;
  std::string metric = "return";
  bool lower_is_better = false;
  index agents = 2;
  std::int64_t steps = 10'000;
  method_options method;
  std::function<void(CLI::App&)> extra_flags = [](CLI::App&) {};
  std::function<task(index agents)> make_task;
  std::optional<reference_line> reference;
};

inline void add_method_flags(CLI::App& app, method_options& m) {
  app.add_option("--method", m.method,
                 "dqn (independent DQN), dgn (DQN over DGN attention), fixed (fixed LToS), ltos "
                 "(learned sharing), qmix")
      ->check(CLI::IsMember(method_names()))
      ->capture_default_str();
  app.add_option("--units", m.units, "MLP units (LToS table 4): DGN's encoder, DQN's hidden layers")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--heads", m.heads, "DGN attention heads")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--lr", m.learning_rate, "low-level Adam learning rate")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--gamma", m.gamma, "discount")->check(CLI::Range(0.0, 1.0))->capture_default_str();
  app.add_option("--tau", m.tau, "soft target update per gradient step")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--batch", m.batch, "low-level minibatch")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--buffer", m.buffer, "low-level replay capacity")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--updates-per-step", m.updates_per_step, "low-level gradient steps per env step")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--epsilon-start", m.epsilon_start, "epsilon-greedy: start")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--epsilon-finish", m.epsilon_finish, "epsilon-greedy: end")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--epsilon-anneal", m.epsilon_anneal_steps, "epsilon-greedy: linear decay steps")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--selfishness", m.selfishness,
                 "fixed: w_ii; ltos: the initial w_ii (selfishness initializer)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--high-lr", m.high_learning_rate, "high level: SGD learning rate (LToS table 5)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--high-update-steps", m.high_update_steps,
                 "high level: an update round every this many steps (0: use --high-update-episodes)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--high-update-episodes", m.high_update_episodes,
                 "high level: an update round every this many episodes")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--action-interval", m.action_interval, "high level: acts every M steps")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--high-sample", m.high_sample, "high level: samples per update round")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--high-batch", m.high_batch, "high level: samples per gradient step")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--noise", m.noise, "high-level exploration: gaussian (epsilon + Gaussian) or ou")
      ->check(CLI::IsMember({"gaussian", "ou"}))
      ->capture_default_str();
  app.add_option("--noise-sigma", m.noise_sigma, "high-level noise sigma (OU: scaled by epsilon)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--high-epsilon", m.high_epsilon_start, "high level: epsilon at the start")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--high-epsilon-finish", m.high_epsilon_finish, "high level: epsilon at the end")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--high-epsilon-anneal", m.high_epsilon_anneal_steps,
                 "high level: linear decay steps of its epsilon")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--episodes-per-epoch", m.episodes_per_epoch,
                 "training episodes between two evaluations (one learning-curve point)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--eval-episodes", m.evaluation_episodes, "evaluation episodes per epoch")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--eval-mode", m.evaluation, "greedy or explore (epsilon-greedy, noisy sharing)")
      ->check(CLI::IsMember({"greedy", "explore"}))
      ->capture_default_str();
}

// One line per agent of w_ii over an episode (LToS Fig. 7a): CSV beside the PNG.
inline void write_selfishness(const selfishness_trace& trace, const std::string& png,
                              const std::string& title) {
  namespace fs = std::filesystem;
  if (trace.empty()) return;
  fs::path csv = png;
  csv.replace_extension(".csv");
  {
    std::ofstream out(csv);
    out << "step";
    for (std::size_t i = 0; i < trace.front().size(); ++i) out << ",agent_" << i;
    out << '\n';
    for (std::size_t t = 0; t < trace.size(); ++t) {
      out << t;
      for (float w : trace[t]) out << ',' << w;
      out << '\n';
    }
  }
  const detail::gnuplot_probe& gp = detail::probe_gnuplot();
  if (gp.terminal.empty()) {
    detail::warn_plot(png, gp.why);
    return;
  }
  const fs::path script = detail::make_temp_file("netmarl-selfishness");
  {
    std::ofstream out(script);
    out << "set terminal " << gp.terminal << " noenhanced size 960,600\n"
        << "set output " << detail::gnuplot_quote(png) << "\n"
        << "set title " << detail::gnuplot_quote(title) << "\n"
        << "set xlabel 'step'\nset ylabel 'selfishness w_ii'\nset yrange [0:1]\nset grid\n"
        << "set datafile separator ','\nset key outside right\n"
        << "plot for [i=2:" << trace.front().size() + 1 << "] " << detail::gnuplot_quote(csv.string())
        << " using 1:i with lines title columnheader(i)\n";
  }
  const auto r = detail::run_command("gnuplot " + detail::shell_quote(script.string()));
  std::error_code ec;
  fs::remove(script, ec);
  if (r.status != 0) detail::warn_plot(png, "gnuplot failed: " + r.output);
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
  std::string selfishness_png;
  app.add_option("--selfishness-plot", selfishness_png,
                 "fixed/ltos: plot each agent's w_ii over one greedy episode after training (LToS "
                 "Fig. 7a), last seed; the CSV goes beside it")
      ->type_name("FILE.png")
      ->check(detail::writable_file());
  e.extra_flags(app);
  if (int rc = parse_flags(app, argc, argv); rc >= 0) return rc;
  try {
    if (o.backend != "simd")
      throw invalid_argument("the LToS examples are built for the simd backend only (the "
                             "reference kernels are the tests' oracle), got --backend " + o.backend);
    if (m.buffer < m.batch)
      throw invalid_argument("--buffer (" + std::to_string(m.buffer) + ") must be >= --batch (" +
                             std::to_string(m.batch) + ")");
    if ((m.high_update_steps > 0) == (m.high_update_episodes > 0))
      throw invalid_argument("set exactly one of --high-update-steps and --high-update-episodes");
    const task t = e.make_task(o.agents);
    const std::string method = method_label(m);
    io::learning_curve curve("epoch", e.metric,
                             {e.metric + "_std", "train_" + e.metric, "critic_loss"});
    std::vector<double> finals;
    selfishness_trace trace;
    const auto start = std::chrono::steady_clock::now();
    for (std::uint64_t seed : seed_list(o)) {
      io::progress_bar bar(o.steps, "seed " + std::to_string(seed), std::cerr, !o.quiet);
      const method_result r = train_method(t, m, seed, o.steps, [&](const epoch_report& x) {
        curve.add(seed, x.epoch, x.env_steps, x.metric,
                  {x.metric_std, x.train_metric, x.stats.critic_loss});
        bar.update(std::min(x.env_steps, o.steps), {{e.metric, x.metric}});
      });
      bar.finish();
      trace = r.selfishness;
      finals.push_back(final_score(r.training));
      std::printf("seed %llu: final %s %.3f (%lld steps, %.1f s)\n",
                  static_cast<unsigned long long>(seed), e.metric.c_str(), finals.back(),
                  static_cast<long long>(r.training.curve.empty() ? 0 : r.training.curve.back().env_steps),
                  r.training.wall_seconds);
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
      s.extra["lower_is_better"] = e.lower_is_better;
      s.extra["finals"] = finals;
      s.extra["units"] = m.units;
      s.extra["learning_rate"] = m.learning_rate;
      s.extra["selfishness"] = m.selfishness;
      s.extra["high_learning_rate"] = m.high_learning_rate;
      if (e.reference) s.extra[e.reference->label] = e.reference->y;
      write_summary(o.summary_json, s);
    }
    if (!o.plot_png.empty())
      plot_learning_curve(curve, o.plot_png, env_name + ", " + method, "env_steps", e.metric,
                          e.reference);
    if (!selfishness_png.empty())
      write_selfishness(trace, selfishness_png, env_name + ", " + method + ": selfishness");
    return 0;
  } catch (const error& x) {
    std::cerr << e.tool << ": " << x.what() << "\n";
    return 1;
  }
}

}  // namespace netmarl::examples::ltos
