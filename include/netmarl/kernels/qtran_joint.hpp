#pragma once
// The QTRAN joint-network op (one-hot gather and agent sum): includes every implementation this
// compiler can use, so every translation unit sees the same overloads and users never choose
// includes. The xsimd kernels are host code: nvcc translation units (which carry no SIMD
// intrinsics) see only the reference and, when it exists, the CUDA version (operations_cuda.cuh).
#include "netmarl/kernels/qtran_joint/operations_generic.hpp"
#ifndef __CUDACC__
#include "netmarl/kernels/qtran_joint/operations_simd.hpp"
#endif
