// Draws a comparison of several methods' learning curves (VAST's Fig. 4 and 5, IP's Fig. 7 and 11):
// each curve is smoothed over a window of epochs per seed (10, as in VAST), then the mean over
// seeds with a shaded 95% confidence interval of the mean (Student's t, seeds - 1 degrees of
// freedom).
//
//   compare_plot --title "GaussianSqueeze[200]" --metric GS --out fig4.png
//                "VAST(QTRAN) eta 1/4=runs/vast025.csv" "QMIX=runs/qmix.csv" ...
//
// Each CSV is one method's file written by an example's --out (all its seeds). The smoothed
// means and intervals are also written next to the PNG as <out>.dat, so numbers can be read off.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "common/flags.hpp"
#include "common/plot.hpp"
#include "netmarl/io/learning_curve.hpp"

namespace nm = netmarl;

namespace {

// Two-sided 95% quantile of Student's t with df degrees of freedom.
double t95(std::size_t df) {
  static const double table[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306,
                                 2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
                                 2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
                                 2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
  if (df == 0) return 0;
  return df <= 30 ? table[df - 1] : 1.96;
}

struct series {
  std::string label;
  std::vector<double> x, mean, low, high;
  std::size_t seeds = 0;
};

// Per seed, the trailing mean over `window` epochs; then mean and 95% interval over seeds.
series smooth(const std::string& label, const nm::io::learning_curve& curve,
              const std::string& metric, std::size_t window) {
  const int column = curve.column_index(metric);
  if (column < 0)
    throw nm::invalid_argument(label + ": no column '" + metric + "' in '" + curve.header() + "'");
  std::map<std::uint64_t, std::vector<std::pair<double, double>>> by_seed;  // (x, y)
  for (const auto& row : curve.rows())
    by_seed[row.seed].push_back({static_cast<double>(row.index), curve.value(row, column)});
  series s;
  s.label = label;
  s.seeds = by_seed.size();
  std::size_t length = SIZE_MAX;
  std::vector<std::vector<double>> smoothed;
  for (auto& [seed, points] : by_seed) {
    std::vector<double> y;
    double sum = 0;
    for (std::size_t i = 0; i < points.size(); ++i) {
      sum += points[i].second;
      if (i >= window) sum -= points[i - window].second;
      y.push_back(sum / static_cast<double>(std::min(i + 1, window)));
    }
    length = std::min(length, y.size());
    if (s.x.empty())
      for (const auto& p : points) s.x.push_back(p.first);
    smoothed.push_back(std::move(y));
  }
  if (smoothed.empty()) throw nm::invalid_argument(label + ": the CSV has no rows");
  s.x.resize(length);
  const double n = static_cast<double>(smoothed.size());
  for (std::size_t i = 0; i < length; ++i) {
    double sum = 0, sum_sq = 0;
    for (const auto& y : smoothed) {
      sum += y[i];
      sum_sq += y[i] * y[i];
    }
    const double mean = sum / n;
    const double var = n > 1 ? std::max(0.0, (sum_sq - n * mean * mean) / (n - 1)) : 0.0;
    const double half = t95(smoothed.size() - 1) * std::sqrt(var / n);
    s.mean.push_back(mean);
    s.low.push_back(mean - half);
    s.high.push_back(mean + half);
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Plot several methods' learning curves (mean over seeds, shaded 95% interval, smoothed "
      "over a window of epochs) like VAST Fig. 4 and 5"};
  app.name("compare_plot");
  std::string title, metric = "GS", out;
  std::size_t window = 10;
  std::vector<std::string> curves;
  app.add_option("--title", title, "plot title")->required();
  app.add_option("--metric", metric, "the CSV column to plot")->capture_default_str();
  app.add_option("--window", window, "smoothing window in epochs")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--out", out, "the PNG to write (the numbers go to <out>.dat)")
      ->required()
      ->check(nm::examples::detail::writable_file());
  app.add_option("curves", curves, "LABEL=FILE.csv, one per method")->required();
  if (int rc = nm::examples::parse_flags(app, argc, argv); rc >= 0) return rc;
  try {
    std::vector<series> all;
    for (const std::string& spec : curves) {
      const auto eq = spec.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
        throw nm::invalid_argument("expected LABEL=FILE.csv, got '" + spec + "'");
      all.push_back(smooth(spec.substr(0, eq),
                           nm::io::learning_curve::read_csv(spec.substr(eq + 1)), metric, window));
    }
    const std::string dat = out + ".dat";
    std::ofstream f(dat);
    if (!f) throw nm::io_error("cannot write " + dat);
    for (std::size_t k = 0; k < all.size(); ++k) {
      f << "# " << all[k].label << " (" << all[k].seeds << " seeds)\n# epoch mean low95 high95\n";
      for (std::size_t i = 0; i < all[k].x.size(); ++i)
        f << all[k].x[i] << ' ' << all[k].mean[i] << ' ' << all[k].low[i] << ' ' << all[k].high[i]
          << '\n';
      f << "\n\n";  // gnuplot index separator
      std::printf("%-40s final (last %zu-epoch mean) %.3f  [%.3f, %.3f]  %zu seeds\n",
                  all[k].label.c_str(), window, all[k].mean.back(), all[k].low.back(),
                  all[k].high.back(), all[k].seeds);
    }
    f.close();
    const auto& gp = nm::examples::detail::probe_gnuplot();
    if (gp.terminal.empty()) {
      std::cerr << "compare_plot: no plot (" << gp.why << "); the numbers are in " << dat << "\n";
      return 0;
    }
    std::string script = "set terminal " + gp.terminal + " size 900,600 noenhanced\nset output " +
                         nm::examples::detail::gnuplot_quote(out) + "\nset title " +
                         nm::examples::detail::gnuplot_quote(title) +
                         "\nset xlabel 'epoch'\nset ylabel " +
                         nm::examples::detail::gnuplot_quote(metric) +
                         "\nset key left top\nset style fill transparent solid 0.2 noborder\nplot ";
    for (std::size_t k = 0; k < all.size(); ++k) {
      const std::string idx = std::to_string(k), color = "lc " + std::to_string(k + 1);
      script += (k ? ", " : "") + nm::examples::detail::gnuplot_quote(dat) + " index " + idx +
                " using 1:3:4 with filledcurves " + color + " notitle, " +
                nm::examples::detail::gnuplot_quote(dat) + " index " + idx +
                " using 1:2 with lines lw 2 " + color + " title " +
                nm::examples::detail::gnuplot_quote(all[k].label);
    }
    const auto script_path = nm::examples::detail::make_temp_file("compare_plot");
    std::ofstream(script_path) << script << "\n";
    const auto r = nm::examples::detail::run_command(
        "gnuplot " + nm::examples::detail::shell_quote(script_path.string()) + " 2>&1");
    std::filesystem::remove(script_path);
    if (r.status != 0) {
      std::cerr << "compare_plot: gnuplot failed: " << r.output << "\n";
      return 1;
    }
    std::printf("wrote %s and %s\n", out.c_str(), dat.c_str());
    return 0;
  } catch (const nm::error& e) {
    std::cerr << "compare_plot: " << e.what() << "\n";
    return 1;
  }
}
