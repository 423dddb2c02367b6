// The runaway-workers incident (shared/seeds/runaway-workers-incident.txt):
// Prometheus on Kubernetes reached 9 GB RSS with 300,000 goroutines. Every
// configuration reload started new discovery goroutines (pods, services,
// endpoints) without stopping the old ones, and nearly all of them were
// blocked on the single HTTP/2 connection to the API server, whose client
// allows at most 1000 concurrent streams. 8 KB of stack each came to 2.4 GB.
//
// Here a watcher worker is a C++20 coroutine on the discovery thread's
// io_context with an 8 KB "stack" of its own, mapped apart from the heap as
// Go's goroutine stacks are: RSS and the worker count grow with every
// generation, the counted heap does not. /reload starts a generation of
// 3 x 200 watchers, and logs the lines the incident's team saw repeating;
// leaky never stops the old ones, fixed cancels the previous generation first.

#include "scenarios/runaway-workers/workers.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <future>
#include <list>
#include <mutex>
#include <system_error>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "scenarios/runtime/uncounted_allocator.h"
#include "scenarios/runtime/worker_registry.h"

namespace leaklab::scenarios {
namespace runaway_workers {
namespace {

namespace asio = boost::asio;
using asio::steady_timer;

// Where the workers come from and where they wait, as a goroutine profile
// would name them. Literals: the registry keeps the pointers.
constexpr const char* kSpawnSite = "Discovery::Reload";
constexpr const char* kWaitAcquireStream = "SharedConnection::AcquireStream";
constexpr const char* kWaitWatch = "SharedConnection::Watch";

// Starting a generation takes a few milliseconds (600 coroutines, 600 buffers:
// 3-8 ms measured). Reload() and startup wait for it, but never longer than
// this, so that a busy discovery thread cannot hold an HTTP thread for long.
constexpr std::chrono::milliseconds kStartWaitLimit{50};

constexpr const char* kKindPaths[kKindCount] = {"/api/v1/pods", "/api/v1/services",
                                                "/api/v1/endpoints"};

// A worker's stack: a private anonymous mapping, written once so that it is
// resident, as a goroutine's stack is. Go takes stacks from stack spans that
// neither the heap profile nor HeapInuse count (they are in StackInuse and
// RSS); here too they stay out of the counted heap (the allocation hook sees
// operator new only), so a heap profile cannot see these workers, and only
// the worker profile and RSS can. (Asio's coroutine frames, the rest of a
// worker, come from std::aligned_alloc, also uncounted, like Go's g
// structures.) A finished worker's stack goes back to a pool for the next
// worker, as Go's stack cache keeps freed stacks: RSS does not dip and climb
// at every reload of the fixed variant, and mappings are made only for
// workers beyond any that finished.
class StackPool {
 public:
  explicit StackPool(size_t bytes) {
    const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    size_ = (std::max<size_t>(bytes, 1) + page - 1) / page * page;
  }
  ~StackPool() {
    for (char* p : free_) ::munmap(p, size_);
  }
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;

  char* Acquire() {
    {
      std::lock_guard lock(mu_);
      if (!free_.empty()) {
        char* p = free_.back();
        free_.pop_back();
        return p;
      }
    }
    void* p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      throw std::system_error(errno, std::generic_category(), "mapping a worker's stack");
    }
    std::memset(p, 0, size_);  // resident from the start
    return static_cast<char*>(p);
  }
  void Release(char* p) noexcept {
    std::lock_guard lock(mu_);
    try {
      free_.push_back(p);
    } catch (...) {
      ::munmap(p, size_);  // no room to keep it: give it back
    }
  }
  size_t size() const { return size_; }

 private:
  size_t size_;
  std::mutex mu_;
  std::vector<char*, runtime::UncountedAllocator<char*>> free_;  // guarded by mu_
};

// One worker's stack from the pool, for the worker's lifetime.
class WorkerStack {
 public:
  explicit WorkerStack(StackPool& pool) : pool_(pool), data_(pool.Acquire()) {}
  ~WorkerStack() { pool_.Release(data_); }
  WorkerStack(const WorkerStack&) = delete;
  WorkerStack& operator=(const WorkerStack&) = delete;
  char* data() const { return data_; }
  size_t size() const { return pool_.size(); }

