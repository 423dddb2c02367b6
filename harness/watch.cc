#include "harness/watch.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <memory>
#include <stdexcept>
#include <thread>

#include "analyzers/pprof/profile.h"
#include "analyzers/pprof/profile_kind.h"
#include "analyzers/series/exposition.h"
#include "analyzers/series/series.h"
#include "analyzers/verdict/folder.h"
#include "common/atomic_file.h"
#include "common/utc_time.h"
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

void AddEvent(std::string& events, double t_s, const char* event, std::string detail) {
  for (char& c : detail) {
    if (c == ',' || c == '"' || c == '\n' || c == '\r') c = ' ';
  }
  char t[32];
  std::snprintf(t, sizeof t, "%.3f", t_s);
  events += std::string(t) + "," + event + "," + detail + "\n";
}

// Fetches and decodes one profile; on failure returns nullopt with `error`.
std::optional<pprof::Profile> FetchProfile(HttpGetter& http, const std::string& path,
                                           std::string& bytes, std::string& error) {
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

// A profile endpoint being watched.
struct ProfileSource {
  std::string url_text;
  loadgen::HttpUrl url;
  std::unique_ptr<HttpGetter> http;
  pprof::ProfileKind kind = pprof::ProfileKind::kOther;
  std::optional<pprof::Profile> first;  // fetched while checking the options
  std::string first_bytes;
  size_t column = 0;   // its total's position in a row
  size_t written = 0;  // profiles saved
};

// A column read from the metrics endpoint.
struct MetricColumn {
  std::string column;
  series::MetricExpression selector;
  size_t index = 0;  // position in a row
};

// Fetches and parses one scrape; on failure returns nullopt with `error`.
std::optional<std::vector<series::ExpositionSample>> FetchMetrics(HttpGetter& http,
                                                                  const std::string& path,
                                                                  const std::string& url_text,
                                                                  std::string& error) {
  HttpReply reply = http.Get(path, kMetricsFetchTimeout);
  if (!reply.ok()) {
    error = reply.error.empty() ? "HTTP " + std::to_string(reply.status) : reply.error;
    return std::nullopt;
  }
  try {
    return series::ParseExposition(reply.body, url_text);
  } catch (const series::InputError& e) {
    error = std::string("not the Prometheus text format: ") + e.what();
    return std::nullopt;
  }
}

loadgen::HttpUrl ParseUrlFlag(const char* flag, const std::string& text) {
  try {
    return loadgen::ParseHttpUrl(text);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string(flag) + " " + text + ": " + e.what());
  }
}

}  // namespace

