#ifndef LEAKLAB_SCENARIOS_RUNTIME_SCENARIO_H_
#define LEAKLAB_SCENARIOS_RUNTIME_SCENARIO_H_

// The contract between the scenario runtime and one scenario: a scenario is a
// business request handler plus the facts the harness needs to drive it.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace leaklab::runtime {

struct Header {
  std::string_view name;
  std::string_view value;
};

struct Request {
  std::string_view method;
  std::string_view path;   // target before '?'
  std::string_view query;  // target after '?', without it; may be empty
  std::string_view body;
  std::span<const Header> headers;  // as received, in order

  // The value of query parameter `name` (not percent-decoded), if present.
  std::optional<std::string_view> QueryParam(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain";
  std::string body;
};

// One scenario instance, created for one variant. Handle() is called
// concurrently from the server's I/O threads, so it must be thread-safe.
class Scenario {
 public:
  virtual ~Scenario() = default;
  virtual Response Handle(const Request& request) = 0;
  // Called by /debug/release (after malloc_trim): give memory the scenario
  // manages itself back to the OS, like Go's debug.FreeOSMemory.
  virtual void ReleaseMemory() {}
};

// What the scenario verdict test (harness/scenario_verdict_test.cc, `ctest
// -L scenario`) checks of a short run of a variant, besides its verdict. The
// defaults suit a variant that keeps nothing per unit of work.
struct VariantCheck {
  // How long the test runs the variant, in ParseDuration's syntax; empty:
  // the test's default (8s). Shorter than the scenario's schedule keeps the
  // suite quick; it must stay long enough for the verdict.
  std::string duration = {};
  // When max_bytes_per_unit > 0, the work explanation that fits best must
  // give bytes per unit within [min_bytes_per_unit, max_bytes_per_unit], and
  // be for `counter` when that is set ("requests_total", "keys_total",
  // "reloads_total"). The bounds follow from what the leak keeps: say why
  // beside them.
  std::string counter = {};
  double min_bytes_per_unit = 0;
  double max_bytes_per_unit = 0;
};

struct VariantInfo {
  std::string name;
  std::string description;
  // The verdict a default run of this variant must reach ("leak", "no-leak",
  // "lazy-release"): the one table `leaklab run --all` and the scenario
  // verdict test check against, and the teaching page's promise.
  std::string expected_verdict;
  VariantCheck check = {};
  // This variant's own load, in the schedule language of LoadDefaults; empty:
  // the scenario's. For variants that change how the service is used rather
  // than its code, such as a "fix" that only makes reloads rarer.
  std::string schedule = {};
};

// How the harness drives a scenario unless told otherwise.
struct LoadDefaults {
  // "{n}" is replaced by a per-request counter.
  std::string path_template = "/";
  std::vector<std::string> headers;  // "Name: value", sent with every request
  int connections = 4;               // 0 = no background load, only the schedule's events
  // The load over time, in the load generator's schedule language
  // (loadgen/README.md): phases ("steady 10s at 1000/s", "idle 2s", "ramp 5s
  // to 1000/s") and event requests apart from the load ("event reload POST
  // /reload at 500ms every 1s"), logged in events.csv under their names. A
  // run lasts as long as the phases unless --duration says otherwise. Rates
  // are bounded so that a leaky run stays at a few hundred MB.
  std::string schedule = "steady 10s at 1000/s";
};

struct ScenarioInfo {
  std::string name;
  std::string description;
  std::vector<VariantInfo> variants;  // the first is the default
  LoadDefaults load;
  // Builds the scenario for one of `variants` (the name was checked before).
  std::function<std::unique_ptr<Scenario>(std::string_view variant)> create;
};

// Work counters every scenario can bump; exported in /metrics, /debug/memstats
// and the harness's series.csv. requests_total is counted by the router.
struct WorkCounters {
  std::atomic<uint64_t> requests_total{0};
  std::atomic<uint64_t> keys_total{0};
  std::atomic<uint64_t> reloads_total{0};
};
WorkCounters& Counters();

}  // namespace leaklab::runtime

#endif  // LEAKLAB_SCENARIOS_RUNTIME_SCENARIO_H_