 private:
  StackPool& pool_;
  char* data_;
};

// A worker that dies of an exception must not take the discovery thread (and
// with it every other worker) down; say so loudly instead.
void ReportWorkerFailure(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "runaway-workers: a watcher failed: %s\n", ex.what());
  } catch (...) {
    std::fprintf(stderr, "runaway-workers: a watcher failed\n");
  }
}

}  // namespace

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kPods:
      return "pods";
    case Kind::kServices:
      return "services";
    case Kind::kEndpoints:
      return "endpoints";
  }
  return "?";
}

// --- SharedConnection ---------------------------------------------------------

SharedConnection::SharedConnection(int max_streams) : max_streams_(max_streams) {}

asio::awaitable<bool> SharedConnection::AcquireStream(steady_timer& timer) {
  // A free stream goes to the caller only when nobody is queued before it:
  // first come, first served.
  if (head_ == nullptr && streams_in_use_ < max_streams_) {
    ++streams_in_use_;
    co_return true;
  }
  Waiter waiter;
  waiter.timer = &timer;
  Enqueue(&waiter);
  // Park until ReleaseStream() hands over a stream (it sets `granted` and
  // cancels the timer) or the owner cancels the timer to stop the worker. The
  // error code cannot tell the two apart; `granted` can.
  timer.expires_at(steady_timer::time_point::max());
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (waiter.granted) co_return true;  // already unlinked by ReleaseStream()
  Unlink(&waiter);
  co_return false;
}

void SharedConnection::ReleaseStream() {
  if (head_ == nullptr) {
    --streams_in_use_;
    return;
  }
  // Hand the stream straight to the longest waiter, so streams_in_use_ stays
  // at the limit and a newcomer cannot overtake the queue.
  Waiter* next = head_;
  Unlink(next);
  next->granted = true;
  next->timer->cancel();
}

void SharedConnection::Enqueue(Waiter* w) {
  w->prev = tail_;
  w->next = nullptr;
  if (tail_ != nullptr) {
    tail_->next = w;
  } else {
    head_ = w;
  }
  tail_ = w;
  ++waiting_;
}

void SharedConnection::Unlink(Waiter* w) {
  (w->prev != nullptr ? w->prev->next : head_) = w->next;
  (w->next != nullptr ? w->next->prev : tail_) = w->prev;
  w->prev = w->next = nullptr;
  --waiting_;
}

// --- Discovery ----------------------------------------------------------------

class Discovery::Impl {
 public:
  explicit Impl(const DiscoveryOptions& options)
      : options_(options),
        per_generation_(options.watchers_per_kind * kKindCount),
        work_(asio::make_work_guard(io_)),
        connection_(options.max_streams) {
    planned_workers_.store(per_generation_);
    std::future<void> started = PostStartGeneration(0);
    thread_ = std::thread([this] { io_.run(); });
    // Serve with discovery up, as a service does once its first
    // configuration is loaded.
    started.wait_for(kStartWaitLimit);
  }

  ~Impl() {
    // Cancel first, then let run() return on its own once the last worker
    // has unwound: io_context::stop() would instead abandon the frames and
    // their streams half-way.
    asio::post(io_, [this] { StopAll(); });
    work_.reset();
    thread_.join();
  }

  std::optional<int> Reload() {
    // Reserve the new generation's workers against the cap before starting
    // it, so that concurrent reloads cannot pass the cap together.
    int64_t planned = planned_workers_.load();
    do {
      if (planned + per_generation_ > options_.max_workers) return std::nullopt;
    } while (!planned_workers_.compare_exchange_weak(planned, planned + per_generation_));
    // Numbers are taken and posted under one lock, so that generations start
    // in number order (the discovery thread runs posted work in order).
    int number;
    std::future<void> started;
    {
      std::lock_guard lock(reload_mu_);
      number = next_generation_++;
      started = PostStartGeneration(number);
    }
    // Answer once the new workers run, as Prometheus's /-/reload answers once
    // the configuration is applied: whoever reads the memory next sees the
    // whole generation, not part of it.
    started.wait_for(kStartWaitLimit);
    return number;
  }

