#ifndef LEAKLAB_SCENARIOS_RUNTIME_WORKER_REGISTRY_H_
#define LEAKLAB_SCENARIOS_RUNTIME_WORKER_REGISTRY_H_

// The runtime's view of the workers (fibers, coroutines, threads) a scenario
// runs, like Go's goroutine list: where each was started and where it waits
// now. /debug/memstats and /metrics report the count; /debug/workers (and the
// worker profile) report the groups.

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "scenarios/runtime/uncounted_allocator.h"

namespace leaklab::runtime {

class WorkerRegistry {
 public:
  using WorkerId = uint64_t;

  struct Group {
    std::string spawn_site;  // the function that started these workers
    std::string wait_point;  // where they are now ("running" when not waiting)
    int64_t count = 0;
  };

  static WorkerRegistry& Global();

  // `spawn_site` and `wait_point` must be string literals (or otherwise
  // outlive the worker): they are stored as pointers, so updates on a hot
  // path allocate nothing.
  WorkerId Register(const char* spawn_site);
  void SetWaitPoint(WorkerId id, const char* wait_point);
  void Unregister(WorkerId id);

  int64_t Count() const;
  // One entry per distinct (spawn site, wait point), largest first.
  std::vector<Group> Groups() const;

 private:
  struct Entry {
    const char* spawn_site;
    const char* wait_point;
  };
  mutable std::mutex mu_;
  // Off the counted heap (uncounted_allocator.h), as Go's goroutine table is
  // off its heap profile.
  std::unordered_map<WorkerId, Entry, std::hash<WorkerId>, std::equal_to<>,
                     UncountedAllocator<std::pair<const WorkerId, Entry>>>
      workers_;           // guarded by mu_
  WorkerId next_id_ = 1;  // guarded by mu_
};

// Registers a worker for the lifetime of the object.
class WorkerScope {
 public:
  explicit WorkerScope(const char* spawn_site)
      : id_(WorkerRegistry::Global().Register(spawn_site)) {}
  ~WorkerScope() { WorkerRegistry::Global().Unregister(id_); }
  WorkerScope(const WorkerScope&) = delete;
  WorkerScope& operator=(const WorkerScope&) = delete;

  void WaitingAt(const char* wait_point) { WorkerRegistry::Global().SetWaitPoint(id_, wait_point); }
  void Running() { WaitingAt(kRunning); }

  static constexpr const char* kRunning = "running";

 private:
  WorkerRegistry::WorkerId id_;
};

}  // namespace leaklab::runtime

#endif  // LEAKLAB_SCENARIOS_RUNTIME_WORKER_REGISTRY_H_
