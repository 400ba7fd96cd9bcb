// netmarl quickstart (`make demo`): VAST's actor-critic with a VDN critic learns
// GaussianSqueeze[200] (VAST section 5; environments.md 1.1) and is scored against the analytic
// optimum (423.03 at zeta = 445 for the defaults).
//
//   quickstart [--seeds 3] [--epochs 600] [--factor vdn|independent] [--out curve.csv]
//              [--summary run.json] [--plot curve.png] [--backend reference|simd]
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "common/final_score.hpp"
#include "common/flags.hpp"
#include "common/plot.hpp"
#include "common/summary.hpp"
#include "netmarl/env/gaussian_squeeze.hpp"
#include "netmarl/factor/independent.hpp"
#include "netmarl/io/learning_curve.hpp"
#include "netmarl/io/progress.hpp"
#include "netmarl/system.hpp"

namespace nm = netmarl;

namespace {

struct quickstart_options {
  double learning_rate = 1e-3;
  std::string factor = "vdn";
  double mu = 400, sigma = 200;
};

template <class Backend, class Factor>
struct quickstart_config : nm::default_config {
  using factor = Factor;
  using backend = Backend;
};

template <class Config>
std::vector<double> run_seeds(const nm::examples::common_options& o, const quickstart_options& q,
                              nm::io::learning_curve& curve) {
  std::vector<double> finals;
  for (std::uint64_t seed : nm::examples::seed_list(o)) {
    nm::env::gaussian_squeeze env({.agents = o.agents, .mu = q.mu, .sigma = q.sigma});
    nm::settings<Config> s;
    s.learner.gamma = 1.0;  // one-step episodes (VAST code: gamma 1 for GaussianSqueeze)
    s.learner.actor_learning_rate = s.learner.critic_learning_rate = q.learning_rate;
    nm::system<Config> sys(nm::env::spec_of(env), s, seed);
    nm::io::progress_bar bar(o.epochs, "seed " + std::to_string(seed), std::cerr, !o.quiet);
    const auto result = sys.train(env, nm::epochs{o.epochs}, [&](const nm::epoch_report& r) {
      curve.add(seed, r.epoch, r.env_steps, r.metric,
                {r.metric_std, r.train_metric, r.stats.critic_loss});
      bar.update(r.epoch, {{"GS", r.metric}});
    });
    bar.finish();
    finals.push_back(nm::examples::final_score(result));
  }
  return finals;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "netmarl quickstart: actor-critic + VDN on GaussianSqueeze[N] (VAST), scored "
      "against the analytic optimum"};
  nm::examples::common_options o;
  o.agents = 200;
  o.epochs = 600;
  quickstart_options q;
  nm::examples::add_common_flags(app, o, nm::examples::budget_flags::epochs);
  app.add_option("--lr", q.learning_rate, "Adam learning rate of actor and critic")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--factor", q.factor, "critic factorization")
      ->check(CLI::IsMember({"vdn", "independent"}))
      ->capture_default_str();
  app.add_option("--mu", q.mu, "GaussianSqueeze mean")->capture_default_str();
  app.add_option("--sigma", q.sigma, "GaussianSqueeze width")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  if (int rc = nm::examples::parse_flags(app, argc, argv); rc >= 0) return rc;

  try {
    const auto optimum = nm::env::gaussian_squeeze_optimum(o.agents, 10, q.mu, q.sigma);
    nm::io::learning_curve curve("epoch", "GS", {"GS_std", "train_GS", "critic_loss"});
    const auto start = std::chrono::steady_clock::now();
    const std::vector<double> finals = nm::examples::with_backend(o.backend, [&](auto backend) {
      using B = decltype(backend);
      if (q.factor == "independent")
        return run_seeds<quickstart_config<B, nm::factor::independent>>(o, q, curve);
      return run_seeds<quickstart_config<B, nm::factor::vdn>>(o, q, curve);
    });
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    const auto stats = nm::io::mean_and_std(finals);
    const double mean = stats.mean, stddev = stats.std;
    for (std::size_t i = 0; i < finals.size(); ++i)
      std::printf("seed %llu: final GS %.2f = %.1f%% of the optimum %.2f\n",
                  static_cast<unsigned long long>(nm::examples::seed_list(o)[i]), finals[i],
                  100.0 * finals[i] / optimum.value, optimum.value);
    std::printf(
        "GaussianSqueeze[%lld]: final GS %.2f +- %.2f over %d seed(s), optimum %.2f "
        "(zeta* = %lld); %.1f%% of the optimum; %d epochs x 10 episodes; %.1f s\n",
        static_cast<long long>(o.agents), mean, stddev, o.seeds, optimum.value,
        static_cast<long long>(optimum.zeta), 100.0 * mean / optimum.value, o.epochs, wall);

    if (!o.out_csv.empty()) curve.write_csv(o.out_csv);
    if (!o.summary_json.empty()) {
      nm::examples::run_summary s;
      s.env = "gaussian_squeeze[" + std::to_string(o.agents) + "]";
      s.method = "actor_critic+" + q.factor;
      s.metric = "GS";
      s.final = mean;
      s.final_std = stddev;
      s.seeds = o.seeds;
      s.budget = nm::examples::format_budget({{o.epochs, "epochs"}, {10, "episodes"}});
      s.wall_seconds = wall;
      s.extra["optimum"] = optimum.value;
      s.extra["fraction_of_optimum"] = mean / optimum.value;
      s.extra["backend"] = o.backend;
      nm::examples::write_summary(o.summary_json, s);
    }
    if (!o.plot_png.empty())
      nm::examples::plot_learning_curve(
          curve, o.plot_png,
          "GaussianSqueeze[" + std::to_string(o.agents) + "], actor-critic + " + q.factor, "epoch",
          "GS", nm::examples::reference_line{optimum.value, "optimum"});
    return 0;
  } catch (const nm::error& e) {
    std::cerr << "quickstart: " << e.what() << "\n";
    return 1;
  }
}