  Snapshot TakeSnapshot() {
    std::promise<Snapshot> done;
    asio::post(io_, [this, &done] {
      Snapshot s;
      s.current_generation = current_generation_.load();
      s.generations_live = static_cast<int>(generations_.size());
      s.workers_live = workers_live_;
      s.streams_in_use = connection_.streams_in_use();
      s.waiting_for_stream = connection_.waiting();
      done.set_value(s);
    });
    return done.get_future().get();
  }

  std::string TargetsJson() const {
    char buf[256];
    std::snprintf(
        buf, sizeof buf,
        "{\"generation\":%d,\"watchers_per_kind\":%d,\"synced\":{\"%s\":%d,\"%s\":%d,\"%s\":%d}}\n",
        current_generation_.load(std::memory_order_relaxed), options_.watchers_per_kind,
        KindName(Kind::kPods), synced_[0].load(std::memory_order_relaxed),
        KindName(Kind::kServices), synced_[1].load(std::memory_order_relaxed),
        KindName(Kind::kEndpoints), synced_[2].load(std::memory_order_relaxed));
    return buf;
  }

 private:
  // One reload's watchers. Owned by the workers that run in it (and by
  // generations_ until the last of them has finished).
  struct Generation {
    Generation(int number, int size, std::promise<void> all_started)
        : number(number),
          unfinished(size),
          timers(size, nullptr),
          all_started(std::move(all_started)) {}
    const int number;
    bool stopped = false;
    int started = 0;
    int unfinished;  // workers not yet finished, started or not
    // Worker index -> that worker's timer while it runs, so that a stop can
    // wake it wherever it waits. The workers' bookkeeping, off the counted
    // heap like their stacks.
    std::vector<steady_timer*, runtime::UncountedAllocator<steady_timer*>> timers;
    std::promise<void> all_started;  // set when the last worker has started
  };

  std::future<void> PostStartGeneration(int number) {
    std::promise<void> started;
    std::future<void> done = started.get_future();
    // A promise dropped unset (at shutdown) makes the future ready as well.
    asio::post(io_, [this, number, started = std::move(started)]() mutable {
      StartGeneration(number, std::move(started));
    });
    return done;
  }

  // A watcher: list its kind of object once a stream is free, then keep a
  // watch open on the stream; give the stream back when the watch ends and
  // queue again, until its generation is stopped.
  asio::awaitable<void> Watcher(std::shared_ptr<Generation> generation, int index, Kind kind) {
    runtime::WorkerScope scope(kSpawnSite);
    // The worker's own memory, like a goroutine's stack.
    WorkerStack buffer(stacks_);
    steady_timer timer(io_);
    generation->timers[index] = &timer;
    ++workers_live_;
    if (++generation->started == static_cast<int>(generation->timers.size())) {
      generation->all_started.set_value();
    }
    bool synced = false;
    int watches = 0;
    while (!generation->stopped) {
      scope.WaitingAt(kWaitAcquireStream);
      if (!co_await connection_.AcquireStream(timer)) break;  // stopped while queued
      if (generation->stopped) {
        connection_.ReleaseStream();
        break;
      }
      scope.Running();
      // The request goes out through the worker's buffer; the answer to the
      // first one is the initial list, which makes this watcher "synced".
      std::snprintf(buffer.data(), buffer.size(), "GET %s?watch=1&resourceVersion=%d HTTP/2\r\n",
                    kKindPaths[static_cast<int>(kind)], watches++);
      if (!synced && generation->number == current_generation_.load(std::memory_order_relaxed)) {
        synced = true;
        synced_[static_cast<int>(kind)].fetch_add(1, std::memory_order_relaxed);
      }
      scope.WaitingAt(kWaitWatch);
      timer.expires_after(WatchDuration(index));
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      connection_.ReleaseStream();
    }
    generation->timers[index] = nullptr;
    --workers_live_;
    FinishWorker(*generation);
  }

