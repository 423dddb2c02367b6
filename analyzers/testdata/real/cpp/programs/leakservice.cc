// leakservice: a small HTTP/1.1 service with one leak shape, or one look-alike
// of a leak, per --mode. It is recorded under glibc malloc, jemalloc and tcmalloc
// (LD_PRELOAD) for leaklab's real-runtime corpus (analyzers/testdata/real/cpp/).
//
// POSIX sockets and the standard library only, so it builds in a few seconds:
//   g++ -std=c++20 -O2 -g -fno-omit-frame-pointer -pthread leakservice.cc -o leakservice -ldl
//
// Every business request also allocates and frees about 10 KB of garbage in a few
// blocks, as a real handler does. What the modes keep (see Usage() for the flags):
//   retain           Remember() keeps --kept-bytes per request in a global list, forever
//   cache-unbounded  GET /lookup?key=K: CacheStore() keeps --value-bytes per new key, no eviction
//   request-map      TrackRequest() puts per-request state in a global map keyed by the
//                    request id; only with --fixed is the entry erased when the request ends
//   reload-threads   POST /reload starts --reload-workers threads that wait forever; with
//                    --fixed the previous generation is stopped and joined first
//   lru              LruInsert(): an LRU of --lru-bytes in --entry-bytes entries (bounded)
//   steady           nothing is kept
//   burst            once --burst-after seconds after start, --burst-mb of small blocks is
//                    allocated and freed; with --release the allocator is then asked to
//                    return free memory (malloc_trim, ReleaseFreeMemory, arena purge)
//   arena-retention  --arena-threads threads allocate and free small objects in
//                    overlapping bursts of --arena-mb each
// /metrics (Prometheus text) gives RSS, business requests, workers, keys, reloads and the
// allocator's own in-use and free bytes, found at run time with dlsym.

#include <alloca.h>
#include <arpa/inet.h>
#include <dlfcn.h>
#include <gnu/libc-version.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

