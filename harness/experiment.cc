#include "harness/experiment.h"

#include <gnu/libc-version.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <limits>
#include <mutex>
#include <sstream>
#include <string_view>
#include <thread>
#include <utility>

#include "analyzers/series/series.h"
#include "analyzers/verdict/folder.h"
#include "common/atomic_file.h"
#include "common/duration.h"
#include "common/end_reason.h"
#include "common/read_file.h"
#include "common/utc_time.h"
#include "harness/build_info.h"
#include "harness/child_process.h"
#include "harness/heap_diff_file.h"
#include "harness/http_get.h"
#include "harness/memory_cgroup.h"
#include "harness/procfs_sampler.h"
#include "harness/sample_row.h"
#include "loadgen/loadgen.h"
#include "report/report.h"

namespace leaklab::harness {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kManifestSchemaVersion = 1;
// A memstats poll that takes longer than this is recorded as missing; it must
// stay well under the 100 ms sampling interval.
constexpr milliseconds kMemstatsTimeout{80};
// series.csv is rewritten whole this often, so a harness that is killed
// loses at most this much of the series.
constexpr milliseconds kFlushInterval{2'000};
constexpr milliseconds kStopGrace{5'000};
// Building a profile walks every sampled stack; a few hundred ms at most.
constexpr milliseconds kProfileTimeout{3'000};

std::string KernelRelease() {
  utsname u{};
  if (uname(&u) != 0) return "unknown";
  return std::string(u.sysname) + " " + u.release + " " + u.machine;
}

// A number field of the server's /debug/memstats, NaN when absent.
double Field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_number()) return std::numeric_limits<double>::quiet_NaN();
  return v->to_number<double>();
}

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", s);
  return buf;
}

std::string HumanMB(double bytes) {
  char buf[32];
  if (!std::isfinite(bytes) || bytes < 0) return "-";
  std::snprintf(buf, sizeof buf, "%.1f MB", bytes / 1e6);
  return buf;
}

// Everything the run writes, kept in memory and written whole (temp + rename).
class ResultsWriter {
 public:
  ResultsWriter(fs::path dir, json::object manifest)
      : dir_(std::move(dir)), manifest_(std::move(manifest)) {
    csv_ = series::FormatCsvHeader(RunSeriesColumns());
    events_ = "t_s,event,detail\n";
  }

  void AddSample(std::span<const double> row) {
    series::AppendCsvRow(csv_, row);
    ++samples_;
  }
  void AddEvent(double t_s, const std::string& event, const std::string& detail) {
    char t[32];
    std::snprintf(t, sizeof t, "%.3f", t_s);
    // Details are ours and never hold commas or quotes; replace defensively.
    std::string clean = detail;
    for (char& c : clean) {
      if (c == ',' || c == '"' || c == '\n') c = ' ';
    }
    events_ += std::string(t) + "," + event + "," + clean + "\n";
  }
  json::object& manifest() { return manifest_; }
  size_t samples() const { return samples_; }

  void FlushSeries() {
    WriteFileAtomically(dir_ / "series.csv", csv_);
    WriteFileAtomically(dir_ / "events.csv", events_);
  }
  void WriteManifest() {
    WriteFileAtomically(dir_ / "manifest.json", json::serialize(manifest_) + "\n");
  }
  void WriteFile(const char* name, const std::string& contents) {
    WriteFileAtomically(dir_ / name, contents);
  }

 private:
  fs::path dir_;
  json::object manifest_;
  std::string csv_;
  std::string events_;
  size_t samples_ = 0;
};

// Fetches the server's pprof profiles into profiles/<kind>-NNNN.pb.gz, in
// time order. A server without the endpoints (404) is asked once, then left
// alone; the run goes on without profiles.
class ProfileCapture {
 public:
  ProfileCapture(fs::path dir, uint16_t port) : dir_(std::move(dir)), http_("127.0.0.1", port) {}

