#pragma once
// Parameter initializers. Every draw comes from netmarl::rng (never <random>'s distributions),
// in row-major order, so the same seed gives the same weights on every platform.
//
// Fans follow netmarl's weight layout [inputs, outputs]: fan_in = rows, fan_out = cols. (PyTorch
// stores [outputs, inputs]; the bounds below are PyTorch's, the draw order is not.)
#include <cmath>
#include <concepts>

#include <Eigen/QR>

#include "netmarl/core/rng.hpp"
#include "netmarl/nn/common.hpp"
#include "netmarl/nn/parameter.hpp"

namespace netmarl::nn::init {

template <class T>
void constant(matrix<T>& m, double value) {
  m.setConstant(static_cast<T>(value));
}

template <class T>
void normal(matrix<T>& m, rng& g, double mean = 0.0, double stddev = 1.0) {
  for (index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<T>(g.normal(mean, stddev));
}

// Uniform in [lo, hi).
template <class T>
void uniform(matrix<T>& m, rng& g, double lo, double hi) {
  for (index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<T>(g.uniform(lo, hi));
}

// Glorot & Bengio 2010: U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)).
template <class T>
void xavier_uniform(matrix<T>& m, rng& g, double gain = 1.0) {
  const double bound = gain * std::sqrt(6.0 / static_cast<double>(m.rows() + m.cols()));
  uniform(m, g, -bound, bound);
}

// Glorot & Bengio 2010: N(0, s^2), s = gain * sqrt(2 / (fan_in + fan_out)).
template <class T>
void xavier_normal(matrix<T>& m, rng& g, double gain = 1.0) {
  normal(m, g, 0.0, gain * std::sqrt(2.0 / static_cast<double>(m.rows() + m.cols())));
}

// He et al. 2015 (torch.nn.init.kaiming_uniform_, mode fan_in): U(-a, a),
// a = gain * sqrt(3 / fan_in). The default gain sqrt(2) suits relu.
template <class T>
void he_uniform(matrix<T>& m, rng& g, double gain = std::sqrt(2.0)) {
  const double bound = gain * std::sqrt(3.0 / static_cast<double>(m.rows()));
  uniform(m, g, -bound, bound);
}

// He et al. 2015 (torch.nn.init.kaiming_normal_, mode fan_in): N(0, s^2), s = gain / sqrt(fan_in).
template <class T>
void he_normal(matrix<T>& m, rng& g, double gain = std::sqrt(2.0)) {
  normal(m, g, 0.0, gain / std::sqrt(static_cast<double>(m.rows())));
}

// Saxe et al. 2014, as torch.nn.init.orthogonal_: QR of a Gaussian matrix, each column of Q
// multiplied by the sign of R's diagonal so Q is uniformly (Haar) distributed. Rows >= cols
// gives orthonormal columns (W^T W = I), rows < cols orthonormal rows (W W^T = I); then * gain.
template <class T>
void orthogonal(matrix<T>& m, rng& g, double gain = 1.0) {
  if (m.size() == 0) return;
  const bool tall = m.rows() >= m.cols();
  const index long_side = tall ? m.rows() : m.cols();
  const index short_side = tall ? m.cols() : m.rows();
  // Computed in double whatever T is, so float and double models get the same weights.
  Eigen::MatrixXd gaussian(long_side, short_side);
  for (index r = 0; r < long_side; ++r)
    for (index c = 0; c < short_side; ++c) gaussian(r, c) = g.normal();
  const Eigen::HouseholderQR<Eigen::MatrixXd> qr(gaussian);
  Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(long_side, short_side);
  const auto r_diagonal = qr.matrixQR().diagonal();
  for (index c = 0; c < short_side; ++c)
    if (r_diagonal(c) < 0) q.col(c) = -q.col(c);
  q *= gain;
  if (tall)
    m = q.cast<T>();
  else
    m = q.transpose().cast<T>();
}

// The same initializers on a parameter's value.
template <class T>
void constant(parameter<T>& p, double value) {
  constant(p.value, value);
}
template <class T>
void normal(parameter<T>& p, rng& g, double mean = 0.0, double stddev = 1.0) {
  normal(p.value, g, mean, stddev);
}
template <class T>
void uniform(parameter<T>& p, rng& g, double lo, double hi) {
  uniform(p.value, g, lo, hi);
}
template <class T>
void xavier_uniform(parameter<T>& p, rng& g, double gain = 1.0) {
  xavier_uniform(p.value, g, gain);
}
template <class T>
void xavier_normal(parameter<T>& p, rng& g, double gain = 1.0) {
  xavier_normal(p.value, g, gain);
}
template <class T>
void he_uniform(parameter<T>& p, rng& g, double gain = std::sqrt(2.0)) {
  he_uniform(p.value, g, gain);
}
template <class T>
void he_normal(parameter<T>& p, rng& g, double gain = std::sqrt(2.0)) {
  he_normal(p.value, g, gain);
}
template <class T>
void orthogonal(parameter<T>& p, rng& g, double gain = 1.0) {
  orthogonal(p.value, g, gain);
}

// torch.nn.Linear's default: weight and bias both U(-1/sqrt(fan_in), 1/sqrt(fan_in)), with
// fan_in = weight.rows() (PyTorch gets the same bound from kaiming_uniform_ with a = sqrt(5)).
// Weight is drawn first, then bias.
template <class T>
void pytorch_default(parameter<T>& weight, parameter<T>& bias, rng& g) {
  const double bound =
      weight.value.rows() > 0 ? 1.0 / std::sqrt(static_cast<double>(weight.value.rows())) : 0.0;
  uniform(weight.value, g, -bound, bound);
  uniform(bias.value, g, -bound, bound);
}

// Any layer with `weight` [inputs, outputs] and `bias` parameters (nn::dense and its kin).
template <class Layer>
requires requires(Layer& l) {
  l.weight.value;
  l.bias.value;
}
void pytorch_default(Layer& layer, rng& g) { pytorch_default(layer.weight, layer.bias, g); }

}  // namespace netmarl::nn::init
