#pragma once
// Reference neighbour aggregation: plain loops, written to read like the definitions in spec.hpp.
// The test oracle for every backend.
#include <algorithm>

#include "netmarl/backend/tags.hpp"
#include "netmarl/kernels/neighbor_aggregate/spec.hpp"

namespace netmarl::kernels::neighbor_aggregate {

template <class T>
void forward(backend::reference, const shape& s, const csr_view& g, reduction r, const T* x,
             T* out) {
#if defined(NETMARL_ENABLE_ASSERTS) && NETMARL_ENABLE_ASSERTS
  validate(s, g);
#endif
  const index F = s.features;
  for (index b = 0; b < s.batch; ++b) {
    const T* xb = x + b * s.nodes * F;
    T* ob = out + b * s.nodes * F;
    for (index i = 0; i < s.nodes; ++i) {
      T* o = ob + i * F;
      std::fill(o, o + F, T(0));
      for (index e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
        const T* xj = xb + index(g.indices[e]) * F;
        for (index f = 0; f < F; ++f) o[f] += xj[f];
      }
      if (r == reduction::mean && g.degree(i) > 0)
        for (index f = 0; f < F; ++f) o[f] /= T(g.degree(i));
    }
  }
}

// Scatter form (each i pushes its gradient to every j in N(i)), so no transposed graph is needed
// and directed graphs work as they are.
template <class T>
void backward(backend::reference, const shape& s, const csr_view& g, reduction r, const T* d_out,
              T* d_x) {
#if defined(NETMARL_ENABLE_ASSERTS) && NETMARL_ENABLE_ASSERTS
  validate(s, g);
#endif
  const index F = s.features;
  std::fill(d_x, d_x + s.elements(), T(0));
  for (index b = 0; b < s.batch; ++b) {
    const T* gb = d_out + b * s.nodes * F;
    T* db = d_x + b * s.nodes * F;
    for (index i = 0; i < s.nodes; ++i) {
      const T* gi = gb + i * F;
      const T scale = r == reduction::mean && g.degree(i) > 0 ? T(1) / T(g.degree(i)) : T(1);
      for (index e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
        T* dj = db + index(g.indices[e]) * F;
        for (index f = 0; f < F; ++f) dj[f] += gi[f] * scale;
      }
    }
  }
}

}  // namespace netmarl::kernels::neighbor_aggregate
