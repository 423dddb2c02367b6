#ifndef LEAKLAB_SCENARIOS_GLOBAL_REQUEST_MAP_REQUEST_MAP_H_
#define LEAKLAB_SCENARIOS_GLOBAL_REQUEST_MAP_REQUEST_MAP_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "scenarios/runtime/scenario.h"

namespace leaklab::scenarios {

// Per-request values in a process-wide map keyed by the request, and a
// handler wrapper that clears them (fixed) or not (leaky). See README.md.
runtime::ScenarioInfo GlobalRequestMapInfo();

namespace request_map {

// The parsed request, as a web framework would hand it to a handler: its
// header lines copied into owned strings.
struct ParsedRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Like gorilla/context: values attached to a request, kept in a global map
// keyed by the request object. The map holds the request alive (as Go's map
// did through its *http.Request key), so an entry that is never cleared keeps
// the whole parsed request and its values.
class RequestContext {
 public:
  // Stores a copy of `value` under `key` for `request`.
  void Set(const std::shared_ptr<ParsedRequest>& request, std::string_view key,
           std::string_view value);
  const std::string* Get(const ParsedRequest* request, std::string_view key) const;
  // Removes everything stored for `request`.
  void Clear(const ParsedRequest* request);
  size_t size() const;

 private:
  struct Entry;
  mutable std::mutex mu_;
  std::unordered_map<const ParsedRequest*, std::shared_ptr<Entry>> data_;  // guarded by mu_
};

// How the service is put together; the variants differ only here.
struct AppConfig {
  // The fix: a handler wrapper clears the request's context entry.
  bool clear_context = false;
  // The look-alike: a global map of users online, written on every request.
  // The incident's team removed theirs first; the leak stayed.
  bool track_online_users = true;
};

// The service: a session middleware and a page handler, wrapped (fixed) or
// not (leaky) in a handler that clears the request's context entry.
class App : public runtime::Scenario {
 public:
  explicit App(AppConfig config);
  ~App() override;
  runtime::Response Handle(const runtime::Request& raw) override;
  const RequestContext& context() const { return context_; }
  // Users in the online-users map (0 when the service has none).
  size_t online_users() const;

 private:
  class OnlineUsers;
  runtime::Response Serve(const std::shared_ptr<ParsedRequest>& request,
                          const runtime::Request& raw);

  const AppConfig config_;
  RequestContext context_;
  std::unique_ptr<OnlineUsers> online_;
};

}  // namespace request_map
}  // namespace leaklab::scenarios

#endif  // LEAKLAB_SCENARIOS_GLOBAL_REQUEST_MAP_REQUEST_MAP_H_
