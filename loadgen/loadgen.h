#ifndef LEAKLAB_LOADGEN_LOADGEN_H_
#define LEAKLAB_LOADGEN_LOADGEN_H_

// HTTP/1.1 load generator: threads x keep-alive connections driving one
// target, closed loop (as fast as the server answers) or open loop (requests
// sent at planned times, latency measured from those times, as wrk2 does),
// following a schedule of phases and timed event requests. Used by the
// harness to drive scenario servers and by the standalone leaklab-loadgen
// binary (a wrk/wrk2 stand-in). loadgen/README.md describes the schedule and
// key languages.

#include <atomic>
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace leaklab::loadgen {

using std::chrono::milliseconds;

// ---------------------------------------------------------------- schedules

enum class PhaseKind { kIdle, kSteady, kRamp, kBurst };

// A stretch of the run with one request rate, or a rate that changes linearly.
struct Phase {
  PhaseKind kind = PhaseKind::kSteady;
  milliseconds duration{0};
  // Total requests per second at the phase's start and end (equal except in
  // a ramp). Ignored for idle and closed-loop phases.
  double from_rate_per_s = 0;
  double to_rate_per_s = 0;
  // As fast as the connections go (steady or burst without a rate).
  bool closed_loop = false;
};

// A request sent apart from the load at fixed times: a config reload every
// second, one big burst at t = 1.5 s. Sent on a connection of its own.
struct ScheduledEvent {
  std::string name;  // [a-z0-9_-]+, the event's name in results/events.csv
  std::string method = "GET";
  std::string path;  // request target, from "/"
  milliseconds first_at{0};
  milliseconds every{0};  // 0 = once
};

struct Schedule {
  // In order. None: closed loop for the whole run.
  std::vector<Phase> phases;
  std::vector<ScheduledEvent> events;

  milliseconds PhasesDuration() const;
  // The spec that ParseSchedule reads back into this schedule, e.g.
  // "steady 10s at 1000/s; event reload POST /reload at 500ms every 1s".
  std::string ToString() const;
  // One steady phase: rate_per_s 0 = closed loop.
  static Schedule Steady(milliseconds duration, double rate_per_s);
};

// Parses the schedule language (loadgen/README.md), clauses separated by ';'
// or new lines, '#' to the end of a line is a comment:
//   idle 2s | steady 10s [at 1000/s] | burst 1s [at 5000/s]
//   ramp 5s [from 100/s] to 1000/s
//   event NAME METHOD /path at 500ms [every 1s]
// Throws std::invalid_argument naming the clause and the word at fault, e.g.
// "clause 2 'ramp 5s to': expected a rate after 'to'".
Schedule ParseSchedule(std::string_view spec);
// Checks a schedule built in code the way ParseSchedule checks text.
void ValidateSchedule(const Schedule& schedule);
// "steady 10s at 1000/s", "ramp 5s from 0/s to 1000/s", "steady 10s" (closed loop).
std::string FormatPhase(const Phase& phase);

// --------------------------------------------------------------------- keys

// Which key each request carries in "{key}".
struct KeySpec {
  enum class Kind {
    kUnique,   // key = request number: every request a new key
    kUniform,  // uniform over keys 0 .. count-1
    kZipf,     // Zipf(exponent) over keys 0 .. count-1, key 0 the most frequent
  };
  Kind kind = Kind::kUnique;
  uint64_t count = 0;
  double exponent = 1.0;
};
// "unique", "uniform:K" or "zipf:K[:S]" (S defaults to 1). Throws
// std::invalid_argument naming the part at fault.
KeySpec ParseKeySpec(std::string_view text);
std::string FormatKeySpec(const KeySpec& keys);

// ------------------------------------------------------------------ options

struct LoadOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  // Request target; "{n}" becomes the request's number, unique over the run
  // (0, 1, 2, ... across all threads), "{key}" its key (see `keys`).
  std::string path_template = "/";
  std::string method = "GET";  // any method Beast knows
  // Extra request headers, each "Name: value" (as wrk's -H). A Host given
  // here replaces the default one; like wrk, no User-Agent unless given here.
  std::vector<std::string> headers;
  // Request body; may hold "{n}" and "{key}" too. Sent with Content-Length.
  std::string body;
  KeySpec keys;
  // Seeds the key choice: request n gets the same key in every run with the
  // same seed, whatever the threads and timing.
  uint64_t seed = 1;
  // Each thread runs its own event loop over its share of the connections.
  int threads = 1;
  // Keep-alive HTTP/1.1 connections over all threads. 0 only when no phase
  // sends load (events only).
  int connections = 4;
  Schedule schedule;
  // The run's length: phases past it are cut, and the last phase holds
  // until it ends.
  milliseconds duration{10'000};
  // Writing one request and reading its whole response; in open loop counted
  // from the request's planned send time. A request that could not even be
  // sent within this time of its planned time is dropped (LoadResult::dropped).
  milliseconds request_timeout{5'000};
  milliseconds connect_timeout{2'000};
  // 0 = unbounded (duration still bounds the run). Otherwise at most this
  // many requests are sent, numbered 0 .. max_requests-1.
  uint64_t max_requests = 0;
  // This tool runs on shared machines: without this, only loopback targets
  // (127.0.0.0/8, ::1, "localhost") are accepted.
  bool allow_remote = false;
};

// ------------------------------------------------------------------- result

// Latency over completed responses, in milliseconds. Percentiles carry the
// histogram's precision (3 significant digits).
struct LatencySummary {
  uint64_t count = 0;
  double mean_ms = 0, stdev_ms = 0, min_ms = 0, max_ms = 0;
  double p50_ms = 0, p75_ms = 0, p90_ms = 0, p99_ms = 0, p999_ms = 0, p9999_ms = 0, p99999_ms = 0;
  double within_stdev_pct = 0;  // share of latencies within one stdev of the mean
};

// The request rate of each thread, sampled every 100 ms as wrk does for its
// Req/Sec row (an interval with no response is folded into the next one).
struct ThreadRateSummary {
  uint64_t samples = 0;
  double mean = 0, stdev = 0, max = 0;  // requests per second
  double within_stdev_pct = 0;
};

struct EventStats {
  std::string name;
  uint64_t sent = 0;    // requests sent
  uint64_t ok = 0;      // answered 2xx
  uint64_t failed = 0;  // other status, or no answer
  // Due times skipped because the previous event request was still running.
  uint64_t missed = 0;
};

struct LoadResult {
  uint64_t requests = 0;  // completed responses (any status)
  uint64_t ok = 0;        // 2xx
  // Responses by status class: [1] = 1xx ... [5] = 5xx, [0] = anything else.
  uint64_t status_classes[6] = {};
  // Errors by category. A failed connect, write or read counts once, in the
  // category of the step that failed (a response that is not HTTP is a read
  // error), except when its timeout expired: then it counts in `timeouts`.
  // Requests cut short by the end of the run are not counted at all.
  uint64_t connect_errors = 0;
  uint64_t read_errors = 0;
  uint64_t write_errors = 0;
  uint64_t status_errors = 0;  // responses that were not 2xx
  uint64_t timeouts = 0;
  uint64_t requests_sent = 0;  // requests written or attempted
  // Open loop: planned requests never sent, because no connection was free
  // (or connected) within request_timeout of their planned time, or before
  // the run ended.
  uint64_t dropped = 0;
  // Idempotent requests sent again once on a new connection because a reused
  // keep-alive connection turned out closed (RFC 9110 section 9.2.2).
  uint64_t retried = 0;
  // Requests the schedule planned before the run ended (open-loop phases only).
  uint64_t planned = 0;
  uint64_t bytes_read = 0;
  double elapsed_s = 0;
  double requests_per_s = 0;  // requests / elapsed_s
  // True when some latencies were measured from planned send times (open
  // loop, corrected for coordinated omission), false when all were from the
  // moment the request was written (closed loop).
  bool latency_from_planned = false;
  LatencySummary latency;
  ThreadRateSummary thread_rate;
  std::vector<EventStats> events;
};

// ------------------------------------------------------------------ running

struct Progress {
  double elapsed_s = 0;
  uint64_t requests = 0;      // completed so far
  uint64_t errors = 0;        // all categories so far
  double requests_per_s = 0;  // over the last interval
};

// Something that happened during the run, for events.csv: a phase started
// (name "phase", detail "ramp 5s from 0/s to 1000/s") or an event request
// was answered (name "reload", detail "POST /reload -> 200").
struct LoadEvent {
  std::chrono::steady_clock::time_point at;
  std::string name;
  std::string detail;
};

struct RunControl {
  // Polled every few milliseconds; true ends the run early.
  const std::atomic<bool>* stop = nullptr;
  // Called about once a second, on a load thread.
  std::function<void(const Progress&)> on_progress;
  // Called on a load thread (always the same one) as things happen.
  std::function<void(const LoadEvent&)> on_event;
};

// Throws std::invalid_argument naming the field at fault, e.g.
// "connections must be >= 1 and <= 10000 (got 0)". RunLoad calls it first.
void ValidateOptions(const LoadOptions& options);

// Runs the load until `duration` elapses, `max_requests` have been sent and
// answered (or failed), or `*control.stop` becomes true. Blocks the calling
// thread, which runs the first worker; the others get threads of their own.
// Throws std::invalid_argument for bad options and std::runtime_error when the
// host cannot be resolved.
LoadResult RunLoad(const LoadOptions& options, const RunControl& control = {});

// {"schema_version": 2, "options": {...}, "result": {...}}: durations in
// milliseconds with the unit in each key (results/README.md). The harness
// writes this as loadgen.json; the binary prints it for --json.
boost::json::object ToJson(const LoadOptions& options, const LoadResult& result);

// A wrk-style report for people: target, threads and connections, latency
// (with the distribution when `latency_distribution`), errors, "Requests/sec:".
std::string FormatSummary(const LoadOptions& options, const LoadResult& result,
                          bool latency_distribution);

// ------------------------------------------------------------------ helpers

// True for IPv4 127.0.0.0/8 (also IPv4-mapped IPv6), ::1 and "localhost" (any case).
// Names other than "localhost" are not resolved here and count as not loopback.
bool IsLoopbackHost(std::string_view host);

// Splits "Name: value" into name and value (surrounding blanks trimmed);
// throws std::invalid_argument when there is no name or no colon.
std::pair<std::string, std::string> ParseHeader(std::string_view header);

// Replaces every "{n}" with `n` and every "{key}" with `key`.
std::string ExpandTemplate(std::string_view text, uint64_t n, uint64_t key);

struct HttpUrl {
  std::string host;  // IPv6 literals without their brackets
  uint16_t port = 80;
  std::string path = "/";  // path and query, "/" when the URL has none
};
// Parses "http://host[:port][/path[?query]]", e.g. "http://[::1]:8080/track?id={n}".
// Only plain http; throws std::invalid_argument naming the URL and what is wrong.
HttpUrl ParseHttpUrl(std::string_view url);

}  // namespace leaklab::loadgen

#endif  // LEAKLAB_LOADGEN_LOADGEN_H_
