//===- Threads.cpp - the CPU runtime's worker threads ----------------------===//
#include "runtime/Threads.h"

#include "runtime/Env.h"

#include <string>

// libomp's API, declared here: omp.h lives among clang's builtin headers, which g++
// cannot include.
extern "C" {
void kmp_set_defaults(const char *);
}

namespace ajit {

int requestedWorkerThreads() { return env::integer("AJIT_NUM_THREADS", 0); }

void configureWorkerThreads() {
  int requested = requestedWorkerThreads();
  // The process-wide default, as if OMP_NUM_THREADS were set. omp_set_num_threads would
  // set only the calling thread's count: kernels called from any other thread would
  // still fork onto every core.
  if (requested > 0) kmp_set_defaults(("OMP_NUM_THREADS=" + std::to_string(requested)).c_str());
}

} // namespace ajit
