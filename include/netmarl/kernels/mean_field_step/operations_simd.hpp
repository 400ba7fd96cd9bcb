#pragma once
// SIMD mean-field hop for float (other types delegate to the reference), on simd_blas's GEMM and
// neighbor_aggregate's vector row primitives (gather, add_row).
//
// Forward runs in blocks of rows: gather the block's aggregated rows, multiply them by W2 into
// mu, then add pre_state and apply ReLU in one flat pass. The GEMM reads the block's aggregated
// rows, and the epilogue its mu rows, from L2 just after they were written, instead of taking a
// separate pass over buffers that are 20 MB each at 35x35 grids, B = 32, hidden 128.
//
// Backward does the same per block: the mask (d_pre), d_w2 += aggregated^T . d_pre,
// d_aggregated = d_pre . W2^T (W2^T packed once per call), and the scatter of the block's
// d_aggregated rows into d_mu_prev while they are in cache. The scatter works as
// neighbor_aggregate's backward does (a row's first write stores, later ones add; rows nobody
// reads are zeroed at the end), so d_mu_prev needs no zeroing pass. Samples may have their own
// graphs: a block looks up each row's graph, so blocks may straddle samples.
#include <algorithm>
#include <cstddef>
#include <span>
#include <type_traits>
#include <vector>
#include <xsimd/xsimd.hpp>

#include "netmarl/backend/tags.hpp"
#include "netmarl/kernels/mean_field_step/operations_generic.hpp"
#include "netmarl/kernels/mean_field_step/spec.hpp"
#include "netmarl/kernels/neighbor_aggregate/operations_simd.hpp"
#include "netmarl/kernels/simd_blas/gemm.hpp"
#include "netmarl/kernels/simd_blas/transpose.hpp"

namespace netmarl::kernels::mean_field_step {

namespace simd_detail {

struct packed_w2_t;  // the scratch owner tag of backward's W2^T

// Rows per forward block: a multiple of the GEMM's row tile and of its row block (192), so every
// block but the last runs full micro-kernels; three 192 x 128 float blocks (288 KiB) sit in L2.
constexpr index block_rows = 192;
// Rows per backward block: also a multiple of the GEMM's k-chunk (128), so d_w2's product, whose
// k runs over rows, loads and stores its C tile once per 128 rows, never for a short chunk.
constexpr index backward_block_rows = 384;

template <class Arch>
struct passes {
  using batch = xsimd::batch<float, Arch>;
  static constexpr index W = static_cast<index>(batch::size);

  // mu[0:n] = max(mu[0:n] + pre[0:n], 0).
  static void add_relu(index n, const float* pre, float* mu) {
    const batch zero(0.0f);
    index e = 0;
    for (; e + W <= n; e += W)
      xsimd::max(batch::load_unaligned(mu + e) + batch::load_unaligned(pre + e), zero)
          .store_unaligned(mu + e);
    for (; e < n; ++e) mu[e] = std::max(mu[e] + pre[e], 0.0f);
  }

  // d_pre[0:n] = mu > 0 ? d_mu : 0.
  static void relu_mask(index n, const float* mu, const float* d_mu, float* d_pre) {
    const batch zero(0.0f);
    index e = 0;
    for (; e + W <= n; e += W)
      xsimd::select(batch::load_unaligned(mu + e) > zero, batch::load_unaligned(d_mu + e), zero)
          .store_unaligned(d_pre + e);
    for (; e < n; ++e) d_pre[e] = mu[e] > 0.0f ? d_mu[e] : 0.0f;
  }

  // aggregated rows [r0, r1) = sum over N(i) of mu_prev rows of the same sample.
  static void gather_rows(const shape& s, std::span<const csr_view> graphs, index r0, index r1,
                          const float* mu_prev, float* aggregated) {
    using na = neighbor_aggregate::simd_detail::kernels<Arch, float>;
    const index D = s.inputs;
    for (index r = r0; r < r1; ++r) {
      const index b = r / s.nodes, i = r - b * s.nodes;
      const csr_view& g = graph_of(graphs, b);
      const index beg = g.offsets[i], end = g.offsets[i + 1];
      const float* sample = mu_prev + b * s.nodes * D;
      float* a = aggregated + r * D;
      const index tail = na::for_each_chunk(D, [&]<int NV>(index f) {
        na::template gather<NV>(g.indices, beg, end, sample, D, f, false, 1.0f, a + f);
      });
      if (tail < D) {
        std::fill(a + tail, a + D, 0.0f);
        for (index e = beg; e < end; ++e) {
          const float* mj = sample + index(g.indices[e]) * D;
          for (index f = tail; f < D; ++f) a[f] += mj[f];
        }
      }
    }
  }

