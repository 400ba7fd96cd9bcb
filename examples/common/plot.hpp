#pragma once
// Learning-curve plots through gnuplot (Debian gnuplot-nox). With several seeds the plot shows the
// mean over seeds and a shaded mean +/- std band; an optional dashed horizontal line marks a known
// optimum. A plot is a convenience: when gnuplot is missing or fails, a warning says why and the
// run goes on (its CSV and summary are what matter).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "netmarl/core/error.hpp"
#include "netmarl/io/learning_curve.hpp"

namespace netmarl::examples {

struct reference_line {
  double y;
  std::string label;  // e.g. "optimum"
};

namespace detail {

// Quotes for /bin/sh: 'it'\''s'.
inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Quotes for gnuplot: single-quoted strings take no escapes except '' for a quote.
inline std::string gnuplot_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("''") : std::string(1, c);
  return q + "'";
}

struct command_result {
  int status;  // exit status, or -1 when the command could not be started
  std::string output;  // stdout and stderr together
};

inline command_result run_command(const std::string& command) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return {-1, "cannot start a shell"};
  std::string output;
  char buf[512];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) output.append(buf, n);
  const int raw = ::pclose(pipe);
  const int status = raw != -1 && WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return {status, output};
}

// Which PNG terminal this gnuplot has, asked once per process: "pngcairo" (antialiased,
// transparency), else "png" (libgd); empty with `why` set when gnuplot cannot be run.
struct gnuplot_probe {
  std::string terminal;
  std::string why;
};
inline const gnuplot_probe& probe_gnuplot() {
  static const gnuplot_probe probe = [] {
    const command_result r = run_command("gnuplot -e 'set terminal'");
    if (r.status == 127) return gnuplot_probe{"", "gnuplot not found (install gnuplot-nox)"};
    if (r.status != 0) return gnuplot_probe{"", "gnuplot does not run: " + r.output};
    if (r.output.find("pngcairo") != std::string::npos) return gnuplot_probe{"pngcairo", ""};
    if (r.output.find(" png ") != std::string::npos) return gnuplot_probe{"png", ""};
    return gnuplot_probe{"", "this gnuplot has no png terminal"};
  }();
  return probe;
}

// A new empty file in the temporary directory (mkstemp: unique, not guessable).
inline std::filesystem::path make_temp_file(const std::string& stem) {
  std::string pattern = (std::filesystem::temp_directory_path() / (stem + "-XXXXXX")).string();
  const int fd = ::mkstemp(pattern.data());
  if (fd < 0) throw io_error("cannot create a temporary file in " + pattern);
  ::close(fd);
  return pattern;
}

// Removes the temporary files on every way out of plot_learning_curve.
struct temp_files {
  std::vector<std::filesystem::path> paths;
  ~temp_files() {
    std::error_code ec;
    for (const auto& p : paths) std::filesystem::remove(p, ec);
  }
};

inline void warn_plot(const std::filesystem::path& png, const std::string& why) {
  std::cerr << "warning: no plot written to '" << png.string() << "': " << why << '\n';
}

}  // namespace detail