  // Returns how many files were written this time.
  int Capture(ResultsWriter& results, double t_s) {
    int written = 0;
    for (Kind& k : kinds_) {
      if (!k.available) continue;
      HttpReply reply = http_.Get(k.path, kProfileTimeout);
      if (reply.status == 404) {
        k.available = false;
        results.AddEvent(t_s, "profile", std::string(k.name) + " profiles not served (404)");
        continue;
      }
      if (!reply.ok()) {
        results.AddEvent(t_s, "profile",
                         std::string(k.name) + ": " +
                             (reply.error.empty() ? std::to_string(reply.status) : reply.error));
        continue;
      }
      if (!created_) {
        fs::create_directories(dir_);
        created_ = true;
      }
      char name[64];
      std::snprintf(name, sizeof name, "%s-%04d.pb.gz", k.name, ++k.count);
      WriteFileAtomically(dir_ / name, reply.body);
      ++written;
    }
    return written;
  }

  int heap_profiles() const { return kinds_[0].count; }
  int worker_profiles() const { return kinds_[1].count; }

 private:
  struct Kind {
    const char* name;
    const char* path;
    bool available = true;
    int count = 0;
  };
  fs::path dir_;
  HttpGetter http_;
  bool created_ = false;
  Kind kinds_[2] = {{"heap", "/debug/pprof/heap"}, {"workers", "/debug/pprof/workers"}};
};

// The load generator names LoadOptions fields in its messages; the user of
// `leaklab run` knows the flags that set them.
std::string WithFlag(const std::string& message) {
  static constexpr std::pair<std::string_view, std::string_view> kFlagOfField[] = {
      {"connections", "--connections"},
      {"duration", "--duration"},
      {"schedule", "--schedule"},
      {"keys", "--keys"},
  };
  for (const auto& [field, flag] : kFlagOfField) {
    if (message.starts_with(field)) return std::string(flag) + ": " + message;
  }
  return message;
}

// Load events (phase starts, event requests' answers) arrive on the load
// generator's thread; the sampling loop moves them into events.csv.
class EventQueue {
 public:
  void Push(const loadgen::LoadEvent& e) {
    std::lock_guard lock(mutex_);
    events_.push_back(e);
  }
  std::vector<loadgen::LoadEvent> Take() {
    std::lock_guard lock(mutex_);
    return std::exchange(events_, {});
  }

