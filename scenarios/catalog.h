#ifndef LEAKLAB_SCENARIOS_CATALOG_H_
#define LEAKLAB_SCENARIOS_CATALOG_H_

#include <string>
#include <string_view>
#include <vector>

#include "scenarios/runtime/scenario.h"

namespace leaklab::scenarios {

// Every scenario the lab ships, in learning order.
const std::vector<runtime::ScenarioInfo>& Catalog();

// The named scenario, or nullptr.
const runtime::ScenarioInfo* FindScenario(std::string_view name);

// `leaklab-scenario --list --json`: what the harness reads to list scenarios
// and to drive them, since it never links scenario code.
std::string CatalogJson();

}  // namespace leaklab::scenarios

#endif  // LEAKLAB_SCENARIOS_CATALOG_H_