  void StartGeneration(int number, std::promise<void> all_started) {
    // A reload that was posted while shutting down must not start workers
    // that nothing would stop.
    if (stopping_) return;
    // THE FIX. Without it every earlier generation keeps running, and since
    // they all share one connection, most of their workers wait forever.
    bool stopped_any = false;
    if (options_.stop_previous_generation) {
      for (const auto& g : generations_) stopped_any = StopGeneration(*g) || stopped_any;
    }
    // The lines the incident's team saw repeat in the log without knowing
    // why: each reload re-creates the Kubernetes discovery, which logs how it
    // connects, once per role, and starts that role's watchers.
    for (int k = 0; k < kKindCount; ++k) {
      std::fprintf(stderr,
                   "level=info component=\"discovery manager scrape\" discovery=kubernetes "
                   "role=%s generation=%d msg=\"Using pod service account via in-cluster config; "
                   "starting %d watchers\"\n",
                   KindName(static_cast<Kind>(k)), number, options_.watchers_per_kind);
    }
    auto generation = std::allocate_shared<Generation>(
        runtime::UncountedAllocator<Generation>(), number, per_generation_, std::move(all_started));
    // Listed at once, so that a reload right behind this one stops it too.
    generations_.push_back(generation);
    current_generation_.store(number, std::memory_order_relaxed);
    for (auto& s : synced_) s.store(0, std::memory_order_relaxed);
    if (!stopped_any) {
      SpawnWorkers(generation);
      return;
    }
    // The stopped workers' wake-ups are queued now; spawning behind them lets
    // them give their streams and buffers back before the new workers ask.
    asio::post(io_, [this, generation] { SpawnWorkers(generation); });
  }

  void SpawnWorkers(const std::shared_ptr<Generation>& generation) {
    // co_spawn from the discovery thread runs each worker up to its first
    // wait before returning.
    for (int k = 0; k < kKindCount; ++k) {
      for (int i = 0; i < options_.watchers_per_kind; ++i) {
        int index = k * options_.watchers_per_kind + i;
        asio::co_spawn(io_, Watcher(generation, index, static_cast<Kind>(k)),
                       [](std::exception_ptr e) { ReportWorkerFailure(e); });
      }
    }
  }

  // Wakes every running worker of `generation`: a queued one leaves the
  // queue, a watching one gives its stream back; then each returns.
  // Returns false if it was stopped already.
  bool StopGeneration(Generation& generation) {
    if (generation.stopped) return false;
    generation.stopped = true;
    for (steady_timer* t : generation.timers) {
      if (t != nullptr) t->cancel();
    }
    return true;
  }

  void StopAll() {
    stopping_ = true;
    for (const auto& g : generations_) StopGeneration(*g);
  }

  void FinishWorker(Generation& generation) {
    planned_workers_.fetch_sub(1);
    if (--generation.unfinished > 0) return;
    for (auto it = generations_.begin(); it != generations_.end(); ++it) {
      if (it->get() == &generation) {
        generations_.erase(it);
        return;
      }
    }
  }

  std::chrono::milliseconds WatchDuration(int index) const {
    // A fixed spread over the workers (7919 is prime, so neighbours land far
    // apart) keeps runs repeatable while streams come back evenly over time.
    int64_t share_per_mille = (static_cast<int64_t>(index) * 7919) % 1000;
    return options_.watch_min + options_.watch_spread * share_per_mille / 1000;
  }

  const DiscoveryOptions options_;
  const int per_generation_;
  // Before io_: a worker frame that io_ destroys still gives its stack back.
  StackPool stacks_{options_.worker_buffer_bytes};
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;

  // Discovery thread only.
  SharedConnection connection_;
  // Generations with unfinished workers.
  std::list<std::shared_ptr<Generation>, runtime::UncountedAllocator<std::shared_ptr<Generation>>>
      generations_;
  int64_t workers_live_ = 0;
  bool stopping_ = false;

