#pragma once
// What the three VAST mains share: the flags (common ones plus --psi, --assign, --eta, --flat),
// VAST's actor-critic with the chosen factorization as its critic (the authors' code: Adam 1e-3,
// 10 episodes per epoch, 64-unit actor and utilities, 128-unit critic networks), the seeds loop
// with a progress bar, and the CSV / JSON / PNG outputs.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
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
#include "netmarl/factor/any.hpp"
#include "netmarl/factor/assign/concept.hpp"
#include "netmarl/io/learning_curve.hpp"
#include "netmarl/io/progress.hpp"
#include "netmarl/system.hpp"
#include "vast/common/factors.hpp"

namespace netmarl::examples::vast {

// One domain of VAST section 5.
struct domain {
  std::string name;    // "Warehouse"
  std::string metric;  // "orders"
  index agents = 4;
  int epochs = 100;
  double gamma = 0.99;
  std::string agents_help = "number of agents";
  // The domain's own flags (registered after the common ones), if any.
  std::function<void(CLI::App&)> extra_flags = [](CLI::App&) {};
  // A dashed line on the plot (GaussianSqueeze's optimum), if any, for N agents.
  std::function<std::optional<reference_line>(index)> reference = [](index) {
    return std::optional<reference_line>{};
  };
};

template <class Backend>
struct vast_config : default_config {
  using factor = netmarl::factor::any<Backend>;
  using backend = Backend;
};

struct run_options {
  factor_choice factor;
  double learning_rate = 1e-3;
  std::int64_t episodes_per_epoch = 10;
};

template <class Backend, class MakeEnv>
std::vector<double> run_seeds(const domain& d, const common_options& o, const run_options& r,
                              MakeEnv& make_env, io::learning_curve& curve) {
  using config = vast_config<Backend>;
  std::vector<double> finals;
  for (std::uint64_t seed : seed_list(o)) {
    auto env = make_env(o.agents);
    settings<config> s;
    s.factor = make_factor<Backend>(r.factor);
    s.learner.gamma = d.gamma;
    s.learner.actor_learning_rate = s.learner.critic_learning_rate = r.learning_rate;
    s.episodes_per_epoch = r.episodes_per_epoch;
    system<config> sys(env::spec_of(env), s, seed);
    io::progress_bar bar(o.epochs, "seed " + std::to_string(seed), std::cerr, !o.quiet);
    const auto result = sys.train(env, epochs{o.epochs}, [&](const epoch_report& e) {
      curve.add(seed, e.epoch, e.env_steps, e.metric,
                {e.metric_std, e.train_metric, e.stats.critic_loss});
      bar.update(e.epoch, {{d.metric, e.metric}});
    });
    bar.finish();
    finals.push_back(final_score(result));
  }
  return finals;
}

// The whole main: flags, runs, outputs. make_env(agents) builds the environment (and throws
// invalid_argument naming the problem for an N the layout cannot host).
template <class MakeEnv>
int run_example(int argc, char** argv, const domain& d, MakeEnv make_env) {
  CLI::App app{"VAST (Phan et al. 2021) on " + d.name +
               ": actor-critic whose critic is a value factorization over variable agent "
               "sub-teams; --flat runs the operator over all agents (the baselines)"};
  app.name(d.name == "GaussianSqueeze" ? "gaussian_squeeze"
                                       : (d.name == "Warehouse" ? "warehouse" : "battle"));
  common_options o;
  o.agents = d.agents;
  o.epochs = d.epochs;
  run_options r;
  add_common_flags(app, o, budget_flags::epochs);
  app.add_option("--psi", r.factor.psi, "value factorization operator")
      ->check(CLI::IsMember({"il", "vdn", "qmix", "qtran"}))
      ->capture_default_str();
  app.add_option("--assign", r.factor.assign, "sub-team assignment strategy")
      ->check(CLI::IsMember({"random", "fixed", "spatial", "meta_grad"}))
      ->capture_default_str();
  app.add_option("--eta", r.factor.eta, "sub-team ratio: K = ceil(eta N) sub-teams, in (0, 1]")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            try {
              std::size_t used = 0;
              const double eta = std::stod(text, &used);
              if (used != text.size()) return "expected a number, got '" + text + "'";
              if (!(eta > 0 && eta <= 1)) return "must be in (0, 1], got " + text;
            } catch (const std::exception&) {
              return "expected a number, got '" + text + "'";
            }
            return {};
          },
          "(0,1]"))
      ->capture_default_str();
  app.add_flag("--flat", r.factor.flat, "no sub-teams: the operator over all N agents");
  app.add_flag("--spatial-half", r.factor.spatial_half,
               "spatial assignment with K/2 centroids (the paper) instead of K");
  app.add_option("--lambda-opt", r.factor.lambda_opt, "QTRAN L_opt weight")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--lambda-nopt", r.factor.lambda_nopt, "QTRAN L_nopt weight")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--lr", r.learning_rate, "Adam learning rate of actor and critic")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--episodes-per-epoch", r.episodes_per_epoch, "training episodes per update")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  d.extra_flags(app);
  if (int rc = parse_flags(app, argc, argv); rc >= 0) return rc;

  const std::string tool = app.get_name();
  try {
    const std::string method = method_name(r.factor);
    const index subteams = r.factor.flat ? o.agents : factor::assign::subteam_count(r.factor.eta, o.agents);
    io::learning_curve curve("epoch", d.metric, {d.metric + "_std", "train_" + d.metric,
                                                 "critic_loss"});
    const auto start = std::chrono::steady_clock::now();
    const std::vector<double> finals = with_backend(o.backend, [&](auto backend) {
      return run_seeds<decltype(backend)>(d, o, r, make_env, curve);
    });
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto stats = io::mean_and_std(finals);
    const std::string env_name = d.name + "[" + std::to_string(o.agents) + "]";
    for (std::size_t i = 0; i < finals.size(); ++i)
      std::printf("seed %llu: final %s %.3f\n",
                  static_cast<unsigned long long>(seed_list(o)[i]), d.metric.c_str(), finals[i]);
    std::printf("%s, %s (K = %lld): final %s %.3f +- %.3f over %d seed(s); %d epochs x %lld "
                "episodes; %.1f s\n",
                env_name.c_str(), method.c_str(), static_cast<long long>(subteams),
                d.metric.c_str(), stats.mean, stats.std, o.seeds, o.epochs,
                static_cast<long long>(r.episodes_per_epoch), wall);
    if (!o.out_csv.empty()) curve.write_csv(o.out_csv);
    if (!o.summary_json.empty()) {
      run_summary s;
      s.env = env_name;
      s.method = method;
      s.metric = d.metric;
      s.final = stats.mean;
      s.final_std = stats.std;
      s.seeds = o.seeds;
      s.budget = format_budget({{o.epochs, "epochs"}, {r.episodes_per_epoch, "episodes"}});
      s.wall_seconds = wall;
      s.extra["psi"] = r.factor.psi;
      s.extra["assign"] = r.factor.flat ? "none" : r.factor.assign;
      s.extra["eta"] = r.factor.flat ? 1.0 : r.factor.eta;
      s.extra["subteams"] = subteams;
      s.extra["finals"] = finals;
      s.extra["backend"] = o.backend;
      if (auto line = d.reference(o.agents)) s.extra[line->label] = line->y;
      write_summary(o.summary_json, s);
    }
    if (!o.plot_png.empty())
      plot_learning_curve(curve, o.plot_png, env_name + ", " + method, "epoch", d.metric,
                          d.reference(o.agents));
    return 0;
  } catch (const error& e) {
    std::cerr << tool << ": " << e.what() << "\n";
    return 1;
  }
}

}  // namespace netmarl::examples::vast
