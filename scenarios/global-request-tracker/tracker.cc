// The global-request-tracker incident (shared/seeds/global-request-tracker-incident.md):
// a process-wide RequestTracker appended a 10,000-byte buffer per HTTP request
// to a slice under a mutex and never let go of it. The service grew with its
// request count until the cgroup's OOM killer ended it.

#include "scenarios/global-request-tracker/tracker.h"

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace leaklab::scenarios {
namespace {

// The size of the per-request buffer in the incident.
constexpr size_t kBufferBytes = 10'000;

// Stands in for Go's bytes.Repeat: a fresh heap buffer of `count` copies of
// `c`. In the incident's heap profile this is where 98 % of the memory was
// allocated (flat); the tracker is what keeps it (cum).
[[gnu::noinline]] std::string RepeatBytes(char c, size_t count) { return std::string(count, c); }

// A cheap stand-in for the request's real work, so that both variants do the
// same thing per request and differ only in what they keep.
uint64_t Checksum(const std::string& buffer) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a offset basis
  for (size_t i = 0; i < buffer.size(); i += 64)
    h = (h ^ static_cast<uint8_t>(buffer[i])) * 1099511628211ULL;
  return h;
}

class RequestTracker {
 public:
  explicit RequestTracker(bool retain) : retain_(retain) {}

  // As in the incident, Track() makes the 10 KB buffer itself (bytes.Repeat
  // inside RequestTracker.Track), so a heap profile shows RepeatBytes flat and
  // Track cumulative. The leak: the buffer goes into a process-wide vector
  // that nothing ever empties. Returns the request's checksum.
  [[gnu::noinline]] uint64_t Track() {
    std::string buffer = RepeatBytes('a', kBufferBytes);
    uint64_t sum = Checksum(buffer);
    std::lock_guard lock(mu_);
    ++tracked_;
    if (retain_) requests_.push_back(std::move(buffer));
    return sum;
  }

  uint64_t tracked() {
    std::lock_guard lock(mu_);
    return tracked_;
  }

 private:
  const bool retain_;
  std::mutex mu_;
  std::vector<std::string> requests_;  // guarded by mu_
  uint64_t tracked_ = 0;               // guarded by mu_
};

class GlobalRequestTracker : public runtime::Scenario {
 public:
  explicit GlobalRequestTracker(bool retain) : tracker_(retain) {}

  runtime::Response Handle(const runtime::Request& request) override {
    if (request.path != "/track") return {404, "text/plain", "try /track?id=N\n"};
    uint64_t sum = tracker_.Track();
    return {200, "text/plain", "tracked " + std::to_string(sum % 1000) + "\n"};
  }

 private:
  RequestTracker tracker_;
};

}  // namespace

runtime::ScenarioInfo GlobalRequestTrackerInfo() {
  runtime::ScenarioInfo info;
  info.name = "global-request-tracker";
  info.description = "a process-wide tracker keeps a 10 KB buffer for every request";
  info.variants = {
      // The tracker keeps a 10,000-byte buffer per request: with the vector's
      // own slot and allocator rounding, 9.5 to 11.5 KB per request.
      {"leaky",
       "Track() appends each request's 10 KB buffer to a global vector, forever",
       "leak",
       {.duration = "6s",
        .counter = "requests_total",
        .min_bytes_per_unit = 9'500,
        .max_bytes_per_unit = 11'500}},
      {"fixed", "Track() only counts the request; the buffer dies with the request", "no-leak"},
  };
  // 1000 req/s x 10 KB = about 10 MB/s: a clear slope within seconds while a
  // 20 s run stays near 200 MB, the incident's cgroup limit.
  info.load.path_template = "/track?id={n}";
  info.load.connections = 4;
  info.load.schedule = "steady 10s at 1000/s";
  info.create = [](std::string_view variant) -> std::unique_ptr<runtime::Scenario> {
    return std::make_unique<GlobalRequestTracker>(variant == "leaky");
  };
  return info;
}

}  // namespace leaklab::scenarios
