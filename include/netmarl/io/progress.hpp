#pragma once
// A progress bar for long runs (epochs or environment steps), written to a stream:
//
//   vast_gs [#########...........] 45% 450/1000  12.3 it/s  ETA 0:00:44  GS=412.3
//
// On a terminal the line is redrawn in place (\r) at most ~10 times a second, so a tight training
// loop can call update() every step at the cost of one clock read. Anywhere else (a log file, a CI
// pipe) \r garbles the output, so a plain line is printed each time another 5% is done.
// Not thread-safe: one thread owns one bar.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <iostream>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#if __has_include(<unistd.h>)
#include <unistd.h>
#endif

#include "netmarl/core/error.hpp"

namespace netmarl::io {

// One named number shown after the bar, e.g. {"GS", 412.3}. The name is only read during the call.
struct metric {
  std::string_view name;
  double value;
};

// "H:MM:SS" with seconds rounded to the nearest whole second: 44 -> "0:00:44", 3723 -> "1:02:03".
// Hours are not wrapped into days (a 30-hour run reads "30:00:00"). Negative, NaN or infinite
// input (an ETA before any progress) gives "-:--:--".
inline std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "-:--:--";
  const auto total = static_cast<std::int64_t>(std::llround(seconds));
  const std::int64_t h = total / 3600, m = total / 60 % 60, s = total % 60;
  std::string out = std::to_string(h);
  out += ':';
  out += static_cast<char>('0' + m / 10);
  out += static_cast<char>('0' + m % 10);
  out += ':';
  out += static_cast<char>('0' + s / 10);
  out += static_cast<char>('0' + s % 10);
  return out;
}

namespace detail {

// Locale-independent short number: 4 significant digits ("412.3", "0.0123", "1.235e+04").
inline std::string format_short(double value, int significant = 4) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::general,
                                 significant);
  if (ec != std::errc{}) return "?";
  return std::string(buf, end);
}

// Units per second with an SI suffix past a thousand: "12.3", "51.1k", "2.05M".
inline std::string format_rate(double rate) {
  if (rate >= 1e9) return format_short(rate / 1e9, 3) + "G";
  if (rate >= 1e6) return format_short(rate / 1e6, 3) + "M";
  if (rate >= 1e3) return format_short(rate / 1e3, 3) + "k";
  return format_short(rate, 3);
}

}  // namespace detail

// The text of one progress line, without \r or newline: a pure function so the layout is testable.
// `elapsed_seconds` is the wall time since the bar started; `finished` replaces the ETA with the
// total wall time ("in 0:01:21").
inline std::string format_progress_line(std::string_view label, std::int64_t done,
                                        std::int64_t total, double elapsed_seconds,
                                        std::span<const std::pair<std::string, double>> metrics,
                                        bool finished = false) {
  constexpr int width = 20;
  const double fraction =
      total > 0 ? std::clamp(static_cast<double>(done) / static_cast<double>(total), 0.0, 1.0)
                : 1.0;
  const int filled = static_cast<int>(fraction * width);
  std::string line;
  line.reserve(96);
  if (!label.empty()) {
    line += label;
    line += ' ';
  }
  line += '[';
  line.append(static_cast<std::size_t>(filled), '#');
  line.append(static_cast<std::size_t>(width - filled), '.');
  line += "] ";
  line += std::to_string(static_cast<int>(fraction * 100));
  line += "% ";
  line += std::to_string(done);
  line += '/';
  line += std::to_string(total);

  const double rate = elapsed_seconds > 0 ? static_cast<double>(done) / elapsed_seconds : 0.0;
  if (done > 0 && elapsed_seconds > 0) {
    // Slow units (an epoch of many episodes) read better as seconds per unit.
    if (rate >= 1.0) {
      line += "  " + detail::format_rate(rate) + " it/s";
    } else {
      line += "  " + detail::format_short(1.0 / rate, 3) + " s/it";
    }
  }
  if (finished) {
    line += "  in " + format_duration(elapsed_seconds);
  } else {
    const double eta = rate > 0 ? static_cast<double>(total - done) / rate : -1.0;
    line += "  ETA " + format_duration(eta);
  }
  for (const auto& [name, value] : metrics) {
    line += "  ";
    line += name;
    line += '=';
    line += detail::format_short(value);
  }
  return line;
}

class progress_bar {
 public:
  // How to draw: `automatic` redraws in place only when `out` is std::cerr/std::clog on a
  // terminal stderr (or std::cout on a terminal stdout); tests and callers may force either style.
  enum class style { automatic, terminal, plain };

