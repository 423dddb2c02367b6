#include "scenarios/runtime/profiles.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "analyzers/pprof/profile.h"
#include "scenarios/runtime/scratch_arena.h"
#include "scenarios/runtime/symbolize.h"

namespace leaklab::runtime {
namespace {

// The allocator's frames sit at the top of every captured stack: the
// profiler's (frame 0 may be an unnamed static function), the hook's, then
// operator new. They are never deeper than this.
constexpr int kMaxAllocatorFrames = 8;

bool IsAllocatorFrame(std::string_view name) {
  return name.starts_with("operator new") ||
         name.starts_with("leaklab::runtime::heap_profiler::") ||
         name.starts_with("leaklab::runtime::alloc_hook::");
}

// Builds functions, locations and mappings once per name, address and segment.
class LocationTable {
 public:
  explicit LocationTable(pprof::Profile& profile, ProcessSymbolizer* symbolizer = nullptr)
      : profile_(profile), symbolizer_(symbolizer) {
    // The executable's mapping first, as Go writes it: pprof takes the first
    // mapping for the main binary (its "File:" line, and the binary it
    // symbolizes with and finds sources for).
    if (symbolizer_ == nullptr) return;
    const std::vector<LoadedSegment>& segments = symbolizer_->segments();
    for (size_t i = 0; i < segments.size(); ++i) {
      if (segments[i].main_program) {
        MappingFor(static_cast<int>(i));
        break;
      }
    }
  }

  // A location per address (0: per name, for frames with no address), in the
  // mapping of `segment` when that is >= 0.
  pprof::LocationIndex ForFunction(const std::string& name, const std::string& system_name,
                                   uint64_t address, int segment = -1) {
    if (address != 0) {
      auto it = by_address_.find(address);
      if (it != by_address_.end()) return it->second;
    } else {
      auto it = by_name_.find(name);
      if (it != by_name_.end()) return it->second;
    }
    pprof::FunctionIndex function_index;
    auto f = functions_.find(name);
    if (f != functions_.end()) {
      function_index = f->second;
    } else {
      function_index = profile_.AddFunction(
          {.name = name, .system_name = system_name, .filename = {}, .start_line = 0});
      functions_.emplace(name, function_index);
    }
    pprof::Location location;
    location.address = address;
    if (segment >= 0 && symbolizer_ != nullptr) location.mapping_index = MappingFor(segment);
    location.lines.push_back({.function_index = function_index, .line = 0, .column = 0});
    const pprof::LocationIndex index = profile_.AddLocation(std::move(location));
    if (address != 0) {
      by_address_.emplace(address, index);
    } else {
      by_name_.emplace(name, index);
    }
    return index;
  }

 private:
  // Mapping of an executable segment, as Go's runtime writes them from
  // /proc/self/maps. has_functions: the locations carry names already, so
  // pprof does not look for the binary to symbolize them.
  pprof::MappingIndex MappingFor(int segment) {
    auto it = mappings_.find(segment);
    if (it != mappings_.end()) return it->second;
    const LoadedSegment& s = symbolizer_->segments()[static_cast<size_t>(segment)];
    const pprof::MappingIndex index =
        profile_.AddMapping({.memory_start = s.start,
                             .memory_limit = s.limit,
                             .file_offset = s.file_offset,
                             .filename = s.path,
                             .build_id = symbolizer_->BuildId(segment),
                             .has_functions = true,
                             .has_filenames = false,
                             .has_line_numbers = false,
                             .has_inline_frames = false});
    mappings_.emplace(segment, index);
    return index;
  }

