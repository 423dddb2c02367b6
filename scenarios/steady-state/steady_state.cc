// The control: a service whose memory moves a lot but never grows. It has a
// fixed working set (a reference table loaded at start and a ring of the
// most recent records) and collects incoming records into a batch that a
// flusher writes out and frees every second: a sawtooth, the shape that
// allocator and GC cycles give real services. Nothing here leaks, so every
// analysis of it must say so.

#include "scenarios/steady-state/steady_state.h"

#include <array>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace leaklab::scenarios {
namespace {

// The sawtooth: each request adds a record of this size to the batch, which
// is freed every kFlushInterval. At the default 1000 req/s that is a 2 MB
// tooth per second.
constexpr size_t kRecordBytes = 2'000;
constexpr std::chrono::milliseconds kFlushInterval{1'000};
// The fixed working set: a table loaded once, and the last kRingSize records.
constexpr size_t kTableBytes = 4 << 20;
constexpr size_t kRingSize = 512;
// A flusher that falls behind must not let the batch grow without bound.
constexpr size_t kMaxBatchRecords = 100'000;

class SteadyState : public runtime::Scenario {
 public:
  SteadyState() : table_(kTableBytes, 't'), flusher_([this] { FlushLoop(); }) {}

  ~SteadyState() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    flusher_.join();
  }

  runtime::Response Handle(const runtime::Request& request) override {
    if (request.path != "/ingest") return {404, "text/plain", "try /ingest?id=N\n"};
    uint64_t id = 0;
    if (auto v = request.QueryParam("id")) std::from_chars(v->data(), v->data() + v->size(), id);
    std::string record = MakeRecord(id);
    std::lock_guard lock(mu_);
    ring_[id % kRingSize] = record;
    if (batch_.size() < kMaxBatchRecords) batch_.push_back(std::move(record));
    return {200, "text/plain", "queued " + std::to_string(id) + "\n"};
  }

 private:
  std::string MakeRecord(uint64_t id) const {
    std::string r = "id=" + std::to_string(id) + ";ref=";
    r.append(table_, (id * 4096) % (kTableBytes - kRecordBytes), kRecordBytes - r.size());
    return r;
  }

  // Swaps the batch out under the lock and frees it outside, every interval.
  void FlushLoop() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      wake_.wait_for(lock, kFlushInterval, [this] { return stopping_; });
      std::vector<std::string> written;
      written.swap(batch_);
      lock.unlock();
      written.clear();  // "written to storage": the memory goes back
      lock.lock();
    }
  }

  const std::string table_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::array<std::string, kRingSize> ring_;  // guarded by mu_
  std::vector<std::string> batch_;           // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::thread flusher_;                      // last: started after everything it uses
};

}  // namespace

runtime::ScenarioInfo SteadyStateInfo() {
  runtime::ScenarioInfo info;
  info.name = "steady-state";
  info.description = "control: a fixed working set and a batch flushed every second (a sawtooth)";
  info.variants = {
      // Its whole 10 s schedule, as the teaching page runs it.
      {"control",
       "records batched and flushed every second; table and ring of fixed size",
       "no-leak",
       {.duration = "10s"}},
  };
  info.load.path_template = "/ingest?id={n}";
  info.load.connections = 4;
  info.load.schedule = "steady 10s at 1000/s";
  info.create = [](std::string_view) -> std::unique_ptr<runtime::Scenario> {
    return std::make_unique<SteadyState>();
  };
  return info;
}

}  // namespace leaklab::scenarios