  explicit progress_bar(std::int64_t total, std::string label = {}, std::ostream& out = std::cerr,
                        bool enabled = true, style how = style::automatic)
      : total_(total), label_(std::move(label)), out_(&out), enabled_(enabled),
        terminal_(how == style::terminal || (how == style::automatic && is_terminal(out))),
        start_(clock::now()) {
    if (total < 0) {
      throw invalid_argument("progress_bar: total must be >= 0, got " + std::to_string(total));
    }
  }

  progress_bar(const progress_bar&) = delete;
  progress_bar& operator=(const progress_bar&) = delete;

  // A bar destroyed mid-line (an exception unwinding the training loop) ends its line, so the
  // error message that follows starts on a fresh one.
  ~progress_bar() {
    if (enabled_ && terminal_ && line_open_ && !finished_) *out_ << '\n' << std::flush;
  }

  void update(std::int64_t done, std::initializer_list<metric> metrics = {}) {
    update(done, std::span<const metric>(metrics.begin(), metrics.size()));
  }
  void update(std::int64_t done, const std::vector<metric>& metrics) {
    update(done, std::span<const metric>(metrics));
  }
  void update(std::int64_t done, std::span<const metric> metrics) {
    if (!enabled_ || finished_) return;
    done_ = done;
    remember(metrics);
    if (terminal_) {
      // Reaching the total is drawn at once, whatever the throttle (but only once, so callers
      // that keep updating past the total do not flood the terminal).
      const bool reached_total = done >= total_ && last_drawn_done_ < total_;
      const auto now = clock::now();
      if (!reached_total && drawn_once_ && now - last_draw_ < redraw_interval) return;
      last_draw_ = now;
      last_drawn_done_ = done;
      draw_in_place(format_progress_line(label_, done_, total_, seconds_since(now), metrics_));
    } else {
      // Plain output: one line per 5% bucket reached, so a log gets at most ~21 lines.
      const std::int64_t bucket = total_ > 0 ? std::min<std::int64_t>(done * 20 / total_, 20) : 20;
      if (drawn_once_ && bucket <= last_bucket_) return;
      last_bucket_ = bucket;
      *out_ << format_progress_line(label_, done_, total_, elapsed_seconds(), metrics_) << '\n'
            << std::flush;
    }
    drawn_once_ = true;
  }

  // Prints the final line (last progress and metrics, total wall time) and ends it. Idempotent;
  // further update() calls are ignored.
  void finish() {
    if (!enabled_ || finished_) return;
    finished_ = true;
    const std::string line =
        format_progress_line(label_, done_, total_, elapsed_seconds(), metrics_, true);
    if (terminal_) {
      draw_in_place(line);
      *out_ << '\n' << std::flush;
    } else {
      *out_ << line << '\n' << std::flush;
    }
  }

  // Wall time since construction, for run summaries.
  double elapsed_seconds() const { return seconds_since(clock::now()); }

  bool enabled() const { return enabled_; }
  bool redraws_in_place() const { return terminal_; }

 private:
  using clock = std::chrono::steady_clock;
  static constexpr auto redraw_interval = std::chrono::milliseconds(100);

  static bool is_terminal(const std::ostream& out) {
#if __has_include(<unistd.h>)
    if (&out == &std::cerr || &out == &std::clog) return ::isatty(STDERR_FILENO) != 0;
    if (&out == &std::cout) return ::isatty(STDOUT_FILENO) != 0;
#endif
    return false;
  }

  double seconds_since(clock::time_point now) const {
    return std::chrono::duration<double>(now - start_).count();
  }

  // Copies the metrics so finish() can show the values of the last update even when that update
  // was throttled; assign() reuses the strings' buffers, so this does not allocate per step.
  void remember(std::span<const metric> metrics) {
    metrics_.resize(metrics.size());
    for (std::size_t i = 0; i < metrics.size(); ++i) {
      metrics_[i].first.assign(metrics[i].name);
      metrics_[i].second = metrics[i].value;
    }
  }

  // Pads with spaces over the previous, possibly longer, line instead of relying on ANSI codes.
  void draw_in_place(const std::string& line) {
    *out_ << '\r' << line;
    if (line.size() < last_length_) *out_ << std::string(last_length_ - line.size(), ' ');
    *out_ << std::flush;
    last_length_ = line.size();
    line_open_ = true;
  }

  std::int64_t total_;
  std::string label_;
  std::ostream* out_;
  bool enabled_;
  bool terminal_;
  clock::time_point start_;
  clock::time_point last_draw_{};
  std::int64_t done_ = 0;
  std::int64_t last_drawn_done_ = -1;
  std::int64_t last_bucket_ = -1;
  std::size_t last_length_ = 0;
  bool drawn_once_ = false;
  bool line_open_ = false;
  bool finished_ = false;
  std::vector<std::pair<std::string, double>> metrics_;
};

}  // namespace netmarl::io