// A named namespace, as a service's code has: profiles name its functions
// leakservice::Remember and so on.
namespace leakservice {

// ---------------------------------------------------------------------------
// Options

struct Options {
  int port = 0;
  std::string mode = "steady";
  bool fixed = false;
  size_t garbage_bytes = 10240;       // allocated and freed per business request
  size_t kept_bytes = 4096;           // retain: kept per request
  size_t value_bytes = 2048;          // cache-unbounded: kept per new key
  size_t state_bytes = 2048;          // request-map: per-request state
  size_t lru_bytes = 20u << 20;       // lru: capacity in payload bytes
  size_t entry_bytes = 1024;          // lru: payload per entry
  int reload_workers = 4;             // reload-threads: threads per reload
  size_t worker_stack_bytes = 65536;  // reload-threads: stack each worker touches
  int max_workers = 4096;             // reload-threads: refuse reloads beyond this
  double burst_after_s = 3;           // burst: first burst this long after start
  double burst_every_s = 0;           // burst: repeat (0 = once)
  size_t burst_mb = 200;              // burst: size of the burst
  bool release = false;               // burst: ask the allocator to release after it
  int arena_threads = 16;             // arena-retention: churning threads
  size_t arena_mb = 2;                // arena-retention: bytes per thread burst
  double arena_stagger_s = 0.25;      // arena-retention: thread i starts after i times this
};

// Every limit has a reason: a request must fit in memory we allocate up front,
// and a stuck client must not hold a thread forever.
constexpr size_t kMaxHeaderBytes = 16 * 1024;
constexpr size_t kMaxBodyBytes = 16 * 1024;
constexpr int kIdleTimeoutMs = 60 * 1000;     // keep-alive connection with no request
constexpr int kRequestTimeoutMs = 10 * 1000;  // a request started but not complete
constexpr int kMaxConnections = 256;          // one thread each

Options g_opt;

// ---------------------------------------------------------------------------
// The allocator, found at run time: jemalloc and tcmalloc export their own
// control functions; without them it is glibc malloc. Checked in that order
// because glibc's mallinfo2 and malloc_trim stay visible under an LD_PRELOAD
// allocator and would then describe arenas nobody uses.

struct Allocator {
  std::string name = "glibc";
  std::string version;
  using Mallctl = int (*)(const char*, void*, size_t*, void*, size_t);
  using TcGet = int (*)(const char*, size_t*);
  using TcRelease = void (*)();
  using Mallinfo2 = struct mallinfo2 (*)();
  using MallocTrim = int (*)(size_t);
  Mallctl mallctl = nullptr;
  TcGet tc_get = nullptr;
  TcRelease tc_release = nullptr;
  Mallinfo2 mallinfo2 = nullptr;
  MallocTrim malloc_trim = nullptr;
};

Allocator g_alloc;

void ProbeAllocator() {
  if (void* f = dlsym(RTLD_DEFAULT, "mallctl")) {
    g_alloc.name = "jemalloc";
    g_alloc.mallctl = reinterpret_cast<Allocator::Mallctl>(f);
    const char* v = nullptr;
    size_t len = sizeof(v);
    if (g_alloc.mallctl("version", &v, &len, nullptr, 0) == 0 && v) g_alloc.version = v;
  } else if (void* g = dlsym(RTLD_DEFAULT, "MallocExtension_GetNumericProperty")) {
    g_alloc.name = "tcmalloc";
    g_alloc.tc_get = reinterpret_cast<Allocator::TcGet>(g);
    g_alloc.tc_release = reinterpret_cast<Allocator::TcRelease>(
        dlsym(RTLD_DEFAULT, "MallocExtension_ReleaseFreeMemory"));
    using TcVersion = const char* (*)(int*, int*, const char**);
    if (auto tv = reinterpret_cast<TcVersion>(dlsym(RTLD_DEFAULT, "tc_version"))) {
      int major = 0, minor = 0;
      const char* patch = nullptr;
      g_alloc.version = tv(&major, &minor, &patch);
    }
  } else {
    g_alloc.mallinfo2 = reinterpret_cast<Allocator::Mallinfo2>(dlsym(RTLD_DEFAULT, "mallinfo2"));
    g_alloc.malloc_trim =
        reinterpret_cast<Allocator::MallocTrim>(dlsym(RTLD_DEFAULT, "malloc_trim"));
    g_alloc.version = gnu_get_libc_version();
  }
}

// The allocator's own figures, as name/value pairs; "inuse" and "free" are the
// two that every allocator gives (bytes handed out, bytes freed but kept).
struct HeapFigures {
  bool ok = false;
  double inuse = 0, free = 0;
  std::vector<std::pair<std::string, double>> raw;
};

HeapFigures ReadHeap() {
  HeapFigures h;
  if (g_alloc.mallctl) {
    // jemalloc caches its statistics; writing "epoch" refreshes them.
    uint64_t epoch = 1;
    size_t len = sizeof(epoch);
    g_alloc.mallctl("epoch", &epoch, &len, &epoch, len);
    size_t allocated = 0, active = 0, resident = 0, mapped = 0, retained = 0, metadata = 0;
    size_t pdirty = 0, pmuzzy = 0, page = 4096;
    auto get = [](const char* name, size_t* out) {
      size_t l = sizeof(*out);
      return g_alloc.mallctl(name, out, &l, nullptr, 0) == 0;
    };
    h.ok = get("stats.allocated", &allocated) && get("stats.active", &active) &&
           get("stats.resident", &resident);
    get("stats.mapped", &mapped);
    get("stats.retained", &retained);
    get("stats.metadata", &metadata);
    get("arenas.page", &page);
    // 4096 is MALLCTL_ARENAS_ALL: the sum over arenas.
    get("stats.arenas.4096.pdirty", &pdirty);
    get("stats.arenas.4096.pmuzzy", &pmuzzy);
    h.inuse = allocated;
    // Freed but kept: slack in active pages, plus dirty pages waiting for decay and
    // muzzy ones (MADV_FREE'd, counted by the kernel as LazyFree until reclaimed).
    h.free = double(active - std::min(active, allocated)) + double((pdirty + pmuzzy) * page);
    h.raw = {{"stats.allocated", double(allocated)},  {"stats.active", double(active)},
             {"stats.resident", double(resident)},    {"stats.mapped", double(mapped)},
             {"stats.retained", double(retained)},    {"stats.metadata", double(metadata)},
             {"pdirty_bytes", double(pdirty * page)}, {"pmuzzy_bytes", double(pmuzzy * page)}};
  } else if (g_alloc.tc_get) {
    const char* names[] = {
        "generic.current_allocated_bytes",   "generic.heap_size",
        "tcmalloc.pageheap_free_bytes",      "tcmalloc.pageheap_unmapped_bytes",
        "tcmalloc.central_cache_free_bytes", "tcmalloc.transfer_cache_free_bytes",
        "tcmalloc.thread_cache_free_bytes"};
    size_t v[7] = {};
    h.ok = true;
    for (int i = 0; i < 7; ++i) {
      if (!g_alloc.tc_get(names[i], &v[i])) h.ok = false;
      h.raw.emplace_back(names[i], double(v[i]));
    }
    h.inuse = v[0];
    // The page heap's free (still mapped) pages: what the allocator keeps resident.
    h.free = v[2];
  } else if (g_alloc.mallinfo2) {
    struct mallinfo2 mi = g_alloc.mallinfo2();
    h.ok = true;
    h.inuse = double(mi.uordblks + mi.hblkhd);
    h.free = double(mi.fordblks);
    h.raw = {{"arena", double(mi.arena)},       {"hblkhd", double(mi.hblkhd)},
             {"uordblks", double(mi.uordblks)}, {"fordblks", double(mi.fordblks)},
             {"fsmblks", double(mi.fsmblks)},   {"keepcost", double(mi.keepcost)}};
  }
  return h;
}

// Asks the allocator to give free memory back to the kernel; names what it did.
std::string ReleaseFreeMemory() {
  if (g_alloc.mallctl) {
    // MALLCTL_ARENAS_ALL is 4096 in jemalloc 5.
    if (g_alloc.mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0) == 0)
      return "mallctl arena.4096.purge";
    return "mallctl arena.4096.purge failed";
  }
  if (g_alloc.tc_get) {
    if (g_alloc.tc_release) {
      g_alloc.tc_release();
      return "MallocExtension_ReleaseFreeMemory";
    }
    return "no MallocExtension_ReleaseFreeMemory";
  }
  if (g_alloc.malloc_trim) {
    g_alloc.malloc_trim(0);
    return "malloc_trim(0)";
  }
  return "nothing to call";
}