// Plots column `y_column` against `x_column` (any columns of the curve: its index, "env_steps",
// the metric or an extra) into `png_path`. Rows sharing one index are the seeds of one point.
// Returns whether the PNG was written; on failure prints a warning naming the reason.
inline bool plot_learning_curve(const io::learning_curve& curve,
                                const std::filesystem::path& png_path, const std::string& title,
                                const std::string& x_column, const std::string& y_column,
                                const std::optional<reference_line>& reference = std::nullopt) {
  namespace fs = std::filesystem;
  try {
    if (curve.empty()) {
      detail::warn_plot(png_path, "the learning curve has no rows");
      return false;
    }
    const auto x = io::aggregate_over_seeds(curve, x_column);
    const auto y = io::aggregate_over_seeds(curve, y_column);
    std::size_t max_seeds = 0;
    for (const auto& p : y) max_seeds = std::max(max_seeds, p.seeds);
    const bool band = max_seeds > 1;

    const detail::gnuplot_probe& gp = detail::probe_gnuplot();
    if (gp.terminal.empty()) {
      detail::warn_plot(png_path, gp.why);
      return false;
    }

    detail::temp_files temps;
    const fs::path data = detail::make_temp_file("netmarl-plot-data");
    temps.paths.push_back(data);
    {
      // x, mean, mean - std, mean + std; a point seen by fewer seeds than others still plots.
      std::ofstream out(data, std::ios::binary);
      for (std::size_t i = 0; i < y.size(); ++i) {
        out << io::format_number(x[i].mean) << ' ' << io::format_number(y[i].mean) << ' '
            << io::format_number(y[i].mean - y[i].std) << ' '
            << io::format_number(y[i].mean + y[i].std) << '\n';
      }
      if (!out) throw io_error("cannot write temporary data file " + data.string());
    }

    // gnuplot writes its output progressively; rendering to a temporary name and renaming keeps a
    // failed plot from leaving a truncated PNG.
    fs::path png_tmp = png_path;
    png_tmp += ".tmp.png";
    temps.paths.push_back(png_tmp);
    if (!png_path.parent_path().empty()) fs::create_directories(png_path.parent_path());

    const bool cairo = gp.terminal == "pngcairo";
    const std::string color = "'#1f77b4'";
    std::string script;
    script += "set terminal " + gp.terminal + " noenhanced size 960,600" +
              (cairo ? " font 'Sans,11'\n" : "\n");
    script += "set encoding utf8\n";
    script += "set output " + detail::gnuplot_quote(png_tmp.string()) + "\n";
    script += "set title " + detail::gnuplot_quote(title) + "\n";
    script += "set xlabel " + detail::gnuplot_quote(x_column) + "\n";
    script += "set ylabel " + detail::gnuplot_quote(y_column) + "\n";
    script += "set grid lc rgb '#b0b0b0'\n";
    // Legend inside the plot, clear of the x label (below the plot the two overlap).
    script += "set key bottom right opaque box width 1\n";
    script += "set autoscale xfix\n";
    script += "set offsets 0, 0, graph 0.05, graph 0.05\n";
    const std::string file = detail::gnuplot_quote(data.string());
    std::vector<std::string> plots;
    if (band) {
      const std::string pm = cairo ? "\xC2\xB1" : "+/-";  // UTF-8 plus-minus where fonts allow
      plots.push_back(file + " using 1:3:4 with filledcurves lc rgb " + color +
                      (cairo ? " fs transparent solid 0.25 noborder" : " fs solid 0.25 noborder") +
                      " title " +
                      detail::gnuplot_quote("mean " + pm + " std over " +
                                            std::to_string(max_seeds) + " seeds"));
      plots.push_back(file + " using 1:2 with lines lw 2 lc rgb " + color + " title " +
                      detail::gnuplot_quote("mean " + y_column));
    } else {
      plots.push_back(file + " using 1:2 with lines lw 2 lc rgb " + color + " title " +
                      detail::gnuplot_quote(y_column));
    }
    if (reference) {
      plots.push_back(io::format_number(reference->y) +
                      " with lines dt 2 lw 2 lc rgb '#d62728' title " +
                      detail::gnuplot_quote(reference->label));
    }
    script += "plot ";
    for (std::size_t i = 0; i < plots.size(); ++i) {
      script += (i ? ", \\\n     " : "") + plots[i];
    }
    script += "\nunset output\n";

    const fs::path script_path = detail::make_temp_file("netmarl-plot-script");
    temps.paths.push_back(script_path);
    {
      std::ofstream out(script_path, std::ios::binary);
      out << script;
      if (!out) throw io_error("cannot write temporary gnuplot script " + script_path.string());
    }

    const detail::command_result r =
        detail::run_command("gnuplot " + detail::shell_quote(script_path.string()));
    std::error_code ec;
    if (r.status != 0 || !fs::exists(png_tmp, ec) || fs::file_size(png_tmp, ec) == 0) {
      std::string why = "gnuplot failed";
      if (r.status > 0) why += " (exit status " + std::to_string(r.status) + ")";
      if (!r.output.empty()) why += ": " + r.output.substr(0, r.output.find_last_not_of('\n') + 1);
      detail::warn_plot(png_path, why);
      return false;
    }
    fs::rename(png_tmp, png_path, ec);
    if (ec) {
      detail::warn_plot(png_path, "cannot move the plot into place: " + ec.message());
      return false;
    }
    return true;
  } catch (const std::exception& e) {
    detail::warn_plot(png_path, e.what());
    return false;
  }
}

// The same, from a CSV written by io::learning_curve::write_csv.
inline bool plot_learning_curve(const std::filesystem::path& csv_path,
                                const std::filesystem::path& png_path, const std::string& title,
                                const std::string& x_column, const std::string& y_column,
                                const std::optional<reference_line>& reference = std::nullopt) {
  try {
    return plot_learning_curve(io::learning_curve::read_csv(csv_path), png_path, title, x_column,
                               y_column, reference);
  } catch (const std::exception& e) {
    detail::warn_plot(png_path, e.what());
    return false;
  }
}

}  // namespace netmarl::examples
