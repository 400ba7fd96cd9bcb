// The EBPG score terms (learn/ebpg/event_gradient.hpp) against finite differences: per event, and
// over a small semi-MDP whose trajectories are enumerated exactly, so the estimator's expectation
// sum_tau P(tau) score(tau) R(tau) can be compared with the central-difference gradient of
// J = sum_tau P(tau) R(tau). This is the check of the termination sign: the derived form must
// match, proposition 1 as printed must not.
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/learn/ebpg/event_gradient.hpp"

using idx = netmarl::index;
namespace ebpg = netmarl::learn::ebpg;
using ebpg::policy_gradient;
using ebpg::termination_form;

namespace {

double sigmoid(double logit) { return 1.0 / (1.0 + std::exp(-logit)); }

template <std::size_t N>
std::array<double, N> softmax(const std::array<double, N>& logits) {
  double max = logits[0];
  for (double l : logits) max = std::max(max, l);
  std::array<double, N> p{};
  double total = 0;
  for (std::size_t i = 0; i < N; ++i) total += p[i] = std::exp(logits[i] - max);
  for (double& x : p) x /= total;
  return p;
}

// One follower, three options, horizon four. Its state is the previous option alone:
//   beta_t = sigmoid(termination_logit[omega_{t-1}]),  mu(. | omega_{t-1}) = softmax(row
//   omega_{t-1})
// with omega_{-1} = 0 (EBPG figure 2b); step 0 is an ordinary step (it may keep option 0).
constexpr int options = 3;
constexpr int horizon = 4;
constexpr int termination_parameters = options;       // one termination logit per previous option
constexpr int policy_parameters = options * options;  // mu's logit table, row = previous option
constexpr int parameters = termination_parameters + policy_parameters;
using gradient = std::array<double, parameters>;

struct semi_mdp {
  gradient theta{};  // [0, 3): termination logits; [3, 12): mu's logits, row-major

  double beta(int previous) const { return sigmoid(theta[previous]); }
  std::array<double, options> mu(int previous) const {
    std::array<double, options> row{};
    for (int i = 0; i < options; ++i)
      row[i] = theta[termination_parameters + previous * options + i];
    return softmax(row);
  }
};

semi_mdp example_problem() {
  return {{0.3, -0.8, 0.5,    // termination logits for omega_{t-1} = 0, 1, 2
           0.2, -0.4, 0.1,    // mu logits after option 0
           -0.3, 0.6, 0.0,    // after option 1
           0.4, 0.0, -0.5}};  // after option 2
}

struct step {
  bool terminated;
  int option;  // omega_t
};
using trajectory = std::array<step, horizon>;

// A fixed non-trivial return: a per-step, per-option payoff minus a cost for every actual switch
// of option (omega_t != omega_{t-1}, omega_{-1} = 0), so both when and what to commit matter.
double per_step_switch_return(const trajectory& tau) {
  constexpr double payoff[horizon][options] = {
      {1.0, 0.2, -0.5}, {0.1, 0.9, 0.3}, {-0.4, 0.6, 1.2}, {0.5, -0.3, 0.8}};
  constexpr double switch_cost = 0.7;
  double total = 0;
  int previous = 0;
  for (int t = 0; t < horizon; ++t) {
    total += payoff[t][tau[t].option];
    if (tau[t].option != previous) total -= switch_cost;
    previous = tau[t].option;
  }
  return total;
}

using return_function = std::function<double(const trajectory&)>;

// Every (termination, option) sequence with its probability: 4 branches a step (keep, or
// terminate and draw one of three options), 4^4 = 256 trajectories.
void enumerate(const semi_mdp& problem,
               const std::function<void(const trajectory&, double)>& visit) {
  trajectory tau{};
  const std::function<void(int, int, double)> recurse = [&](int t, int previous, double p) {
    if (t == horizon) {
      visit(tau, p);
      return;
    }
    const double beta = problem.beta(previous);
    const auto mu = problem.mu(previous);
    tau[t] = {false, previous};
    recurse(t + 1, previous, p * (1 - beta));
    for (int option = 0; option < options; ++option) {
      tau[t] = {true, option};
      recurse(t + 1, option, p * beta * mu[option]);
    }
  };
  recurse(0, 0, 1.0);
}

double expected_return(const semi_mdp& problem, const return_function& reward) {
  double total = 0;
  enumerate(problem, [&](const trajectory& tau, double p) { total += p * reward(tau); });
  return total;
}

gradient finite_difference_gradient(const semi_mdp& problem, const return_function& reward) {
  constexpr double h = 1e-6;
  gradient g{};
  for (int k = 0; k < parameters; ++k) {
    semi_mdp plus = problem, minus = problem;
    plus.theta[k] += h;
    minus.theta[k] -= h;
    g[k] = (expected_return(plus, reward) - expected_return(minus, reward)) / (2 * h);
  }
  return g;
}

// sum_t I(e_t) (termination logits) and sum_t I'(e_t) (mu's logits) of one trajectory, built from
// the header's per-event terms.
gradient score(const semi_mdp& problem, const trajectory& tau, termination_form termination,
               policy_gradient policy) {
  gradient g{};
  std::array<double, options> d_logits{};
  int previous = 0;
  for (int t = 0; t < horizon; ++t) {
    g[previous] +=
        ebpg::termination_logit_score(problem.beta(previous), tau[t].terminated, termination);
    const auto mu = problem.mu(previous);
    ebpg::option_logit_score<double>(mu, tau[t].terminated, tau[t].option, previous, policy,
                                     d_logits);
    for (int i = 0; i < options; ++i)
      g[termination_parameters + previous * options + i] += d_logits[i];
    previous = tau[t].option;
  }
  return g;
}

gradient expected_estimator(const semi_mdp& problem, const return_function& reward,
                            termination_form termination, policy_gradient policy) {
  gradient expectation{};
  enumerate(problem, [&](const trajectory& tau, double p) {
    const gradient g = score(problem, tau, termination, policy);
    const double r = reward(tau);
    for (int k = 0; k < parameters; ++k) expectation[k] += p * g[k] * r;
  });
  return expectation;
}

double dot(std::span<const double> a, std::span<const double> b) {
  double total = 0;
  for (std::size_t i = 0; i < a.size(); ++i) total += a[i] * b[i];
  return total;
}
double norm(std::span<const double> a) { return std::sqrt(dot(a, a)); }
double distance(std::span<const double> a, std::span<const double> b) {
  double total = 0;
  for (std::size_t i = 0; i < a.size(); ++i) total += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt(total);
}

std::span<const double> termination_part(const gradient& g) {
  return std::span<const double>(g).first(termination_parameters);
}
std::span<const double> policy_part(const gradient& g) {
  return std::span<const double>(g).last(policy_parameters);
}

std::string show(std::span<const double> v) {
  std::ostringstream out;
  out.precision(5);
  out << "[";
  for (std::size_t i = 0; i < v.size(); ++i) out << (i ? ", " : "") << v[i];
  out << "]";
  return out.str();
}

}  // namespace

