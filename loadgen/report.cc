// Load results for machines (JSON, written by the harness as loadgen.json) and
// for people (the binary's wrk-style summary).

#include <boost/json.hpp>
#include <cctype>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
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

// Numbers as wrk prints them (facts of wrk's src/units.c, github.com/wg/wrk):
// divided by `scale` while at least 0.85 of it, up to the second-to-last unit
// of the list, then printed with `precision` decimals and the unit.
std::string WrkUnits(double n, double scale, const char* base,
                     std::initializer_list<const char*> units, int precision) {
  const char* unit = base;
  auto next = units.begin();
  while (next + 1 < units.end() && n >= 0.85 * scale) {
    n /= scale;
    unit = *next++;
  }
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f%s", precision, n, unit);
  return buf;
}

// 812.00us, 1.23ms, 2.50s, 1.50m.
std::string WrkTimeUs(double us) {
  if (us >= 1e6) return WrkUnits(us / 1e6, 60, "s", {"m", "h"}, 2);
  return WrkUnits(us, 1000, "us", {"ms", "s"}, 2);
}
std::string Latency(double ms) { return WrkTimeUs(ms * 1000); }
// 13.33k requests per second.
std::string WrkMetric(double n) { return WrkUnits(n, 1000, "", {"k", "M", "G", "T", "P"}, 2); }
// 4.78M (wrk appends the B).
std::string WrkBinary(double n) { return WrkUnits(n, 1024, "", {"K", "M", "G", "T", "P"}, 2); }

// wrk's print_units: `text` right-aligned in `width` columns, counting the
// unit's letters into the two columns after the number, so that numbers line
// up whatever their unit ("174.49us", "  6.64ms", " 13.33k ").
std::string WrkColumn(const std::string& text, int width) {
  const size_t len = text.size();
  int pad = 2;
  if (len >= 1 && std::isalpha(static_cast<unsigned char>(text[len - 1]))) --pad;
  if (len >= 2 && std::isalpha(static_cast<unsigned char>(text[len - 2]))) --pad;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%*.*s%.*s", width - pad, width - pad, text.c_str(), pad, "  ");
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
  // Laid out as wrk (closed loop) and wrk2 (open loop) print theirs, line for
  // line where they have the same figure, so that scripts written for their
  // output keep working; lines of ours (the schedule, dropped requests,
  // events) come after the line they belong with.
  std::string out;
  const double duration_s = std::chrono::duration<double>(options.duration).count();
  Appendf(out, "Running %s test @ %s\n", WrkUnits(duration_s, 60, "s", {"m", "h"}, 0).c_str(),
          Url(options).c_str());
  Appendf(out, "  %d threads and %d connections\n", options.threads, options.connections);
  if (!options.schedule.phases.empty() || !options.schedule.events.empty()) {
    Appendf(out, "  Schedule: %s\n", options.schedule.ToString().c_str());
  }
  const LatencySummary& l = result.latency;
  const ThreadRateSummary& r = result.thread_rate;
  Appendf(out, "  Thread Stats%6s%11s%8s%12s\n", "Avg", "Stdev", "Max", "+/- Stdev");
  Appendf(out, "    %-10s%s%s%s%8.2f%%\n", "Latency", WrkColumn(Latency(l.mean_ms), 8).c_str(),
          WrkColumn(Latency(l.stdev_ms), 10).c_str(), WrkColumn(Latency(l.max_ms), 9).c_str(),
          l.within_stdev_pct);
  Appendf(out, "    %-10s%s%s%s%8.2f%%\n", "Req/Sec", WrkColumn(WrkMetric(r.mean), 8).c_str(),
          WrkColumn(WrkMetric(r.stdev), 10).c_str(), WrkColumn(WrkMetric(r.max), 9).c_str(),
          r.within_stdev_pct);
  if (latency_distribution) {
    if (result.latency_from_planned) {
      // wrk2's rows; its latencies, like these, count from the planned send time.
      out += "  Latency Distribution (log-linear histogram - Recorded Latency)\n";
      const std::pair<double, double> rows[] = {
          {50, l.p50_ms},    {75, l.p75_ms},      {90, l.p90_ms},        {99, l.p99_ms},
          {99.9, l.p999_ms}, {99.99, l.p9999_ms}, {99.999, l.p99999_ms}, {100, l.max_ms}};
      for (const auto& [p, value] : rows) {
        Appendf(out, "%7.3f%%%s\n", p, WrkColumn(Latency(value), 10).c_str());
      }
    } else {
      out += "  Latency Distribution\n";
      const std::pair<double, double> rows[] = {
          {50, l.p50_ms}, {75, l.p75_ms}, {90, l.p90_ms}, {99, l.p99_ms}};
      for (const auto& [p, value] : rows) {
        Appendf(out, "%7.0f%%%s\n", p, WrkColumn(Latency(value), 10).c_str());
      }
    }
  }
  Appendf(out, "  %llu requests in %s, %sB read\n",
          static_cast<unsigned long long>(result.requests),
          WrkTimeUs(result.elapsed_s * 1e6).c_str(),
          WrkBinary(static_cast<double>(result.bytes_read)).c_str());
  if (result.connect_errors + result.read_errors + result.write_errors + result.timeouts > 0) {
    Appendf(out, "  Socket errors: connect %llu, read %llu, write %llu, timeout %llu\n",
            static_cast<unsigned long long>(result.connect_errors),
            static_cast<unsigned long long>(result.read_errors),
            static_cast<unsigned long long>(result.write_errors),
            static_cast<unsigned long long>(result.timeouts));
  }
  // wrk counts 4xx and 5xx under this label; other statuses that are not
  // 2xx (1xx, 3xx) have a line of their own.
  const uint64_t client_server = result.status_classes[4] + result.status_classes[5];
  if (client_server > 0) {
    Appendf(out, "  Non-2xx or 3xx responses: %llu\n",
            static_cast<unsigned long long>(client_server));
  }
  if (result.status_errors > client_server) {
    Appendf(out, "  Other non-2xx responses: %llu\n",
            static_cast<unsigned long long>(result.status_errors - client_server));
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
  Appendf(out, "Requests/sec: %9.2f\n", result.requests_per_s);
  Appendf(out, "Transfer/sec: %10sB\n",
          WrkBinary(result.elapsed_s > 0 ? static_cast<double>(result.bytes_read) / result.elapsed_s
                                         : 0)
              .c_str());
  return out;
}

}  // namespace leaklab::loadgen
