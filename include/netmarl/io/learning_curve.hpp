#pragma once
// Learning curves: one row per (seed, epoch or step) with the environment steps so far, the metric
// and any extra columns named at construction, written as CSV.
//
// The file is a reproducibility artefact: the same run must give a byte-identical file. So numbers
// are written with std::to_chars (locale-independent; doubles in shortest round-trip form) and rows
// are sorted by (seed, index) before writing, so seeds trained on several threads and merged in
// any order still give the same bytes. Files are written atomically (temporary file + rename), so
// an interrupted run never leaves half a CSV where a plotting script expects a whole one.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#if __has_include(<unistd.h>)
#include <unistd.h>
#endif

#include "netmarl/core/error.hpp"

namespace netmarl::io {

// Writes `contents` to `path` through a temporary file in the same directory and a rename, so
// readers see either the old file or the whole new one. Creates missing parent directories.
// Throws io_error naming the path (and the system's reason) when it cannot.
inline void write_file_atomically(const std::filesystem::path& path, std::string_view contents) {
  namespace fs = std::filesystem;
  const auto fail = [&](const std::string& why) {
    throw io_error("cannot write '" + path.string() + "': " + why);
  };
  if (path.empty()) fail("empty path");
  std::error_code ec;
  const fs::path parent = path.parent_path();
  if (!parent.empty()) {
    fs::create_directories(parent, ec);
    if (ec) fail("cannot create directory '" + parent.string() + "': " + ec.message());
  }
  // The process id keeps two runs writing the same file from sharing one temporary file.
  std::string suffix = ".tmp";
#if __has_include(<unistd.h>)
  suffix += '.' + std::to_string(static_cast<long long>(::getpid()));
#endif
  fs::path tmp = path;
  tmp += suffix;
  {
    std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
    if (!file) fail("cannot create temporary file '" + tmp.string() + "'");
    file.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    file.close();
    if (!file) {
      fs::remove(tmp, ec);
      fail("write to temporary file '" + tmp.string() + "' failed (disk full?)");
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    fail("cannot rename temporary file into place: " + ec.message());
  }
}

// Shortest text that reads back as exactly `value` ("0.1", "1e+300", "nan", "-inf").
inline std::string format_number(double value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  (void)ec;  // 64 bytes always hold a shortest round-trip double.
  return std::string(buf, end);
}

struct mean_std {
  double mean;
  double std;  // sample standard deviation (divides by n - 1); 0 for a single value
  std::size_t count;
};

// Mean and sample standard deviation, two-pass for accuracy. Sample (n - 1) rather than population
// std because the values are a few seeds drawn from all possible seeds.
// Throws invalid_argument on an empty input.
inline mean_std mean_and_std(std::span<const double> values) {
  if (values.empty()) throw invalid_argument("mean_and_std: no values");
  double sum = 0;
  for (double v : values) sum += v;
  const double mean = sum / static_cast<double>(values.size());
  double squares = 0;
  for (double v : values) squares += (v - mean) * (v - mean);
  const double std =
      values.size() > 1 ? std::sqrt(squares / static_cast<double>(values.size() - 1)) : 0.0;
  return {mean, std, values.size()};
}
inline mean_std mean_and_std(std::initializer_list<double> values) {
  return mean_and_std(std::span<const double>(values.begin(), values.size()));
}

class learning_curve {
 public:
  struct row {
    std::int64_t index;      // epoch or step
    std::int64_t env_steps;  // environment steps taken so far
    std::uint64_t seed;
    double metric;
    std::vector<double> extra;  // one value per extra column, in column order
  };

  // Header: <index_name>,env_steps,seed,<metric_name>,<extra...>; e.g. ("epoch", "GS", {"eta"}).
  // Names must be non-empty, distinct and free of commas, quotes and line breaks (the CSV is
  // written without quoting); otherwise throws invalid_argument.
  explicit learning_curve(std::string index_name = "epoch", std::string metric_name = "metric",
                          std::vector<std::string> extra_columns = {}) {
    columns_.reserve(4 + extra_columns.size());
    columns_.push_back(std::move(index_name));
    columns_.push_back("env_steps");
    columns_.push_back("seed");
    columns_.push_back(std::move(metric_name));
    for (auto& name : extra_columns) columns_.push_back(std::move(name));
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      const std::string& name = columns_[i];
      if (name.empty()) throw invalid_argument("learning_curve: empty column name");
      if (name.find_first_of(",\"\r\n") != std::string::npos) {
        throw invalid_argument("learning_curve: column name '" + name +
                               "' contains a comma, quote or line break");
      }
      for (std::size_t j = 0; j < i; ++j) {
        if (columns_[j] == name) {
          throw invalid_argument("learning_curve: column '" + name + "' appears twice");
        }
      }
    }
  }

  void add(std::uint64_t seed, std::int64_t index, std::int64_t env_steps, double metric,
           std::initializer_list<double> extra = {}) {
    add(seed, index, env_steps, metric, std::span<const double>(extra.begin(), extra.size()));
  }
  void add(std::uint64_t seed, std::int64_t index, std::int64_t env_steps, double metric,
           std::span<const double> extra) {
    if (extra.size() != extra_count()) {
      throw invalid_argument("learning_curve::add: " + std::to_string(extra.size()) +
                             " extra values for " + std::to_string(extra_count()) +
                             " extra columns");
    }
    rows_.push_back({index, env_steps, seed, metric, {extra.begin(), extra.end()}});
  }

  // Appends the rows of a curve with the same columns (one curve per seed, trained on its own
  // thread, merged at the end). Throws invalid_argument when the columns differ.
  void merge(const learning_curve& other) {
    if (other.columns_ != columns_) {
      throw invalid_argument("learning_curve::merge: columns differ ('" + other.header() +
                             "' vs '" + header() + "')");
    }
    rows_.insert(rows_.end(), other.rows_.begin(), other.rows_.end());
  }

  const std::vector<std::string>& columns() const { return columns_; }
  const std::string& index_name() const { return columns_[0]; }
  const std::string& metric_name() const { return columns_[3]; }
  std::size_t extra_count() const { return columns_.size() - 4; }
  const std::vector<row>& rows() const { return rows_; }
  bool empty() const { return rows_.empty(); }

  // Position of `name` in columns(), or -1.
  int column_index(std::string_view name) const {
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      if (columns_[i] == name) return static_cast<int>(i);
    }
    return -1;
  }

