#pragma once
// What every nn layer header shares: the argument type for read-only matrices, the host-backend
// constraint, and the shape checks that turn a mismatched size into a readable shape_error.
#include <concepts>
#include <string>
#include <type_traits>

#include "netmarl/backend/concept.hpp"
#include "netmarl/backend/tags.hpp"
#include "netmarl/core/assert.hpp"
#include "netmarl/core/error.hpp"
#include "netmarl/core/tensor.hpp"

namespace netmarl::nn {

// A read-only matrix argument (a matrix, a block of one, or a map; no copy). Non-deduced on
// purpose: T comes from the layer or the output buffer, so callers can pass any of those.
template <class T>
using const_matrix_arg = std::type_identity_t<const_matrix_ref<T>>;

// An output a caller may skip: a matrix to (re)size and overwrite, or nullptr. Non-deduced, so a
// literal nullptr is accepted.
template <class T>
using optional_matrix = std::type_identity_t<matrix<T>*>;

// Layers run Eigen loops on host memory. backend::cuda is not a reference backend, so a layer
// without a CUDA path fails to compile here instead of touching device memory from the host.
template <class B>
concept HostBackend = Backend<B> && std::derived_from<B, backend::reference>;

// Throws shape_error "<where>: <what>: expected <expected>, got <got>" unless got == expected.
// The message is built only on failure: these checks run on every forward and backward call,
// which must not allocate (netmarl::require takes a ready-made std::string).
inline void require_size(const char* where, const char* what, index expected, index got) {
  if (got != expected)
    throw shape_error(std::string(where) + ": " + what + ": expected " + std::to_string(expected) +
                      ", got " + std::to_string(got));
}

// Both dimensions of a matrix argument, named in one message ("expected 4x3, got 4x2").
inline void require_shape(const char* where, const char* what, index expected_rows,
                          index expected_cols, index rows, index cols) {
  if (rows != expected_rows || cols != expected_cols)
    throw shape_error(std::string(where) + ": " + what + ": expected " +
                      std::to_string(expected_rows) + "x" + std::to_string(expected_cols) +
                      ", got " + std::to_string(rows) + "x" + std::to_string(cols));
}

}  // namespace netmarl::nn