TEST_CASE("termination_logit_score is d log P(event) / d logit; printed swaps the outcomes") {
  constexpr double h = 1e-6;
  for (double logit : {-3.0, -0.7, 0.0, 0.4, 2.5}) {
    const double beta = sigmoid(logit);
    const auto log_terminate = [](double l) { return std::log(sigmoid(l)); };
    const auto log_keep = [](double l) { return std::log(1 - sigmoid(l)); };
    const double fd_terminate = (log_terminate(logit + h) - log_terminate(logit - h)) / (2 * h);
    const double fd_keep = (log_keep(logit + h) - log_keep(logit - h)) / (2 * h);
    INFO("logit " << logit);
    CHECK(ebpg::termination_logit_score(beta, true) == Approx(fd_terminate).epsilon(1e-7));
    CHECK(ebpg::termination_logit_score(beta, false) == Approx(fd_keep).epsilon(1e-7));

    // Proposition 1 as typeset, with d beta / d logit = beta (1 - beta): -beta'/(1 - beta) on a
    // change, beta'/beta on a keep.
    const double beta_prime = beta * (1 - beta);
    CHECK(ebpg::termination_logit_score(beta, true, termination_form::printed) ==
          Approx(-beta_prime / (1 - beta)).epsilon(1e-12));
    CHECK(ebpg::termination_logit_score(beta, false, termination_form::printed) ==
          Approx(beta_prime / beta).epsilon(1e-12));
    for (bool terminated : {true, false})
      CHECK(ebpg::termination_logit_score(beta, terminated, termination_form::printed) ==
            ebpg::termination_logit_score(beta, !terminated));
    // A score has mean zero under its own distribution; the printed form has mean 1 - 2 beta.
    const auto mean_score = [beta](termination_form form) {
      return beta * ebpg::termination_logit_score(beta, true, form) +
             (1 - beta) * ebpg::termination_logit_score(beta, false, form);
    };
    CHECK(mean_score(termination_form::derived) == Approx(0).margin(1e-15));
    CHECK(mean_score(termination_form::printed) == Approx(1 - 2 * beta).margin(1e-15));
  }
  // The float path: same formula.
  CHECK(ebpg::termination_logit_score(0.25f, true) == 0.75f);
  CHECK(ebpg::termination_logit_score(0.25f, false) == -0.25f);
}