// ---------------------------------------------------------------------------
// Process figures from /proc/self.

long PageSize() {
  static const long page = sysconf(_SC_PAGESIZE);
  return page;
}

// statm: size resident shared text lib data dt, in pages.
void ReadStatm(double* rss, double* vsz) {
  *rss = *vsz = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return;
  unsigned long size = 0, resident = 0;
  if (std::fscanf(f, "%lu %lu", &size, &resident) == 2) {
    *rss = double(resident) * PageSize();
    *vsz = double(size) * PageSize();
  }
  std::fclose(f);
}

int CountThreads() {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  int n = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, "Threads:", 8) == 0) n = std::atoi(line + 8);
  std::fclose(f);
  return n;
}

// ---------------------------------------------------------------------------
// Counters exposed on /metrics.

std::atomic<uint64_t> g_requests{0};  // business requests only
std::atomic<uint64_t> g_keys{0};      // distinct keys inserted (cache modes)
std::atomic<uint64_t> g_reloads{0};
std::atomic<int64_t> g_reload_workers{0};  // threads started by reloads, alive
std::atomic<uint64_t> g_bursts{0};
std::atomic<int> g_connections{0};

// Stops the compiler from dropping writes to memory it can prove is never read.
std::atomic<uint64_t> g_sink{0};

void Touch(char* p, size_t n, uint64_t seed) {
  std::memset(p, int(seed & 0x7f) | 1, n);
  g_sink.fetch_add(uint64_t(p[n / 2]), std::memory_order_relaxed);
}

// The garbage every handler makes: a few blocks of different sizes, used, freed.
__attribute__((noinline)) void MakeGarbage(uint64_t n) {
  static constexpr double kShares[] = {0.1, 0.2, 0.3, 0.4};
  for (double share : kShares) {
    size_t len = std::max<size_t>(16, size_t(double(g_opt.garbage_bytes) * share));
    std::unique_ptr<char[]> block(new char[len]);
    Touch(block.get(), len, n);
  }
}

// ---------------------------------------------------------------------------
// retain: per-request data kept forever, as in the global request tracker incident.

struct Kept {
  Kept* next;
  // the payload follows
};
std::mutex g_kept_mu;
Kept* g_kept = nullptr;

__attribute__((noinline)) void Remember(uint64_t n) {
  auto* k = static_cast<Kept*>(::operator new(sizeof(Kept) + g_opt.kept_bytes));
  Touch(reinterpret_cast<char*>(k + 1), g_opt.kept_bytes, n);
  std::lock_guard<std::mutex> lock(g_kept_mu);
  k->next = g_kept;
  g_kept = k;
}

// ---------------------------------------------------------------------------
// cache-unbounded: every new key's result kept, nothing ever evicted.

std::mutex g_cache_mu;
std::unordered_map<std::string, std::unique_ptr<char[]>> g_cache;

__attribute__((noinline)) void CacheStore(const std::string& key) {
  std::lock_guard<std::mutex> lock(g_cache_mu);
  auto& slot = g_cache[key];
  if (slot) return;
  slot.reset(new char[g_opt.value_bytes]);
  Touch(slot.get(), g_opt.value_bytes, key.size());
  g_keys.fetch_add(1, std::memory_order_relaxed);
}

// ---------------------------------------------------------------------------
// request-map: per-request state in a global map keyed by the request; the fix
// erases it when the request ends.

