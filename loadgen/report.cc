// Load results for machines (JSON, written by the harness as loadgen.json) and
// for people (the binary's summary).

#include <boost/json.hpp>
#include <cstdint>
#include <cstdio>
#include <string>

#include "loadgen/loadgen.h"

namespace leaklab::loadgen {

boost::json::object ToJson(const LoadOptions& options, const LoadResult& result) {
  boost::json::object opts;
  opts["host"] = options.host;
  opts["port"] = options.port;
  opts["path_template"] = options.path_template;
  opts["method"] = options.method;
  boost::json::array headers;
  for (const auto& h : options.headers) headers.push_back(boost::json::string(h));
  opts["headers"] = std::move(headers);
  opts["connections"] = options.connections;
  opts["duration_ms"] = options.duration.count();
  opts["rate_per_s"] = options.rate_per_s;
  opts["request_timeout_ms"] = options.request_timeout.count();
  opts["connect_timeout_ms"] = options.connect_timeout.count();
  opts["max_requests"] = options.max_requests;
  opts["allow_remote"] = options.allow_remote;

  boost::json::object errors;
  errors["connect"] = result.connect_errors;
  errors["read"] = result.read_errors;
  errors["write"] = result.write_errors;
  errors["status"] = result.status_errors;
  errors["timeout"] = result.timeouts;

  boost::json::object res;
  res["requests"] = result.requests;
  res["ok"] = result.ok;
  res["requests_sent"] = result.requests_sent;
  res["errors"] = std::move(errors);
  res["elapsed_s"] = result.elapsed_s;
  res["requests_per_s"] = result.requests_per_s;
  res["latency_mean_ms"] = result.latency_mean_ms;
  res["latency_max_ms"] = result.latency_max_ms;

  boost::json::object out;
  out["options"] = std::move(opts);
  out["result"] = std::move(res);
  return out;
}

std::string FormatSummary(const LoadOptions& options, const LoadResult& result) {
  const bool v6 = options.host.find(':') != std::string::npos;
  char rate[64];
  if (options.rate_per_s > 0) {
    std::snprintf(rate, sizeof rate, "target %.6g req/s", options.rate_per_s);
  } else {
    std::snprintf(rate, sizeof rate, "closed loop");
  }
  char body[512];
  std::snprintf(body, sizeof body,
                "  requests  %llu in %.2f s (%.1f req/s), %llu ok (2xx)\n"
                "  latency   mean %.3f ms, max %.3f ms\n"
                "  errors    connect %llu, read %llu, write %llu, status %llu, timeout %llu\n",
                static_cast<unsigned long long>(result.requests), result.elapsed_s,
                result.requests_per_s, static_cast<unsigned long long>(result.ok),
                result.latency_mean_ms, result.latency_max_ms,
                static_cast<unsigned long long>(result.connect_errors),
                static_cast<unsigned long long>(result.read_errors),
                static_cast<unsigned long long>(result.write_errors),
                static_cast<unsigned long long>(result.status_errors),
                static_cast<unsigned long long>(result.timeouts));
  return options.method + " http://" + (v6 ? "[" + options.host + "]" : options.host) + ":" +
         std::to_string(options.port) + options.path_template + ", " +
         std::to_string(options.connections) + " connections, " + rate + "\n" + body;
}

}  // namespace leaklab::loadgen
