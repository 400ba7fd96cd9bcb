#pragma once
// The mean-field hop op: includes every implementation this compiler can use, so every
// translation unit sees the same overloads and users never choose includes. The xsimd kernels are
// host code: nvcc translation units see the reference and CUDA versions.
#include "netmarl/kernels/mean_field_step/operations_generic.hpp"
#ifdef __CUDACC__
#include "netmarl/kernels/mean_field_step/operations_cuda.cuh"
#else
#include "netmarl/kernels/mean_field_step/operations_simd.hpp"
#endif
