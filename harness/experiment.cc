#include "harness/experiment.h"

#include <gnu/libc-version.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
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
#include "common/bytes.h"
#include "common/duration.h"
#include "common/end_reason.h"
#include "common/errors.h"
#include "common/read_file.h"
#include "common/utc_time.h"
#include "harness/build_info.h"
#include "harness/child_process.h"
#include "harness/http_get.h"
#include "harness/memory_cgroup.h"
#include "harness/procfs_sampler.h"
#include "harness/results_folder.h"
#include "harness/sample_row.h"
#include "harness/source_lines.h"
#include "loadgen/loadgen.h"
#include "report/report.h"

namespace leaklab::harness {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A memstats poll that takes longer than this is recorded as missing; it must
// stay well under the 100 ms sampling interval.
constexpr milliseconds kMemstatsTimeout{80};
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

// Fetches the server's pprof profiles into profiles/<kind>-NNNN.pb.gz, in
// time order. A server without the endpoints (404) is asked once, then left
// alone; the run goes on without profiles.
class ProfileCapture {
 public:
  explicit ProfileCapture(uint16_t port) : http_("127.0.0.1", port) {}

  void Capture(ResultsFolder& folder, double t_s) {
    for (Kind& k : kinds_) {
      if (!k.available) continue;
      HttpReply reply = http_.Get(k.path, kProfileTimeout);
      if (reply.status == 404) {
        k.available = false;
        folder.AddEvent(t_s, "profile", std::string(k.name) + " profiles not served (404)");
        continue;
      }
      if (!reply.ok()) {
        folder.AddEvent(t_s, "profile",
                        std::string(k.name) + ": " +
                            (reply.error.empty() ? std::to_string(reply.status) : reply.error));
        continue;
      }
      WriteFileAtomically(folder.NextProfilePath(k.name), reply.body);
    }
  }

 private:
  struct Kind {
    const char* name;
    const char* path;
    bool available = true;
  };
  HttpGetter http_;
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

// The load, on its own thread: phases, events (reloads, bursts) on their own
// connection so a slow one never delays the sampling, and the events it
// reports, which the sampling loop moves into events.csv. Joined on every way
// out, exceptions included: a joinable std::thread destroyed would terminate
// the harness and orphan the server.
class LoadDriver {
 public:
  explicit LoadDriver(const loadgen::LoadOptions& load)
      : thread_([this, load] {
          loadgen::RunControl control;
          control.stop = &stop_;
          control.on_progress = [this](const loadgen::Progress& p) { rate_ = p.requests_per_s; };
          control.on_event = [this](const loadgen::LoadEvent& e) {
            std::lock_guard lock(mutex_);
            events_.push_back(e);
          };
          try {
            result_ = loadgen::RunLoad(load, control);
          } catch (const std::exception& e) {
            error_ = e.what();
          }
        }) {}
  ~LoadDriver() { Stop(); }
  LoadDriver(const LoadDriver&) = delete;
  LoadDriver& operator=(const LoadDriver&) = delete;

