#include "scenarios/runtime/router.h"

#include <cinttypes>
#include <cstdio>
#include <exception>

#include "scenarios/runtime/heap_profiler.h"
#include "scenarios/runtime/memstats.h"
#include "scenarios/runtime/profiles.h"
#include "scenarios/runtime/worker_registry.h"

namespace leaklab::runtime {

std::optional<std::string_view> Request::QueryParam(std::string_view name) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    if (key == name) return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
  }
  return std::nullopt;
}

namespace {

Response MethodNotAllowed() { return {405, "text/plain", "method not allowed\n"}; }

// Spawn sites and wait points are our own string literals: no escaping needed
// beyond quotes and backslashes, which they never contain.
std::string FormatWorkersJson(const std::vector<WorkerRegistry::Group>& groups) {
  std::string out = "{\"groups\":[";
  for (size_t i = 0; i < groups.size(); ++i) {
    if (i > 0) out += ",";
    out += "{\"spawn_site\":\"" + groups[i].spawn_site + "\",\"wait_point\":\"" +
           groups[i].wait_point + "\",\"count\":" + std::to_string(groups[i].count) + "}";
  }
  return out + "]}\n";
}

}  // namespace

Response Router::Handle(const Request& request) {
  const std::string_view path = request.path;
  const bool get = request.method == "GET" || request.method == "HEAD";
  if (path == "/healthz") {
    if (!get) return MethodNotAllowed();
    return {200, "text/plain", "ok\n"};
  }
  if (path == "/metrics") {
    if (!get) return MethodNotAllowed();
    return {200, "text/plain; version=0.0.4", FormatPrometheusMetrics(TakeMemStats())};
  }
  if (path == "/debug/memstats") {
    if (!get) return MethodNotAllowed();
    return {200, "application/json", FormatMemStatsJson(TakeMemStats())};
  }
  if (path == "/debug/release") {
    if (!get && request.method != "POST") return MethodNotAllowed();
    ReleaseResult r = ReleaseFreeMemory([this] { scenario_.ReleaseMemory(); });
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "{\"rss_before_bytes\":%" PRId64 ",\"rss_after_bytes\":%" PRId64 "}\n",
                  r.rss_before_bytes, r.rss_after_bytes);
    return {200, "application/json", buf};
  }
  if (path == "/debug/workers") {
    if (!get) return MethodNotAllowed();
    return {200, "application/json", FormatWorkersJson(WorkerRegistry::Global().Groups())};
  }
  if (path == "/debug/pprof/heap") {
    if (!get) return MethodNotAllowed();
    return {200, "application/octet-stream", EncodedHeapProfile()};
  }
  if (path == "/debug/pprof/workers") {
    if (!get) return MethodNotAllowed();
    return {200, "application/octet-stream", EncodedWorkerProfile()};
  }
  if (path.starts_with("/debug/")) return {404, "text/plain", "no such debug endpoint\n"};

  Counters().requests_total.fetch_add(1, std::memory_order_relaxed);
  try {
    return scenario_.Handle(request);
  } catch (const std::exception& e) {
    // A scenario bug must not take the server down: the run would lose its data.
    return {500, "text/plain", std::string("scenario error: ") + e.what() + "\n"};
  }
}

}  // namespace leaklab::runtime