 private:
  std::mutex mutex_;
  std::vector<loadgen::LoadEvent> events_;
};

fs::path ChooseOutDir(const ScenarioEntry& scenario, const std::string& variant,
                      const RunOptions& options) {
  fs::path dir = options.out_dir;
  if (dir.empty()) {
    dir = fs::path("results") / (scenario.name + "-" + variant + "-" + UtcFolderStamp());
    // Two runs started in the same second get distinct folders.
    for (int i = 2; fs::exists(dir); ++i) {
      dir = fs::path("results") /
            (scenario.name + "-" + variant + "-" + UtcFolderStamp() + "-" + std::to_string(i));
    }
  }
  // Never overwrite a recorded run.
  if (fs::exists(dir / "manifest.json")) {
    throw UsageError("--out " + dir.string() +
                     " already holds a run (manifest.json); choose another folder");
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw UsageError("--out " + dir.string() + ": cannot create: " + ec.message());
  return dir;
}

}  // namespace

RunOutcome RunExperiment(const ScenarioEntry& scenario, const RunOptions& options) {
  const std::string variant =
      options.variant.empty() ? scenario.variants.front().name : options.variant;
  if (!scenario.HasVariant(variant)) {
    std::string names;
    for (const auto& v : scenario.variants) names += " " + v.name;
    throw UsageError("--variant " + variant + ": scenario " + scenario.name +
                     " has no such variant; it has:" + names);
  }
  if (options.sample_interval < milliseconds(50) ||
      options.sample_interval > milliseconds(60'000)) {
    throw UsageError("--interval must be between 50ms and 60s");
  }
  if (options.startup_timeout < milliseconds(100) ||
      options.startup_timeout > milliseconds(600'000)) {
    throw UsageError("--startup-timeout must be between 100ms and 10m");
  }
  // Every scenario's load, its default included, is a load generator schedule.
  loadgen::LoadOptions load;
  load.path_template = scenario.path_template;
  load.headers = scenario.headers;
  load.connections = options.connections.value_or(scenario.connections);
  load.seed = options.seed;
  load.keys = options.keys;
  load.schedule = options.schedule.value_or(scenario.schedule);
  // --duration, else as long as the schedule's phases.
  const milliseconds phases = load.schedule.PhasesDuration();
  load.duration =
      options.duration.value_or(phases > milliseconds(0) ? phases : scenario.duration());
  if (load.duration <= milliseconds(0)) throw UsageError("--duration must be positive");
  if (options.rate_per_s) {
    load.schedule.phases = loadgen::Schedule::Steady(load.duration, *options.rate_per_s).phases;
  }
  const bool background_load = load.connections > 0;
  try {
    // The port is known only once the server runs; check everything else now,
    // before anything is started or written.
    loadgen::LoadOptions check = load;
    check.port = 1;
    loadgen::ValidateOptions(check);
  } catch (const std::invalid_argument& e) {
    throw UsageError(WithFlag(e.what()));
  }

  if (options.mem_limit_bytes) {
    if (*options.mem_limit_bytes < (8 << 20)) throw UsageError("--mem-limit must be at least 8M");
    if (auto why = MemoryCgroupUnavailable()) throw UsageError("--mem-limit: " + *why);
  }
  RunOutcome outcome;
  outcome.out_dir = ChooseOutDir(scenario, variant, options);

  json::array argv;
  for (const auto& a : options.command_line) argv.push_back(json::string(a));
  json::object manifest{
      {"schema_version", kManifestSchemaVersion},
      {"scenario", scenario.name},
      {"variant", variant},
      {"flags", json::object{{"duration_ms", load.duration.count()},
                             {"sample_interval_ms", options.sample_interval.count()},
                             {"connections", load.connections},
                             {"schedule", load.schedule.ToString()},
                             {"keys", loadgen::FormatKeySpec(load.keys)},
                             {"path_template", load.path_template},
                             {"headers", json::value_from(load.headers)},
                             {"mem_limit_bytes", options.mem_limit_bytes
                                                     ? json::value(*options.mem_limit_bytes)
                                                     : json::value(nullptr)},
                             {"out", outcome.out_dir.string()}}},
      {"command_line", std::move(argv)},
      {"seed", options.seed},
      {"git_revision", GitRevision()},
      {"compiler", "GCC " __VERSION__},
      {"allocator", std::string("glibc malloc ") + gnu_get_libc_version()},
      {"kernel", KernelRelease()},
      {"cpus", std::thread::hardware_concurrency()},
      {"start_time", UtcIsoTime()},
      {"status", "running"},
  };
  ResultsWriter results(outcome.out_dir, std::move(manifest));
  double end_t_s = 0;
  auto finish = [&](EndReason reason, const std::string& detail) {
    outcome.end_reason = reason;
    outcome.end_detail = detail;
    results.manifest()["status"] = "finished";
    results.manifest()["end"] = json::object{{"reason", EndReasonName(reason)},
                                             {"detail", detail},
                                             {"t_s", end_t_s},
                                             {"samples", results.samples()}};
    results.WriteManifest();
  };
  results.WriteManifest();

  // Step 1: start the server and learn its port.
  const fs::path server_log = outcome.out_dir / "server.log";
  // One deadline for the whole start-up: printing the port and answering /healthz.
  const Clock::time_point startup_deadline = Clock::now() + options.startup_timeout;
  std::vector<std::string> server_args = {
      "--scenario", scenario.name, "--variant",    variant,
      "--port",     "0",           "--parent-pid", std::to_string(::getpid())};
  std::optional<MemoryCgroup> cgroup;
  if (options.mem_limit_bytes) {
    cgroup.emplace(outcome.out_dir.filename().string() + "-" + std::to_string(::getpid()),
                   *options.mem_limit_bytes);
    server_args.push_back("--cgroup");
    server_args.push_back(cgroup->path().string());
  }
  ChildProcess server(options.scenario_binary, server_args, server_log);
  results.manifest()["server"] =
      json::object{{"binary", options.scenario_binary.string()}, {"pid", server.pid()}};
  auto fail_start = [&](const std::string& what) -> RunOutcome {
    ExitInfo exit = server.Stop(milliseconds(1000));
    std::string detail =
        what + " (server " + exit.Describe() + "); server.log: " + ReadFileTail(server_log, 400);
    finish(EndReason::kServerFailedToStart, detail);
    throw std::runtime_error(detail);
  };
  auto port_line = server.ReadFirstLine(options.startup_timeout);
  int port = 0;
  if (!port_line || std::sscanf(port_line->c_str(), "%d", &port) != 1 || port <= 0 ||
      port > 65535) {
    return fail_start("the server printed no port within " +
                      FormatDuration(options.startup_timeout));
  }
  results.manifest()["server"].as_object()["port"] = port;
  results.WriteManifest();

  // Step 2: wait until /healthz answers, within the same deadline.
  HttpGetter debug("127.0.0.1", static_cast<uint16_t>(port));
  for (;;) {
    if (debug.Get("/healthz", milliseconds(500)).ok()) break;
    if (server.Poll().exited) return fail_start("the server exited before it became healthy");
    if (Clock::now() > startup_deadline) {
      return fail_start("the server did not answer /healthz within " +
                        FormatDuration(options.startup_timeout));
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  // Time zero of the series and of the duration: the server is ready and the
  // load starts now.
  const Clock::time_point start = Clock::now();
  auto elapsed_s = [&start] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  results.AddEvent(0, "server_ready", "port " + std::to_string(port));

  // Step 3: drive the load, phases and events, on its own thread.
  ProcfsSampler procfs(server.pid());
  std::atomic<bool> stop_load{false};
  std::atomic<double> load_rate{0};
  EventQueue load_events;
  load.port = static_cast<uint16_t>(port);
  loadgen::LoadResult load_result;
  std::string load_error;
  auto log_load_events = [&] {
    for (const loadgen::LoadEvent& e : load_events.Take()) {
      results.AddEvent(std::chrono::duration<double>(e.at - start).count(), e.name, e.detail);
    }
  };
  // Joined on every way out of this function, exceptions included: a
  // joinable std::thread destroyed would terminate the harness and orphan the server.
  struct LoadThread {
    std::atomic<bool>& stop;
    std::thread thread;
    ~LoadThread() {
      stop = true;
      if (thread.joinable()) thread.join();
    }
  } load_thread{stop_load, {}};
  // The load generator sends the event requests (reloads, bursts) on their
  // own connection, so a slow one never delays the memstats poll.
  load_thread.thread = std::thread([&] {
    loadgen::RunControl control;
    control.stop = &stop_load;
    control.on_progress = [&load_rate](const loadgen::Progress& p) {
      load_rate = p.requests_per_s;
    };
    control.on_event = [&load_events](const loadgen::LoadEvent& e) { load_events.Push(e); };
    try {
      load_result = loadgen::RunLoad(load, control);
    } catch (const std::exception& e) {
      load_error = e.what();
    }
  });
  ProfileCapture profiles(outcome.out_dir / "profiles", static_cast<uint16_t>(port));
  Clock::time_point next_profile = start;

  // Step 4: sample on a fixed schedule until the duration is over, the server
  // dies or we are interrupted.
  EndReason reason = EndReason::kCompleted;
  std::string detail = "ran for " + FormatDuration(load.duration);
  Clock::time_point next = start, last_flush = start, last_progress = start;
  // A failure of the harness itself (e.g. the disk is full) still ends the
  // run properly: server stopped, what was sampled written if possible.
  try {
    for (;;) {
      // Interruption first: Ctrl-C is ours, and must not read as a server exit.
      if (options.interrupted != nullptr && options.interrupted->load()) {
        reason = EndReason::kInterrupted;
        detail = "interrupted after " + Seconds(elapsed_s());
        break;
      }
      ExitInfo exit = server.Poll();
      if (exit.exited) {
        end_t_s = elapsed_s();
        reason = EndReason::kServerExited;
        detail = "the server " + exit.Describe() + " after " + Seconds(end_t_s);
        if (cgroup && exit.signal == SIGKILL && cgroup->ReadStats().oom_kills > 0) {
          reason = EndReason::kOomKilled;
          detail = "the kernel's OOM killer ended the server at its " +
                   std::to_string(*options.mem_limit_bytes >> 20) + " MiB cgroup limit after " +
                   Seconds(end_t_s);
        }
        results.AddEvent(end_t_s, "server_exit", exit.Describe());
        break;
      }
      if (Clock::now() - start >= load.duration) break;
      if (options.profile_every > milliseconds(0) && Clock::now() >= next_profile) {
        profiles.Capture(results, elapsed_s());
        next_profile += options.profile_every;
      }
      log_load_events();

      const double t_s = elapsed_s();
      const ProcMemory mem = procfs.Sample();
      HttpReply reply = debug.Get("/debug/memstats", kMemstatsTimeout);
      json::object stats;
      if (reply.ok()) {
        boost::system::error_code ec;
        json::value v = json::parse(reply.body, ec);
        if (!ec && v.is_object()) stats = std::move(v.as_object());
      }
      results.AddSample(SampleRow(t_s, mem, stats));

      Clock::time_point now = Clock::now();
      if (now - last_flush >= kFlushInterval) {
        results.FlushSeries();
        last_flush = now;
      }
      if (options.progress && now - last_progress >= milliseconds(500)) {
        std::fprintf(stderr, "\r  %5.1fs  RSS %10s  heap in use %10s  %7.0f req/s ", t_s,
                     HumanMB(mem.rss_bytes < 0 ? -1.0 : static_cast<double>(mem.rss_bytes)).c_str(),
                     HumanMB(Field(stats, series::kHeapInuseBytesColumn)).c_str(),
                     load_rate.load());
        last_progress = now;
      }
      // Fixed schedule: a slow sample delays the next one, but never shifts the grid.
      next += options.sample_interval;
      if (next < Clock::now()) next = Clock::now();
      std::this_thread::sleep_until(next);
    }
  } catch (const std::exception& e) {
    reason = EndReason::kHarnessError;
    detail = e.what();
  }
  if (options.progress) std::fprintf(stderr, "\r%*s\r", 72, "");

  // Step 5: stop the load, then the server, and write everything.
  // One last pair of profiles at the end of the load, so the last interval counts too.
  if (options.profile_every > milliseconds(0) && reason == EndReason::kCompleted) {
    try {
      profiles.Capture(results, elapsed_s());
    } catch (const std::exception&) {
      // The run is complete without it.
    }
  }
  stop_load = true;
  if (load_thread.thread.joinable()) load_thread.thread.join();
  log_load_events();
  results.AddEvent(elapsed_s(), "phase", "end");
  if (end_t_s == 0) end_t_s = elapsed_s();
  ExitInfo exit = server.Stop(kStopGrace);
  results.manifest()["server"].as_object()["exit"] = exit.Describe();
  if (cgroup) {
    MemoryCgroup::Stats c = cgroup->ReadStats();
    results.manifest()["mem_limit"] = json::object{{"cgroup", cgroup->path().string()},
                                                   {"limit_bytes", c.limit_bytes},
                                                   {"max_usage_bytes", c.max_usage_bytes},
                                                   {"failcnt", c.failcnt},
                                                   {"oom_kills", c.oom_kills}};
  }
  results.FlushSeries();
  json::object load_json = loadgen::ToJson(load, load_result);
  if (!background_load) load_json["note"] = "no background load: only the scheduled requests";
  if (!load_error.empty()) load_json["error"] = load_error;
  results.WriteFile("loadgen.json", json::serialize(load_json) + "\n");
  results.manifest()["profiles"] = json::object{{"heap", profiles.heap_profiles()},
                                                {"workers", profiles.worker_profiles()},
                                                {"every_ms", options.profile_every.count()}};
  outcome.samples = results.samples();
  results.manifest()["elapsed_s"] = elapsed_s();
  finish(reason, detail);

  // Step 6: analyze the folder's own series, as `leaklab analyze` would.
  outcome.verdict = verdict::AnalyzeResultsFolder(outcome.out_dir, {});
  try {
    WriteHeapDiffProfile(outcome.verdict, outcome.out_dir / "heap-diff.pb.gz");
  } catch (const std::exception& e) {
    outcome.verdict.explanation +=
        std::string(" Note: no heap diff profile was written: ") + e.what() + ".";
  }
  results.WriteFile("verdict.json", verdict::VerdictToJson(outcome.verdict));

  // Step 7: the report, from the folder's files alone. Everything above is
  // written by now, so a report that fails costs the report only.
  if (options.write_report) {
    try {
      outcome.report = report::WriteReport(outcome.out_dir);
    } catch (const std::exception& e) {
      outcome.report_error = e.what();
    }
  }
  return outcome;
}

}  // namespace leaklab::harness
