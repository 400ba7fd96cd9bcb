#pragma once
// Standard undirected graphs as graph::csr (self-loop first, neighbours ascending; see csr.hpp).
// Node ids: line/ring/complete 0..n-1 in order; star's hub is 0; grid2d's node (row r, column c)
// is r * cols + c. Sizes that cannot be laid out throw netmarl::invalid_argument naming the value.
#include <string>
#include <utility>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/graph/csr.hpp"

namespace netmarl::graph {

namespace detail {
inline void require_nodes(const char* who, const char* what, index value, index minimum) {
  if (value < minimum)
    throw invalid_argument(std::string("graph::") + who + ": " + what + " must be at least " +
                           std::to_string(minimum) + ", got " + std::to_string(value));
}
}  // namespace detail

// n nodes, no edges: every node's only neighbour is itself (what independent learners see).
inline csr isolated(index n) {
  detail::require_nodes("isolated", "n", n, 1);
  return from_edges(n, std::vector<std::pair<int, int>>{});
}

// A path 0 - 1 - ... - (n-1): n - 1 edges.
inline csr line(index n) {
  detail::require_nodes("line", "n", n, 1);
  std::vector<std::pair<int, int>> edges;
  for (index i = 0; i + 1 < n; ++i) edges.emplace_back(i, i + 1);
  return from_edges(n, edges);
}

// A cycle: n edges. n >= 3, since a 2-ring would list edge {0, 1} twice and a 1-ring a self edge.
inline csr ring(index n) {
  detail::require_nodes("ring", "n", n, 3);
  std::vector<std::pair<int, int>> edges;
  for (index i = 0; i < n; ++i) edges.emplace_back(i, (i + 1) % n);
  return from_edges(n, edges);
}

// Every pair: n (n - 1) / 2 edges.
inline csr complete(index n) {
  detail::require_nodes("complete", "n", n, 1);
  std::vector<std::pair<int, int>> edges;
  for (index i = 0; i < n; ++i)
    for (index j = i + 1; j < n; ++j) edges.emplace_back(i, j);
  return from_edges(n, edges);
}

// Hub 0 joined to each of 1..n-1: n - 1 edges.
inline csr star(index n) {
  detail::require_nodes("star", "n", n, 1);
  std::vector<std::pair<int, int>> edges;
  for (index i = 1; i < n; ++i) edges.emplace_back(0, i);
  return from_edges(n, edges);
}

struct grid_options {
  int connectivity = 4;  // 4: von Neumann (left, right, up, down); 8: Moore (adds the diagonals)
  bool torus = false;    // wrap both axes around
};

// A rows x cols lattice. Edge counts without wrap: 4-neighbour r(c-1) + c(r-1); 8-neighbour adds
// 2(r-1)(c-1). On a torus every node has exactly `connectivity` neighbours, so r*c*connectivity/2
// edges; each side must then be at least 3, since with 2 the wrapped edge repeats an inner one and
// with 1 it is a self edge.
inline csr grid2d(index rows, index cols, grid_options options = {}) {
  detail::require_nodes("grid2d", "rows", rows, 1);
  detail::require_nodes("grid2d", "cols", cols, 1);
  if (options.connectivity != 4 && options.connectivity != 8)
    throw invalid_argument("graph::grid2d: connectivity must be 4 or 8, got " +
                           std::to_string(options.connectivity));
  if (options.torus) {
    detail::require_nodes("grid2d", "rows of a torus", rows, 3);
    detail::require_nodes("grid2d", "cols of a torus", cols, 3);
  }
  const auto id = [cols](index r, index c) { return static_cast<int>(r * cols + c); };
  std::vector<std::pair<int, int>> edges;
  // Each edge once, from its "earlier" end: right, down, and for 8-connectivity down-right and
  // down-left. With wrap, (r + 1) % rows and friends close the torus.
  const auto add = [&](index r, index c, index dr, index dc) {
    index r2 = r + dr, c2 = c + dc;
    if (options.torus) {
      r2 = (r2 + rows) % rows;
      c2 = (c2 + cols) % cols;
    } else if (r2 < 0 || r2 >= rows || c2 < 0 || c2 >= cols) {
      return;
    }
    edges.emplace_back(id(r, c), id(r2, c2));
  };
  for (index r = 0; r < rows; ++r)
    for (index c = 0; c < cols; ++c) {
      add(r, c, 0, 1);
      add(r, c, 1, 0);
      if (options.connectivity == 8) {
        add(r, c, 1, 1);
        add(r, c, 1, -1);
      }
    }
  return from_edges(rows * cols, edges);
}

}  // namespace netmarl::graph
