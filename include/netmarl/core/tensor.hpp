#pragma once
// Tensor aliases. Dense math is row-major Eigen: a batch is rows, features are columns.
// N-dimensional data (replay storage, grid maps) uses xtensor: see core/ndarray.hpp.
#include <Eigen/Core>
#include <cstddef>

namespace netmarl {

using index = Eigen::Index;

template <class T>
using matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using row_vector = Eigen::Matrix<T, 1, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using column_vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

// Views over caller-owned buffers: no allocation, no copy.
template <class T>
using matrix_map = Eigen::Map<matrix<T>>;
template <class T>
using const_matrix_map = Eigen::Map<const matrix<T>>;

// Function arguments: accept a matrix, a block of one, or a map without copying.
template <class T>
using matrix_ref = Eigen::Ref<matrix<T>>;
template <class T>
using const_matrix_ref = Eigen::Ref<const matrix<T>>;

// Resizes only when the shape changes, so a buffer reused at one size never reallocates.
template <class Derived>
inline void ensure_shape(Eigen::PlainObjectBase<Derived>& m, index rows, index cols) {
  if (m.rows() != rows || m.cols() != cols) m.resize(rows, cols);
}

}  // namespace netmarl
