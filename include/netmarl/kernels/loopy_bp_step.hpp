#pragma once
// The loopy-BP message-update op: includes every implementation this compiler can use, so every
// translation unit sees the same overloads and users never choose includes. The xsimd kernels
// (float; backend::simd delegates other types to the reference) are host code: nvcc translation
// units see only the reference and, once written, the CUDA version.
#include "netmarl/kernels/loopy_bp_step/operations_generic.hpp"
#ifndef __CUDACC__
#include "netmarl/kernels/loopy_bp_step/operations_simd.hpp"
#endif