  pprof::Profile& profile_;
  ProcessSymbolizer* symbolizer_;
  std::unordered_map<uint64_t, pprof::LocationIndex> by_address_;
  std::unordered_map<std::string, pprof::LocationIndex> by_name_;
  std::unordered_map<std::string, pprof::FunctionIndex> functions_;
  std::unordered_map<int, pprof::MappingIndex> mappings_;
};

}  // namespace

ObjectsAndBytes ScaleHeapSample(int64_t count, int64_t bytes, int64_t rate_bytes) {
  if (count == 0 || bytes == 0) return {0, 0};
  if (rate_bytes <= 1) return {count, bytes};
  const double average = static_cast<double>(bytes) / static_cast<double>(count);
  const double scale = 1 / (1 - std::exp(-average / static_cast<double>(rate_bytes)));
  return {static_cast<int64_t>(static_cast<double>(count) * scale),
          static_cast<int64_t>(static_cast<double>(bytes) * scale)};
}

int64_t NowUnixNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

pprof::Profile BuildHeapProfile(const heap_profiler::HeapSnapshot& snapshot, int64_t time_nanos) {
  pprof::Profile profile;
  profile.sample_types = {{"alloc_objects", "count"},
                          {"alloc_space", "bytes"},
                          {"inuse_objects", "count"},
                          {"inuse_space", "bytes"}};
  profile.period_type = {"space", "bytes"};
  profile.period = snapshot.sample_rate_bytes;
  profile.time_nanos = time_nanos;
  if (snapshot.untracked_samples > 0) {
    profile.comments.push_back("leaklab: " + std::to_string(snapshot.untracked_samples) +
                               " sampled objects were not tracked until freed (more than " +
                               std::to_string(heap_profiler::kMaxLiveSamples) +
                               " live samples); in-use values are low by as much");
  }

  ProcessSymbolizer symbolizer;
  LocationTable locations(profile, &symbolizer);
  // Symbolizing (demangling, mostly) is the expensive part: once per distinct
  // address per profile.
  std::unordered_map<uintptr_t, SymbolizedFrame> symbols;
  std::vector<SymbolizedFrame*> frames;
  for (const heap_profiler::StackRecord& record : snapshot.records) {
    frames.clear();
    for (int i = 0; i < record.depth; ++i) {
      // A return address minus 1 lies in the call instruction.
      const uintptr_t pc = record.return_addresses[static_cast<size_t>(i)] - 1;
      auto [it, inserted] = symbols.try_emplace(pc);
      if (inserted) it->second = symbolizer.Symbolize(pc);
      frames.push_back(&it->second);
    }
    // 1. Find the deepest allocator frame near the top; 2. drop it and all
    // frames above it, named or not.
    int first_kept = 0;
    for (int i = 0; i < record.depth && i < kMaxAllocatorFrames; ++i) {
      if (IsAllocatorFrame(frames[static_cast<size_t>(i)]->name)) first_kept = i + 1;
    }

    pprof::Sample sample;
    for (int i = first_kept; i < record.depth; ++i) {
      const SymbolizedFrame& f = *frames[static_cast<size_t>(i)];
      sample.location_indexes.push_back(locations.ForFunction(
          f.name, f.system_name, record.return_addresses[static_cast<size_t>(i)] - 1, f.object));
    }
    if (record.depth == 0) {
      sample.location_indexes.push_back(
          locations.ForFunction("[leaklab: more than " + std::to_string(heap_profiler::kMaxStacks) +
                                    " allocation stacks]",
                                "", 0));
    }
    const ObjectsAndBytes alloc =
        ScaleHeapSample(record.alloc_objects, record.alloc_bytes, snapshot.sample_rate_bytes);
    const ObjectsAndBytes inuse =
        ScaleHeapSample(record.inuse_objects, record.inuse_bytes, snapshot.sample_rate_bytes);
    sample.values = {alloc.objects, alloc.bytes, inuse.objects, inuse.bytes};
    // Go labels each sample with its objects' average size.
    sample.numeric_labels.push_back({"bytes", record.alloc_bytes / record.alloc_objects, ""});
    profile.samples.push_back(std::move(sample));
  }
  return profile;
}

pprof::Profile BuildWorkerProfile(const std::vector<WorkerRegistry::Group>& groups,
                                  int64_t time_nanos) {
  pprof::Profile profile;
  profile.sample_types = {{"goroutine", "count"}};
  profile.period_type = {"goroutine", "count"};
  profile.period = 1;
  profile.time_nanos = time_nanos;
  LocationTable locations(profile);
  for (const WorkerRegistry::Group& group : groups) {
    pprof::Sample sample;
    sample.location_indexes = {locations.ForFunction(group.wait_point, group.wait_point, 0),
                               locations.ForFunction(group.spawn_site, group.spawn_site, 0)};
    sample.values = {group.count};
    profile.samples.push_back(std::move(sample));
  }
  return profile;
}

namespace {

// The thread profiles are built on once WarmUpProfiles() has run. One thread,
// warmed at startup, rather than whichever server thread takes the request:
// building a profile reaches deep into a thread's stack once (the demangler
// keeps its work arrays on the stack, sized by the name), and on a server
// thread that first time showed as a step in RSS in the middle of a run.
class ProfileThread {
 public:
  ProfileThread() : thread_([this] { Loop(); }) {}
  ~ProfileThread() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

  // Runs `job` on the thread and waits for its result (or its exception).
  std::string Run(std::function<std::string()> job) {
    std::packaged_task<std::string()> task(std::move(job));
    std::future<std::string> result = task.get_future();
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(task));
    }
    wake_.notify_one();
    return result.get();
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left to do
      std::packaged_task<std::string()> task = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      task();
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::packaged_task<std::string()>> queue_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

std::atomic<ProfileThread*> g_profile_thread{nullptr};

std::string BuildEncoded(std::function<std::string()> build) {
  auto job = [build = std::move(build)] { return BuildOffHeap(build); };
  if (ProfileThread* thread = g_profile_thread.load(std::memory_order_acquire)) {
    return thread->Run(std::move(job));
  }
  return job();
}

std::string HeapProfileNow() {
  return pprof::EncodeProfile(BuildHeapProfile(heap_profiler::TakeSnapshot(), NowUnixNanos()));
}

std::string WorkerProfileNow() {
  return pprof::EncodeProfile(
      BuildWorkerProfile(WorkerRegistry::Global().Groups(), NowUnixNanos()));
}

}  // namespace

std::string EncodedHeapProfile() { return BuildEncoded(&HeapProfileNow); }

std::string EncodedWorkerProfile() { return BuildEncoded(&WorkerProfileNow); }

void WarmUpProfiles() {
  // Lives until the program exits (its destructor joins the thread).
  static ProfileThread thread;
  // 1. On the ordinary heap, not in a scratch arena: anything the code paths
  // initialise once and keep (function-local statics) must not live in an
  // arena that is about to be unmapped. 2. Then as the endpoints will, so
  // the thread's stack and the scratch path are paged in too.
  (void)thread.Run([] { return HeapProfileNow() + WorkerProfileNow(); });
  (void)thread.Run([] { return BuildOffHeap(&HeapProfileNow) + BuildOffHeap(&WorkerProfileNow); });
  g_profile_thread.store(&thread, std::memory_order_release);
}

}  // namespace leaklab::runtime
