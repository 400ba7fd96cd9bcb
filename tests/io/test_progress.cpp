#include <catch2/catch.hpp>

#include <algorithm>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "netmarl/io/progress.hpp"

using netmarl::io::format_duration;
using netmarl::io::format_progress_line;
using netmarl::io::progress_bar;

namespace {
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}
}  // namespace

TEST_CASE("format_duration: H:MM:SS with rounding", "[io][progress]") {
  CHECK(format_duration(0) == "0:00:00");
  CHECK(format_duration(44) == "0:00:44");
  CHECK(format_duration(44.4) == "0:00:44");
  CHECK(format_duration(59.6) == "0:01:00");
  CHECK(format_duration(600) == "0:10:00");
  CHECK(format_duration(3723) == "1:02:03");
  CHECK(format_duration(3599.5) == "1:00:00");
  CHECK(format_duration(30 * 3600 + 5) == "30:00:05");
}

TEST_CASE("format_duration: unknown durations", "[io][progress]") {
  CHECK(format_duration(-1) == "-:--:--");
  CHECK(format_duration(std::numeric_limits<double>::quiet_NaN()) == "-:--:--");
  CHECK(format_duration(std::numeric_limits<double>::infinity()) == "-:--:--");
}

TEST_CASE("format_progress_line: bar, percent, rate, ETA and metrics", "[io][progress]") {
  std::vector<std::pair<std::string, double>> metrics{{"GS", 412.3}, {"loss", 0.01234}};
  // 450 of 1000 in 36.6 s: 12.3 it/s, 550 left -> 44.7 s -> ETA 0:00:45.
  const std::string line = format_progress_line("vast", 450, 1000, 36.6, metrics);
  CHECK(line == "vast [#########...........] 45% 450/1000  12.3 it/s  ETA 0:00:45  GS=412.3"
                "  loss=0.01234");
}

TEST_CASE("format_progress_line: fast units get an SI suffix", "[io][progress]") {
  CHECK(format_progress_line("", 51100, 102200, 1.0, {}) ==
        "[##########..........] 50% 51100/102200  51.1k it/s  ETA 0:00:01");
  CHECK(format_progress_line("", 4100000, 8200000, 2.0, {}) ==
        "[##########..........] 50% 4100000/8200000  2.05M it/s  ETA 0:00:02");
}

TEST_CASE("format_progress_line: slow units read as seconds per unit", "[io][progress]") {
  const std::string line = format_progress_line("", 2, 10, 8.0, {});
  CHECK(line == "[####................] 20% 2/10  4 s/it  ETA 0:00:32");
}

TEST_CASE("format_progress_line: no progress yet has no rate and an unknown ETA",
          "[io][progress]") {
  CHECK(format_progress_line("x", 0, 10, 1.0, {}) ==
        "x [....................] 0% 0/10  ETA -:--:--");
}

TEST_CASE("format_progress_line: finished shows wall time instead of ETA", "[io][progress]") {
  const std::string line = format_progress_line("run", 100, 100, 81.0, {}, true);
  CHECK(line == "run [####################] 100% 100/100  1.23 it/s  in 0:01:21");
}

TEST_CASE("progress_bar: plain output prints one line per 5% and a final line", "[io][progress]") {
  std::ostringstream out;
  progress_bar bar(100, "train", out, true, progress_bar::style::plain);
  CHECK_FALSE(bar.redraws_in_place());
  for (int i = 1; i <= 100; ++i) bar.update(i, {{"GS", static_cast<double>(i)}});
  bar.finish();
  bar.finish();  // idempotent
  const std::string text = out.str();
  CHECK(text.find('\r') == std::string::npos);
  const auto lines = lines_of(text);
  // The first update (so a log shows the run started), 5%, 10%, ..., 100%, then the final line.
  REQUIRE(lines.size() == 22);
  CHECK(lines[0].rfind("train [....................] 1% 1/100", 0) == 0);
  CHECK(lines[1].rfind("train [#...................] 5% 5/100", 0) == 0);
  CHECK(lines[1].find("GS=5") != std::string::npos);
  CHECK(lines[20].rfind("train [####################] 100% 100/100", 0) == 0);
  CHECK(lines[21].find(" in ") != std::string::npos);
  CHECK(lines[21].find("GS=100") != std::string::npos);
}

TEST_CASE("progress_bar: finish shows the metrics of the last update", "[io][progress]") {
  std::ostringstream out;
  progress_bar bar(1000, "t", out, true, progress_bar::style::plain);
  bar.update(1, {{"GS", 1.0}});
  bar.update(2, {{"GS", 2.5}});  // same 5% bucket: not printed
  bar.finish();
  const auto lines = lines_of(out.str());
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].find("GS=1") != std::string::npos);
  CHECK(lines[1].find("2/1000") != std::string::npos);
  CHECK(lines[1].find("GS=2.5") != std::string::npos);
}

TEST_CASE("progress_bar: terminal style redraws in place and always draws the last update",
          "[io][progress]") {
  std::ostringstream out;
  {
    progress_bar bar(10, "t", out, true, progress_bar::style::terminal);
    CHECK(bar.redraws_in_place());
    bar.update(10, std::vector<netmarl::io::metric>{{"GS", 3.0}});
    CHECK(out.str().rfind("\rt [####################] 100% 10/10", 0) == 0);
    CHECK(out.str().find('\n') == std::string::npos);
    bar.update(11);  // past the total, within the throttle interval: not drawn again
    const std::string drawn = out.str();
    CHECK(std::count(drawn.begin(), drawn.end(), '\r') == 1);
    bar.finish();
  }
  const std::string text = out.str();
  CHECK(text.back() == '\n');
  CHECK(std::count(text.begin(), text.end(), '\n') == 1);  // the destructor adds no second one
  CHECK(text.find(" in ") != std::string::npos);
}

TEST_CASE("progress_bar: a bar destroyed mid-line ends the line", "[io][progress]") {
  std::ostringstream out;
  {
    progress_bar bar(10, "t", out, true, progress_bar::style::terminal);
    bar.update(1);
  }
  CHECK(out.str().back() == '\n');
}

TEST_CASE("progress_bar: disabled prints nothing", "[io][progress]") {
  std::ostringstream out;
  progress_bar bar(10, "t", out, false);
  for (int i = 0; i <= 10; ++i) bar.update(i, {{"GS", 1.0}});
  bar.finish();
  CHECK(out.str().empty());
}

TEST_CASE("progress_bar: a string stream is never treated as a terminal", "[io][progress]") {
  std::ostringstream out;
  progress_bar bar(10, "t", out);
  CHECK_FALSE(bar.redraws_in_place());
}

TEST_CASE("progress_bar: negative total is rejected", "[io][progress]") {
  std::ostringstream out;
  CHECK_THROWS_AS(progress_bar(-1, "t", out), netmarl::invalid_argument);
}
