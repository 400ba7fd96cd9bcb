#pragma once
// GaussianSqueeze[N] (VAST; authors' code thomyphan/scalable-marl,
// vast/environments/gaussian_squeeze.py; specs/environments.md 1.1).
//
// N agents each pick a_i in {0..actions-1}; zeta = sum_i a_i; the team scores
//   GS(zeta) = zeta * exp(-((zeta - mu) / sigma)^2).
// The authors' code gives each agent GS/N and then, in its default cooperative mode, replaces every
// agent's reward by the team sum, so r_i = GS for every i, and the global reward is GS. Observation
// of agent i: one-hot(i) of length N. Global state: N zeros, as the authors' code passes (mixers
// see a constant). One step per episode by default.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/env/concept.hpp"

namespace netmarl::env {

namespace gaussian_squeeze_detail {
// "0.5", "-3", "nan": shorter than std::to_string's fixed six decimals.
inline std::string format_number(double x) {
  std::ostringstream out;
  out << x;
  return out.str();
}
}  // namespace gaussian_squeeze_detail

struct gaussian_squeeze_settings {
  index agents = 200;        // N (paper: 200, 400, 800)
  index actions = 10;        // each agent adds 0..actions-1 to zeta
  double mu = 400;           // where the squeeze peaks
  double sigma = 200;        // its width
  index episode_length = 1;  // the paper's time limit
};

// GS(zeta), in double: the metric the paper reports.
inline double gaussian_squeeze_value(double zeta, double mu, double sigma) {
  const double delta = (zeta - mu) / sigma;
  return zeta * std::exp(-delta * delta);
}

struct squeeze_optimum {
  std::int64_t zeta = 0;  // the best reachable integer zeta (the lower one on a tie)
  double value = 0;       // GS(zeta)
};

// The optimum over the reachable integers zeta in [0, N (actions - 1)], by exhaustive search (the
// learning tests measure distance to it). N=200, mu=400, sigma=200: zeta* = 445, GS = 423.03...
inline squeeze_optimum gaussian_squeeze_optimum(index agents, index actions, double mu,
                                                double sigma) {
  if (agents < 1 || actions < 2 || !(sigma > 0))
    throw invalid_argument(
        "gaussian_squeeze_optimum: need agents >= 1, actions >= 2, sigma > 0; "
        "got agents " +
        std::to_string(agents) + ", actions " + std::to_string(actions) + ", sigma " +
        gaussian_squeeze_detail::format_number(sigma));
  squeeze_optimum best{0, gaussian_squeeze_value(0, mu, sigma)};
  const std::int64_t top = static_cast<std::int64_t>(agents) * (actions - 1);
  for (std::int64_t zeta = 1; zeta <= top; ++zeta) {
    const double value = gaussian_squeeze_value(static_cast<double>(zeta), mu, sigma);
    if (value > best.value) best = {zeta, value};
  }
  return best;
}

class gaussian_squeeze {
 public:
  using settings = gaussian_squeeze_settings;

  explicit gaussian_squeeze(settings s = {}) : settings_(s) {
    const auto bad = [](const std::string& what) {
      throw invalid_argument("gaussian_squeeze: " + what);
    };
    if (s.agents < 1) bad("agents must be at least 1, got " + std::to_string(s.agents));
    if (s.actions < 2) bad("actions must be at least 2, got " + std::to_string(s.actions));
    if (!(s.sigma > 0) || !std::isfinite(s.sigma))
      bad("sigma must be positive and finite, got " +
          gaussian_squeeze_detail::format_number(s.sigma));
    if (!std::isfinite(s.mu))
      bad("mu must be finite, got " + gaussian_squeeze_detail::format_number(s.mu));
    if (s.episode_length < 1)
      bad("episode_length must be at least 1, got " + std::to_string(s.episode_length));

    // Observations never change: one-hot(i), written once.
    result_.resize(s.agents, s.agents);
    result_.observations.setIdentity();
    state_.assign(static_cast<std::size_t>(s.agents), 0.0f);
  }

  std::string name() const { return name_; }
  index num_agents() const { return settings_.agents; }
  index observation_size() const { return settings_.agents; }
  index num_actions() const { return settings_.actions; }
  index state_size() const { return settings_.agents; }
  index episode_limit() const { return settings_.episode_length; }
  const settings& config() const { return settings_; }

  const step_result& reset(rng&) {
    time_ = 0;
    result_.begin_episode();
    return result_;
  }

  const step_result& step(std::span<const int> actions) {
    result_.check_can_step(name_);
    check_actions(actions, settings_.agents, settings_.actions, name_);
    std::int64_t zeta = 0;
    for (const int a : actions) zeta += a;
    metric_ = gaussian_squeeze_value(static_cast<double>(zeta), settings_.mu, settings_.sigma);
    std::fill(result_.rewards.begin(), result_.rewards.end(), static_cast<float>(metric_));
    result_.global_reward = static_cast<float>(metric_);
    ++time_;
    result_.episode_done = time_ >= settings_.episode_length;
    if (result_.episode_done)
      std::fill(result_.agent_done.begin(), result_.agent_done.end(), std::uint8_t{1});
    return result_;
  }

  std::span<const float> state() const { return state_; }
  // GS(zeta) of the last step, in double (0 before the first).
  double episode_metric() const { return metric_; }

 private:
  // Held, not built per call: check_actions takes a std::string, and "gaussian_squeeze" is longer
  // than the small-string buffer, so building it every step would allocate.
  std::string name_ = "gaussian_squeeze";
  settings settings_;
  step_result result_;
  std::vector<float> state_;
  index time_ = 0;
  double metric_ = 0;
};

static_assert(Environment<gaussian_squeeze>);
static_assert(HasEpisodeMetric<gaussian_squeeze>);

}  // namespace netmarl::env
