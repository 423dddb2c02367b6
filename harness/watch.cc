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
#include "common/duration.h"
#include "common/errors.h"
#include "common/utc_time.h"
#include "harness/http_get.h"
#include "harness/procfs_sampler.h"
#include "harness/results_folder.h"
#include "loadgen/loadgen.h"

namespace leaklab::harness {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

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
    throw UsageError(std::string(flag) + " " + text + ": " + e.what());
  }
}

// A watch, step by step: CheckTargets and ChooseColumns before anything is
// written, then one TakeSample per tick into the folder, which Finish
// analyzes as `leaklab analyze DIR` would.
class Watcher {
 public:
  explicit Watcher(const WatchOptions& options) : options_(options) {}

  WatchOutcome Run() {
    CheckTargets();
    ChooseColumns();
    ResultsFolder folder(options_.out_dir, DefaultStem(), Manifest());
    folder.SetColumns(columns_);
    folder.Flush();
    start_ = Clock::now();
    Ending end;
    // A failure of leaklab itself (the disk is full) ends the watch, which
    // still finishes its folder with what it recorded.
    try {
      end = SampleUntilDone(folder);
    } catch (const std::exception& e) {
      end = {EndReason::kHarnessError, e.what()};
    }
    if (options_.progress) std::fprintf(stderr, "\r%*s\r", 60, "");
    folder.manifest()["elapsed_s"] = ElapsedS();
    folder.RecordEnd(end.reason, end.detail, ElapsedS());
    json::object written{{"every_ms", options_.every.count()}};
    for (const ProfileSource& p : sources_) written[ProfileFileKind(p.kind)] = p.written;
    folder.manifest()["profiles"] = std::move(written);
    FolderAnalysis analysis = folder.Finish(options_.write_report);
    if (!analysis.write_error.empty()) throw IoError(analysis.write_error);
    return {folder.dir(),
            end.reason,
            end.detail,
            folder.samples(),
            profiles_,
            std::move(analysis.verdict),
            std::move(analysis.report),
            std::move(analysis.report_error)};
  }

 private:
  struct Ending {
    EndReason reason = EndReason::kCompleted;
    std::string detail = "watched for the whole duration";
  };

  double ElapsedS() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

  // One sample per tick until the duration is over, the user stops it, the
  // process exits, or the target stops answering.
  Ending SampleUntilDone(ResultsFolder& folder) {
    // Ticks in a row at which no source answered, and since when.
    int64_t silent_ticks = 0;
    double silent_since_s = 0;
    for (int64_t tick = 0;; ++tick) {
      const Clock::time_point due = start_ + tick * options_.every;
      if (due - start_ >= options_.duration) return {};
      if (!SleepUntil(due))
        return {EndReason::kInterrupted, "stopped by the user after " + FormatSeconds(ElapsedS())};
      const double t_s = ElapsedS();
      const Sample sample = TakeSample(folder, tick, t_s, profiles_);
      if (sample == Sample::kProcessExited) {
        Ending end{EndReason::kProcessExited, "process " + std::to_string(*options_.pid) +
                                                  " exited after " + FormatSeconds(t_s)};
        folder.AddEvent(t_s, "process_exit", end.detail);
        return end;
      }
      if (sample == Sample::kNothingAnswered && silent_ticks++ == 0) silent_since_s = t_s;
      if (sample == Sample::kTaken) silent_ticks = 0;
      // A blip is a gap; a target silent this long is gone, and a watch
      // that ends on silence did not watch a live target to the end.
      const bool last_tick = (tick + 1) * options_.every >= options_.duration;
      if (silent_ticks >= kMinSilentTicks &&
          (t_s - silent_since_s >= kMaxSilence.count() || last_tick)) {
        Ending end{EndReason::kTargetUnreachable,
                   "the target stopped answering at " + FormatSeconds(silent_since_s) + " (" +
                       std::to_string(silent_ticks) + " samples in a row without data)"};
        folder.AddEvent(t_s, "target_lost", end.detail);
        return end;
      }
      if (options_.progress) {
        std::fprintf(stderr, "\r  %.0f s  %zu samples  %zu profiles   ", ElapsedS(),
                     folder.samples(), profiles_);
      }
      folder.FlushIfDue();
    }
  }

