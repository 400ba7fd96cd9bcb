#pragma once
// The sub-team sum op (VAST eq. 4): includes every implementation this compiler can use, so every
// translation unit sees the same overloads. Only the reference exists so far; backend::simd<...>
// reaches it through the tag's base class. The xsimd (operations_simd.hpp, under
// #ifndef __CUDACC__) and CUDA (operations_cuda.cuh) versions join here as overloads on their tags.
#include "netmarl/kernels/subteam_sum/operations_generic.hpp"
