#ifndef LEAKLAB_SCENARIOS_RUNAWAY_WORKERS_WORKERS_H_
#define LEAKLAB_SCENARIOS_RUNAWAY_WORKERS_WORKERS_H_

// A service-discovery component whose /reload starts a new generation of
// watcher workers (C++20 coroutines) that share one connection limited to
// 1000 concurrent streams. The leaky variant never stops old generations;
// the fixed one cancels the previous generation first. See README.md beside
// this file.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "scenarios/runtime/scenario.h"

namespace leaklab::scenarios {

runtime::ScenarioInfo RunawayWorkersInfo();

namespace runaway_workers {

// One multiplexed connection (an HTTP/2 connection to the Kubernetes API in
// the incident) that carries at most `max_streams` requests at a time. The
// rest wait in FIFO order, each parked on its own timer, and are woken one at
// a time as streams are given back.
//
// Not thread-safe: every call must run on the thread of the io_context that
// owns the timers handed to AcquireStream (the discovery thread), which is
// what makes it lock-free.
class SharedConnection {
 public:
  explicit SharedConnection(int max_streams);
  SharedConnection(const SharedConnection&) = delete;
  SharedConnection& operator=(const SharedConnection&) = delete;

  // Completes with true once the caller holds a stream, which it must give
  // back with ReleaseStream(). Completes with false, holding nothing, when
  // `timer` is cancelled while the caller waits: the caller's own timer is the
  // park spot, so whoever can cancel the caller's work can cancel the wait.
  boost::asio::awaitable<bool> AcquireStream(boost::asio::steady_timer& timer);

  // Gives a stream back: straight to the longest waiter if there is one.
  void ReleaseStream();

  int max_streams() const { return max_streams_; }
  int streams_in_use() const { return streams_in_use_; }
  int64_t waiting() const { return waiting_; }

 private:
  // A node of the intrusive wait queue; lives in the waiting coroutine's frame,
  // so queueing allocates nothing.
  struct Waiter {
    boost::asio::steady_timer* timer = nullptr;
    Waiter* prev = nullptr;
    Waiter* next = nullptr;
    bool granted = false;
  };
  void Enqueue(Waiter* w);
  void Unlink(Waiter* w);

  const int max_streams_;
  int streams_in_use_ = 0;
  int64_t waiting_ = 0;
  Waiter* head_ = nullptr;  // the longest waiter, woken first
  Waiter* tail_ = nullptr;
};

// The kinds of Kubernetes object the incident's discovery watched; each
// generation starts the same number of watchers for every kind.
enum class Kind { kPods, kServices, kEndpoints };
inline constexpr int kKindCount = 3;
const char* KindName(Kind kind);

struct DiscoveryOptions {
  // The fix: cancel the running generation before starting the next one.
  bool stop_previous_generation = false;
  int watchers_per_kind = 200;
  // Go's HTTP/2 client default, the limit the incident's workers waited on.
  int max_streams = 1000;
  // A watch holds its stream for watch_min + (a per-worker share of
  // watch_spread), so that streams come back spread out, not all at once.
  std::chrono::milliseconds watch_min{1500};
  std::chrono::milliseconds watch_spread{1000};
  // A reload that would take the live (or still starting) workers past this is
  // refused. At about 9 KB a worker (buffer, coroutine frames, timer) 20,000
  // workers are about 180 MB: a leaky run long enough to hit the cap (about
  // 33 reloads) stays within the lab's few hundred MB per run.
  int64_t max_workers = 20'000;
  // Each worker's private memory, like a goroutine's initial 8 KB stack.
  size_t worker_buffer_bytes = 8 * 1024;
};

// Runs the watcher workers on its own io_context and thread. The public
// members are thread-safe; the workers and the connection live on that thread.
class Discovery {
 public:
  // Starts the discovery thread and generation 0, as a service does at
  // startup with its first configuration; returns once that generation runs.
  explicit Discovery(const DiscoveryOptions& options);
  // Cancels every generation, lets the workers unwind (give back streams,
  // leave the wait queue, unregister, free their buffers), then joins.
  ~Discovery();
  Discovery(const Discovery&) = delete;
  Discovery& operator=(const Discovery&) = delete;

  // Starts a new generation on the discovery thread and returns its number
  // once its workers have started (a few ms; the wait is bounded), or
  // nullopt when the worker limit would be passed.
  std::optional<int> Reload();

  struct Snapshot {
    int current_generation = 0;
    int generations_live = 0;  // generations with at least one live worker
    int64_t workers_live = 0;
    int streams_in_use = 0;
    int64_t waiting_for_stream = 0;
  };
  // Posts to the discovery thread and waits for it, so everything posted
  // before (reloads) has run. Do not call from the discovery thread.
  Snapshot TakeSnapshot();

  // For the business endpoint, from any thread: how many watchers of the
  // current generation have got their first answer (their initial list).
  std::string TargetsJson() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace runaway_workers
}  // namespace leaklab::scenarios

#endif  // LEAKLAB_SCENARIOS_RUNAWAY_WORKERS_WORKERS_H_
