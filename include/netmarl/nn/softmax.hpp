#pragma once
// Row-wise softmax and log-softmax (each row of a batch is one distribution). Both subtract the
// row maximum before exponentiating, so large logits neither overflow nor lose the small ones.
#include <cmath>

#include "netmarl/nn/common.hpp"

namespace netmarl::nn {

// log sum_j exp(row_j), computed as max + log sum_j exp(row_j - max).
template <class T, class Row>
T log_sum_exp(const Row& row) {
  const T max = row.maxCoeff();
  return max + std::log((row.array() - max).exp().sum());
}

// out = softmax(in) row by row; out must already have in's shape (out may be in).
template <class T>
void softmax_rows(const_matrix_arg<T> in, matrix_ref<T> out) {
  NETMARL_ASSERT(in.rows() == out.rows() && in.cols() == out.cols(), "softmax_rows: shapes differ");
  for (index r = 0; r < in.rows(); ++r) {
    const T max = in.row(r).maxCoeff();
    out.row(r) = (in.row(r).array() - max).exp().matrix();
    out.row(r) /= out.row(r).sum();
  }
}

// out = log_softmax(in) row by row; out must already have in's shape (out may be in).
template <class T>
void log_softmax_rows(const_matrix_arg<T> in, matrix_ref<T> out) {
  NETMARL_ASSERT(in.rows() == out.rows() && in.cols() == out.cols(),
                 "log_softmax_rows: shapes differ");
  for (index r = 0; r < in.rows(); ++r) {
    const T normaliser = log_sum_exp<T>(in.row(r));
    out.row(r) = (in.row(r).array() - normaliser).matrix();
  }
}

// Parameter-free layers; the cache keeps the output, which is all backward needs.
struct softmax {};
struct log_softmax {};

template <class T>
struct softmax_cache {
  matrix<T> out;  // probabilities (softmax) or log-probabilities (log_softmax)
};

template <HostBackend B, class T>
void forward(B, softmax, const_matrix_arg<T> in, softmax_cache<T>& cache, matrix<T>& out) {
  ensure_shape(cache.out, in.rows(), in.cols());
  softmax_rows<T>(in, cache.out);
  ensure_shape(out, in.rows(), in.cols());
  out = cache.out;
}

// d_in = y * (d_out - <d_out, y>) per row, y = softmax(in).
template <HostBackend B, class T>
void backward(B, softmax, const softmax_cache<T>& cache, const_matrix_arg<T> d_out,
              optional_matrix<T> d_in) {
  require_shape("softmax backward", "d_out", cache.out.rows(), cache.out.cols(), d_out.rows(),
                d_out.cols());
  if (!d_in) return;
  ensure_shape(*d_in, d_out.rows(), d_out.cols());
  for (index r = 0; r < d_out.rows(); ++r) {
    const T inner = d_out.row(r).dot(cache.out.row(r));
    d_in->row(r) = (cache.out.row(r).array() * (d_out.row(r).array() - inner)).matrix();
  }
}

template <HostBackend B, class T>
void forward(B, log_softmax, const_matrix_arg<T> in, softmax_cache<T>& cache, matrix<T>& out) {
  ensure_shape(cache.out, in.rows(), in.cols());
  log_softmax_rows<T>(in, cache.out);
  ensure_shape(out, in.rows(), in.cols());
  out = cache.out;
}

// d_in = d_out - exp(y) * sum(d_out) per row, y = log_softmax(in).
template <HostBackend B, class T>
void backward(B, log_softmax, const softmax_cache<T>& cache, const_matrix_arg<T> d_out,
              optional_matrix<T> d_in) {
  require_shape("log_softmax backward", "d_out", cache.out.rows(), cache.out.cols(), d_out.rows(),
                d_out.cols());
  if (!d_in) return;
  ensure_shape(*d_in, d_out.rows(), d_out.cols());
  for (index r = 0; r < d_out.rows(); ++r) {
    const T total = d_out.row(r).sum();
    d_in->row(r) = (d_out.row(r).array() - cache.out.row(r).array().exp() * total).matrix();
  }
}

}  // namespace netmarl::nn
