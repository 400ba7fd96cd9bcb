#pragma once
// Host-side state of the CUDA backend: the stream and cuBLAS handle every CUDA kernel runs on
// (cuda_context), typed device memory (device_buffer), and the checked-call helper that turns a
// cudaError_t / cublasStatus_t into a netmarl::cuda_error naming the call, file and line.
// Plain host C++: includable from g++ and nvcc translation units alike, as long as they link
// CUDA::cudart and CUDA::cublas.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <string>
#include <utility>

#include "netmarl/core/error.hpp"

namespace netmarl {

// A CUDA runtime or cuBLAS call that failed: out of memory, no device, a bad launch.
struct cuda_error : error {
  using error::error;
};

namespace backend::cuda_detail {

inline std::string where(const char* call, const char* file, int line) {
  return std::string(file) + ":" + std::to_string(line) + ": " + call + " failed: ";
}

inline void check(cudaError_t status, const char* call, const char* file, int line) {
  if (status == cudaSuccess) return;
  cudaGetLastError();  // clear a non-sticky error so the next call does not report it again
  throw cuda_error(where(call, file, line) + cudaGetErrorName(status) + " (" +
                   cudaGetErrorString(status) + ")");
}

inline void check(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  throw cuda_error(where(call, file, line) + cublasGetStatusName(status) + " (" +
                   cublasGetStatusString(status) + ")");
}

}  // namespace backend::cuda_detail

// NETMARL_CUDA_CHECK(call): runs a CUDA runtime or cuBLAS call and throws netmarl::cuda_error
// with the call's text, file:line and the library's error string when it fails. Always on: the
// status is already computed, so the check costs one compare.
#define NETMARL_CUDA_CHECK(call) \
  ::netmarl::backend::cuda_detail::check((call), #call, __FILE__, __LINE__)

namespace backend {

// True when the CUDA runtime finds at least one usable device. Never throws: a missing driver or
// no GPU both give false (the tests skip on it).
inline bool cuda_device_available() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  return count > 0;
}

// Owns `size` elements of T in device memory (uninitialised). Move-only; an empty buffer holds no
// allocation and a null pointer.
template <class T>
class device_buffer {
 public:
  device_buffer() = default;
  explicit device_buffer(std::size_t size) : size_(size) {
    if (size > 0)
      NETMARL_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&data_), size * sizeof(T)));
  }
  ~device_buffer() { release(); }

  device_buffer(const device_buffer&) = delete;
  device_buffer& operator=(const device_buffer&) = delete;
  device_buffer(device_buffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  device_buffer& operator=(device_buffer&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }
  std::size_t bytes() const { return size_ * sizeof(T); }
  bool empty() const { return size_ == 0; }

  // Copies of the first `count` elements (the whole buffer without `count`) from or to host memory,
  // ordered on `stream` after the work already there, and finished when they return. Always
  // through the kernels' stream: a plain cudaMemcpy runs on the legacy default stream, which a
  // non-blocking stream does not wait for.
  void copy_from_host(const T* host, std::size_t count, cudaStream_t stream) {
    if (count == 0) return;
    NETMARL_CUDA_CHECK(
        cudaMemcpyAsync(data_, host, count * sizeof(T), cudaMemcpyHostToDevice, stream));
    NETMARL_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
  void copy_from_host(const T* host, cudaStream_t stream) { copy_from_host(host, size_, stream); }
  void copy_to_host(T* host, std::size_t count, cudaStream_t stream) const {
    if (count == 0) return;
    NETMARL_CUDA_CHECK(
        cudaMemcpyAsync(host, data_, count * sizeof(T), cudaMemcpyDeviceToHost, stream));
    NETMARL_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
  void copy_to_host(T* host, cudaStream_t stream) const { copy_to_host(host, size_, stream); }

 private:
  void release() noexcept {
    if (data_) cudaFree(data_);  // never throws from a destructor; a failure here is unreportable
    data_ = nullptr;
    size_ = 0;
  }

  T* data_ = nullptr;
  std::size_t size_ = 0;
};

// The stream and cuBLAS handle every CUDA kernel of netmarl runs on, for one device, plus a
// growable device workspace the kernels use for small per-call tables (per-sample graph views).
// Kernels enqueue on stream() and return without synchronising; call synchronize() (or copy
// results back) before reading their outputs on the host. Move-only; one context per host thread.
class cuda_context {
 public:
  explicit cuda_context(int device = 0) : device_(device) {
    NETMARL_CUDA_CHECK(cudaSetDevice(device));
    NETMARL_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    try {
      NETMARL_CUDA_CHECK(cublasCreate(&blas_));
      NETMARL_CUDA_CHECK(cublasSetStream(blas_, stream_));
    } catch (...) {
      release();
      throw;
    }
  }
  ~cuda_context() { release(); }

  cuda_context(const cuda_context&) = delete;
  cuda_context& operator=(const cuda_context&) = delete;
  cuda_context(cuda_context&& other) noexcept
      : device_(other.device_),
        stream_(std::exchange(other.stream_, nullptr)),
        blas_(std::exchange(other.blas_, nullptr)),
        workspace_(std::move(other.workspace_)) {}
  cuda_context& operator=(cuda_context&& other) noexcept {
    if (this != &other) {
      release();
      device_ = other.device_;
      stream_ = std::exchange(other.stream_, nullptr);
      blas_ = std::exchange(other.blas_, nullptr);
      workspace_ = std::move(other.workspace_);
    }
    return *this;
  }

  int device() const { return device_; }
  cudaStream_t stream() const { return stream_; }
  cublasHandle_t blas() const { return blas_; }

  // Waits for everything enqueued on the stream; reports an asynchronous kernel failure.
  void synchronize() const { NETMARL_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

  // At least `bytes` of device memory, valid until the next workspace() call. Grows only (a
  // reallocation synchronises the device, so work still reading the old block finishes first).
  void* workspace(std::size_t bytes) {
    if (workspace_.size() < bytes) {
      workspace_ = device_buffer<std::byte>();
      workspace_ = device_buffer<std::byte>(bytes);
    }
    return workspace_.data();
  }

 private:
  void release() noexcept {
    if (blas_) cublasDestroy(blas_);
    if (stream_) cudaStreamDestroy(stream_);
    blas_ = nullptr;
    stream_ = nullptr;
  }

  int device_ = 0;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t blas_ = nullptr;
  device_buffer<std::byte> workspace_;
};

}  // namespace backend
}  // namespace netmarl
