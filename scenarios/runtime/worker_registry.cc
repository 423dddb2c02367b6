#include "scenarios/runtime/worker_registry.h"

#include <algorithm>
#include <map>
#include <utility>

namespace leaklab::runtime {

WorkerRegistry& WorkerRegistry::Global() {
  // Never destroyed: workers may unregister during static destruction.
  static WorkerRegistry* registry = new WorkerRegistry();
  return *registry;
}

WorkerRegistry::WorkerId WorkerRegistry::Register(const char* spawn_site) {
  std::lock_guard lock(mu_);
  WorkerId id = next_id_++;
  workers_.emplace(id, Entry{spawn_site, WorkerScope::kRunning});
  return id;
}

void WorkerRegistry::SetWaitPoint(WorkerId id, const char* wait_point) {
  std::lock_guard lock(mu_);
  auto it = workers_.find(id);
  if (it != workers_.end()) it->second.wait_point = wait_point;
}

void WorkerRegistry::Unregister(WorkerId id) {
  std::lock_guard lock(mu_);
  workers_.erase(id);
}

int64_t WorkerRegistry::Count() const {
  std::lock_guard lock(mu_);
  return static_cast<int64_t>(workers_.size());
}

std::vector<WorkerRegistry::Group> WorkerRegistry::Groups() const {
  std::map<std::pair<std::string_view, std::string_view>, int64_t> counts;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, e] : workers_) ++counts[{e.spawn_site, e.wait_point}];
  }
  std::vector<Group> groups;
  for (const auto& [key, n] : counts)
    groups.push_back({std::string(key.first), std::string(key.second), n});
  std::stable_sort(groups.begin(), groups.end(),
                   [](const Group& a, const Group& b) { return a.count > b.count; });
  return groups;
}

}  // namespace leaklab::runtime