std::mutex g_track_mu;
std::unordered_map<uint64_t, std::unique_ptr<char[]>> g_tracked;

__attribute__((noinline)) void TrackRequest(uint64_t id) {
  std::unique_ptr<char[]> state(new char[g_opt.state_bytes]);
  Touch(state.get(), g_opt.state_bytes, id);
  std::lock_guard<std::mutex> lock(g_track_mu);
  g_tracked.emplace(id, std::move(state));
}

__attribute__((noinline)) void ForgetRequest(uint64_t id) {
  std::lock_guard<std::mutex> lock(g_track_mu);
  g_tracked.erase(id);
}

// ---------------------------------------------------------------------------
// lru: bounded by entries; unique keys fill it, then each insert evicts one.

struct Lru {
  std::mutex mu;
  std::list<std::pair<std::string, std::unique_ptr<char[]>>> order;  // most recent first
  std::unordered_map<std::string, decltype(order)::iterator> index;
  size_t capacity = 0;
};
Lru g_lru;

__attribute__((noinline)) void LruInsert(const std::string& key) {
  std::lock_guard<std::mutex> lock(g_lru.mu);
  if (auto it = g_lru.index.find(key); it != g_lru.index.end()) {
    g_lru.order.splice(g_lru.order.begin(), g_lru.order, it->second);
    return;
  }
  std::unique_ptr<char[]> value(new char[g_opt.entry_bytes]);
  Touch(value.get(), g_opt.entry_bytes, key.size());
  g_lru.order.emplace_front(key, std::move(value));
  g_lru.index[key] = g_lru.order.begin();
  g_keys.fetch_add(1, std::memory_order_relaxed);
  while (g_lru.order.size() > g_lru.capacity) {
    g_lru.index.erase(g_lru.order.back().first);
    g_lru.order.pop_back();
  }
}

// ---------------------------------------------------------------------------
// reload-threads: each reload starts a generation of workers that wait for work
// that never comes. The leaky version never stops them; the fix stops and joins
// the previous generation first.

struct Reloader {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t generation = 0;  // workers of an older generation exit (fixed only)
  std::vector<std::thread> current;
};
Reloader g_reloader;

__attribute__((noinline)) void ReloadWorker(uint64_t generation) {
  g_reload_workers.fetch_add(1);
  // A worker's own state lives on its stack (parser buffers, a batch): touched
  // once, so the kernel gives it pages that count in RSS.
  char* state = static_cast<char*>(alloca(g_opt.worker_stack_bytes));
  Touch(state, g_opt.worker_stack_bytes, generation);
  std::unique_lock<std::mutex> lock(g_reloader.mu);
  g_reloader.cv.wait(lock, [&] { return g_opt.fixed && g_reloader.generation != generation; });
  g_reload_workers.fetch_sub(1);
}

// Returns false when the worker limit would be passed.
bool Reload() {
  std::vector<std::thread> old;
  uint64_t gen;
  {
    std::lock_guard<std::mutex> lock(g_reloader.mu);
    if (!g_opt.fixed && g_reload_workers.load() + g_opt.reload_workers > g_opt.max_workers)
      return false;
    gen = ++g_reloader.generation;
    if (g_opt.fixed) old.swap(g_reloader.current);
  }
  g_reloader.cv.notify_all();
  for (auto& t : old) t.join();
  std::vector<std::thread> fresh;
  for (int i = 0; i < g_opt.reload_workers; ++i) fresh.emplace_back(ReloadWorker, gen);
  {
    std::lock_guard<std::mutex> lock(g_reloader.mu);
    if (g_opt.fixed) {
      g_reloader.current = std::move(fresh);
    } else {
      for (auto& t : fresh) t.detach();
    }
  }
  g_reloads.fetch_add(1);
  return true;
}

// ---------------------------------------------------------------------------
// burst: many small blocks at once, all freed; what RSS does next is the allocator's.