  static const char* ProfileFileKind(pprof::ProfileKind kind) {
    return kind == pprof::ProfileKind::kWorkers ? "workers" : "heap";
  }

  // Sleeps until `due`; false when the user interrupts first.
  bool SleepUntil(Clock::time_point due) const {
    auto interrupted = [&] { return options_.interrupted && options_.interrupted->load(); };
    while (Clock::now() < due && !interrupted())
      std::this_thread::sleep_for(std::min<Clock::duration>(due - Clock::now(), milliseconds(50)));
    return !interrupted();
  }

  // Step 1: every option checked and every target reached before anything
  // is written.
  void CheckTargets() {
    if (!options_.pid && options_.pprof_urls.empty() && !options_.metrics_url)
      throw UsageError("give --pid PID, --pprof URL and/or --metrics URL");
    if (!options_.metrics.empty() && !options_.metrics_url) {
      throw UsageError("--metric " + options_.metrics.front() +
                       ": needs --metrics URL to read it from");
    }
    if (options_.every < kMinWatchInterval) throw UsageError("--every must be at least 10ms");
    if (options_.duration <= milliseconds(0) || options_.duration > kMaxWatchDuration)
      throw UsageError("--for must be more than 0 and at most 168h");
    if (options_.pid) {
      procfs_ = std::make_unique<ProcfsSampler>(*options_.pid);
      if (*options_.pid <= 0 || !procfs_->ok()) {
        throw UsageError("--pid " + std::to_string(*options_.pid) +
                         ": no such process (cannot read /proc/" + std::to_string(*options_.pid) +
                         "/status)");
      }
    }
    for (const std::string& text : options_.pprof_urls) {
      ProfileSource& p = sources_.emplace_back();
      p.url_text = text;
      p.url = ParseUrlFlag("--pprof", text);
      p.http = std::make_unique<HttpGetter>(p.url.host, p.url.port);
      std::string error;
      p.first = FetchProfile(*p.http, p.url.path, p.first_bytes, error);
      if (!p.first) throw UsageError("--pprof " + text + ": " + error);
      p.kind = pprof::KindOf(*p.first);
      if (p.kind == pprof::ProfileKind::kOther) {
        throw UsageError("--pprof " + text +
                         ": neither a heap profile (inuse_space) nor a goroutine profile");
      }
      for (size_t i = 0; i + 1 < sources_.size(); ++i) {
        if (sources_[i].kind == p.kind) {
          throw UsageError("--pprof " + text + ": a second " + pprof::KindName(p.kind) +
                           " profile (" + sources_[i].url_text +
                           " is one); give one heap and one goroutine profile");
        }
      }
    }
  }

  // Which source fills a column already: "" when none.
  std::string FilledBy(std::string_view column) const {
    auto has = [&](pprof::ProfileKind kind) {
      return std::any_of(sources_.begin(), sources_.end(),
                         [kind](const ProfileSource& p) { return p.kind == kind; });
    };
    if (procfs_ && (column == series::kRssBytesColumn || column == series::kAnonBytesColumn ||
                    column == series::kLazyfreeBytesColumn)) {
      return "/proc (--pid)";
    }
    if (column == series::kHeapInuseBytesColumn && has(pprof::ProfileKind::kHeap))
      return "the heap profile";
    if (column == series::kWorkersColumn && has(pprof::ProfileKind::kWorkers))
      return "the goroutine profile";
    return "";
  }

  // Step 2: the folder's columns: only those this watch can fill, since
  // empty ones would read as a signal with no samples. /proc and the
  // profiles come first; the metrics endpoint fills what they leave.
  void ChooseColumns() {
    columns_ = {"t_s"};
    if (procfs_) {
      columns_.insert(columns_.end(),
                      {std::string(series::kRssBytesColumn), std::string(series::kAnonBytesColumn),
                       std::string(series::kLazyfreeBytesColumn)});
    }
    for (ProfileSource& p : sources_) {
      p.column = columns_.size();
      if (p.kind == pprof::ProfileKind::kHeap) {
        columns_.emplace_back(series::kHeapInuseBytesColumn);
        // Cumulative allocation, when the profile has it: it moves at every
        // garbage collection, which tells a repeat that is stale (Go's
        // profile between collections) from one that is real.
        if (p.first->FindSampleType("alloc_space"))
          columns_.emplace_back(series::kHeapAllocatedBytesColumn);
      } else {
        columns_.emplace_back(series::kWorkersColumn);
      }
    }
    if (options_.metrics_url) ChooseMetricColumns();
  }

