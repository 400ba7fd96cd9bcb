#pragma once
// Graphs and random data shared by the kernels/ tests. The graphs are CSRs built by hand from
// adjacency lists: netmarl/graph is a higher floor than kernels/, so these tests may not use it.
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "netmarl/core/csr_view.hpp"
#include "netmarl/core/tensor.hpp"

namespace netmarl::testing {

inline std::size_t sz(index n) { return static_cast<std::size_t>(n); }

using adjacency_lists = std::vector<std::vector<std::int32_t>>;

struct test_graph {
  std::string name;
  std::vector<std::int32_t> offsets{0}, indices;

  test_graph(std::string n, const adjacency_lists& adjacency) : name(std::move(n)) {
    for (const auto& row : adjacency) {
      indices.insert(indices.end(), row.begin(), row.end());
      offsets.push_back(std::int32_t(indices.size()));
    }
  }
  index nodes() const { return index(offsets.size()) - 1; }
  index edges() const { return index(indices.size()); }
  csr_view view() const { return {offsets.data(), indices.data(), nodes()}; }
};

// Undirected 4-neighbour grid, self first.
inline test_graph grid(int rows, int cols) {
  adjacency_lists adj(sz(rows * cols));
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      auto& a = adj[sz(r * cols + c)];
      a.push_back(r * cols + c);
      if (r > 0) a.push_back((r - 1) * cols + c);
      if (r + 1 < rows) a.push_back((r + 1) * cols + c);
      if (c > 0) a.push_back(r * cols + c - 1);
      if (c + 1 < cols) a.push_back(r * cols + c + 1);
    }
  return {"grid " + std::to_string(rows) + "x" + std::to_string(cols), adj};
}

// Hub 0 reads every node (itself first): a high-degree row; each leaf reads itself and the hub.
inline test_graph star(int nodes) {
  adjacency_lists adj(sz(nodes));
  for (int j = 0; j < nodes; ++j) adj[0].push_back(j);
  for (int i = 1; i < nodes; ++i) adj[sz(i)] = {i, 0};
  return {"star " + std::to_string(nodes), adj};
}

// Random directed rows: degrees 0..max_degree, repeats and self-loops anywhere, every fifth row
// empty (no entries at all, not even the self-loop).
inline test_graph random_directed(int nodes, int max_degree, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> degree(0, max_degree), node(0, nodes - 1);
  adjacency_lists adj(sz(nodes));
  for (int i = 0; i < nodes; ++i) {
    if (i % 5 == 2) continue;
    for (int d = degree(gen); d > 0; --d) adj[sz(i)].push_back(node(gen));
  }
  return {"random directed " + std::to_string(nodes), adj};
}

inline test_graph self_only(int nodes) {
  adjacency_lists adj(sz(nodes));
  for (int i = 0; i < nodes; ++i) adj[sz(i)] = {i};
  return {"self only (degree 1)", adj};
}

// The corner cases every kernel must survive: degree 1 (self only), a directed path (i reads
// i + 1 only), all rows empty, and a single empty node.
inline void add_degenerate_graphs(std::vector<test_graph>& g, int nodes, int empty_nodes) {
  adjacency_lists self(sz(nodes)), path(sz(nodes)), empty(sz(empty_nodes));
  for (int i = 0; i < nodes; ++i) self[sz(i)] = {i};
  for (int i = 0; i + 1 < nodes; ++i) path[sz(i)] = {i + 1};
  g.emplace_back("self only", self);
  g.emplace_back("directed path", path);
  g.emplace_back("all empty", empty);
  g.emplace_back("single empty node", adjacency_lists(1));
}

// Uniform in [-1, 1) from a std::mt19937 (the kernels/ tests' generator).
inline matrix<double> random_matrix(index rows, index cols, std::mt19937& gen) {
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  matrix<double> m(rows, cols);
  for (index k = 0; k < m.size(); ++k) m.data()[k] = u(gen);
  return m;
}

template <class T>
std::vector<T> random_vector(std::size_t n, std::mt19937& gen, double range = 1.0) {
  std::uniform_real_distribution<double> u(-range, range);
  std::vector<T> v(n);
  for (auto& x : v) x = T(u(gen));
  return v;
}

// Outputs start as NaN, so an entry the kernel forgets to write fails the comparison.
inline matrix<double> nan_matrix(index rows, index cols) {
  return matrix<double>::Constant(rows, cols, std::numeric_limits<double>::quiet_NaN());
}

template <class T>
std::vector<T> nan_vector(std::size_t n) {
  return std::vector<T>(n, std::numeric_limits<T>::quiet_NaN());
}

// Kernel against its naive double reference: the same up to rounding.
inline void require_near(const matrix<double>& got, const matrix<double>& want,
                         const std::string& what) {
  INFO(what);
  REQUIRE(got.rows() == want.rows());
  REQUIRE(got.cols() == want.cols());
  const double diff = want.size() == 0 ? 0.0 : (got - want).cwiseAbs().maxCoeff();
  INFO("max |got - want| = " << diff);
  REQUIRE(diff <= 1e-12 * (1.0 + (want.size() == 0 ? 0.0 : want.cwiseAbs().maxCoeff())));
}

}  // namespace netmarl::testing
