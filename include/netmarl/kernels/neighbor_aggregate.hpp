#pragma once
// The neighbour-aggregation op: includes every implementation this compiler can use, so every
// translation unit sees the same overloads and users never choose includes. The xsimd kernels are
// host code: nvcc translation units see only the reference and CUDA versions.
#include "netmarl/kernels/neighbor_aggregate/operations_generic.hpp"
#ifdef __CUDACC__
#include "netmarl/kernels/neighbor_aggregate/operations_cuda.cuh"
#else
#include "netmarl/kernels/neighbor_aggregate/operations_simd.hpp"
#endif
