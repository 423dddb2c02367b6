#ifndef LEAKLAB_LOADGEN_LOADGEN_H_
#define LEAKLAB_LOADGEN_LOADGEN_H_

// HTTP/1.1 load generator: N keep-alive connections driving one target, closed
// loop or paced at a total rate, for a fixed time. Used by the harness to drive
// scenario servers and by the standalone leaklab-loadgen binary (like wrk).

#include <atomic>
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace leaklab::loadgen {

struct LoadOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  // Request path; every "{n}" is replaced by a per-request counter that is unique
  // across all connections (0, 1, 2, ...), e.g. "/track?id={n}".
  std::string path_template = "/";
  // Any HTTP method Beast knows ("GET", "POST", ...); requests carry no body.
  std::string method = "GET";
  // Extra request headers, each "Name: value" (as wrk's -H).
  std::vector<std::string> headers;
  int connections = 4;  // keep-alive HTTP/1.1 connections
  std::chrono::milliseconds duration{10000};
  // 0 = as fast as possible (closed loop); > 0 = total target rate in requests per
  // second, paced evenly over the connections.
  double rate_per_s = 0;
  // Covers writing one request and reading its whole response.
  std::chrono::milliseconds request_timeout{5000};
  std::chrono::milliseconds connect_timeout{2000};
  // 0 = unbounded (duration still bounds the run). Otherwise at most this many
  // requests are sent, so "{n}" takes the values 0 .. max_requests-1.
  uint64_t max_requests = 0;
  // This tool runs on shared machines: without this, only loopback targets
  // (127.0.0.0/8, ::1, "localhost") are accepted.
  bool allow_remote = false;
};

struct LoadResult {
  uint64_t requests = 0;  // completed responses (any status)
  uint64_t ok = 0;        // 2xx
  // Errors by category. A failed connect, write or read counts once, in the
  // category of the step that failed, except when it failed because its timeout
  // expired: then it counts in `timeouts`. Requests cut short by the end of the
  // run are not counted at all.
  uint64_t connect_errors = 0;
  uint64_t read_errors = 0;
  uint64_t write_errors = 0;
  uint64_t status_errors = 0;  // responses that were not 2xx
  uint64_t timeouts = 0;
  uint64_t requests_sent = 0;  // requests written or attempted (each used one "{n}")
  double elapsed_s = 0;
  double requests_per_s = 0;  // requests / elapsed_s
  // Time from starting to write a request to having read its whole response,
  // over completed responses.
  double latency_mean_ms = 0;
  double latency_max_ms = 0;
};

// Throws std::invalid_argument naming the field at fault, e.g.
// "connections must be >= 1 (got 0)". RunLoad calls it first.
void ValidateOptions(const LoadOptions& options);

// Runs the load until `duration` elapses, `max_requests` have been sent and
// answered (or failed), or `stop` becomes true (checked every few tens of ms).
// `completed` (optional) is incremented after each response so a caller on
// another thread can show live req/s. Blocks the calling thread, which runs all
// connections. Throws std::invalid_argument for bad options and
// std::runtime_error when the host cannot be resolved.
LoadResult RunLoad(const LoadOptions& options, const std::atomic<bool>* stop = nullptr,
                   std::atomic<uint64_t>* completed = nullptr);

// {"options": {...}, "result": {...}}; durations in milliseconds, with the unit
// in each key (e.g. "duration_ms"). This is what the harness writes to loadgen.json.
boost::json::object ToJson(const LoadOptions& options, const LoadResult& result);

// A few lines for people: target, counts, rate, latency, errors.
std::string FormatSummary(const LoadOptions& options, const LoadResult& result);

// Helpers, public so the binary and tests can use them.

// True for IPv4 127.0.0.0/8 (also IPv4-mapped IPv6), ::1 and "localhost" (any case).
// Names other than "localhost" are not resolved here and count as not loopback.
bool IsLoopbackHost(std::string_view host);

// Splits "Name: value" into name and value (surrounding blanks trimmed);
// throws std::invalid_argument when there is no name or no colon.
std::pair<std::string, std::string> ParseHeader(std::string_view header);

// Replaces every "{n}" in `path_template` with the decimal `n`.
std::string ExpandPathTemplate(std::string_view path_template, uint64_t n);

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
