#ifndef LEAKLAB_SCENARIOS_STEADY_STATE_STEADY_STATE_H_
#define LEAKLAB_SCENARIOS_STEADY_STATE_STEADY_STATE_H_

#include "scenarios/runtime/scenario.h"

namespace leaklab::scenarios {

// See README.md beside this file.
runtime::ScenarioInfo SteadyStateInfo();

}  // namespace leaklab::scenarios

#endif  // LEAKLAB_SCENARIOS_STEADY_STATE_STEADY_STATE_H_
