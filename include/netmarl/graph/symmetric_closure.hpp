#pragma once
// The symmetric closure of a csr: j in N(i) whenever i -> j or j -> i. LToS shares rewards over an
// undirected neighbourhood (its directed edge set D holds both directions of every edge), so a
// directed topology such as k-nearest is closed before weights are put on it.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "netmarl/graph/csr.hpp"

namespace netmarl::graph {

// Rebuilds `out` as g's closure; out keeps the layout invariant (self first, then ascending).
// A symmetric g is copied (reusing out's capacity); a directed one allocates row scratch.
inline void build_symmetric_closure(csr& out, const csr& g) {
  if (is_symmetric(g)) {
    out = g;
    return;
  }
  const index n = num_nodes(g);
  const auto un = static_cast<std::size_t>(n);
  // Each arc i -> j puts j in row i and i in row j; duplicates are removed per row.
  out.offsets.assign(un + 1, 0);
  out.indices.clear();
  std::vector<std::vector<std::int32_t>> rows(un);
  for (index i = 0; i < n; ++i)
    for (const std::int32_t j : neighbors_excluding_self(g, i)) {
      rows[static_cast<std::size_t>(i)].push_back(j);
      rows[static_cast<std::size_t>(j)].push_back(static_cast<std::int32_t>(i));
    }
  for (std::size_t i = 0; i < un; ++i) {
    auto& r = rows[i];
    std::sort(r.begin(), r.end());
    r.erase(std::unique(r.begin(), r.end()), r.end());
    out.indices.push_back(static_cast<std::int32_t>(i));
    out.indices.insert(out.indices.end(), r.begin(), r.end());
    out.offsets[i + 1] = static_cast<std::int32_t>(out.indices.size());
  }
}

inline csr symmetric_closure(const csr& g) {
  csr out;
  build_symmetric_closure(out, g);
  return out;
}

}  // namespace netmarl::graph
