#ifndef LEAKLAB_SCENARIOS_RUNTIME_WORKER_COUNT_H_
#define LEAKLAB_SCENARIOS_RUNTIME_WORKER_COUNT_H_

#include <atomic>
#include <cstdint>

namespace leaklab::runtime {

// Number of workers (fibers, coroutines, threads) a scenario has started and
// not yet stopped. Scenarios hold a WorkerScope for each worker's lifetime; the
// full worker registry (spawn site, wait point) builds on this count.
int64_t CurrentWorkerCount();

class WorkerScope {
 public:
  WorkerScope();
  ~WorkerScope();
  WorkerScope(const WorkerScope&) = delete;
  WorkerScope& operator=(const WorkerScope&) = delete;
};

}  // namespace leaklab::runtime

#endif  // LEAKLAB_SCENARIOS_RUNTIME_WORKER_COUNT_H_