  std::vector<loadgen::LoadEvent> TakeEvents() {
    std::lock_guard lock(mutex_);
    return std::exchange(events_, {});
  }
  double rate() const { return rate_.load(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // After Stop().
  const loadgen::LoadResult& result() const { return result_; }
  const std::string& error() const { return error_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<double> rate_{0};
  std::mutex mutex_;
  std::vector<loadgen::LoadEvent> events_;
  loadgen::LoadResult result_;
  std::string error_;
  std::thread thread_;  // last: started once everything it uses exists
};

// What a run will do, checked before anything is started or written.
struct Plan {
  std::string variant;
  loadgen::LoadOptions load;
  std::chrono::milliseconds pressure_at{0};  // when --pressure starts
  // Flags that were accepted but do nothing for this scenario; printed before
  // the run and kept in manifest.json ("warnings"), so that neither the user
  // nor a later reader of the folder takes them for what the run did.
  std::vector<std::string> warnings;
};

// "{key}" anywhere the load generator fills it in: the target or a header.
bool CarriesKey(const loadgen::LoadOptions& load) {
  constexpr std::string_view kKey = "{key}";
  if (load.path_template.find(kKey) != std::string::npos) return true;
  return std::any_of(load.headers.begin(), load.headers.end(),
                     [&](const std::string& h) { return h.find(kKey) != std::string::npos; });
}

// The smallest --pressure worth a process: below it the kernel finds the room
// in what any group has to spare, and nothing is shown.
constexpr int64_t kMinPressureBytes = 1 << 20;

void CheckPressure(const RunOptions::Pressure& pressure, const RunOptions& options, Plan& plan) {
  if (!options.mem_limit_bytes) {
    throw UsageError(
        "--pressure needs --mem-limit: the pressure is on the memory cgroup's limit, which the "
        "second process shares with the server");
  }
  if (pressure.bytes < kMinPressureBytes || pressure.bytes >= *options.mem_limit_bytes) {
    throw UsageError("--pressure " + FormatBytes(static_cast<double>(pressure.bytes)) +
                     ": must be at least 1M and below --mem-limit (" +
                     FormatBytes(static_cast<double>(*options.mem_limit_bytes)) + ")");
  }
  plan.pressure_at = pressure.at.value_or(plan.load.duration / 2);
  if (plan.pressure_at >= plan.load.duration) {
    throw UsageError("--pressure ...@" + FormatDuration(plan.pressure_at) +
                     ": starts after the run ends (" + FormatDuration(plan.load.duration) + ")");
  }
}

Plan CheckRun(const ScenarioEntry& scenario, const RunOptions& options) {
  Plan plan;
  plan.variant = options.variant.empty() ? scenario.variants.front().name : options.variant;
  if (!scenario.HasVariant(plan.variant)) {
    std::string names;
    for (const auto& v : scenario.variants) names += " " + v.name;
    throw UsageError("--variant " + plan.variant + ": scenario " + scenario.name +
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
  loadgen::LoadOptions& load = plan.load;
  load.path_template = scenario.path_template;
  load.headers = scenario.headers;
  load.connections = options.connections.value_or(scenario.connections);
  load.seed = options.seed;
  load.keys = options.keys;
  if (load.keys.kind != loadgen::KeySpec::Kind::kUnique && !CarriesKey(load)) {
    plan.warnings.push_back(
        "--keys " + loadgen::FormatKeySpec(load.keys) + " has no effect: " + scenario.name +
        "'s requests (" + load.path_template + ") carry no {key}, so no two of them repeat a key");
  }
  // --schedule, else the variant's own load, else the scenario's.
  const loadgen::Schedule& variant_schedule = scenario.ScheduleOf(plan.variant);
  load.schedule = options.schedule.value_or(variant_schedule);
  // --duration, else as long as the schedule's phases.
  const milliseconds phases = load.schedule.PhasesDuration();
  load.duration = options.duration.value_or(
      phases > milliseconds(0) ? phases : variant_schedule.PhasesDuration());
  if (load.duration <= milliseconds(0)) throw UsageError("--duration must be positive");
  if (options.rate_per_s && !(std::isfinite(*options.rate_per_s) && *options.rate_per_s >= 0)) {
    throw UsageError("--rate " + std::to_string(*options.rate_per_s) +
                     ": a rate is 0 (as fast as possible) or more requests per second");
  }
  if (options.rate_per_s) {
    load.schedule.phases = loadgen::Schedule::Steady(load.duration, *options.rate_per_s).phases;
  }
  try {
    // The port is known only once the server runs; check everything else now.
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
  if (options.pressure) CheckPressure(*options.pressure, options, plan);
  return plan;
}

// The manifest's fields as the run starts (results/README.md).
json::object RunManifest(const ScenarioEntry& scenario, const Plan& plan,
                         const RunOptions& options) {
  const loadgen::LoadOptions& load = plan.load;
  json::array argv;
  for (const auto& a : options.command_line) argv.push_back(json::string(a));
  return json::object{
      {"scenario", scenario.name},
      {"variant", plan.variant},
      {"flags",
       json::object{
           {"duration_ms", load.duration.count()},
           {"sample_interval_ms", options.sample_interval.count()},
           {"connections", load.connections},
           {"schedule", load.schedule.ToString()},
           {"keys", loadgen::FormatKeySpec(load.keys)},
           {"path_template", load.path_template},
           {"headers", json::value_from(load.headers)},
           {"mem_limit_bytes",
            options.mem_limit_bytes ? json::value(*options.mem_limit_bytes) : json::value(nullptr)},
           {"pressure", options.pressure
                            ? json::value(json::object{{"bytes", options.pressure->bytes},
                                                       {"at_ms", plan.pressure_at.count()}})
                            : json::value(nullptr)},
           {"out", options.out_dir.string()}}},
      {"command_line", std::move(argv)},
      {"seed", options.seed},
      {"git_revision", GitRevision()},
      {"compiler", "GCC " __VERSION__},
      {"allocator", std::string("glibc malloc ") + gnu_get_libc_version()},
      {"kernel", KernelRelease()},
      {"cpus", std::thread::hardware_concurrency()},
      {"start_time", UtcIsoTime()},
      {"warnings", json::value_from(plan.warnings)},
  };
}

// One experiment, step by step: StartServer, SampleUntilDone (the load runs
// beside it), Teardown; the folder's Finish analyzes and reports.
class Experiment {
 public:
  Experiment(const ScenarioEntry& scenario, const RunOptions& options, Plan plan)
      : scenario_(scenario),
        options_(options),
        plan_(std::move(plan)),
        folder_(options.out_dir, scenario.name + "-" + plan_.variant,
                RunManifest(scenario, plan_, options)) {
    folder_.manifest()["flags"].as_object()["out"] = folder_.dir().string();
    folder_.SetColumns(RunSeriesColumns());
    folder_.WriteManifest();
  }

  RunOutcome Run() {
    StartServer();
    ProfileCapture profiles(port_);
    {
      plan_.load.port = port_;
      LoadDriver load(plan_.load);
      SampleUntilDone(load, profiles);
      Teardown(load, profiles);
    }
    FolderAnalysis analysis = folder_.Finish(options_.write_report);
    RunOutcome outcome;
    outcome.out_dir = folder_.dir();
    outcome.verdict = std::move(analysis.verdict);
    outcome.end_reason = reason_;
    outcome.end_detail = detail_;
    outcome.samples = folder_.samples();
    outcome.report = std::move(analysis.report);
    outcome.report_error = std::move(analysis.report_error);
    if (!analysis.write_error.empty()) throw IoError(analysis.write_error);
    return outcome;
  }

 private:
  double ElapsedS() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

  // Steps 1 and 2: start the server, learn its port, wait until /healthz
  // answers, all within one start-up deadline. Throws ExperimentError, with
  // the end recorded in the manifest, when the server does not come up.
  void StartServer() {
    const fs::path server_log = folder_.dir() / "server.log";
    const Clock::time_point deadline = Clock::now() + options_.startup_timeout;
    std::vector<std::string> args = {"--scenario",   scenario_.name,
                                     "--variant",    plan_.variant,
                                     "--port",       "0",
                                     "--parent-pid", std::to_string(::getpid())};
    if (options_.mem_limit_bytes) {
      cgroup_.emplace(folder_.dir().filename().string() + "-" + std::to_string(::getpid()),
                      *options_.mem_limit_bytes);
      args.push_back("--cgroup");
      args.push_back(cgroup_->path().string());
    }
    server_.emplace(options_.scenario_binary, args, server_log);
    folder_.manifest()["server"] =
        json::object{{"binary", options_.scenario_binary.string()}, {"pid", server_->pid()}};
    auto fail = [&](const std::string& what) {
      ExitInfo exit = server_->Stop(milliseconds(1000));
      std::string detail =
          what + " (server " + exit.Describe() + "); server.log: " + ReadFileTail(server_log, 400);
      folder_.RecordEnd(EndReason::kServerFailedToStart, detail, 0);
      folder_.manifest()["status"] = "finished";
      folder_.WriteManifest();
      throw ExperimentError(detail);
    };
    auto port_line = server_->ReadFirstLine(options_.startup_timeout);
    int port = 0;
    if (!port_line || std::sscanf(port_line->c_str(), "%d", &port) != 1 || port <= 0 ||
        port > 65535) {
      fail("the server printed no port within " + FormatDuration(options_.startup_timeout));
    }
    port_ = static_cast<uint16_t>(port);
    folder_.manifest()["server"].as_object()["port"] = port;
    folder_.WriteManifest();
    debug_.emplace("127.0.0.1", port_);
    while (!debug_->Get("/healthz", milliseconds(500)).ok()) {
      if (server_->Poll().exited) fail("the server exited before it became healthy");
      if (Clock::now() > deadline) {
        fail("the server did not answer /healthz within " +
             FormatDuration(options_.startup_timeout));
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    // Time zero of the series and of the duration: the server is ready and
    // the load starts now.
    start_ = Clock::now();
    folder_.AddEvent(0, "server_ready", "port " + std::to_string(port));
  }

  void LogLoadEvents(LoadDriver& load) {
    for (const loadgen::LoadEvent& e : load.TakeEvents())
      folder_.AddEvent(std::chrono::duration<double>(e.at - start_).count(), e.name, e.detail);
  }

  // Whether the server has exited; records how (an OOM kill under
  // --mem-limit is told apart).
  bool ServerExited() {
    ExitInfo exit = server_->Poll();
    if (!exit.exited) return false;
    end_t_s_ = ElapsedS();
    reason_ = EndReason::kServerExited;
    detail_ = "the server " + exit.Describe() + " after " + FormatSeconds(end_t_s_);
    if (cgroup_ && exit.signal == SIGKILL && cgroup_->ReadStats().oom_kills > 0) {
      reason_ = EndReason::kOomKilled;
      detail_ = "the kernel's OOM killer ended the server at its " +
                std::to_string(*options_.mem_limit_bytes >> 20) + " MiB cgroup limit after " +
                FormatSeconds(end_t_s_);
    }
    folder_.AddEvent(end_t_s_, "server_exit", exit.Describe());
    return true;
  }

  // One sample: /proc and /debug/memstats, as one row of series.csv.
  void TakeSample(double rate) {
    const double t_s = ElapsedS();
    const ProcMemory mem = procfs_->Sample();
    HttpReply reply = debug_->Get("/debug/memstats", kMemstatsTimeout);
    json::object stats;
    if (reply.ok()) {
      boost::system::error_code ec;
      json::value v = json::parse(reply.body, ec);
      if (!ec && v.is_object()) stats = std::move(v.as_object());
    }
    folder_.AddSample(SampleRow(t_s, mem, stats));
    folder_.FlushIfDue();
    const Clock::time_point now = Clock::now();
    if (options_.progress && now - last_progress_ >= milliseconds(500)) {
      std::fprintf(
          stderr, "\r  %5.1fs  RSS %10s  heap in use %10s  %7.0f req/s ", t_s,
          FormatBytes(mem.rss_bytes < 0 ? std::nan("") : static_cast<double>(mem.rss_bytes))
              .c_str(),
          FormatBytes(Field(stats, series::kHeapInuseBytesColumn)).c_str(), rate);
      last_progress_ = now;
    }
  }

  // Step 3: sample on a fixed grid until the duration is over, the server
  // dies or the user interrupts. A failure of the harness itself (e.g. the
  // disk is full) still ends the run properly.
  void SampleUntilDone(LoadDriver& load, ProfileCapture& profiles) {
    procfs_.emplace(server_->pid());
    detail_ = "ran for " + FormatDuration(plan_.load.duration);
    Clock::time_point next = start_, next_profile = start_;
    try {
      for (;;) {
        // Interruption first: Ctrl-C is ours, and must not read as a server exit.
        if (options_.interrupted != nullptr && options_.interrupted->load()) {
          reason_ = EndReason::kInterrupted;
          detail_ = "interrupted after " + FormatSeconds(ElapsedS());
          break;
        }
        if (ServerExited() || Clock::now() - start_ >= plan_.load.duration) break;
        StartPressureIfDue();
        if (options_.profile_every > milliseconds(0) && Clock::now() >= next_profile) {
          profiles.Capture(folder_, ElapsedS());
          next_profile += options_.profile_every;
        }
        LogLoadEvents(load);
        TakeSample(load.rate());
        // A slow sample delays the next one, but never shifts the grid.
        next += options_.sample_interval;
        if (next < Clock::now()) next = Clock::now();
        std::this_thread::sleep_until(next);
      }
    } catch (const std::exception& e) {
      reason_ = EndReason::kHarnessError;
      detail_ = e.what();
    }
    if (options_.progress) std::fprintf(stderr, "\r%*s\r", 72, "");
  }

  // --pressure: the second process joins the server's cgroup, fills its
  // memory and holds it until Teardown stops it.
  void StartPressureIfDue() {
    if (!options_.pressure || pressure_ || Clock::now() - start_ < plan_.pressure_at) return;
    const int64_t bytes = options_.pressure->bytes;
    pressure_.emplace(options_.scenario_binary,
                      std::vector<std::string>{"--hold-memory", std::to_string(bytes), "--cgroup",
                                               cgroup_->path().string(), "--parent-pid",
                                               std::to_string(::getpid())},
                      folder_.dir() / "pressure.log");
    folder_.AddEvent(ElapsedS(), "pressure",
                     "a second process in the memory cgroup allocates and holds " +
                         FormatBytes(static_cast<double>(bytes)));
  }

  // File and line numbers for `go tool pprof -list`, added once the server
  // has stopped, so that addr2line's work does not compete with the run.
  void AddProfileSourceLines(json::object& manifest) {
    json::object& profiles = manifest["profiles"].as_object();
    try {
      SourceLineResult r = AddSourceLines(folder_.dir() / "profiles", options_.scenario_binary);
      profiles["source_lines"] = r.error.empty() ? json::value(r.locations) : json::value(r.error);
    } catch (const std::exception& e) {
      profiles["source_lines"] = e.what();  // the profiles stay as the server wrote them
    }
  }

  // Step 4: a last pair of profiles so the last interval counts too, then
  // stop the load and the server and record what they say.
  void Teardown(LoadDriver& load, ProfileCapture& profiles) {
    // The run's last writes may use the room kept for them: if the disk
    // filled (a harness error), it is what lets the folder finish.
    folder_.ReleaseReserve();
    if (options_.profile_every > milliseconds(0) && reason_ == EndReason::kCompleted) {
      try {
        profiles.Capture(folder_, ElapsedS());
      } catch (const std::exception&) {
        // The run is complete without it.
      }
    }
    load.Stop();
    LogLoadEvents(load);
    folder_.AddEvent(ElapsedS(), "phase", "end");
    if (end_t_s_ == 0) end_t_s_ = ElapsedS();
    json::object& manifest = folder_.manifest();
    manifest["server"].as_object()["exit"] = server_->Stop(kStopGrace).Describe();
    if (pressure_) {
      // Stopped by us (SIGTERM) unless the OOM killer chose it first.
      manifest["pressure"] =
          json::object{{"pid", pressure_->pid()}, {"exit", pressure_->Stop(kStopGrace).Describe()}};
    }
    if (cgroup_) {
      MemoryCgroup::Stats c = cgroup_->ReadStats();
      manifest["mem_limit"] = json::object{{"cgroup", cgroup_->path().string()},
                                           {"limit_bytes", c.limit_bytes},
                                           {"max_usage_bytes", c.max_usage_bytes},
                                           {"failcnt", c.failcnt},
                                           {"oom_kills", c.oom_kills}};
    }
    json::object load_json = loadgen::ToJson(plan_.load, load.result());
    if (plan_.load.connections <= 0)
      load_json["note"] = "no background load: only the scheduled requests";
    if (!load.error().empty()) load_json["error"] = load.error();
    try {
      folder_.WriteFile("loadgen.json", json::serialize(load_json) + "\n");
    } catch (const IoError& e) {
      manifest["write_error"] = e.what();  // the folder finishes without it
    }
    manifest["profiles"] = json::object{{"heap", folder_.profiles("heap")},
                                        {"workers", folder_.profiles("workers")},
                                        {"every_ms", options_.profile_every.count()}};
    AddProfileSourceLines(manifest);
    manifest["elapsed_s"] = ElapsedS();
    folder_.RecordEnd(reason_, detail_, end_t_s_);
  }

  const ScenarioEntry& scenario_;
  const RunOptions& options_;
  Plan plan_;
  ResultsFolder folder_;
  std::optional<MemoryCgroup> cgroup_;
  std::optional<ChildProcess> server_;
  std::optional<ChildProcess> pressure_;
  std::optional<HttpGetter> debug_;
  std::optional<ProcfsSampler> procfs_;
  uint16_t port_ = 0;
  Clock::time_point start_ = Clock::now(), last_progress_ = Clock::now();
  EndReason reason_ = EndReason::kCompleted;
  std::string detail_;
  double end_t_s_ = 0;
};

}  // namespace

RunOutcome RunExperiment(const ScenarioEntry& scenario, const RunOptions& options) {
  Plan plan = CheckRun(scenario, options);
  for (const std::string& w : plan.warnings) options.on_warning(w);
  Experiment experiment(scenario, options, std::move(plan));
  return experiment.Run();
}

}  // namespace leaklab::harness
