#pragma once
// A non-owning view of a CSR adjacency: node i's neighbours are
// indices[offsets[i] .. offsets[i+1]). Lives in core/ so kernels (a lower floor) and graph/ (a
// higher one) share it. Ids are 32-bit: the layout a GPU kernel reads as is.
#include <cstdint>

#include "netmarl/core/tensor.hpp"

namespace netmarl {

struct csr_view {
  const std::int32_t* offsets = nullptr;  // nodes + 1 entries
  const std::int32_t* indices = nullptr;  // offsets[nodes] entries
  index nodes = 0;

  index degree(index i) const { return offsets[i + 1] - offsets[i]; }
  index edges() const { return nodes == 0 ? 0 : offsets[nodes]; }
};

}  // namespace netmarl
