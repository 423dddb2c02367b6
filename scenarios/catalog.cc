#include "scenarios/catalog.h"

#include <boost/json.hpp>

#include "scenarios/global-request-map/request_map.h"
#include "scenarios/global-request-tracker/tracker.h"
#include "scenarios/lazy-release/lazy_release.h"
#include "scenarios/runaway-workers/workers.h"
#include "scenarios/steady-state/steady_state.h"
#include "scenarios/unbounded-cache/cache.h"

namespace leaklab::scenarios {

const std::vector<runtime::ScenarioInfo>& Catalog() {
  // Learning order (scenarios/README.md): the plainest leak first, the
  // control and the look-alike last.
  static const std::vector<runtime::ScenarioInfo> catalog = {
      GlobalRequestTrackerInfo(), UnboundedCacheInfo(), GlobalRequestMapInfo(),
      RunawayWorkersInfo(),       LazyReleaseInfo(),    SteadyStateInfo(),
  };
  return catalog;
}

const runtime::ScenarioInfo* FindScenario(std::string_view name) {
  for (const auto& info : Catalog()) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

std::string CatalogJson() {
  boost::json::array scenarios;
  for (const auto& info : Catalog()) {
    boost::json::array variants;
    for (const auto& v : info.variants) {
      boost::json::object check{{"duration", v.check.duration}};
      if (v.check.max_bytes_per_unit > 0) {
        check["work"] = boost::json::object{{"counter", v.check.counter},
                                            {"min_bytes_per_unit", v.check.min_bytes_per_unit},
                                            {"max_bytes_per_unit", v.check.max_bytes_per_unit}};
      }
      boost::json::object variant{{"name", v.name},
                                  {"description", v.description},
                                  {"expected_verdict", v.expected_verdict},
                                  {"check", std::move(check)}};
      if (!v.schedule.empty()) variant["schedule"] = v.schedule;
      variants.push_back(std::move(variant));
    }
    boost::json::array headers;
    for (const auto& h : info.load.headers) headers.push_back(boost::json::string(h));
    // The schedule stays in its own language; the harness parses it with the
    // load generator that runs it.
    boost::json::object load{
        {"path_template", info.load.path_template},
        {"headers", std::move(headers)},
        {"connections", info.load.connections},
        {"schedule", info.load.schedule},
    };
    scenarios.push_back(boost::json::object{{"name", info.name},
                                            {"description", info.description},
                                            {"variants", std::move(variants)},
                                            {"load", std::move(load)}});
  }
  return boost::json::serialize(boost::json::object{{"scenarios", std::move(scenarios)}}) + "\n";
}

}  // namespace leaklab::scenarios
