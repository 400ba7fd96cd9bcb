#pragma once
// Undirected graphs from edge lists: a vector of pairs (graph::from_edges, defined in csr.hpp and
// available through this header) or a text file (graph::from_edge_file).
//
// Edge-list text format, one item per line:
//   # a comment: '#' starts a comment anywhere on a line; blank lines are ignored
//   nodes 6       optional, and only as the first non-comment line: the node count
//   0 1           an undirected edge between nodes 0 and 1 (ids are 0-based integers)
//   1 2  # ok     trailing comments are fine
// Without a "nodes" line (and without a count from the caller) the count is the largest id + 1.
// Each edge appears once, in either direction; self edges ("3 3") are rejected because self-loops
// are implicit in graph::csr. Every error is a netmarl::parse_error naming the source, the line
// number and the line's text; a file that cannot be opened is a netmarl::io_error naming the path.
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <istream>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/graph/csr.hpp"

namespace netmarl::graph {

namespace detail {

inline std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

// Splits on spaces/tabs; returns false when there are more than `max_tokens`.
inline bool split_tokens(std::string_view s, std::vector<std::string_view>& out,
                         std::size_t max_tokens) {
  out.clear();
  std::size_t pos = 0;
  while (pos < s.size()) {
    const auto start = s.find_first_not_of(" \t", pos);
    if (start == std::string_view::npos) break;
    auto end = s.find_first_of(" \t", start);
    if (end == std::string_view::npos) end = s.size();
    if (out.size() == max_tokens) return false;
    out.push_back(s.substr(start, end - start));
    pos = end;
  }
  return true;
}

// A whole token as a base-10 integer; nullopt for "1.5", "x", "", "+-3" or overflow of int64.
inline std::optional<std::int64_t> parse_integer(std::string_view token) {
  std::int64_t value = 0;
  const char* begin = token.data();
  const char* end = token.data() + token.size();
  if (begin != end && *begin == '+') ++begin;  // from_chars rejects a leading '+'
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr != end || begin == end) return std::nullopt;
  return value;
}

}  // namespace detail

// Parses the edge-list format above from a stream. `source` names it in error messages (a path,
// "<string>"). `nodes`, when given, is the expected node count: a "nodes" line must agree with it.
inline csr parse_edge_list(std::istream& in, const std::string& source,
                           std::optional<index> nodes = std::nullopt) {
  std::optional<index> declared;  // from a "nodes N" line
  std::vector<std::pair<int, int>> edges;
  std::vector<std::size_t> edge_line;  // line number of each edge
  std::vector<std::string> edge_text;  // its text, for messages about duplicates and range
  std::map<std::pair<int, int>, std::size_t> seen;  // (low, high) -> edge index
  std::vector<std::string_view> tokens;
  bool first_item = true;
  std::string line;
  std::size_t number = 0;

  const auto fail = [&](std::size_t at, const std::string& text, const std::string& what) {
    throw parse_error(source + ":" + std::to_string(at) + ": " + what + " in line \"" + text +
                      "\"");
  };

  if (nodes && *nodes < 1)
    throw invalid_argument("graph::parse_edge_list: nodes must be at least 1, got " +
                           std::to_string(*nodes));

  while (std::getline(in, line)) {
    ++number;
    std::string_view content = line;
    if (const auto hash = content.find('#'); hash != std::string_view::npos)
      content = content.substr(0, hash);
    content = detail::trim(content);
    if (content.empty()) continue;
    const std::string text(detail::trim(line));

    if (!detail::split_tokens(content, tokens, 2))
      fail(number, text, "expected two node ids (or \"nodes N\"), found more than two items");
    if (tokens.size() != 2)
      fail(number, text, "expected two node ids (or \"nodes N\"), found one item");

    if (tokens[0] == "nodes") {
      if (!first_item) fail(number, text, "\"nodes N\" may only be the first non-comment line");
      const auto count = detail::parse_integer(tokens[1]);
      if (!count || *count < 1 || *count > std::numeric_limits<std::int32_t>::max())
        fail(number, text, "the node count must be an integer in [1, 2^31)");
      if (nodes && *nodes != *count)
        fail(number, text,
             "the file declares " + std::to_string(*count) + " nodes but " +
                 std::to_string(*nodes) + " were expected");
      declared = static_cast<index>(*count);
      first_item = false;
      continue;
    }
    first_item = false;

    const auto a = detail::parse_integer(tokens[0]);
    const auto b = detail::parse_integer(tokens[1]);
    if (!a || !b) fail(number, text, "node ids must be integers");
    if (*a < 0 || *b < 0) fail(number, text, "node ids must not be negative");
    const index limit = nodes      ? *nodes
                        : declared ? *declared
                                   : std::numeric_limits<std::int32_t>::max();
    if (*a >= limit || *b >= limit)
      fail(number, text,
           "node id " + std::to_string(std::max(*a, *b)) + " is outside [0, " +
               std::to_string(limit) + ")");
    if (*a == *b) fail(number, text, "self edge; self-loops are implicit, leave them out");
    const auto key =
        std::make_pair(static_cast<int>(std::min(*a, *b)), static_cast<int>(std::max(*a, *b)));
    if (const auto [it, inserted] = seen.emplace(key, edges.size()); !inserted)
      fail(number, text,
           "duplicate edge, already given on line " + std::to_string(edge_line[it->second]) +
               " (\"" + edge_text[it->second] + "\")");
    edges.emplace_back(static_cast<int>(*a), static_cast<int>(*b));
    edge_line.push_back(number);
    edge_text.push_back(text);
  }

  index count = nodes ? *nodes : declared ? *declared : 0;
  if (!nodes && !declared)
    for (const auto& [a, b] : edges) count = std::max<index>(count, std::max(a, b) + 1);
  if (count < 1)
    throw parse_error(source + ": no edges and no \"nodes N\" line, so the node count is unknown");
  return from_edges(count, edges);
}

// The same, from a string (tests, inline graphs).
inline csr parse_edge_list(const std::string& text, const std::string& source = "<string>",
                           std::optional<index> nodes = std::nullopt) {
  std::istringstream in(text);
  return parse_edge_list(in, source, nodes);
}

// Reads the format above from a file.
inline csr from_edge_file(const std::filesystem::path& path,
                          std::optional<index> nodes = std::nullopt) {
  std::ifstream in(path);
  if (!in) throw io_error("graph::from_edge_file: cannot open \"" + path.string() + "\"");
  return parse_edge_list(in, path.string(), nodes);
}

}  // namespace netmarl::graph