uint64_t Mix(uint64_t x) {  // SplitMix64's finaliser, for deterministic sizes
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

void LogFigures(const char* when) {
  double rss, vsz;
  ReadStatm(&rss, &vsz);
  HeapFigures h = ReadHeap();
  std::fprintf(stderr, "%s: rss %.1f MB, %s in use %.1f MB, free %.1f MB\n", when, rss / 1e6,
               g_alloc.name.c_str(), h.inuse / 1e6, h.free / 1e6);
}

__attribute__((noinline)) void Burst(uint64_t round) {
  const size_t total = g_opt.burst_mb << 20;
  std::vector<void*> blocks;
  blocks.reserve(total / 64);
  size_t sum = 0;
  for (uint64_t i = 0; sum < total; ++i) {
    size_t len = 16 + Mix(round * 1000003 + i) % 497;  // 16..512 bytes
    char* p = static_cast<char*>(std::malloc(len));
    Touch(p, len, i);
    blocks.push_back(p);
    sum += len;
  }
  LogFigures("burst allocated");
  for (void* p : blocks) std::free(p);
  std::vector<void*>().swap(blocks);
  g_bursts.fetch_add(1);
  LogFigures("burst freed");
  if (g_opt.release) {
    std::string what = ReleaseFreeMemory();
    LogFigures(("after " + what).c_str());
  }
}

void BurstLoop() {
  std::this_thread::sleep_for(std::chrono::duration<double>(g_opt.burst_after_s));
  for (uint64_t round = 0;; ++round) {
    Burst(round);
    // The thread lives on, as a service's housekeeping thread does: its arena and
    // caches stay its own (a thread that exits hands them back, which changes
    // what glibc does with the freed memory).
    if (g_opt.burst_every_s > 0) {
      std::this_thread::sleep_for(std::chrono::duration<double>(g_opt.burst_every_s));
    } else {
      for (;;) std::this_thread::sleep_for(std::chrono::hours(24));
    }
  }
}

// ---------------------------------------------------------------------------
// arena-retention: threads that allocate and free small objects in overlapping
// bursts; under glibc each thread gets an arena of its own (up to 8 per core)
// and each arena keeps its peak.

__attribute__((noinline)) void ArenaChurn(int id) {
  // Threads join one by one, as a pool grows with the load: RSS climbs for
  // arena_threads * arena_stagger_s seconds, then stays level.
  std::this_thread::sleep_for(std::chrono::duration<double>(id * g_opt.arena_stagger_s));
  const size_t total = g_opt.arena_mb << 20;
  std::vector<void*> blocks;
  blocks.reserve(total / 16);
  for (uint64_t round = 0;; ++round) {
    uint64_t r = Mix(uint64_t(id) << 32 | round);
    size_t sum = 0;
    for (uint64_t i = 0; sum < total; ++i) {
      size_t len = 16 + Mix(r + i) % 1009;  // 16..1024 bytes
      char* p = static_cast<char*>(std::malloc(len));
      Touch(p, len, i);
      blocks.push_back(p);
      sum += len;
    }
    // Hold for 50..350 ms, so the threads' bursts overlap.
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + r % 300));
    // Free every other block first, then the rest: the arena sees holes before
    // it sees whole free runs, as with objects of different lifetimes.
    for (size_t i = 0; i < blocks.size(); i += 2) std::free(blocks[i]);
    for (size_t i = 1; i < blocks.size(); i += 2) std::free(blocks[i]);
    blocks.clear();
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + (r >> 20) % 300));
  }
}

// ---------------------------------------------------------------------------
// HTTP: request parsing, the handler, the connection loop, the listener.

struct Request {
  std::string method, target, path, query;
  bool keep_alive = true;
  std::string body;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Payload Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
  }
  return "Error";
}

std::string QueryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) return std::string(eq == pair.npos ? "" : pair.substr(eq + 1));
    if (amp == query.npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

void AppendMetric(std::string& out, const char* name, const char* type, const char* help,
                  double value) {
  char buf[512];
  std::snprintf(buf, sizeof buf, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type,
                name, value);
  out += buf;
}

std::string Metrics() {
  std::string out;
  double rss, vsz;
  ReadStatm(&rss, &vsz);
  AppendMetric(out, "process_resident_memory_bytes", "gauge",
               "Resident memory size in bytes (/proc/self/statm).", rss);
  AppendMetric(out, "process_virtual_memory_bytes", "gauge",
               "Virtual memory size in bytes (/proc/self/statm).", vsz);
  AppendMetric(out, "http_requests_total", "counter",
               "Business requests served (not /metrics, /healthz, /reload).",
               double(g_requests.load()));
  const bool reloads = g_opt.mode == "reload-threads";
  AppendMetric(out, "leaklab_workers", "gauge",
               reloads ? "Threads started by reloads that are still alive."
                       : "Threads of the process (/proc/self/status).",
               reloads ? double(g_reload_workers.load()) : double(CountThreads()));
  AppendMetric(out, "leaklab_threads", "gauge", "Threads of the process (/proc/self/status).",
               double(CountThreads()));
  if (g_opt.mode == "cache-unbounded" || g_opt.mode == "lru")
    AppendMetric(out, "leaklab_keys_total", "counter", "Distinct keys inserted into the cache.",
                 double(g_keys.load()));
  if (reloads)
    AppendMetric(out, "leaklab_reloads_total", "counter", "Reloads done.",
                 double(g_reloads.load()));
  if (g_opt.mode == "burst")
    AppendMetric(out, "leaklab_bursts_total", "counter", "Bursts allocated and freed.",
                 double(g_bursts.load()));
  AppendMetric(out, "leaklab_connections", "gauge", "Open HTTP connections.",
               double(g_connections.load()));
  HeapFigures h = ReadHeap();
  if (h.ok) {
    AppendMetric(out, "leaklab_heap_inuse_bytes", "gauge",
                 "Bytes the allocator has handed out and not got back (its own figure).", h.inuse);
    AppendMetric(out, "leaklab_heap_free_bytes", "gauge",
                 "Bytes freed but kept by the allocator (its own figure).", h.free);
  }
  out +=
      "# HELP leaklab_allocator_stat The allocator's own statistics, by its own names.\n"
      "# TYPE leaklab_allocator_stat gauge\n";
  for (auto& [name, value] : h.raw) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "leaklab_allocator_stat{allocator=\"%s\",name=\"%s\"} %.17g\n",
                  g_alloc.name.c_str(), name.c_str(), value);
    out += buf;
  }
  out +=
      "# HELP leaklab_info The allocator in use and the service's mode.\n"
      "# TYPE leaklab_info gauge\n";
  out += "leaklab_info{allocator=\"" + g_alloc.name + "\",version=\"" + g_alloc.version +
         "\",mode=\"" + g_opt.mode + "\",fixed=\"" + (g_opt.fixed ? "true" : "false") + "\"} 1\n";
  return out;
}