  // The user's --metric columns, checked against a first scrape, then the
  // well-known names for the columns nothing else fills.
  void ChooseMetricColumns() {
    metrics_url_ = ParseUrlFlag("--metrics", *options_.metrics_url);
    metrics_http_ = std::make_unique<HttpGetter>(metrics_url_.host, metrics_url_.port);
    std::string error;
    const auto first =
        FetchMetrics(*metrics_http_, metrics_url_.path, *options_.metrics_url, error);
    if (!first) throw UsageError("--metrics " + *options_.metrics_url + ": " + error);
    for (const std::string& text : options_.metrics) {
      MetricColumn m = ParseMetricFlag(text);
      if (const std::string by = FilledBy(m.column); !by.empty())
        throw UsageError("--metric " + text + ": " + m.column + " is already read from " + by);
      for (const MetricColumn& other : metric_columns_) {
        if (other.column == m.column)
          throw UsageError("--metric " + text + ": " + m.column + " is named twice");
      }
      if (!m.selector.Evaluate(*first)) {
        throw UsageError("--metric " + text + ": " + *options_.metrics_url + " has no sample of " +
                         m.selector.ToString());
      }
      metric_columns_.push_back(std::move(m));
    }
    for (const series::DefaultMetric& d : series::DefaultMetricColumns()) {
      if (!FilledBy(d.column).empty() ||
          std::any_of(metric_columns_.begin(), metric_columns_.end(),
                      [&](const MetricColumn& m) { return m.column == d.column; })) {
        continue;
      }
      for (std::string_view name : d.names) {
        series::MetricExpression selector = series::ParseMetricExpression(name);
        if (!selector.Evaluate(*first)) continue;
        metric_columns_.push_back({std::string(d.column), std::move(selector), 0});
        break;
      }
    }
    for (MetricColumn& m : metric_columns_) {
      m.index = columns_.size();
      columns_.push_back(m.column);
    }
  }

  // --metric COLUMN=SELECTOR, the column a valid name other than t_s.
  static MetricColumn ParseMetricFlag(const std::string& text) {
    const size_t eq = text.find('=');
    MetricColumn m;
    m.column = text.substr(0, eq);
    if (eq == std::string::npos || m.column.empty()) {
      throw UsageError("--metric " + text +
                       ": expected COLUMN=METRIC, e.g. requests_total=http_requests_total");
    }
    try {
      (void)series::FormatCsvHeader({m.column});
      m.selector = series::ParseMetricExpression(std::string_view(text).substr(eq + 1));
    } catch (const std::invalid_argument& e) {
      throw UsageError("--metric " + text + ": " + e.what());
    }
    if (m.column == "t_s") throw UsageError("--metric " + text + ": t_s is the time column");
    return m;
  }

  std::string DefaultStem() const {
    const loadgen::HttpUrl& any = sources_.empty() ? metrics_url_ : sources_.front().url;
    return "watch-" + (options_.pid ? "pid" + std::to_string(*options_.pid)
                                    : any.host + "-" + std::to_string(any.port));
  }

  json::object Manifest() const {
    json::array command;
    for (const std::string& a : options_.command_line) command.push_back(json::string(a));
    json::object target;
    if (options_.pid) target["pid"] = *options_.pid;
    if (!sources_.empty()) {
      json::array list;
      for (const ProfileSource& p : sources_)
        list.push_back(json::object{{"url", p.url_text}, {"kind", pprof::KindName(p.kind)}});
      target["pprof"] = std::move(list);
    }
    if (options_.metrics_url) {
      json::object mapped;
      for (const MetricColumn& m : metric_columns_) mapped[m.column] = m.selector.ToString();
      target["metrics_url"] = *options_.metrics_url;
      target["metrics"] = std::move(mapped);
    }
    return json::object{{"kind", "watch"},
                        {"target", std::move(target)},
                        {"flags", json::object{{"every_ms", options_.every.count()},
                                               {"duration_ms", options_.duration.count()},
                                               {"out", options_.out_dir.string()}}},
                        {"command_line", std::move(command)},
                        {"start_time", UtcIsoTime()}};
  }

