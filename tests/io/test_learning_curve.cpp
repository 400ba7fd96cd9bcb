#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "netmarl/io/learning_curve.hpp"

namespace fs = std::filesystem;
using netmarl::io::aggregate_over_seeds;
using netmarl::io::learning_curve;
using netmarl::io::mean_and_std;

namespace {

// A fresh directory per test case, removed afterwards.
struct scratch_dir {
  fs::path path;
  explicit scratch_dir(const std::string& name)
      : path(fs::temp_directory_path() / ("netmarl_test_io_" + name)) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~scratch_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

learning_curve sample_curve() {
  learning_curve c("epoch", "GS", {"eta", "loss"});
  c.add(7, 0, 0, 0.1, {0.5, 1.0 / 3.0});
  c.add(7, 1, 200, 12.25, {0.5, 1e-300});
  c.add(8, 0, 0, -3.0, {0.25, 2.0});
  c.add(8, 1, 190, 1e21, {0.25, 0.0});
  return c;
}

}  // namespace

TEST_CASE("learning_curve: header and rows", "[io][learning_curve]") {
  const learning_curve c = sample_curve();
  CHECK(c.header() == "epoch,env_steps,seed,GS,eta,loss");
  CHECK(c.to_csv() ==
        "epoch,env_steps,seed,GS,eta,loss\n"
        "0,0,7,0.1,0.5,0.3333333333333333\n"
        "1,200,7,12.25,0.5,1e-300\n"
        "0,0,8,-3,0.25,2\n"
        "1,190,8,1e+21,0.25,0\n");
}

TEST_CASE("learning_curve: rows are sorted by seed then index, whatever the add order",
          "[io][learning_curve]") {
  learning_curve a("step", "return"), b("step", "return");
  a.add(1, 0, 0, 1.0);
  a.add(1, 5, 50, 2.0);
  a.add(2, 0, 0, 3.0);
  b.add(2, 0, 0, 3.0);
  b.add(1, 5, 50, 2.0);
  b.add(1, 0, 0, 1.0);
  CHECK(a.to_csv() == b.to_csv());
  CHECK(a.to_csv() == "step,env_steps,seed,return\n0,0,1,1\n5,50,1,2\n0,0,2,3\n");
}

TEST_CASE("learning_curve: identical runs give byte-identical files", "[io][learning_curve]") {
  scratch_dir dir("identical");
  sample_curve().write_csv(dir.path / "a.csv");
  sample_curve().write_csv(dir.path / "b.csv");
  const std::string a = slurp(dir.path / "a.csv");
  CHECK(a == slurp(dir.path / "b.csv"));
  CHECK(a == sample_curve().to_csv());
  // The atomic write leaves no temporary file behind.
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator{}) == 2);
}

TEST_CASE("learning_curve: write_csv creates parent directories and replaces old files",
          "[io][learning_curve]") {
  scratch_dir dir("replace");
  const fs::path p = dir.path / "results" / "run" / "curve.csv";
  learning_curve c;
  c.add(0, 0, 0, 1.0);
  c.write_csv(p);
  c.add(0, 1, 10, 2.0);
  c.write_csv(p);
  CHECK(slurp(p) == "epoch,env_steps,seed,metric\n0,0,0,1\n1,10,0,2\n");
}

TEST_CASE("learning_curve: write_csv to an unwritable path throws io_error naming the path",
          "[io][learning_curve]") {
  scratch_dir dir("unwritable");
  // A path below a regular file cannot be created, even by root.
  std::ofstream(dir.path / "file") << "x";
  const fs::path bad = dir.path / "file" / "curve.csv";
  try {
    sample_curve().write_csv(bad);
    FAIL("expected io_error");
  } catch (const netmarl::io_error& e) {
    CHECK(std::string(e.what()).find(bad.string()) != std::string::npos);
  }
  // A directory where the file should be.
  fs::create_directories(dir.path / "dir.csv");
  CHECK_THROWS_AS(sample_curve().write_csv(dir.path / "dir.csv"), netmarl::io_error);
  CHECK_THROWS_AS(sample_curve().write_csv(""), netmarl::io_error);
}

TEST_CASE("learning_curve: bad columns and rows are rejected", "[io][learning_curve]") {
  CHECK_THROWS_AS(learning_curve("epoch", "a,b"), netmarl::invalid_argument);
  CHECK_THROWS_AS(learning_curve("epoch", ""), netmarl::invalid_argument);
  CHECK_THROWS_AS(learning_curve("epoch", "seed"), netmarl::invalid_argument);
  CHECK_THROWS_AS(learning_curve("epoch", "GS", {"x", "x"}), netmarl::invalid_argument);
  learning_curve c("epoch", "GS", {"eta"});
  CHECK_THROWS_AS(c.add(0, 0, 0, 1.0), netmarl::invalid_argument);
  CHECK_THROWS_AS(c.add(0, 0, 0, 1.0, {1.0, 2.0}), netmarl::invalid_argument);
  CHECK_NOTHROW(c.add(0, 0, 0, 1.0, {1.0}));
  CHECK_THROWS_AS(c.merge(learning_curve("epoch", "GS")), netmarl::invalid_argument);
}

