#pragma once
// Finite-difference gradient checks in double precision, for every layer and loss test.
//
//   auto loss = [&] { /* forward with the current values; return a double */ };
//   // ... compute the analytic gradients (zero_grad, forward, backward) ...
//   auto report = netmarl::testing::check_parameter_gradients(params, loss);   // uses
//   p.param->grad auto report = netmarl::testing::check_gradient(x, analytic_dx, loss, "x");  // a
//   matrix input INFO(report); REQUIRE(report.max_relative_error <= 1e-6);
//
// Plus random test data: random_matrix(rows, cols, g) uniform in [-1, 1), and
// random_matrix_away_from_zero(rows, cols, g, margin) whose entries satisfy margin <= |x| < 1.
//
// `loss` is called many times with one entry of the checked matrix perturbed; it must recompute
// everything from the current values (fresh caches are fine) and must not touch the gradients.
// Each entry is restored exactly after it is probed.
//
// Numeric derivative: the fourth-order central difference
//   n = (-f(x + 2h) + 8 f(x + h) - 8 f(x - h) + f(x - 2h)) / (12 h),   h = 1e-4 by default,
// whose truncation error is h^4 f^(5) / 30 (~1e-18 here) and rounding error ~ 1.5 ulp(f) / h
// (~3e-12 for f of order one), so it resolves gradients far below the 1e-6 tolerance. The
// function must be smooth within 2h of the point: keep inputs away from kinks (relu at 0, huber at
// |r| = delta) by more than that.
//
// Error per entry:  |a - n| / max(|a|, |n|, floor),  floor = 1e-3 by default.
// Relative where the gradient is large; for entries smaller than the floor it measures the
// absolute error scaled by 1/floor, so an exactly zero gradient does not turn rounding noise into
// a huge ratio, while a wrong entry of size >= 1e-9 still fails a 1e-6 tolerance.
#include <algorithm>
#include <cmath>
#include <limits>
#include <ostream>
#include <sstream>
#include <string>

#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/nn/parameter.hpp"

namespace netmarl::testing {

struct gradient_check_options {
  double step = 1e-4;
  double floor = 1e-3;
};

struct gradient_check_report {
  double max_relative_error = 0;  // over every checked entry
  std::string worst_entry;        // "name[row,col]" of the largest error
  double analytic = 0;            // the two derivatives at that entry
  double numeric = 0;
  index entries_checked = 0;
};

inline std::ostream& operator<<(std::ostream& os, const gradient_check_report& r) {
  return os << "max relative error " << r.max_relative_error << " at " << r.worst_entry
            << " (analytic " << r.analytic << ", numeric " << r.numeric << "; " << r.entries_checked
            << " entries checked)";
}

inline double relative_error(double analytic, double numeric, double floor) {
  return std::abs(analytic - numeric) / std::max({std::abs(analytic), std::abs(numeric), floor});
}

// d loss / d x by the fourth-order central difference; x is restored bit for bit.
template <class Loss>
double numeric_derivative(double& x, Loss&& loss, double step = gradient_check_options{}.step) {
  const double original = x;
  auto at = [&](double offset) {
    x = original + offset;
    const double value = static_cast<double>(loss());
    x = original;
    return value;
  };
  const double f_plus2 = at(2 * step), f_plus = at(step), f_minus = at(-step),
               f_minus2 = at(-2 * step);
  return (-f_plus2 + 8 * f_plus - 8 * f_minus + f_minus2) / (12 * step);
}

// Compares `analytic` (same shape as x) with the numeric derivative of loss() w.r.t. each entry
// of x, and folds the result into `report` (so several matrices can share one report).
// A shape mismatch makes the report fail.
template <class Loss>
void check_gradient_into(gradient_check_report& report, matrix<double>& x,
                         const matrix<double>& analytic, Loss&& loss, const std::string& name,
                         const gradient_check_options& options = {}) {
  if (analytic.rows() != x.rows() || analytic.cols() != x.cols()) {
    report.max_relative_error = std::numeric_limits<double>::infinity();
    report.worst_entry = name + " (analytic gradient has the wrong shape)";
    return;
  }
  for (index r = 0; r < x.rows(); ++r)
    for (index c = 0; c < x.cols(); ++c) {
      const double numeric = numeric_derivative(x(r, c), loss, options.step);
      double error = relative_error(analytic(r, c), numeric, options.floor);
      if (std::isnan(error)) error = std::numeric_limits<double>::infinity();
      ++report.entries_checked;
      if (report.worst_entry.empty() || error > report.max_relative_error) {
        report.max_relative_error = error;
        std::ostringstream where;
        where << name << "[" << r << "," << c << "]";
        report.worst_entry = where.str();
        report.analytic = analytic(r, c);
        report.numeric = numeric;
      }
    }
}

// An empty check proves nothing: report it as a failure.
inline void fail_if_empty(gradient_check_report& report) {
  if (report.entries_checked == 0) {
    report.max_relative_error = std::numeric_limits<double>::infinity();
    report.worst_entry = "(nothing was checked)";
  }
}

// One matrix input (the layer's x, a previous hidden state, logits of a loss).
template <class Loss>
gradient_check_report check_gradient(matrix<double>& x, const matrix<double>& analytic, Loss&& loss,
                                     const std::string& name = "input",
                                     const gradient_check_options& options = {}) {
  gradient_check_report report;
  check_gradient_into(report, x, analytic, loss, name, options);
  fail_if_empty(report);
  return report;
}

// Every parameter in the list, against its .grad (computed by the caller beforehand).
template <class Loss>
gradient_check_report check_parameter_gradients(const nn::parameter_list<double>& params,
                                                Loss&& loss,
                                                const gradient_check_options& options = {}) {
  gradient_check_report report;
  for (const auto& p : params)
    check_gradient_into(report, p.param->value, p.param->grad, loss, p.name, options);
  fail_if_empty(report);
  return report;
}

template <class T = double>
matrix<T> random_matrix(index rows, index cols, rng& g, double lo = -1.0, double hi = 1.0) {
  matrix<T> m(rows, cols);
  for (index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<T>(g.uniform(lo, hi));
  return m;
}

// For inputs that must stay clear of a kink at 0 (relu): margin <= |x| < 1, random sign.
template <class T = double>
matrix<T> random_matrix_away_from_zero(index rows, index cols, rng& g, double margin = 0.1) {
  matrix<T> m(rows, cols);
  for (index i = 0; i < m.size(); ++i) {
    const double magnitude = g.uniform(margin, 1.0);
    m.data()[i] = static_cast<T>(g.bernoulli(0.5) ? magnitude : -magnitude);
  }
  return m;
}

}  // namespace netmarl::testing