  // Value of column number `column` (see columns()) in `r`, as a double.
  double value(const row& r, int column) const {
    switch (column) {
      case 0: return static_cast<double>(r.index);
      case 1: return static_cast<double>(r.env_steps);
      case 2: return static_cast<double>(r.seed);
      case 3: return r.metric;
      default: return r.extra.at(static_cast<std::size_t>(column - 4));
    }
  }

  std::string header() const {
    std::string line;
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      if (i) line += ',';
      line += columns_[i];
    }
    return line;
  }

  // The whole CSV text: header, then rows sorted by (seed, index), stable for equal keys.
  std::string to_csv() const {
    std::vector<const row*> order;
    order.reserve(rows_.size());
    for (const row& r : rows_) order.push_back(&r);
    std::stable_sort(order.begin(), order.end(), [](const row* a, const row* b) {
      return a->seed != b->seed ? a->seed < b->seed : a->index < b->index;
    });
    std::string text = header() + '\n';
    char buf[64];
    const auto put_int = [&](auto v) {
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
      (void)ec;
      text.append(buf, end);
    };
    const auto put_double = [&](double v) {
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
      (void)ec;
      text.append(buf, end);
    };
    for (const row* r : order) {
      put_int(r->index);
      text += ',';
      put_int(r->env_steps);
      text += ',';
      put_int(r->seed);
      text += ',';
      put_double(r->metric);
      for (double v : r->extra) {
        text += ',';
        put_double(v);
      }
      text += '\n';
    }
    return text;
  }

  // Throws io_error naming `path` when it cannot be written.
  void write_csv(const std::filesystem::path& path) const { write_file_atomically(path, to_csv()); }

  // Reads a CSV written by write_csv (for plotting or aggregating after the run). Throws io_error
  // when the file cannot be read and parse_error naming the file and line on malformed content.
  static learning_curve read_csv(const std::filesystem::path& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) throw io_error("cannot read '" + path.string() + "'");
    std::string line;
    std::size_t line_number = 1;
    const auto fail = [&](const std::string& why) {
      throw parse_error("'" + path.string() + "' line " + std::to_string(line_number) + ": " +
                        why);
    };
    if (!std::getline(file, line)) fail("empty file, expected a header line");
    strip_cr(line);
    std::vector<std::string> names = split(line);
    if (names.size() < 4 || names[1] != "env_steps" || names[2] != "seed") {
      fail("header '" + line + "' is not <index>,env_steps,seed,<metric>[,extra...]");
    }
    learning_curve curve(names[0], names[3], {names.begin() + 4, names.end()});
    std::vector<double> extra(curve.extra_count());
    while (std::getline(file, line)) {
      ++line_number;
      strip_cr(line);
      if (line.empty()) continue;
      std::vector<std::string> cells = split(line);
      if (cells.size() != names.size()) {
        fail(std::to_string(cells.size()) + " fields, header has " + std::to_string(names.size()));
      }
      std::int64_t index = 0, env_steps = 0;
      std::uint64_t seed = 0;
      double metric = 0;
      if (!parse(cells[0], index)) fail("bad " + names[0] + " '" + cells[0] + "'");
      if (!parse(cells[1], env_steps)) fail("bad env_steps '" + cells[1] + "'");
      if (!parse(cells[2], seed)) fail("bad seed '" + cells[2] + "'");
      if (!parse(cells[3], metric)) fail("bad " + names[3] + " '" + cells[3] + "'");
      for (std::size_t i = 0; i < extra.size(); ++i) {
        if (!parse(cells[4 + i], extra[i])) fail("bad " + names[4 + i] + " '" + cells[4 + i] + "'");
      }
      curve.add(seed, index, env_steps, metric, std::span<const double>(extra));
    }
    return curve;
  }

 private:
  static void strip_cr(std::string& line) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
  }
  static std::vector<std::string> split(const std::string& line) {
    std::vector<std::string> cells;
    std::size_t start = 0;
    while (true) {
      const std::size_t comma = line.find(',', start);
      cells.push_back(line.substr(start, comma - start));
      if (comma == std::string::npos) return cells;
      start = comma + 1;
    }
  }
  // Whole-field parse of an integer or a double ("nan", "-inf" included, as to_chars writes them).
  template <class T>
  static bool parse(const std::string& text, T& out) {
    const char* last = text.data() + text.size();
    auto [end, ec] = std::from_chars(text.data(), last, out);
    return ec == std::errc{} && end == last;
  }

  std::vector<std::string> columns_;
  std::vector<row> rows_;
};

