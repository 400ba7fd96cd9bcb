#pragma once
// The dense op: includes every implementation this compiler can use, so every translation unit
// sees the same overloads and users never choose includes.
#include "netmarl/kernels/dense/operations_generic.hpp"
#if __has_include("netmarl/kernels/dense/operations_simd.hpp") && !defined(__CUDACC__)
#include "netmarl/kernels/dense/operations_simd.hpp"
#endif