  // d_mu_prev[b * nodes + j] (+)= d_aggregated[r] for r in [r0, r1), r = b * nodes + i, j in
  // N(i): stores on a row's first write (written[row] == 0), adds after.
  static void scatter_rows(const shape& s, std::span<const csr_view> graphs, index r0, index r1,
                           const float* d_aggregated, float* d_mu_prev, unsigned char* written) {
    using na = neighbor_aggregate::simd_detail::kernels<Arch, float>;
    const index D = s.inputs;
    for (index r = r0; r < r1; ++r) {
      const index b = r / s.nodes, i = r - b * s.nodes;
      const csr_view& g = graph_of(graphs, b);
      const float* gi = d_aggregated + r * D;
      for (index e = g.offsets[i]; e < g.offsets[i + 1]; ++e) {
        const index row = b * s.nodes + index(g.indices[e]);
        float* dj = d_mu_prev + row * D;
        const bool first = !written[row];
        written[row] = 1;
        const index tail = na::for_each_chunk(D, [&]<int NV>(index f) {
          na::template add_row<NV>(gi + f, false, 1.0f, dj + f, first);
        });
        for (index f = tail; f < D; ++f) dj[f] = (first ? 0.0f : dj[f]) + gi[f];
      }
    }
  }
};

}  // namespace simd_detail

template <class Arch, class T>
void forward(backend::simd<Arch>, const shape& s, std::span<const csr_view> graphs,
             const T* pre_state, const T* mu_prev, const T* w2, T* aggregated, T* mu) {
  if constexpr (!std::is_same_v<T, float>) {
    forward(backend::reference{}, s, graphs, pre_state, mu_prev, w2, aggregated, mu);
  } else {
#if defined(NETMARL_ENABLE_ASSERTS) && NETMARL_ENABLE_ASSERTS
    validate(s, graphs);
#endif
    using g = simd_blas::gemm<Arch>;
    using p = simd_detail::passes<Arch>;
    const index D = s.inputs, H = s.hidden, rows = s.rows();
    for (index r0 = 0; r0 < rows; r0 += simd_detail::block_rows) {
      const index r1 = std::min(rows, r0 + simd_detail::block_rows), n = r1 - r0;
      p::gather_rows(s, graphs, r0, r1, mu_prev, aggregated);
      g::run(n, H, D, aggregated + r0 * D, D, 1, w2, H, mu + r0 * H, H, simd_blas::init::zero,
             nullptr);
      p::add_relu(n * H, pre_state + r0 * H, mu + r0 * H);
    }
  }
}

// d_aggregated and d_mu_prev are non-deduced so a literal nullptr can be passed.
template <class Arch, class T>
void backward(backend::simd<Arch>, const shape& s, std::span<const csr_view> graphs,
              const T* aggregated, const T* w2, const T* mu, const T* d_mu, T* d_pre, T* d_w2,
              std::type_identity_t<T>* d_aggregated, std::type_identity_t<T>* d_mu_prev) {
  if constexpr (!std::is_same_v<T, float>) {
    backward(backend::reference{}, s, graphs, aggregated, w2, mu, d_mu, d_pre, d_w2, d_aggregated,
             d_mu_prev);
  } else {
#if defined(NETMARL_ENABLE_ASSERTS) && NETMARL_ENABLE_ASSERTS
    validate(s, graphs);
#endif
    using g = simd_blas::gemm<Arch>;
    using p = simd_detail::passes<Arch>;
    const index D = s.inputs, H = s.hidden, rows = s.rows();
    if (rows == 0) return;
    const float* w2_t = nullptr;
    if (d_mu_prev) {
      float* packed = simd_blas::scratch<simd_detail::packed_w2_t>(static_cast<std::size_t>(D * H));
      simd_blas::transposer<Arch>::run(D, H, w2, packed);
      w2_t = packed;
    }
    // written[row]: d_mu_prev's row has been stored to. Per-thread, sized once per row count.
    thread_local std::vector<unsigned char> written;
    if (d_mu_prev) written.assign(static_cast<std::size_t>(rows), 0);
    for (index r0 = 0; r0 < rows; r0 += simd_detail::backward_block_rows) {
      const index r1 = std::min(rows, r0 + simd_detail::backward_block_rows), n = r1 - r0;
      float* d_pre_r = d_pre + r0 * H;
      const float* agg_r = aggregated + r0 * D;
      p::relu_mask(n * H, mu + r0 * H, d_mu + r0 * H, d_pre_r);
      // aggregated^T without a copy: A(m, k) = agg_r[k * D + m].
      g::run(D, H, n, agg_r, 1, D, d_pre_r, H, d_w2, H, simd_blas::init::load, nullptr);
      if (!d_mu_prev) continue;
      g::run(n, D, H, d_pre_r, H, 1, w2_t, D, d_aggregated + r0 * D, D, simd_blas::init::zero,
             nullptr);
      p::scatter_rows(s, graphs, r0, r1, d_aggregated, d_mu_prev, written.data());
    }
    if (!d_mu_prev) return;
    // Rows nobody reads from get no gradient.
    for (index row = 0; row < rows; ++row)
      if (!written[static_cast<std::size_t>(row)])
        std::fill(d_mu_prev + row * D, d_mu_prev + (row + 1) * D, 0.0f);
  }
}

}  // namespace netmarl::kernels::mean_field_step
