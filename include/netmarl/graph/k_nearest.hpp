#pragma once
// k-nearest-neighbour graphs from agent positions (Intention Propagation's cooperative navigation,
// DGN's jungle): N(i) = {i} + the k agents closest to i in Euclidean distance, ties broken by the
// lower index, k clipped to n - 1.
//
// The result is DIRECTED: j may be among i's k nearest while i is not among j's. The csr holds
// OUT-neighbourhoods (what node i reads from); num_undirected_edges is meaningless on it. Within a
// row the layout invariant of csr.hpp holds (self first, then ids ascending, NOT by distance), so
// kernels treat it like any other csr.
//
// Rebuilt every step, so it reuses the csr's and a workspace's buffers: after the first build at a
// given (n, k) a rebuild allocates nothing.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "netmarl/core/error.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/graph/csr.hpp"

namespace netmarl::graph {

// Scratch for build_k_nearest: (squared distance, id) of every other node.
struct k_nearest_workspace {
  std::vector<std::pair<double, std::int32_t>> candidates;
};

// Rebuilds `out` in place from positions [n, 2] (x, y per row). Throws shape_error for a shape
// other than [n, 2] with n >= 1, invalid_argument for k < 0 or a non-finite position (naming the
// agent). O(n^2) per build: fine for the hundreds of agents the papers use.
inline void build_k_nearest(csr& out, const_matrix_ref<float> positions, index k,
                            k_nearest_workspace& workspace) {
  const index n = positions.rows();
  if (positions.cols() != 2 || n < 1)
    throw shape_error("graph::build_k_nearest: positions must be [n, 2] with n >= 1, got [" +
                      std::to_string(n) + ", " + std::to_string(positions.cols()) + "]");
  if (k < 0)
    throw invalid_argument("graph::build_k_nearest: k must not be negative, got " +
                           std::to_string(k));
  // NaN breaks the strict weak ordering nth_element relies on: reject it up front.
  for (index i = 0; i < n; ++i)
    if (!std::isfinite(positions(i, 0)) || !std::isfinite(positions(i, 1)))
      throw invalid_argument("graph::build_k_nearest: agent " + std::to_string(i) +
                             " has a non-finite position (" + std::to_string(positions(i, 0)) +
                             ", " + std::to_string(positions(i, 1)) + ")");
  k = std::min(k, n - 1);
  if (n * (k + 1) > static_cast<index>(std::numeric_limits<std::int32_t>::max()))
    throw invalid_argument("graph::build_k_nearest: " + std::to_string(n) +
                           " nodes with k = " + std::to_string(k) + " do not fit 32-bit offsets");
  const auto un = static_cast<std::size_t>(n);
  const auto uk = static_cast<std::size_t>(k);

  out.offsets.resize(un + 1);  // resize within capacity: no allocation on a rebuild
  out.indices.resize(un * (uk + 1));
  auto& candidates = workspace.candidates;
  candidates.resize(un - 1);  // likewise: a vector never gives capacity back on resize

  for (std::size_t i = 0; i < un; ++i) {
    out.offsets[i] = static_cast<std::int32_t>(i * (uk + 1));
    std::int32_t* row = out.indices.data() + i * (uk + 1);
    row[0] = static_cast<std::int32_t>(i);
    if (uk == 0) continue;
    const double xi = positions(static_cast<index>(i), 0), yi = positions(static_cast<index>(i), 1);
    std::size_t c = 0;
    for (std::size_t j = 0; j < un; ++j) {
      if (j == i) continue;
      const double dx = positions(static_cast<index>(j), 0) - xi;
      const double dy = positions(static_cast<index>(j), 1) - yi;
      candidates[c++] = {dx * dx + dy * dy, static_cast<std::int32_t>(j)};
    }
    // Pairs compare by distance, then id: the lower index wins a tie.
    std::nth_element(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(uk - 1),
                     candidates.end());
    for (std::size_t m = 0; m < uk; ++m) row[m + 1] = candidates[m].second;
    std::sort(row + 1, row + 1 + uk);
  }
  out.offsets[un] = static_cast<std::int32_t>(un * (uk + 1));
}

// Convenience: a fresh k-nearest csr (allocates; use build_k_nearest to rebuild every step).
inline csr make_k_nearest(const_matrix_ref<float> positions, index k) {
  csr g;
  k_nearest_workspace workspace;
  build_k_nearest(g, positions, k, workspace);
  return g;
}

}  // namespace netmarl::graph
