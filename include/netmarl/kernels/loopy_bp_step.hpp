#pragma once
// The loopy-BP message-update op: includes every implementation this compiler can use, so every
// translation unit sees the same overloads and users never choose includes. Only the reference
// exists so far; the xsimd and CUDA versions come with the kernels issue (backend::simd falls
// back to the reference meanwhile).
#include "netmarl/kernels/loopy_bp_step/operations_generic.hpp"
