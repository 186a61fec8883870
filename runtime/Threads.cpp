//===- Threads.cpp - the CPU runtime's worker threads ----------------------===//
#include "runtime/Threads.h"

#include "runtime/Env.h"

// The two OpenMP API calls used, declared here: omp.h lives among clang's builtin headers,
// which g++ cannot include.
extern "C" {
void omp_set_num_threads(int);
int omp_get_max_threads(void);
}

namespace ajit {

int configureWorkerThreads() {
  static const int count = [] {
    int requested = env::integer("AJIT_NUM_THREADS", 0);
    if (requested > 0) omp_set_num_threads(requested);
    return omp_get_max_threads();
  }();
  return count;
}

} // namespace ajit