// The request handler: pure apart from the mode's global state.
Response Handle(const Request& req, uint64_t n) {
  Response res;
  if (req.path == "/healthz") {
    res.body = "ok\n";
    return res;
  }
  if (req.path == "/metrics") {
    res.content_type = "text/plain; version=0.0.4; charset=utf-8";
    res.body = Metrics();
    return res;
  }
  if (req.path == "/reload") {
    if (req.method != "POST") return {405, res.content_type, "POST only\n"};
    if (g_opt.mode != "reload-threads") return {404, res.content_type, "no reloads here\n"};
    if (!Reload()) return {503, res.content_type, "worker limit reached\n"};
    res.body = "reloaded\n";
    return res;
  }
  if (req.path == "/release") {
    LogFigures("before release");
    res.body = ReleaseFreeMemory() + "\n";
    LogFigures("after release");
    return res;
  }
  // A business request.
  g_requests.fetch_add(1, std::memory_order_relaxed);
  MakeGarbage(n);
  const std::string& mode = g_opt.mode;
  if (mode == "retain") {
    Remember(n);
  } else if (mode == "cache-unbounded" || mode == "lru") {
    std::string key = QueryParam(req.query, "key");
    if (key.empty()) key = std::to_string(n);
    if (mode == "lru") {
      LruInsert(key);
    } else {
      CacheStore(key);
    }
  } else if (mode == "request-map") {
    TrackRequest(n);
    // The fix: a scope guard clears the entry when the request ends.
    if (g_opt.fixed) ForgetRequest(n);
  }
  res.body = "done " + std::to_string(n) + " " + std::to_string(g_sink.load() & 0xff) + "\n";
  return res;
}

std::atomic<uint64_t> g_request_ids{0};

// Waits for the socket to be readable; false on timeout or error.
bool WaitReadable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  for (;;) {
    int r = poll(&p, 1, timeout_ms);
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

bool SendAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t w = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    off += size_t(w);
  }
  return true;
}

