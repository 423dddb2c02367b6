#include "harness/watch.h"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <memory>
#include <stdexcept>
#include <thread>

#include <boost/json.hpp>

#include "analyzers/pprof/heap_diff.h"
#include "analyzers/pprof/profile.h"
#include "analyzers/series/series.h"
#include "analyzers/verdict/folder.h"
#include "common/atomic_file.h"
#include "harness/heap_diff_file.h"
#include "harness/http_get.h"
#include "harness/procfs_sampler.h"
#include "loadgen/loadgen.h"

namespace leaklab::harness {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();
constexpr int kSchemaVersion = 1;
// The folder's files are rewritten this often, so a watch that is killed
// leaves its data behind.
constexpr milliseconds kFlushEvery{2000};

std::string Utc(const char* format) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

void AddEvent(std::string& events, double t_s, const char* event, std::string detail) {
  for (char& c : detail) {
    if (c == ',' || c == '"' || c == '\n' || c == '\r') c = ' ';
  }
  char t[32];
  std::snprintf(t, sizeof t, "%.3f", t_s);
  events += std::string(t) + "," + event + "," + detail + "\n";
}

// Fetches and decodes one profile; on failure returns nullopt with `error`.
std::optional<pprof::Profile> FetchProfile(HttpGetter& http, const std::string& path, std::string& bytes,
                                           std::string& error) {
  HttpReply reply = http.Get(path, kProfileFetchTimeout);
  if (!reply.ok()) {
    error = reply.error.empty() ? "HTTP " + std::to_string(reply.status) : reply.error;
    return std::nullopt;
  }
  try {
    pprof::Profile p = pprof::DecodeProfile(reply.body);
    bytes = std::move(reply.body);
    return p;
  } catch (const pprof::ProfileError& e) {
    error = std::string("not a pprof profile: ") + e.what();
    return std::nullopt;
  }
}

}  // namespace

