// Load results for machines (JSON, written by the harness as loadgen.json) and
// for people (the binary's wrk-style summary).

#include <boost/json.hpp>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <string>

#include "loadgen/loadgen.h"
#include "loadgen/rate_plan.h"

namespace leaklab::loadgen {
namespace {

constexpr int kSchemaVersion = 2;

// "closed", "open", "mixed" (both kinds of phase) or "idle" (events only).
const char* Mode(const LoadOptions& options) {
  const RatePlan plan(options.schedule, options.duration);
  bool paced = false, closed = false;
  for (const auto& s : plan.segments()) {
    paced = paced || s.mode == RatePlan::Mode::kPaced;
    closed = closed || s.mode == RatePlan::Mode::kClosed;
  }
  if (paced && closed) return "mixed";
  if (paced) return "open";
  if (closed) return "closed";
  return "idle";
}

// wrk's style: 812.00us, 1.23ms, 2.50s.
std::string Latency(double ms) {
  char buf[32];
  if (ms < 1) {
    std::snprintf(buf, sizeof buf, "%.2fus", ms * 1000);
  } else if (ms < 1000) {
    std::snprintf(buf, sizeof buf, "%.2fms", ms);
  } else {
    std::snprintf(buf, sizeof buf, "%.2fs", ms / 1000);
  }
  return buf;
}

std::string Bytes(double bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%s", bytes, units[unit]);
  return buf;
}

// printf onto the end of `out`.
__attribute__((format(printf, 2, 3))) void Appendf(std::string& out, const char* format, ...) {
  char line[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(line, sizeof line, format, args);
  va_end(args);
  out += line;
}

std::string Url(const LoadOptions& options) {
  const bool v6 = options.host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + options.host + "]" : options.host) + ":" +
         std::to_string(options.port) + options.path_template;
}

}  // namespace

boost::json::object ToJson(const LoadOptions& options, const LoadResult& result) {
  namespace json = boost::json;
  json::object opts;
  opts["host"] = options.host;
  opts["port"] = options.port;
  opts["method"] = options.method;
  opts["path_template"] = options.path_template;
  json::array headers;
  for (const auto& h : options.headers) headers.push_back(json::string(h));
  opts["headers"] = std::move(headers);
  opts["body_bytes"] = options.body.size();
  opts["keys"] = FormatKeySpec(options.keys);
  opts["seed"] = options.seed;
  opts["threads"] = options.threads;
  opts["connections"] = options.connections;
  opts["duration_ms"] = options.duration.count();
  opts["schedule"] = options.schedule.ToString();
  opts["mode"] = Mode(options);
  opts["request_timeout_ms"] = options.request_timeout.count();
  opts["connect_timeout_ms"] = options.connect_timeout.count();
  opts["max_requests"] = options.max_requests;
  opts["allow_remote"] = options.allow_remote;

  json::object status;
  const char* classes[] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
  for (int i = 0; i < 6; ++i) status[classes[i]] = result.status_classes[i];

  json::object errors;
  errors["connect"] = result.connect_errors;
  errors["read"] = result.read_errors;
  errors["write"] = result.write_errors;
  errors["status"] = result.status_errors;
  errors["timeout"] = result.timeouts;

  const LatencySummary& l = result.latency;
  json::object latency{{"count", l.count},   {"mean", l.mean_ms},   {"stdev", l.stdev_ms},
                       {"min", l.min_ms},    {"max", l.max_ms},     {"p50", l.p50_ms},
                       {"p75", l.p75_ms},    {"p90", l.p90_ms},     {"p99", l.p99_ms},
                       {"p99_9", l.p999_ms}, {"p99_99", l.p9999_ms}};

  json::array events;
  for (const EventStats& e : result.events) {
    events.push_back(json::object{{"name", e.name},
                                  {"sent", e.sent},
                                  {"ok", e.ok},
                                  {"failed", e.failed},
                                  {"missed", e.missed}});
  }

  json::object res;
  res["requests"] = result.requests;
  res["ok"] = result.ok;
  res["requests_sent"] = result.requests_sent;
  res["planned"] = result.planned;
  res["dropped"] = result.dropped;
  res["retried"] = result.retried;
  res["bytes_read"] = result.bytes_read;
  res["status"] = std::move(status);
  res["errors"] = std::move(errors);
  res["elapsed_s"] = result.elapsed_s;
  res["requests_per_s"] = result.requests_per_s;
  res["latency_from"] = result.latency_from_planned ? "planned_send_time" : "send_time";
  res["latency_ms"] = std::move(latency);
  // Schema 1's two latency fields, for readers that know only those.
  res["latency_mean_ms"] = l.mean_ms;
  res["latency_max_ms"] = l.max_ms;
  res["events"] = std::move(events);

  json::object out;
  out["schema_version"] = kSchemaVersion;
  out["options"] = std::move(opts);
  out["result"] = std::move(res);
  return out;
}

std::string FormatSummary(const LoadOptions& options, const LoadResult& result,
                          bool latency_distribution) {
  std::string out;
  Appendf(out, "Running %.3gs test @ %s\n", std::chrono::duration<double>(options.duration).count(),
          Url(options).c_str());
  const std::string schedule = options.schedule.phases.empty() && options.schedule.events.empty()
                                   ? "closed loop"
                                   : options.schedule.ToString();
  Appendf(out, "  %d threads and %d connections; ", options.threads, options.connections);
  out += schedule + "\n";
  const LatencySummary& l = result.latency;
  Appendf(out, "  Latency   avg %s  stdev %s  p50 %s  p99 %s  max %s  (from %s)\n",
          Latency(l.mean_ms).c_str(), Latency(l.stdev_ms).c_str(), Latency(l.p50_ms).c_str(),
          Latency(l.p99_ms).c_str(), Latency(l.max_ms).c_str(),
          result.latency_from_planned ? "planned send times" : "send times");
  if (latency_distribution) {
    out += "  Latency Distribution (log-linear histogram, 3 significant digits)\n";
    const std::pair<const char*, double> rows[] = {{"50.000%", l.p50_ms},  {"75.000%", l.p75_ms},
                                                   {"90.000%", l.p90_ms},  {"99.000%", l.p99_ms},
                                                   {"99.900%", l.p999_ms}, {"99.990%", l.p9999_ms},
                                                   {"100.000%", l.max_ms}};
    for (const auto& [label, value] : rows) {
      Appendf(out, "  %9s  %10s\n", label, Latency(value).c_str());
    }
  }
  Appendf(out, "  %llu requests in %.2fs, %s read\n",
          static_cast<unsigned long long>(result.requests), result.elapsed_s,
          Bytes(static_cast<double>(result.bytes_read)).c_str());
  if (result.status_errors > 0) {
    Appendf(out, "  Non-2xx responses: %llu\n",
            static_cast<unsigned long long>(result.status_errors));
  }
  if (result.connect_errors + result.read_errors + result.write_errors + result.timeouts > 0) {
    Appendf(out, "  Socket errors: connect %llu, read %llu, write %llu, timeout %llu\n",
            static_cast<unsigned long long>(result.connect_errors),
            static_cast<unsigned long long>(result.read_errors),
            static_cast<unsigned long long>(result.write_errors),
            static_cast<unsigned long long>(result.timeouts));
  }
  if (result.latency_from_planned) {
    Appendf(out, "  Planned %llu requests; dropped %llu (not sent within the timeout)\n",
            static_cast<unsigned long long>(result.planned),
            static_cast<unsigned long long>(result.dropped));
  }
  for (const EventStats& e : result.events) {
    Appendf(out, "  Event %s: %llu sent, %llu ok, %llu failed, %llu missed\n", e.name.c_str(),
            static_cast<unsigned long long>(e.sent), static_cast<unsigned long long>(e.ok),
            static_cast<unsigned long long>(e.failed), static_cast<unsigned long long>(e.missed));
  }
  Appendf(out, "Requests/sec: %10.2f\n", result.requests_per_s);
  Appendf(
      out, "Transfer/sec: %10s\n",
      Bytes(result.elapsed_s > 0 ? static_cast<double>(result.bytes_read) / result.elapsed_s : 0)
          .c_str());
  return out;
}

}  // namespace leaklab::loadgen