bool SendResponse(int fd, const Response& res, bool keep_alive) {
  std::string head = "HTTP/1.1 " + std::to_string(res.status) + " " + Reason(res.status) +
                     "\r\nContent-Type: " + res.content_type +
                     "\r\nContent-Length: " + std::to_string(res.body.size()) +
                     (keep_alive ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n");
  return SendAll(fd, head + res.body);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Parses the head (request line and headers, without the blank line). Returns an
// HTTP status: 0 when it is fine.
int ParseHead(std::string_view head, Request* req, size_t* content_length) {
  size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  size_t s1 = line.find(' '), s2 = line.rfind(' ');
  if (s1 == line.npos || s2 == s1) return 400;
  req->method = std::string(line.substr(0, s1));
  req->target = std::string(line.substr(s1 + 1, s2 - s1 - 1));
  std::string_view version = line.substr(s2 + 1);
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return 400;
  req->keep_alive = version == "HTTP/1.1";
  size_t q = req->target.find('?');
  req->path = req->target.substr(0, q);
  req->query = q == std::string::npos ? "" : req->target.substr(q + 1);
  *content_length = 0;
  std::string_view rest = eol == head.npos ? std::string_view() : head.substr(eol + 2);
  while (!rest.empty()) {
    size_t e = rest.find("\r\n");
    std::string_view h = rest.substr(0, e);
    rest = e == rest.npos ? std::string_view() : rest.substr(e + 2);
    size_t colon = h.find(':');
    if (colon == h.npos) return 400;
    std::string name = Lower(Trim(h.substr(0, colon)));
    std::string value = Lower(Trim(h.substr(colon + 1)));
    if (name == "content-length") {
      char* end = nullptr;
      unsigned long long v = std::strtoull(value.c_str(), &end, 10);
      if (value.empty() || *end) return 400;
      if (v > kMaxBodyBytes) return 413;
      *content_length = size_t(v);
    } else if (name == "transfer-encoding") {
      return 400;  // chunked bodies are not needed by the load; refuse rather than misread
    } else if (name == "connection") {
      if (value == "close") req->keep_alive = false;
      if (value == "keep-alive") req->keep_alive = true;
    }
  }
  return 0;
}

void ServeConnection(int fd) {
  std::string buf;
  buf.reserve(4096);
  char chunk[4096];
  for (;;) {
    // 1. Read until the end of the head, within the limits.
    size_t head_end;
    bool started = !buf.empty();
    while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (buf.size() > kMaxHeaderBytes) {
        SendResponse(fd, {431, "text/plain", "header too large\n"}, false);
        return;
      }
      if (!WaitReadable(fd, started ? kRequestTimeoutMs : kIdleTimeoutMs)) {
        if (started) SendResponse(fd, {408, "text/plain", "timeout\n"}, false);
        return;
      }
      ssize_t r = recv(fd, chunk, sizeof chunk, 0);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return;
      buf.append(chunk, size_t(r));
      started = true;
    }
    if (head_end > kMaxHeaderBytes) {
      SendResponse(fd, {431, "text/plain", "header too large\n"}, false);
      return;
    }
    // 2. Parse it.
    Request req;
    size_t content_length = 0;
    if (int status = ParseHead(std::string_view(buf).substr(0, head_end), &req, &content_length)) {
      SendResponse(fd, {status, "text/plain", std::string(Reason(status)) + "\n"}, false);
      return;
    }
    // 3. Read the body.
    size_t need = head_end + 4 + content_length;
    while (buf.size() < need) {
      if (!WaitReadable(fd, kRequestTimeoutMs)) {
        SendResponse(fd, {408, "text/plain", "timeout\n"}, false);
        return;
      }
      ssize_t r = recv(fd, chunk, sizeof chunk, 0);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return;
      buf.append(chunk, size_t(r));
    }
    req.body = buf.substr(head_end + 4, content_length);
    buf.erase(0, need);  // keep what a pipelining client sent next
    // 4. Answer.
    Response res = Handle(req, g_request_ids.fetch_add(1, std::memory_order_relaxed));
    if (!SendResponse(fd, res, req.keep_alive) || !req.keep_alive) return;
  }
}

void ConnectionThread(int fd) {
  ServeConnection(fd);
  close(fd);
  g_connections.fetch_sub(1);
}

// ---------------------------------------------------------------------------
// Flags.

void Usage() {
  std::fprintf(
      stderr,
      "usage: leakservice [--port N] --mode MODE [options]\n"
      "  modes: retain cache-unbounded request-map reload-threads lru steady burst\n"
      "         arena-retention\n"
      "  --port N              0 = pick one (printed as 'listening on 127.0.0.1:PORT')\n"
      "  --fixed               request-map, reload-threads: the fixed version\n"
      "  --garbage-bytes N     allocated and freed per request (10240)\n"
      "  --kept-bytes N        retain: kept per request (4096)\n"
      "  --value-bytes N       cache-unbounded: kept per new key (2048)\n"
      "  --state-bytes N       request-map: per-request state (2048)\n"
      "  --lru-bytes N         lru: capacity in payload bytes (20971520)\n"
      "  --entry-bytes N       lru: payload per entry (1024)\n"
      "  --reload-workers N    reload-threads: threads per reload (4)\n"
      "  --worker-stack-bytes N  reload-threads: stack each worker touches (65536)\n"
      "  --max-workers N       reload-threads: refuse reloads beyond this (4096)\n"
      "  --burst-after S       burst: seconds before the first burst (3)\n"
      "  --burst-every S       burst: repeat every S seconds (0 = once)\n"
      "  --burst-mb N          burst: megabytes of small blocks (200)\n"
      "  --release             burst: release free memory after each burst\n"
      "  --arena-threads N     arena-retention: threads (16)\n"
      "  --arena-mb N          arena-retention: megabytes per thread burst (2)\n"
      "  --arena-stagger S     arena-retention: thread i starts after i*S seconds (0.25)\n");
}

bool ParseFlags(int argc, char** argv) {
  auto num = [](const char* s, double* out) {
    char* end = nullptr;
    *out = std::strtod(s, &end);
    return end != s && *end == '\0' && *out >= 0;
  };
  for (int i = 1; i < argc; ++i) {
    std::string f = argv[i];
    if (f == "-h" || f == "--help") return false;
    if (f == "--fixed") {
      g_opt.fixed = true;
      continue;
    }
    if (f == "--release") {
      g_opt.release = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s: needs a value\n", f.c_str());
      return false;
    }
    const char* v = argv[++i];
    if (f == "--mode") {
      g_opt.mode = v;
      continue;
    }
    double d;
    if (!num(v, &d)) {
      std::fprintf(stderr, "%s: '%s' is not a non-negative number\n", f.c_str(), v);
      return false;
    }
    if (f == "--port")
      g_opt.port = int(d);
    else if (f == "--garbage-bytes")
      g_opt.garbage_bytes = size_t(d);
    else if (f == "--kept-bytes")
      g_opt.kept_bytes = size_t(d);
    else if (f == "--value-bytes")
      g_opt.value_bytes = std::max<size_t>(1, size_t(d));
    else if (f == "--state-bytes")
      g_opt.state_bytes = std::max<size_t>(1, size_t(d));
    else if (f == "--lru-bytes")
      g_opt.lru_bytes = size_t(d);
    else if (f == "--entry-bytes")
      g_opt.entry_bytes = std::max<size_t>(1, size_t(d));
    else if (f == "--reload-workers")
      g_opt.reload_workers = int(d);
    else if (f == "--worker-stack-bytes")
      g_opt.worker_stack_bytes = size_t(d);
    else if (f == "--max-workers")
      g_opt.max_workers = int(d);
    else if (f == "--burst-after")
      g_opt.burst_after_s = d;
    else if (f == "--burst-every")
      g_opt.burst_every_s = d;
    else if (f == "--burst-mb")
      g_opt.burst_mb = size_t(d);
    else if (f == "--arena-threads")
      g_opt.arena_threads = int(d);
    else if (f == "--arena-mb")
      g_opt.arena_mb = size_t(d);
    else if (f == "--arena-stagger")
      g_opt.arena_stagger_s = d;
    else {
      std::fprintf(stderr, "%s: unknown flag\n", f.c_str());
      return false;
    }
  }
  static const char* kModes[] = {"retain", "cache-unbounded", "request-map", "reload-threads",
                                 "lru",    "steady",          "burst",       "arena-retention"};
  if (std::none_of(std::begin(kModes), std::end(kModes),
                   [](const char* m) { return g_opt.mode == m; })) {
    std::fprintf(stderr, "--mode: unknown mode '%s'\n", g_opt.mode.c_str());
    return false;
  }
  // Stacks are 8 MB by default; a worker may touch at most half of its own.
  if (g_opt.worker_stack_bytes > (4u << 20)) {
    std::fprintf(stderr, "--worker-stack-bytes: at most 4194304\n");
    return false;
  }
  if (g_opt.port > 65535) {
    std::fprintf(stderr, "--port: at most 65535\n");
    return false;
  }
  return true;
}

}  // namespace leakservice

