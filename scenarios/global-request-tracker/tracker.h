#ifndef LEAKLAB_SCENARIOS_GLOBAL_REQUEST_TRACKER_TRACKER_H_
#define LEAKLAB_SCENARIOS_GLOBAL_REQUEST_TRACKER_TRACKER_H_

#include "scenarios/runtime/scenario.h"

namespace leaklab::scenarios {

// A process-wide request tracker that keeps a 10 KB buffer per request
// (leaky) or only counts requests (fixed). See README.md beside this file.
runtime::ScenarioInfo GlobalRequestTrackerInfo();

}  // namespace leaklab::scenarios

#endif  // LEAKLAB_SCENARIOS_GLOBAL_REQUEST_TRACKER_TRACKER_H_