WatchOutcome Watch(const WatchOptions& options) {
  // Step 1: check every option and reach the target before writing anything.
  if (!options.pid && !options.pprof_url) throw std::invalid_argument("give --pid PID and/or --pprof URL");
  if (options.every < kMinWatchInterval) throw std::invalid_argument("--every must be at least 10ms");
  if (options.duration <= milliseconds(0) || options.duration > kMaxWatchDuration) {
    throw std::invalid_argument("--for must be more than 0 and at most 168h");
  }
  std::unique_ptr<ProcfsSampler> procfs;
  if (options.pid) {
    procfs = std::make_unique<ProcfsSampler>(*options.pid);
    if (*options.pid <= 0 || !procfs->ok()) {
      throw std::invalid_argument("--pid " + std::to_string(*options.pid) +
                                  ": no such process (cannot read /proc/" + std::to_string(*options.pid) +
                                  "/status)");
    }
  }
  std::unique_ptr<HttpGetter> http;
  loadgen::HttpUrl url;
  pprof::ProfileKind kind = pprof::ProfileKind::kOther;
  std::string first_bytes;
  std::optional<pprof::Profile> first;
  if (options.pprof_url) {
    try {
      url = loadgen::ParseHttpUrl(*options.pprof_url);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string("--pprof: ") + e.what());
    }
    http = std::make_unique<HttpGetter>(url.host, url.port);
    std::string error;
    first = FetchProfile(*http, url.path, first_bytes, error);
    if (!first) throw std::invalid_argument("--pprof " + *options.pprof_url + ": " + error);
    kind = pprof::KindOf(*first);
    if (kind == pprof::ProfileKind::kOther) {
      throw std::invalid_argument("--pprof " + *options.pprof_url +
                                  ": neither a heap profile (inuse_space) nor a goroutine profile");
    }
  }

  WatchOutcome out;
  out.out_dir = options.out_dir;
  if (out.out_dir.empty()) {
    const std::string target = options.pid ? "pid" + std::to_string(*options.pid) : url.host + "-" + std::to_string(url.port);
    out.out_dir = fs::path("results") / ("watch-" + target + "-" + Utc("%Y%m%d-%H%M%S"));
  }
  if (fs::exists(out.out_dir)) {
    throw std::invalid_argument("--out " + out.out_dir.string() + ": exists; a recorded watch is never overwritten");
  }
  fs::create_directories(out.out_dir);
  const char* profile_prefix = kind == pprof::ProfileKind::kWorkers ? "workers-" : "heap-";
  if (http) fs::create_directories(out.out_dir / "profiles");

  // Step 2: the folder's frame: columns, manifest.
  // Only the columns this watch can fill: empty ones would read as a signal
  // with no samples.
  std::vector<std::string> columns = {"t_s"};
  if (procfs) columns.insert(columns.end(), {"rss_bytes", "anon_bytes", "lazyfree_bytes"});
  const size_t profile_column = columns.size();
  if (kind == pprof::ProfileKind::kHeap) columns.push_back("heap_inuse_bytes");
  if (kind == pprof::ProfileKind::kWorkers) columns.push_back("workers");
  std::string csv = series::FormatCsvHeader(columns);
  std::string events = "t_s,event,detail\n";
  json::array command;
  for (const std::string& a : options.command_line) command.push_back(json::string(a));
  json::object target;
  if (options.pid) target["pid"] = *options.pid;
  if (options.pprof_url) {
    target["pprof_url"] = *options.pprof_url;
    target["profile_kind"] = pprof::KindName(kind);
  }
  json::object manifest{{"schema_version", kSchemaVersion},
                        {"kind", "watch"},
                        {"target", std::move(target)},
                        {"flags", json::object{{"every_ms", options.every.count()},
                                               {"duration_ms", options.duration.count()},
                                               {"out", out.out_dir.string()}}},
                        {"command_line", std::move(command)},
                        {"start_time", Utc("%Y-%m-%dT%H:%M:%SZ")},
                        {"status", "running"}};
  auto flush = [&] {
    WriteFileAtomically(out.out_dir / "series.csv", csv);
    WriteFileAtomically(out.out_dir / "events.csv", events);
    WriteFileAtomically(out.out_dir / "manifest.json", json::serialize(manifest) + "\n");
  };
  flush();

  // Step 3: sample every `every` until the duration ends, the process exits
  // or the user interrupts; the first profile is the one fetched above.
  const Clock::time_point start = Clock::now();
  Clock::time_point next_flush = start + kFlushEvery;
  auto elapsed_s = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  out.end_reason = "completed";
  std::string detail = "watched for the whole duration";
  std::vector<double> row(columns.size());
  for (int64_t tick = 0;; ++tick) {
    const Clock::time_point due = start + tick * options.every;
    if (due - start >= options.duration) break;
    while (Clock::now() < due) {
      if (options.interrupted && options.interrupted->load()) break;
      std::this_thread::sleep_for(std::min<Clock::duration>(due - Clock::now(), milliseconds(50)));
    }
    if (options.interrupted && options.interrupted->load()) {
      out.end_reason = "interrupted";
      detail = "stopped by the user after " + std::to_string(elapsed_s()) + " s";
      break;
    }
    std::fill(row.begin(), row.end(), kMissing);
    row[0] = elapsed_s();
    if (procfs) {
      const ProcMemory m = procfs->Sample();
      // A live process always has VmRSS; one that exited has no /proc entry,
      // or (a zombie its parent has not reaped) an entry without VmRSS.
      if (m.rss_bytes < 0) {
        out.end_reason = "process_exited";
        detail = "process " + std::to_string(*options.pid) + " exited after " + std::to_string(row[0]) + " s";
        AddEvent(events, row[0], "process_exit", detail);
        break;
      }
      auto value = [](int64_t v) { return v < 0 ? kMissing : static_cast<double>(v); };
      row[1] = value(m.rss_bytes);
      row[2] = value(m.anon_bytes);
      row[3] = value(m.lazyfree_bytes);
    }
    if (http) {
      std::string bytes, error;
      std::optional<pprof::Profile> p =
          tick == 0 ? std::move(first) : FetchProfile(*http, url.path, bytes, error);
      if (tick == 0) bytes = std::move(first_bytes);
      if (p) {
        char name[32];
        std::snprintf(name, sizeof name, "%s%04zu.pb.gz", profile_prefix, out.profiles + 1);
        WriteFileAtomically(out.out_dir / "profiles" / name, bytes);
        ++out.profiles;
        const std::optional<size_t> index = kind == pprof::ProfileKind::kHeap ? p->FindSampleType("inuse_space")
                                                                            : std::optional<size_t>(0);
        if (index && *index < p->sample_types.size()) row[profile_column] = static_cast<double>(p->TotalValue(*index));
      } else {
        // A missed profile is a gap, not the end: services restart, networks blip.
        AddEvent(events, row[0], "pprof_error", error);
      }
    }
    series::AppendCsvRow(csv, row);
    ++out.samples;
    if (options.progress) {
      std::fprintf(stderr, "\r  %.0f s  %zu samples  %zu profiles   ", row[0], out.samples, out.profiles);
    }
    if (Clock::now() >= next_flush) {
      flush();
      next_flush += kFlushEvery;
    }
  }
  if (options.progress) std::fprintf(stderr, "\r%*s\r", 60, "");

  // Step 4: the folder whole, then its analysis, as `leaklab analyze DIR` does.
  manifest["status"] = "finished";
  manifest["elapsed_s"] = elapsed_s();
  manifest["end"] = json::object{{"reason", out.end_reason}, {"detail", detail}, {"t_s", elapsed_s()}};
  manifest["profiles"] = json::object{{kind == pprof::ProfileKind::kWorkers ? "workers" : "heap", out.profiles},
                                      {"every_ms", options.every.count()}};
  flush();
  out.verdict = verdict::AnalyzeResultsFolder(out.out_dir, {});
  try {
    WriteHeapDiffProfile(out.verdict, out.out_dir / "heap-diff.pb.gz");
  } catch (const std::exception& e) {
    out.verdict.explanation += std::string(" Note: no heap diff profile was written: ") + e.what() + ".";
  }
  WriteFileAtomically(out.out_dir / "verdict.json", verdict::VerdictToJson(out.verdict));
  return out;
}

}  // namespace leaklab::harness
