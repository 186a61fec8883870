//===- Threads.h - the CPU runtime's worker threads -------------*- C++ -*-===//
//
// Large kernels run their outermost loop on libomp's worker threads (generated code calls
// __kmpc_fork_call). This sets the worker count once per process, from AJIT_NUM_THREADS
// when it is set, before the first kernel runs.
//
//===----------------------------------------------------------------------===//
#ifndef AJIT_RUNTIME_THREADS_H
#define AJIT_RUNTIME_THREADS_H

namespace ajit {

/// AJIT_NUM_THREADS, or 0 when it is not set (every core).
int requestedWorkerThreads();

/// Applies AJIT_NUM_THREADS, if set. The JIT calls it once, when it starts.
void configureWorkerThreads();

} // namespace ajit

#endif
