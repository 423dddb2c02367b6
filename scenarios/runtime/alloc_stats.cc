#include "scenarios/runtime/alloc_stats.h"

namespace leaklab::runtime {
namespace internal {
PaddedCounter g_live_bytes;
PaddedCounter g_live_objects;
std::atomic<bool> g_hook_seen{false};
}  // namespace internal

LiveAllocations CurrentLiveAllocations() {
  return {internal::g_live_bytes.value.load(std::memory_order_relaxed),
          internal::g_live_objects.value.load(std::memory_order_relaxed)};
}

void AccountAllocation(int64_t bytes) {
  internal::g_live_bytes.value.fetch_add(bytes, std::memory_order_relaxed);
}

void AccountRelease(int64_t bytes) {
  internal::g_live_bytes.value.fetch_sub(bytes, std::memory_order_relaxed);
}

namespace {
std::atomic<int64_t> g_returned_to_os_bytes{0};
}  // namespace

void AccountReturnedToOs(int64_t bytes) {
  g_returned_to_os_bytes.fetch_add(bytes, std::memory_order_relaxed);
}

void AccountReusedFromOs(int64_t bytes) {
  g_returned_to_os_bytes.fetch_sub(bytes, std::memory_order_relaxed);
}

int64_t ReturnedToOsBytes() { return g_returned_to_os_bytes.load(std::memory_order_relaxed); }

bool AllocHookInstalled() { return internal::g_hook_seen.load(std::memory_order_relaxed); }

}  // namespace leaklab::runtime
