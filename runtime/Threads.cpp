//===- Threads.cpp - the CPU runtime's worker threads ----------------------===//
#include "runtime/Threads.h"

#include "runtime/Env.h"

// The OpenMP API call used, declared here: omp.h lives among clang's builtin headers,
// which g++ cannot include.
extern "C" {
void omp_set_num_threads(int);
}

namespace ajit {

void configureWorkerThreads() {
  int requested = env::integer("AJIT_NUM_THREADS", 0);
  if (requested > 0) omp_set_num_threads(requested);
}

} // namespace ajit
