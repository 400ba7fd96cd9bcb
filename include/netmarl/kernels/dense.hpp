#pragma once
// The dense op: includes every implementation this compiler can use, so every translation unit
// sees the same overloads and users never choose includes. The xsimd kernels are host code: nvcc
// translation units (which carry no SIMD intrinsics) see only the reference and CUDA versions.
#include "netmarl/kernels/dense/operations_generic.hpp"
#ifdef __CUDACC__
#include "netmarl/kernels/dense/operations_cuda.cuh"
#else
#include "netmarl/kernels/dense/operations_simd.hpp"
#endif
