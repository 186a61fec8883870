//===- CudaDriver.h - libcuda through dlopen, one symbol table -*- C++ -*-===//
//
// ajit never links libcuda: it is opened on first use ($AJIT_CUDA_DRIVER names another
// library to open instead: a driver outside the loader's path, or the tests' emulated
// one), and every entry point it needs is listed once below (an X-macro) with its own
// prototype, so no CUDA header is needed either. Driver errors become ajit::Error carrying the driver's name and message.
//
//===----------------------------------------------------------------------===//
#ifndef AJIT_RUNTIME_GPU_CUDADRIVER_H
#define AJIT_RUNTIME_GPU_CUDADRIVER_H

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace ajit::cuda {

// The driver API's handle types, as cuda.h declares them.
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;
using CUevent = struct CUevent_st *;
constexpr int kComputeCapabilityMajor = 75, kComputeCapabilityMinor = 76; // CUdevice_attribute
constexpr int kJitErrorLogBuffer = 5, kJitErrorLogBufferSize = 6;        // CUjit_option
constexpr CUresult kErrorOutOfMemory = 2;                                 // CUDA_ERROR_OUT_OF_MEMORY

// X(name, symbol in libcuda, parameter list)
#define AJIT_CUDA_DRIVER_FUNCTIONS(X)                                                              \
  X(cuInit, "cuInit", (unsigned flags))                                                          \
  X(cuDeviceGetCount, "cuDeviceGetCount", (int *count))                                          \
  X(cuDeviceGet, "cuDeviceGet", (CUdevice * device, int ordinal))                                \
  X(cuDeviceGetName, "cuDeviceGetName", (char *name, int len, CUdevice device))                  \
  X(cuDeviceGetAttribute, "cuDeviceGetAttribute", (int *value, int attribute, CUdevice device))  \
  X(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", (CUcontext * ctx, CUdevice device))    \
  X(cuCtxSetCurrent, "cuCtxSetCurrent", (CUcontext ctx))                                         \
  X(cuCtxSynchronize, "cuCtxSynchronize", ())                                                    \
  X(cuModuleLoadDataEx, "cuModuleLoadDataEx",                                                    \
    (CUmodule * module, const void *image, unsigned count, int *options, void **values))         \
  X(cuModuleGetFunction, "cuModuleGetFunction", (CUfunction * fn, CUmodule module, const char *name)) \
  X(cuModuleUnload, "cuModuleUnload", (CUmodule module))                                         \
  X(cuMemAlloc, "cuMemAlloc_v2", (CUdeviceptr * ptr, size_t bytes))                              \
  X(cuMemFree, "cuMemFree_v2", (CUdeviceptr ptr))                                                \
  X(cuMemcpyHtoD, "cuMemcpyHtoD_v2", (CUdeviceptr dst, const void *src, size_t bytes))           \
  X(cuMemcpyDtoH, "cuMemcpyDtoH_v2", (void *dst, CUdeviceptr src, size_t bytes))                 \
  X(cuMemcpyDtoD, "cuMemcpyDtoD_v2", (CUdeviceptr dst, CUdeviceptr src, size_t bytes))           \
  X(cuEventCreate, "cuEventCreate", (CUevent * event, unsigned flags))                           \
  X(cuEventRecord, "cuEventRecord", (CUevent event, CUstream stream))                            \
  X(cuEventSynchronize, "cuEventSynchronize", (CUevent event))                                   \
  X(cuEventElapsedTime, "cuEventElapsedTime", (float *ms, CUevent start, CUevent end))           \
  X(cuEventDestroy, "cuEventDestroy_v2", (CUevent event))                                        \
  X(cuLaunchKernel, "cuLaunchKernel",                                                            \
    (CUfunction fn, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, \
     unsigned sharedBytes, CUstream stream, void **params, void **extra))                        \
  X(cuGetErrorName, "cuGetErrorName", (CUresult error, const char **name))                       \
  X(cuGetErrorString, "cuGetErrorString", (CUresult error, const char **text))

struct Driver {
#define AJIT_CUDA_FIELD(name, symbol, params) CUresult(*name) params = nullptr;
  AJIT_CUDA_DRIVER_FUNCTIONS(AJIT_CUDA_FIELD)
#undef AJIT_CUDA_FIELD
};

/// The driver, opened and initialised once per process; throws ajit::Error saying why
/// when there is no libcuda, no entry point, or no device.
const Driver &driver();

/// Whether a CUDA device can be used here; `why` says why not (for test skips).
bool available(std::string &why);

/// Whether the driver runs kernels given as NVPTX LLVM IR instead of PTX: the emulated
/// driver of the tests (AJIT_CUDA_DRIVER=libajit-emulated-cuda.so) does. False without
/// a usable driver.
bool takesLlvmIr();

/// "CUDA_ERROR_X (message)".
std::string describe(CUresult result);

/// Throws ajit::Error "ajit: CUDA <what> failed: CUDA_ERROR_X (message)" unless `result` is 0
/// (after a kernel fault, saying that the context is lost).
void check(CUresult result, const char *what);

/// Waits for all queued device work, ignoring its errors and a missing driver: for
/// failure paths, before buffers that queued work may use go back to the pool.
void drain() noexcept;

/// The primary context of device 0, current on the calling thread.
CUcontext context();

/// `sm_XY` of device 0.
std::string deviceArch();

/// Seconds of each of `batches` batches of `perBatch` calls of `work`, which enqueues
/// device work on the default stream, timed by events around each batch (after one
/// untimed call). Throws ajit::Error with the driver's message.
std::vector<double> timeOnDevice(const std::function<void()> &work, int batches, int perBatch);

/// The device's device-to-device copy of `bytes` (cuMemcpyDtoD): seconds of each batch,
/// as timeOnDevice. The ceiling memory-bound kernels are measured against.
std::vector<double> timeDeviceCopy(size_t bytes, int batches, int perBatch);

} // namespace ajit::cuda

#endif
