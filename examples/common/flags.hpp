#pragma once
// The flags every netmarl example takes, so all examples read alike:
//
//   int main(int argc, char** argv) {
//     CLI::App app{"VAST on the Gaussian squeeze"};
//     netmarl::examples::common_options o;
//     o.agents = 50;  o.epochs = 2000;                 // this example's defaults, shown in --help
//     netmarl::examples::add_common_flags(app, o, netmarl::examples::budget_flags::epochs);
//     app.add_option("--eta", eta, "...");              // the example's own flags
//     if (int rc = netmarl::examples::parse_flags(app, argc, argv); rc >= 0) return rc;
//     return netmarl::examples::with_backend(o.backend, [&](auto backend) { ... });
//   }
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#if __has_include(<unistd.h>)
#include <unistd.h>
#endif

#include <CLI/CLI.hpp>

#include "netmarl/backend/tags.hpp"
#include "netmarl/core/error.hpp"
#include "netmarl/core/tensor.hpp"

namespace netmarl::examples {

struct common_options {
  std::uint64_t seed = 0;  // first seed
  int seeds = 1;           // seeds seed, seed + 1, ..., seed + seeds - 1
  index agents = 10;       // examples set their own defaults before add_common_flags
  int epochs = 100;
  std::int64_t steps = 100'000;
  std::string backend = "simd";
  std::string out_csv;       // empty: no CSV
  std::string summary_json;  // empty: no summary
  std::string plot_png;      // empty: no plot
  bool quiet = false;        // no progress bar
};

// The consecutive seeds a run trains: {seed, seed + 1, ..., seed + seeds - 1}.
inline std::vector<std::uint64_t> seed_list(const common_options& o) {
  std::vector<std::uint64_t> list;
  for (int i = 0; i < o.seeds; ++i) list.push_back(o.seed + static_cast<std::uint64_t>(i));
  return list;
}

// Which training-budget flag an example takes: one that counts epochs registers --epochs only, so
// --help never offers a flag the example would ignore.
enum class budget_flags : unsigned { none = 0, epochs = 1u << 0, steps = 1u << 1 };
constexpr budget_flags operator|(budget_flags a, budget_flags b) {
  return static_cast<budget_flags>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}
constexpr bool has(budget_flags set, budget_flags flag) {
  return (static_cast<unsigned>(set) & static_cast<unsigned>(flag)) != 0;
}

// The backend names --backend accepts, in the order --help lists them.
inline const std::vector<std::string>& backend_names() {
  static const std::vector<std::string> names{"reference", "simd"};
  return names;
}

// Calls f(backend_tag) with the tag named by `name`, so one generic lambda instantiates the run for
// each backend. Both calls must return the same type. Throws invalid_argument for other names
// (parse_flags has already rejected them when the name came from --backend).
template <class F>
std::invoke_result_t<F&, backend::reference> with_backend(std::string_view name, F&& f) {
  if (name == "reference") return f(backend::reference{});
  if (name == "simd") return f(backend::simd<>{});
  throw invalid_argument("unknown backend '" + std::string(name) +
                         "' (expected reference or simd)");
}

// As with_backend, for examples built for the simd backend only (a training run instantiated
// twice doubles its compile time; the reference kernels are the tests' oracle, not a way to train).
template <class F>
std::invoke_result_t<F&, backend::simd<>> with_simd_backend(std::string_view name, F&& f) {
  if (name != "simd")
    throw invalid_argument(
        "this example is built for the simd backend only (the reference "
        "kernels are the tests' oracle), got --backend " +
        std::string(name));
  return f(backend::simd<>{});
}

namespace detail {

// CLI11 runs validators on the text before converting it, so the messages can say what was
// expected in words ("--agents: must be >= 1, got 0") instead of CLI11's generic range text.
template <class Int>
CLI::Validator at_least(Int min) {
  return CLI::Validator(
      [min](std::string& text) -> std::string {
        Int value{};
        const char* last = text.data() + text.size();
        auto [end, ec] = std::from_chars(text.data(), last, value);
        if (ec == std::errc::result_out_of_range) return "'" + text + "' is out of range";
        if (ec != std::errc{} || end != last) return "expected a whole number, got '" + text + "'";
        if (value < min) return "must be >= " + std::to_string(min) + ", got " + text;
        return {};
      },
      ">=" + std::to_string(min));
}

// Fails fast on an output path that cannot be written, instead of after hours of training: the
// nearest existing ancestor must be a writable directory, and the path itself not a directory.
inline std::string check_output_path(const std::string& text) {
  namespace fs = std::filesystem;
  if (text.empty()) return "empty file name";
  std::error_code ec;
  fs::path path = fs::absolute(text, ec);
  if (ec) return "cannot resolve '" + text + "': " + ec.message();
  if (fs::is_directory(path, ec)) return "'" + text + "' is a directory";
  fs::path dir = path.parent_path();
  while (!dir.empty() && !fs::exists(dir, ec)) {
    if (dir == dir.parent_path()) break;
    dir = dir.parent_path();
  }
  if (!fs::is_directory(dir, ec))
    return "cannot write '" + text + "': '" + dir.string() + "' is not a directory";
#if __has_include(<unistd.h>)
  if (::access(dir.c_str(), W_OK) != 0) {
    return "cannot write '" + text + "': directory '" + dir.string() + "' is not writable";
  }
#endif
  return {};
}

// No description: --help already shows FILE.csv as the type.
inline CLI::Validator writable_file() { return CLI::Validator(check_output_path, ""); }

}  // namespace detail

// Registers --seed, --seeds, --agents, the budget flags named in `budget` (--epochs, --steps),
// --backend, --out, --summary, --plot and --quiet, writing into `o`. The values already in `o`
// are the defaults --help shows.
inline void add_common_flags(CLI::App& app, common_options& o, budget_flags budget) {
  app.add_option("--seed", o.seed, "first random seed")
      ->check(detail::at_least<std::uint64_t>(0))
      ->capture_default_str();
  app.add_option("--seeds", o.seeds, "number of consecutive seeds to run, starting at --seed")
      ->check(detail::at_least(1))
      ->capture_default_str();
  app.add_option("--agents", o.agents, "number of agents")
      ->check(detail::at_least<index>(1))
      ->capture_default_str();
  if (has(budget, budget_flags::epochs)) {
    app.add_option("--epochs", o.epochs, "training epochs")
        ->check(detail::at_least(1))
        ->capture_default_str();
  }
  if (has(budget, budget_flags::steps)) {
    app.add_option("--steps", o.steps, "training environment steps")
        ->check(detail::at_least<std::int64_t>(1))
        ->capture_default_str();
  }
  app.add_option("--backend", o.backend, "kernel backend")
      ->check(CLI::IsMember(backend_names()))
      ->capture_default_str();
  app.add_option("--out", o.out_csv, "write the learning curve (all seeds) as CSV")
      ->type_name("FILE.csv")
      ->check(detail::writable_file());
  app.add_option("--summary", o.summary_json, "write a JSON summary of the run")
      ->type_name("FILE.json")
      ->check(detail::writable_file());
  app.add_option("--plot", o.plot_png, "plot the learning curve to a PNG (needs gnuplot)")
      ->type_name("FILE.png")
      ->check(detail::writable_file());
  app.add_flag("--quiet,-q", o.quiet, "no progress bar");
}

// Parses the command line. Returns -1 when the run should go on; otherwise the exit code main
// should return: 0 after --help, 2 after a bad flag or value (one line saying which, then a hint).
inline int parse_flags(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --help-all, --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    const std::string& name = app.get_name();
    std::cerr << (name.empty() ? std::string() : name + ": ") << "error: " << e.what() << '\n'
              << "run with --help for usage\n";
    return 2;
  }
  return -1;
}

}  // namespace netmarl::examples