// One point of a curve aggregated over seeds: the rows sharing one index (epoch or step).
struct seed_aggregate {
  std::int64_t index;
  double mean;
  double std;  // sample std over seeds; 0 with one seed
  double min;
  double max;
  std::size_t seeds;  // rows that had this index
};

// Mean/std of `column` (any name in curve.columns(), e.g. the metric or "env_steps") over the
// seeds, per index, in increasing index order. Throws invalid_argument for an unknown column.
inline std::vector<seed_aggregate> aggregate_over_seeds(const learning_curve& curve,
                                                        std::string_view column) {
  const int c = curve.column_index(column);
  if (c < 0) {
    throw invalid_argument("aggregate_over_seeds: no column '" + std::string(column) +
                           "' in '" + curve.header() + "'");
  }
  // Grouped in seed order so the sums, and thus the printed means, do not depend on the order in
  // which rows were added.
  std::map<std::int64_t, std::vector<std::pair<std::uint64_t, double>>> by_index;
  for (const auto& r : curve.rows()) by_index[r.index].emplace_back(r.seed, curve.value(r, c));
  std::vector<seed_aggregate> out;
  out.reserve(by_index.size());
  std::vector<double> values;
  for (auto& [index, entries] : by_index) {
    std::stable_sort(entries.begin(), entries.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    values.clear();
    for (const auto& e : entries) values.push_back(e.second);
    const mean_std ms = mean_and_std(values);
    const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
    out.push_back({index, ms.mean, ms.std, *lo, *hi, ms.count});
  }
  return out;
}

}  // namespace netmarl::io