  // Any thread.
  std::mutex reload_mu_;
  int next_generation_ = 1;                  // guarded by reload_mu_
  std::atomic<int64_t> planned_workers_{0};  // live plus not yet started
  std::atomic<int> current_generation_{0};
  std::array<std::atomic<int>, kKindCount> synced_{};

  std::thread thread_;  // last: starts once everything above exists
};

Discovery::Discovery(const DiscoveryOptions& options) : impl_(std::make_unique<Impl>(options)) {}
Discovery::~Discovery() = default;
std::optional<int> Discovery::Reload() { return impl_->Reload(); }
Discovery::Snapshot Discovery::TakeSnapshot() { return impl_->TakeSnapshot(); }
std::string Discovery::TargetsJson() const { return impl_->TargetsJson(); }

}  // namespace runaway_workers

namespace {

using runaway_workers::Discovery;
using runaway_workers::DiscoveryOptions;

class RunawayWorkers : public runtime::Scenario {
 public:
  explicit RunawayWorkers(bool stop_previous_generation)
      : discovery_(DiscoveryOptions{.stop_previous_generation = stop_previous_generation}) {}

  runtime::Response Handle(const runtime::Request& request) override {
    const bool get = request.method == "GET" || request.method == "HEAD";
    if (request.path == "/targets") {
      if (!get) return {405, "text/plain", "method not allowed\n"};
      return {200, "application/json", discovery_.TargetsJson()};
    }
    if (request.path == "/reload") {
      // POST as Prometheus's /-/reload; GET too, for a browser or plain curl.
      if (!get && request.method != "POST") return {405, "text/plain", "method not allowed\n"};
      std::optional<int> generation = discovery_.Reload();
      if (!generation) {
        return {503, "text/plain",
                "reload refused: the worker limit of this lab server is reached\n"};
      }
      runtime::Counters().reloads_total.fetch_add(1, std::memory_order_relaxed);
      return {200, "text/plain",
              "reloaded: generation " + std::to_string(*generation) + " starting\n"};
    }
    return {404, "text/plain", "try /targets or /reload\n"};
  }

 private:
  Discovery discovery_;
};

}  // namespace

runtime::ScenarioInfo RunawayWorkersInfo() {
  runtime::ScenarioInfo info;
  info.name = "runaway-workers";
  info.description = "every reload starts 600 watcher workers on one 1000-stream connection";
  info.variants = {
      // About 5.8 MB of RSS per reload (the heap stays level): 600 workers
      // with an 8 KB stack mapping each, and their coroutine frames.
      {"leaky",
       "a reload starts a new generation of watchers and leaves the old ones running",
       "leak",
       {.counter = "reloads_total", .min_bytes_per_unit = 4.5e6, .max_bytes_per_unit = 7.0e6}},
      {"fixed", "a reload cancels the previous generation before starting the next", "no-leak"},
      // The incident's own way out: configuration changes made rarer, the
      // code unchanged. One reload every 4 s instead of every second: the
      // same 5.8 MB per reload, a quarter of the rate, still a leak. Its
      // run is 13 s, so that four reloads fall in it, the last in its final
      // third.
      {"fewer-reloads",
       "wrong fix: the leaky code, with configuration reloads made 4x rarer",
       "leak",
       {.duration = "13s",
        .counter = "reloads_total",
        .min_bytes_per_unit = 4.5e6,
        .max_bytes_per_unit = 7.0e6},
       "steady 13s at 50/s; event reload POST /reload at 500ms every 4s"},
  };
  // A light business load keeps the server realistic and gives the analyzer
  // a request counter to weigh against the reload counter. One reload a
  // second from t = 0.5 s: 10 generations (6000 workers, about 50 MB of
  // buffers) on top of the first in a 10 s run.
  info.load.path_template = "/targets";
  info.load.connections = 2;
  info.load.schedule = "steady 10s at 50/s; event reload POST /reload at 500ms every 1s";
  info.create = [](std::string_view variant) -> std::unique_ptr<runtime::Scenario> {
    return std::make_unique<RunawayWorkers>(variant == "fixed");
  };
  return info;
}

}  // namespace leaklab::scenarios
