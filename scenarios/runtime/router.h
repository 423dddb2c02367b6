#ifndef LEAKLAB_SCENARIOS_RUNTIME_ROUTER_H_
#define LEAKLAB_SCENARIOS_RUNTIME_ROUTER_H_

#include "scenarios/runtime/scenario.h"

namespace leaklab::runtime {

// Maps a request to the debug surface every scenario server shares
// (/healthz, /metrics, /debug/...) or to the scenario's business handler.
// Pure: no sockets, so it is tested without a server.
class Router {
 public:
  explicit Router(Scenario& scenario) : scenario_(scenario) {}
  Response Handle(const Request& request);

 private:
  Scenario& scenario_;
};

}  // namespace leaklab::runtime

#endif  // LEAKLAB_SCENARIOS_RUNTIME_ROUTER_H_