TEST_CASE("option_logit_score is grad log mu of the scored option, or zero on a sparse keep") {
  const std::array<double, 4> logits{0.3, -1.2, 0.8, 0.05};
  const auto mu = softmax(logits);
  std::array<double, 4> d{};
  constexpr double h = 1e-6;
  const auto fd_log_mu = [&](int option, int k) {
    auto plus = logits, minus = logits;
    plus[k] += h;
    minus[k] -= h;
    return (std::log(softmax(plus)[option]) - std::log(softmax(minus)[option])) / (2 * h);
  };

  SECTION("terminate step: the new option, for both forms") {
    for (auto form : {policy_gradient::dense, policy_gradient::sparse}) {
      ebpg::option_logit_score<double>(mu, true, 2, 1, form, d);
      for (int k = 0; k < 4; ++k) CHECK(d[k] == Approx(fd_log_mu(2, k)).margin(1e-8));
    }
  }
  SECTION("keep step, dense: the kept option") {
    ebpg::option_logit_score<double>(mu, false, 2, 1, policy_gradient::dense, d);
    for (int k = 0; k < 4; ++k) CHECK(d[k] == Approx(fd_log_mu(1, k)).margin(1e-8));
  }
  SECTION("keep step, sparse: zeros, whatever d held") {
    d.fill(7.0);
    ebpg::option_logit_score<double>(mu, false, 2, 1, policy_gradient::sparse, d);
    for (double x : d) CHECK(x == 0.0);
  }
  SECTION("policy_term_active") {
    CHECK(ebpg::policy_term_active(policy_gradient::dense, true));
    CHECK(ebpg::policy_term_active(policy_gradient::sparse, true));
    CHECK(ebpg::policy_term_active(policy_gradient::dense, false));
    CHECK_FALSE(ebpg::policy_term_active(policy_gradient::sparse, false));
  }
}

TEST_CASE("event_gradient rejects bad input with a message naming it") {
  using Catch::Matchers::Contains;
  CHECK_THROWS_AS(ebpg::termination_logit_score(1.5, true), netmarl::invalid_argument);
  CHECK_THROWS_WITH(ebpg::termination_logit_score(1.5, true),
                    Contains("beta = 1.5") && Contains("[0, 1]"));
  CHECK_THROWS_AS(ebpg::termination_logit_score(std::nan(""), false), netmarl::invalid_argument);
  CHECK_THROWS_AS(ebpg::termination_logit_score(-0.1, false), netmarl::invalid_argument);

  const std::array<double, 3> mu{0.2, 0.3, 0.5};
  std::array<double, 3> d{};
  std::array<double, 2> short_d{};
  CHECK_THROWS_AS(ebpg::option_logit_score<double>(mu, true, 3, 0, policy_gradient::sparse, d),
                  netmarl::invalid_argument);
  CHECK_THROWS_WITH(ebpg::option_logit_score<double>(mu, true, 3, 0, policy_gradient::sparse, d),
                    Contains("new_option = 3") && Contains("[0, 3)"));
  CHECK_THROWS_WITH(ebpg::option_logit_score<double>(mu, false, 0, -1, policy_gradient::dense, d),
                    Contains("kept_option = -1"));
  CHECK_THROWS_WITH(
      ebpg::option_logit_score<double>(mu, true, 0, 0, policy_gradient::dense, short_d),
      Contains("d_logits has 2"));
  CHECK_THROWS_AS(ebpg::option_logit_score<double>(std::span<const double>{}, true, 0, 0,
                                                   policy_gradient::dense, std::span<double>{}),
                  netmarl::invalid_argument);
}

