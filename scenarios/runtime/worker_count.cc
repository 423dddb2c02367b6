#include "scenarios/runtime/worker_count.h"

namespace leaklab::runtime {
namespace {
std::atomic<int64_t> g_workers{0};
}  // namespace

int64_t CurrentWorkerCount() { return g_workers.load(std::memory_order_relaxed); }
WorkerScope::WorkerScope() { g_workers.fetch_add(1, std::memory_order_relaxed); }
WorkerScope::~WorkerScope() { g_workers.fetch_sub(1, std::memory_order_relaxed); }

}  // namespace leaklab::runtime