WatchOutcome Watch(const WatchOptions& options) {
  // Step 1: check every option and reach every target before writing anything.
  if (!options.pid && options.pprof_urls.empty() && !options.metrics_url) {
    throw std::invalid_argument("give --pid PID, --pprof URL and/or --metrics URL");
  }
  if (!options.metrics.empty() && !options.metrics_url) {
    throw std::invalid_argument("--metric " + options.metrics.front() +
                                ": needs --metrics URL to read it from");
  }
  if (options.every < kMinWatchInterval)
    throw std::invalid_argument("--every must be at least 10ms");
  if (options.duration <= milliseconds(0) || options.duration > kMaxWatchDuration) {
    throw std::invalid_argument("--for must be more than 0 and at most 168h");
  }
  std::unique_ptr<ProcfsSampler> procfs;
  if (options.pid) {
    procfs = std::make_unique<ProcfsSampler>(*options.pid);
    if (*options.pid <= 0 || !procfs->ok()) {
      throw std::invalid_argument("--pid " + std::to_string(*options.pid) +
                                  ": no such process (cannot read /proc/" +
                                  std::to_string(*options.pid) + "/status)");
    }
  }
  std::vector<ProfileSource> profiles;
  for (const std::string& text : options.pprof_urls) {
    ProfileSource& p = profiles.emplace_back();
    p.url_text = text;
    p.url = ParseUrlFlag("--pprof", text);
    p.http = std::make_unique<HttpGetter>(p.url.host, p.url.port);
    std::string error;
    p.first = FetchProfile(*p.http, p.url.path, p.first_bytes, error);
    if (!p.first) throw std::invalid_argument("--pprof " + text + ": " + error);
    p.kind = pprof::KindOf(*p.first);
    if (p.kind == pprof::ProfileKind::kOther) {
      throw std::invalid_argument("--pprof " + text +
                                  ": neither a heap profile (inuse_space) nor a goroutine profile");
    }
    for (size_t i = 0; i + 1 < profiles.size(); ++i) {
      if (profiles[i].kind == p.kind) {
        throw std::invalid_argument("--pprof " + text + ": a second " + pprof::KindName(p.kind) +
                                    " profile (" + profiles[i].url_text +
                                    " is one); give one heap and one goroutine profile");
      }
    }
  }
  auto has_profile = [&](pprof::ProfileKind kind) {
    return std::any_of(profiles.begin(), profiles.end(),
                       [kind](const ProfileSource& p) { return p.kind == kind; });
  };

  // Step 2: the folder's columns. Only those this watch can fill: empty ones
  // would read as a signal with no samples. /proc and the profiles come
  // first; the metrics endpoint fills what they leave.
  std::vector<std::string> columns = {"t_s"};
  if (procfs) columns.insert(columns.end(), {"rss_bytes", "anon_bytes", "lazyfree_bytes"});
  for (ProfileSource& p : profiles) {
    p.column = columns.size();
    if (p.kind == pprof::ProfileKind::kHeap) {
      columns.emplace_back(series::kHeapInuseBytesColumn);
      // Cumulative allocation, when the profile has it: it moves at every
      // garbage collection, which tells a repeat that is stale (Go's profile
      // between collections) from one that is real.
      if (p.first->FindSampleType("alloc_space"))
        columns.emplace_back(series::kHeapAllocatedBytesColumn);
    } else {
      columns.emplace_back(series::kWorkersColumn);
    }
  }
  auto filled_by = [&](std::string_view column) -> std::string {
    if (procfs && (column == series::kRssBytesColumn || column == series::kAnonBytesColumn ||
                   column == series::kLazyfreeBytesColumn)) {
      return "/proc (--pid)";
    }
    if (column == series::kHeapInuseBytesColumn && has_profile(pprof::ProfileKind::kHeap))
      return "the heap profile";
    if (column == series::kWorkersColumn && has_profile(pprof::ProfileKind::kWorkers))
      return "the goroutine profile";
    return "";
  };
  std::unique_ptr<HttpGetter> metrics_http;
  loadgen::HttpUrl metrics_url;
  std::vector<MetricColumn> metric_columns;
  if (options.metrics_url) {
    metrics_url = ParseUrlFlag("--metrics", *options.metrics_url);
    metrics_http = std::make_unique<HttpGetter>(metrics_url.host, metrics_url.port);
    std::string error;
    const auto first = FetchMetrics(*metrics_http, metrics_url.path, *options.metrics_url, error);
    if (!first) throw std::invalid_argument("--metrics " + *options.metrics_url + ": " + error);
    // Named by the user: COLUMN=SELECTOR, each column once, never one another source fills.
    for (const std::string& text : options.metrics) {
      const size_t eq = text.find('=');
      MetricColumn m;
      m.column = text.substr(0, eq);
      if (eq == std::string::npos || m.column.empty()) {
        throw std::invalid_argument(
            "--metric " + text +
            ": expected COLUMN=METRIC, e.g. requests_total=http_requests_total");
      }
      try {
        (void)series::FormatCsvHeader({m.column});
        m.selector = series::ParseMetricExpression(std::string_view(text).substr(eq + 1));
      } catch (const std::invalid_argument& e) {
        throw std::invalid_argument("--metric " + text + ": " + e.what());
      }
      if (m.column == "t_s")
        throw std::invalid_argument("--metric " + text + ": t_s is the time column");
      if (const std::string by = filled_by(m.column); !by.empty()) {
        throw std::invalid_argument("--metric " + text + ": " + m.column +
                                    " is already read from " + by);
      }
      for (const MetricColumn& other : metric_columns) {
        if (other.column == m.column)
          throw std::invalid_argument("--metric " + text + ": " + m.column + " is named twice");
      }
      if (!m.selector.Evaluate(*first)) {
        throw std::invalid_argument("--metric " + text + ": " + *options.metrics_url +
                                    " has no sample of " + m.selector.ToString());
      }
      metric_columns.push_back(std::move(m));
    }
    // The well-known names, for the columns nothing else fills.
    for (const series::DefaultMetric& d : series::DefaultMetricColumns()) {
      if (!filled_by(d.column).empty() ||
          std::any_of(metric_columns.begin(), metric_columns.end(),
                      [&](const MetricColumn& m) { return m.column == d.column; })) {
        continue;
      }
      for (std::string_view name : d.names) {
        series::MetricExpression selector = series::ParseMetricExpression(name);
        if (!selector.Evaluate(*first)) continue;
        metric_columns.push_back({std::string(d.column), std::move(selector), 0});
        break;
      }
    }
    for (MetricColumn& m : metric_columns) {
      m.index = columns.size();
      columns.push_back(m.column);
    }
  }

  WatchOutcome out;
  out.out_dir = options.out_dir;
  if (out.out_dir.empty()) {
    const loadgen::HttpUrl& any = profiles.empty() ? metrics_url : profiles.front().url;
    const std::string target = options.pid ? "pid" + std::to_string(*options.pid)
                                           : any.host + "-" + std::to_string(any.port);
    out.out_dir = fs::path("results") / ("watch-" + target + "-" + UtcFolderStamp());
  }
  if (fs::exists(out.out_dir)) {
    throw std::invalid_argument("--out " + out.out_dir.string() +
                                ": exists; a recorded watch is never overwritten");
  }
  fs::create_directories(out.out_dir);
  if (!profiles.empty()) fs::create_directories(out.out_dir / "profiles");

  // Step 3: the manifest.
  std::string csv = series::FormatCsvHeader(columns);
  std::string events = "t_s,event,detail\n";
  json::array command;
  for (const std::string& a : options.command_line) command.push_back(json::string(a));
  json::object target;
  if (options.pid) target["pid"] = *options.pid;
  if (!profiles.empty()) {
    json::array list;
    for (const ProfileSource& p : profiles)
      list.push_back(json::object{{"url", p.url_text}, {"kind", pprof::KindName(p.kind)}});
    target["pprof"] = std::move(list);
  }
  if (options.metrics_url) {
    json::object mapped;
    for (const MetricColumn& m : metric_columns) mapped[m.column] = m.selector.ToString();
    target["metrics_url"] = *options.metrics_url;
    target["metrics"] = std::move(mapped);
  }
  json::object manifest{{"schema_version", kSchemaVersion},
                        {"kind", "watch"},
                        {"target", std::move(target)},
                        {"flags", json::object{{"every_ms", options.every.count()},
                                               {"duration_ms", options.duration.count()},
                                               {"out", out.out_dir.string()}}},
                        {"command_line", std::move(command)},
                        {"start_time", UtcIsoTime()},
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
  out.end_reason = EndReason::kCompleted;
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
      out.end_reason = EndReason::kInterrupted;
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
        out.end_reason = EndReason::kProcessExited;
        detail = "process " + std::to_string(*options.pid) + " exited after " +
                 std::to_string(row[0]) + " s";
        AddEvent(events, row[0], "process_exit", detail);
        break;
      }
      auto value = [](int64_t v) { return v < 0 ? kMissing : static_cast<double>(v); };
      row[1] = value(m.rss_bytes);
      row[2] = value(m.anon_bytes);
      row[3] = value(m.lazyfree_bytes);
    }
    for (ProfileSource& source : profiles) {
      std::string bytes, error;
      std::optional<pprof::Profile> p;
      if (tick == 0) {
        p = std::move(source.first);
        bytes = std::move(source.first_bytes);
      } else {
        p = FetchProfile(*source.http, source.url.path, bytes, error);
      }
      if (p) {
        char name[32];
        std::snprintf(name, sizeof name, "%s%04zu.pb.gz",
                      source.kind == pprof::ProfileKind::kWorkers ? "workers-" : "heap-",
                      source.written + 1);
        WriteFileAtomically(out.out_dir / "profiles" / name, bytes);
        ++source.written;
        ++out.profiles;
        const std::optional<size_t> index = source.kind == pprof::ProfileKind::kHeap
                                                ? p->FindSampleType("inuse_space")
                                                : std::optional<size_t>(0);
        if (index && *index < p->sample_types.size()) {
          row[source.column] = static_cast<double>(p->TotalValue(*index));
        }
        const bool has_allocated = source.column + 1 < columns.size() &&
                                   columns[source.column + 1] == series::kHeapAllocatedBytesColumn;
        if (const std::optional<size_t> alloc = p->FindSampleType("alloc_space");
            has_allocated && alloc) {
          row[source.column + 1] = static_cast<double>(p->TotalValue(*alloc));
        }
      } else {
        // A missed profile is a gap, not the end: services restart, networks blip.
        AddEvent(events, row[0], "pprof_error", source.url_text + ": " + error);
      }
    }
    if (metrics_http) {
      std::string error;
      const auto scrape =
          FetchMetrics(*metrics_http, metrics_url.path, *options.metrics_url, error);
      if (scrape) {
        for (const MetricColumn& m : metric_columns) {
          row[m.index] = m.selector.Evaluate(*scrape).value_or(kMissing);
        }
      } else {
        AddEvent(events, row[0], "metrics_error", error);
      }
    }
    series::AppendCsvRow(csv, row);
    ++out.samples;
    if (options.progress) {
      std::fprintf(stderr, "\r  %.0f s  %zu samples  %zu profiles   ", row[0], out.samples,
                   out.profiles);
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
  manifest["end"] = json::object{
      {"reason", EndReasonName(out.end_reason)}, {"detail", detail}, {"t_s", elapsed_s()}};
  json::object written{{"every_ms", options.every.count()}};
  for (const ProfileSource& p : profiles) {
    written[p.kind == pprof::ProfileKind::kWorkers ? "workers" : "heap"] = p.written;
  }
  manifest["profiles"] = std::move(written);
  flush();
  out.verdict = verdict::AnalyzeResultsFolder(out.out_dir, {});
  try {
    WriteHeapDiffProfile(out.verdict, out.out_dir / "heap-diff.pb.gz");
  } catch (const std::exception& e) {
    out.verdict.explanation +=
        std::string(" Note: no heap diff profile was written: ") + e.what() + ".";
  }
  WriteFileAtomically(out.out_dir / "verdict.json", verdict::VerdictToJson(out.verdict));
  return out;
}

}  // namespace leaklab::harness
