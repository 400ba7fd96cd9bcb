#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/graph/edge_list.hpp"
#include "netmarl/graph/generators.hpp"

namespace graph = netmarl::graph;
namespace fs = std::filesystem;
using Catch::Contains;
using netmarl::parse_error;

namespace {
// Writes a fixture into a per-process temp directory and removes it at scope exit.
struct temp_file {
  fs::path path;
  temp_file(const std::string& name, const std::string& text) {
    const fs::path dir =
        fs::temp_directory_path() / ("netmarl_test_edge_list_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    path = dir / name;
    std::ofstream(path) << text;
  }
  ~temp_file() {
    std::error_code ignored;
    fs::remove(path, ignored);
    fs::remove(path.parent_path(), ignored);  // only succeeds once empty
  }
};
}  // namespace

TEST_CASE("edge_list: from_edges (vector form) builds the same csr as a generator",
          "[graph][edge_list]") {
  const std::vector<std::pair<int, int>> edges{{0, 1}, {1, 2}, {2, 3}, {3, 0}};
  CHECK(graph::from_edges(4, edges) == graph::ring(4));
}

TEST_CASE("edge_list: a file with comments, blanks and a nodes line", "[graph][edge_list]") {
  const temp_file file("ring.edges",
                       "# a 5-ring plus an isolated node\n"
                       "\n"
                       "   # indented comment\n"
                       "nodes 6\n"
                       "0 1\n"
                       "1\t2   # tab separated, trailing comment\n"
                       "3 2\n"
                       "  3 4  \n"
                       "4 0\r\n");  // a Windows line ending
  const graph::csr g = graph::from_edge_file(file.path);
  REQUIRE(graph::num_nodes(g) == 6);
  CHECK(graph::num_undirected_edges(g) == 5);
  CHECK(graph::degree(g, 5) == 1);
  const auto n0 = graph::neighbors(g, 0);
  CHECK(std::vector<std::int32_t>(n0.begin(), n0.end()) == std::vector<std::int32_t>{0, 1, 4});
  // The caller's count agrees with the file's.
  CHECK(graph::from_edge_file(file.path, 6) == g);
}

TEST_CASE("edge_list: without a nodes line the count is the largest id + 1 (or the caller's)",
          "[graph][edge_list]") {
  CHECK(graph::num_nodes(graph::parse_edge_list("0 1\n1 4\n")) == 5);
  CHECK(graph::num_nodes(graph::parse_edge_list("0 1\n1 4\n", "<s>", 8)) == 8);
  CHECK(graph::num_nodes(graph::parse_edge_list("nodes 3\n")) == 3);
}

TEST_CASE("edge_list: every malformed line is a parse_error naming line number and text",
          "[graph][edge_list]") {
  struct bad_case {
    std::string text;
    std::string expected;  // must appear in the message
  };
  const std::vector<bad_case> cases{
      {"0 1\n# fine\n1 x\n", "<string>:3: node ids must be integers in line \"1 x\""},
      {"0 1\n1 2 3\n",
       "<string>:2: expected two node ids (or \"nodes N\"), found more than two items in line \"1 "
       "2 3\""},
      {"0 1\n7\n",
       "<string>:2: expected two node ids (or \"nodes N\"), found one item in line \"7\""},
      {"0 1.5\n", "<string>:1: node ids must be integers in line \"0 1.5\""},
      {"0 -2\n", "<string>:1: node ids must not be negative in line \"0 -2\""},
      {"nodes 3\n0 1\n\n1 3\n", "<string>:4: node id 3 is outside [0, 3) in line \"1 3\""},
      {"0 1\n2 2\n",
       "<string>:2: self edge; self-loops are implicit, leave them out in line \"2 2\""},
      {"0 1\n1 2\n1 0 # again\n",
       "<string>:3: duplicate edge, already given on line 1 (\"0 1\") in line \"1 0 # again\""},
      {"1 2\n1 2\n",
       "<string>:2: duplicate edge, already given on line 1 (\"1 2\") in line \"1 2\""},
      {"0 1\nnodes 4\n",
       "<string>:2: \"nodes N\" may only be the first non-comment line in line \"nodes 4\""},
      {"nodes zero\n",
       "<string>:1: the node count must be an integer in [1, 2^31) in line \"nodes zero\""},
      {"nodes 0\n", "<string>:1: the node count must be an integer in [1, 2^31)"},
      {"0 99999999999\n", "<string>:1: node id 99999999999 is outside [0, 2147483647)"},
      {"# nothing\n\n", "<string>: no edges and no \"nodes N\" line"},
  };
  for (const auto& c : cases) {
    INFO("input: " << c.text);
    REQUIRE_THROWS_AS(graph::parse_edge_list(c.text), parse_error);
    REQUIRE_THROWS_WITH(graph::parse_edge_list(c.text), Contains(c.expected));
  }
}

TEST_CASE("edge_list: the caller's node count bounds ids and must match a nodes line",
          "[graph][edge_list]") {
  REQUIRE_THROWS_AS(graph::parse_edge_list("0 5\n", "<s>", 5), parse_error);
  REQUIRE_THROWS_WITH(graph::parse_edge_list("0 5\n", "<s>", 5),
                      Contains("<s>:1: node id 5 is outside [0, 5) in line \"0 5\""));
  REQUIRE_THROWS_WITH(
      graph::parse_edge_list("nodes 4\n0 1\n", "<s>", 5),
      Contains("<s>:1: the file declares 4 nodes but 5 were expected in line \"nodes 4\""));
  REQUIRE_THROWS_AS(graph::parse_edge_list("0 1\n", "<s>", 0), netmarl::invalid_argument);
  REQUIRE_THROWS_WITH(graph::parse_edge_list("0 1\n", "<s>", 0), Contains("at least 1, got 0"));
}

TEST_CASE("edge_list: file errors name the path and line", "[graph][edge_list]") {
  const temp_file file("bad.edges", "nodes 3\n0 1\n1 5\n");
  REQUIRE_THROWS_AS(graph::from_edge_file(file.path), parse_error);
  REQUIRE_THROWS_WITH(
      graph::from_edge_file(file.path),
      Contains(file.path.string() + ":3: node id 5 is outside [0, 3) in line \"1 5\""));
}

TEST_CASE("edge_list: a missing file is an io_error naming the path", "[graph][edge_list]") {
  const fs::path missing = fs::temp_directory_path() / "netmarl_no_such_dir" / "missing.edges";
  REQUIRE_THROWS_AS(graph::from_edge_file(missing), netmarl::io_error);
  REQUIRE_THROWS_WITH(graph::from_edge_file(missing),
                      Contains("cannot open \"" + missing.string() + "\""));
}
