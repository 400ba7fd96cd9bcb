#pragma once
// The JSON summary an example writes with --summary FILE.json: one small object a sweep script can
// read without parsing the CSV.
//
//   {"env": "gaussian_squeeze", "method": "vast_qtran", "metric": "GS", "final": 412.3,
//    "final_std": 3.1, "seeds": 5, "budget": "2000 epochs x 10 episodes", "wall_seconds": 81.2,
//    ... extra fields ...}
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "netmarl/core/error.hpp"
#include "netmarl/io/learning_curve.hpp"

namespace netmarl::examples {

struct run_summary {
  std::string env;
  std::string method;
  std::string metric;       // name of the metric, e.g. "GS" or "return"
  double final = 0;         // metric at the end of training, mean over seeds
  double final_std = 0;     // sample std over seeds (0 for one seed)
  int seeds = 1;
  std::string budget;       // e.g. format_budget({{2000, "epochs"}, {10, "episodes"}})
  double wall_seconds = 0;
  // Further fields, appended at top level in their insertion order (ordered_json, so the file
  // reads in a stable, meaningful order rather than alphabetically).
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();
};

// "2000 epochs x 10 episodes" from {{2000, "epochs"}, {10, "episodes"}}.
inline std::string format_budget(
    std::initializer_list<std::pair<std::int64_t, std::string_view>> parts) {
  std::string text;
  for (const auto& [count, unit] : parts) {
    if (!text.empty()) text += " x ";
    text += std::to_string(count);
    text += ' ';
    text += unit;
  }
  return text;
}

// The summary as JSON. Extra fields may not reuse the standard names (a typo would silently
// overwrite "final"); that throws invalid_argument. NaN and infinities become null, as JSON has
// no spelling for them.
inline nlohmann::ordered_json to_json(const run_summary& s) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["env"] = s.env;
  j["method"] = s.method;
  j["metric"] = s.metric;
  j["final"] = s.final;
  j["final_std"] = s.final_std;
  j["seeds"] = s.seeds;
  j["budget"] = s.budget;
  j["wall_seconds"] = s.wall_seconds;
  if (!s.extra.is_null() && !s.extra.is_object()) {
    throw invalid_argument("run_summary: extra must be a JSON object, got " + s.extra.dump());
  }
  if (s.extra.is_object()) {
    for (const auto& [key, value] : s.extra.items()) {
      if (j.contains(key)) {
        throw invalid_argument("run_summary: extra field '" + key + "' clashes with a standard one");
      }
      j[key] = value;
    }
  }
  return j;
}

// Writes the summary (indented, trailing newline) atomically; throws io_error naming the path.
inline void write_summary(const std::filesystem::path& path, const run_summary& s) {
  io::write_file_atomically(path, to_json(s).dump(2) + '\n');
}

// Fills final/final_std/seeds from the last index of a learning curve (mean over seeds of the
// metric there), for examples whose final score is simply the last point of the curve.
inline void set_final_from_curve(run_summary& s, const io::learning_curve& curve) {
  const auto points = io::aggregate_over_seeds(curve, curve.metric_name());
  if (points.empty()) throw invalid_argument("set_final_from_curve: the learning curve is empty");
  s.metric = curve.metric_name();
  s.final = points.back().mean;
  s.final_std = points.back().std;
  s.seeds = static_cast<int>(points.back().seeds);
}

}  // namespace netmarl::examples