  enum class Sample { kTaken, kNothingAnswered, kProcessExited };

  // One row: /proc, the profiles (saved into profiles/), the metrics. A
  // missed profile or scrape is a gap, not the end: services restart,
  // networks blip.
  Sample TakeSample(ResultsFolder& folder, int64_t tick, double t_s, size_t& profiles) {
    std::vector<double> row(columns_.size(), kMissing);
    row[0] = t_s;
    if (procfs_) {
      const ProcMemory m = procfs_->Sample();
      // A live process always has VmRSS; one that exited has no /proc entry,
      // or (a zombie its parent has not reaped) an entry without VmRSS.
      if (m.rss_bytes < 0) return Sample::kProcessExited;
      auto value = [](int64_t v) { return v < 0 ? kMissing : static_cast<double>(v); };
      row[1] = value(m.rss_bytes);
      row[2] = value(m.anon_bytes);
      row[3] = value(m.lazyfree_bytes);
    }
    bool answered = procfs_ != nullptr;
    for (ProfileSource& source : sources_) {
      std::string bytes, error;
      std::optional<pprof::Profile> p;
      if (tick == 0) {
        p = std::move(source.first);
        bytes = std::move(source.first_bytes);
      } else {
        p = FetchProfile(*source.http, source.url.path, bytes, error);
      }
      if (!p) {
        folder.AddEvent(t_s, "pprof_error", source.url_text + ": " + error);
        continue;
      }
      answered = true;
      WriteFileAtomically(folder.NextProfilePath(ProfileFileKind(source.kind)), bytes);
      ++source.written;
      ++profiles;
      FillProfileColumns(*p, source, row);
    }
    if (metrics_http_) {
      std::string error;
      const auto scrape =
          FetchMetrics(*metrics_http_, metrics_url_.path, *options_.metrics_url, error);
      if (!scrape) folder.AddEvent(t_s, "metrics_error", error);
      answered = answered || scrape.has_value();
      for (const MetricColumn& m : metric_columns_)
        row[m.index] = scrape ? m.selector.Evaluate(*scrape).value_or(kMissing) : kMissing;
    }
    folder.AddSample(row);
    return answered ? Sample::kTaken : Sample::kNothingAnswered;
  }

  // A profile's totals: in use (or goroutines), and allocated when the
  // folder records it.
  void FillProfileColumns(const pprof::Profile& p, const ProfileSource& source,
                          std::vector<double>& row) const {
    const std::optional<size_t> index = source.kind == pprof::ProfileKind::kHeap
                                            ? p.FindSampleType("inuse_space")
                                            : std::optional<size_t>(0);
    if (index && *index < p.sample_types.size())
      row[source.column] = static_cast<double>(p.TotalValue(*index));
    const bool has_allocated = source.column + 1 < columns_.size() &&
                               columns_[source.column + 1] == series::kHeapAllocatedBytesColumn;
    if (const std::optional<size_t> alloc = p.FindSampleType("alloc_space"); has_allocated && alloc)
      row[source.column + 1] = static_cast<double>(p.TotalValue(*alloc));
  }

  const WatchOptions& options_;
  std::unique_ptr<ProcfsSampler> procfs_;
  std::vector<ProfileSource> sources_;
  std::unique_ptr<HttpGetter> metrics_http_;
  loadgen::HttpUrl metrics_url_;
  std::vector<MetricColumn> metric_columns_;
  std::vector<std::string> columns_;
  Clock::time_point start_;
  size_t profiles_ = 0;  // profiles written
};

}  // namespace

WatchOutcome Watch(const WatchOptions& options) { return Watcher(options).Run(); }

}  // namespace leaklab::harness