int main(int argc, char** argv) {
  using namespace leakservice;
  if (!ParseFlags(argc, argv)) {
    Usage();
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  ProbeAllocator();
  g_lru.capacity = std::max<size_t>(1, g_opt.lru_bytes / g_opt.entry_bytes);

  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(uint16_t(g_opt.port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(lfd, 128) != 0) {
    std::perror("bind/listen 127.0.0.1");
    return 1;
  }
  socklen_t alen = sizeof addr;
  getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &alen);
  std::printf("listening on 127.0.0.1:%d\n", ntohs(addr.sin_port));
  std::fflush(stdout);
  std::fprintf(stderr, "leakservice: mode %s%s, allocator %s %s, pid %d\n", g_opt.mode.c_str(),
               g_opt.fixed ? " (fixed)" : "", g_alloc.name.c_str(), g_alloc.version.c_str(),
               int(getpid()));

  if (g_opt.mode == "burst") std::thread(BurstLoop).detach();
  if (g_opt.mode == "arena-retention")
    for (int i = 0; i < g_opt.arena_threads; ++i) std::thread(ArenaChurn, i).detach();

  for (;;) {
    int fd = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      std::perror("accept");
      return 1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (g_connections.load() >= kMaxConnections) {
      close(fd);  // a thread per connection: cap them rather than run out
      continue;
    }
    g_connections.fetch_add(1);
    std::thread(ConnectionThread, fd).detach();
  }
}