TEST_CASE("the exact expectation of the EBPG estimator on an enumerable semi-MDP") {
  const semi_mdp problem = example_problem();
  const return_function reward = per_step_switch_return;

  double total_probability = 0;
  int count = 0;
  enumerate(problem, [&](const trajectory&, double p) {
    total_probability += p;
    ++count;
  });
  REQUIRE(count == 256);
  REQUIRE(total_probability == Approx(1.0).epsilon(1e-14));

  const gradient exact = finite_difference_gradient(problem, reward);
  REQUIRE(norm(termination_part(exact)) > 0.05);  // a problem where the terminations matter
  REQUIRE(norm(policy_part(exact)) > 0.05);

  SECTION("derived termination form + sparse policy term = the exact gradient") {
    const gradient derived =
        expected_estimator(problem, reward, termination_form::derived, policy_gradient::sparse);
    INFO("finite differences " << show(exact));
    INFO("derived estimator  " << show(derived));
    CHECK(distance(derived, exact) <= 1e-6 * norm(exact));
    for (int k = 0; k < parameters; ++k) CHECK(derived[k] == Approx(exact[k]).margin(1e-6));
  }

  SECTION("proposition 1 as printed does not give the gradient") {
    const gradient printed =
        expected_estimator(problem, reward, termination_form::printed, policy_gradient::sparse);
    WARN("termination gradient, finite differences: " << show(termination_part(exact)));
    WARN("termination gradient, as printed:         " << show(termination_part(printed)));
    // Far off: further from the gradient than the gradient's own length, and pointing the other
    // way on at least one termination logit (two of the three on this problem).
    CHECK(distance(termination_part(printed), termination_part(exact)) >
          norm(termination_part(exact)));
    int opposite_signs = 0;
    for (int k = 0; k < termination_parameters; ++k)
      if (std::abs(exact[k]) > 1e-3 && printed[k] * exact[k] < 0) ++opposite_signs;
    CHECK(opposite_signs >= 1);
    // The printed form changes only the termination terms.
    for (int k = termination_parameters; k < parameters; ++k)
      CHECK(printed[k] == Approx(exact[k]).margin(1e-6));
  }

  SECTION("the dense policy term (remark 2) is biased but points uphill here") {
    const gradient dense =
        expected_estimator(problem, reward, termination_form::derived, policy_gradient::dense);
    const auto exact_policy = policy_part(exact), dense_policy = policy_part(dense);
    const double cosine =
        dot(dense_policy, exact_policy) / (norm(dense_policy) * norm(exact_policy));
    WARN("policy gradient, finite differences: " << show(exact_policy));
    WARN("policy gradient, dense EBPG:         " << show(dense_policy));
    WARN("cosine(dense, exact) = " << cosine);
    CHECK(distance(dense_policy, exact_policy) > 0.1 * norm(exact_policy));
    CHECK(cosine > 0);
    // The keep-step term does not touch the termination logits.
    for (int k = 0; k < termination_parameters; ++k)
      CHECK(dense[k] == Approx(exact[k]).margin(1e-6));
  }
}

TEST_CASE("with a constant return the gradient is zero; dense EBPG and the printed form are not") {
  const semi_mdp problem = example_problem();
  const return_function constant = [](const trajectory&) { return 1.0; };
  const gradient exact = finite_difference_gradient(problem, constant);
  const gradient sparse =
      expected_estimator(problem, constant, termination_form::derived, policy_gradient::sparse);
  const gradient dense =
      expected_estimator(problem, constant, termination_form::derived, policy_gradient::dense);
  const gradient printed =
      expected_estimator(problem, constant, termination_form::printed, policy_gradient::sparse);
  INFO("dense EBPG with R = 1: " << show(policy_part(dense)));
  INFO("printed termination with R = 1: " << show(termination_part(printed)));
  CHECK(norm(exact) < 1e-8);
  CHECK(norm(sparse) < 1e-12);
  // E[sum over keep steps of grad log mu(omega_{t-1})] != 0: the bias of remark 2's term.
  CHECK(norm(policy_part(dense)) > 0.1);
  // Sum over events of 1 - 2 beta: the printed termination "score" does not have mean zero.
  CHECK(norm(termination_part(printed)) > 0.1);
}

TEST_CASE("Monte-Carlo mean of the derived estimator is within a few standard errors of FD") {
  const semi_mdp problem = example_problem();
  const gradient exact = finite_difference_gradient(problem, per_step_switch_return);

  constexpr int samples = 200'000;
  netmarl::rng generator(20240611);
  gradient sum{}, sum_of_squares{}, printed_sum{};
  trajectory tau{};
  for (int n = 0; n < samples; ++n) {
    int previous = 0;
    for (int t = 0; t < horizon; ++t) {
      const bool terminated = generator.bernoulli(problem.beta(previous));
      const auto mu = problem.mu(previous);
      const int option = terminated
                             ? static_cast<int>(generator.categorical(std::span<const double>(mu)))
                             : previous;
      tau[t] = {terminated, option};
      previous = option;
    }
    const double r = per_step_switch_return(tau);
    const gradient g = score(problem, tau, termination_form::derived, policy_gradient::sparse);
    const gradient printed =
        score(problem, tau, termination_form::printed, policy_gradient::sparse);
    for (int k = 0; k < parameters; ++k) {
      sum[k] += g[k] * r;
      sum_of_squares[k] += g[k] * r * g[k] * r;
      printed_sum[k] += printed[k] * r;
    }
  }
  bool printed_rejected = false;
  for (int k = 0; k < parameters; ++k) {
    const double mean = sum[k] / samples;
    const double variance = sum_of_squares[k] / samples - mean * mean;
    const double standard_error = std::sqrt(variance / samples);
    INFO("parameter " << k << ": mean " << mean << ", FD " << exact[k] << ", s.e. "
                      << standard_error);
    CHECK(standard_error < 0.01);  // small enough for the check to resolve the gradient
    CHECK(std::abs(mean - exact[k]) < 4.5 * standard_error);
    if (std::abs(printed_sum[k] / samples - exact[k]) > 10 * standard_error)
      printed_rejected = true;
  }
  CHECK(printed_rejected);
}