TEST_CASE("learning_curve: merged per-seed curves equal one curve", "[io][learning_curve]") {
  learning_curve s8("epoch", "GS", {"eta", "loss"}), s7 = s8;
  s8.add(8, 0, 0, -3.0, {0.25, 2.0});
  s8.add(8, 1, 190, 1e21, {0.25, 0.0});
  s7.add(7, 0, 0, 0.1, {0.5, 1.0 / 3.0});
  s7.add(7, 1, 200, 12.25, {0.5, 1e-300});
  s8.merge(s7);
  CHECK(s8.to_csv() == sample_curve().to_csv());
}

TEST_CASE("learning_curve: read_csv reads back exactly what write_csv wrote",
          "[io][learning_curve]") {
  scratch_dir dir("roundtrip");
  learning_curve c = sample_curve();
  const double inf = std::numeric_limits<double>::infinity();
  c.add(9, 0, 0, std::numeric_limits<double>::quiet_NaN(), {-inf, 0.1 + 0.2});
  c.write_csv(dir.path / "c.csv");
  const learning_curve back = learning_curve::read_csv(dir.path / "c.csv");
  CHECK(back.columns() == c.columns());
  CHECK(back.to_csv() == c.to_csv());
  REQUIRE(back.rows().size() == 5);
  CHECK(std::isnan(back.rows()[4].metric));
  CHECK(back.rows()[4].extra[1] == 0.1 + 0.2);
}

TEST_CASE("learning_curve: read_csv reports missing files and malformed lines",
          "[io][learning_curve]") {
  scratch_dir dir("malformed");
  CHECK_THROWS_AS(learning_curve::read_csv(dir.path / "missing.csv"), netmarl::io_error);
  std::ofstream(dir.path / "bad_header.csv") << "a,b\n";
  CHECK_THROWS_AS(learning_curve::read_csv(dir.path / "bad_header.csv"), netmarl::parse_error);
  std::ofstream(dir.path / "bad_row.csv") << "epoch,env_steps,seed,GS\n0,0,1,2\n1,10,1,x\n";
  try {
    learning_curve::read_csv(dir.path / "bad_row.csv");
    FAIL("expected parse_error");
  } catch (const netmarl::parse_error& e) {
    CHECK(std::string(e.what()).find("line 3") != std::string::npos);
  }
  std::ofstream(dir.path / "short_row.csv") << "epoch,env_steps,seed,GS\n0,0,1\n";
  CHECK_THROWS_AS(learning_curve::read_csv(dir.path / "short_row.csv"), netmarl::parse_error);
}

TEST_CASE("mean_and_std: sample standard deviation", "[io][learning_curve]") {
  const auto one = mean_and_std({4.0});
  CHECK(one.mean == 4.0);
  CHECK(one.std == 0.0);
  CHECK(one.count == 1);
  // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, squared deviations sum to 32, sample variance 32 / 7.
  const auto m = mean_and_std({2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0});
  CHECK(m.mean == 5.0);
  CHECK(m.std == Approx(std::sqrt(32.0 / 7.0)).epsilon(1e-15));
  CHECK(m.count == 8);
  // Two-pass: a large common offset does not destroy the spread.
  const auto big = mean_and_std({1e9 + 1, 1e9 + 2, 1e9 + 3});
  CHECK(big.std == Approx(1.0).epsilon(1e-12));
  CHECK_THROWS_AS(mean_and_std(std::span<const double>{}), netmarl::invalid_argument);
}

TEST_CASE("aggregate_over_seeds: per-index mean and std over seeds", "[io][learning_curve]") {
  learning_curve c("epoch", "GS");
  c.add(2, 1, 105, 30.0);
  c.add(1, 0, 0, 1.0);
  c.add(1, 1, 100, 10.0);
  c.add(2, 0, 0, 3.0);
  c.add(3, 1, 110, 20.0);  // seed 3 has no epoch 0
  const auto gs = aggregate_over_seeds(c, "GS");
  REQUIRE(gs.size() == 2);
  CHECK(gs[0].index == 0);
  CHECK(gs[0].seeds == 2);
  CHECK(gs[0].mean == 2.0);
  CHECK(gs[0].std == Approx(std::sqrt(2.0)));
  CHECK(gs[0].min == 1.0);
  CHECK(gs[0].max == 3.0);
  CHECK(gs[1].index == 1);
  CHECK(gs[1].seeds == 3);
  CHECK(gs[1].mean == 20.0);
  CHECK(gs[1].std == Approx(10.0));
  const auto steps = aggregate_over_seeds(c, "env_steps");
  CHECK(steps[1].mean == 105.0);
  CHECK_THROWS_AS(aggregate_over_seeds(c, "nope"), netmarl::invalid_argument);
}
