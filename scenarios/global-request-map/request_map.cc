// The global-request-map incident (shared/seeds/global-request-map-incident.txt):
// a websocket service used gorilla/sessions without gorilla/mux, so nothing
// wrapped its handlers in context.ClearHandler. gorilla/context kept every
// request's values in a global map keyed by *http.Request, and the requests,
// with their parsed headers, lived forever: 10 GB in an hour. The heap profile
// blamed map assignment and string copies, with net/http.readRequest and
// ReadMIMEHeader high in the cum column; the team first suspected an
// unrelated global concurrent map and removed it, to no effect.

#include "scenarios/global-request-map/request_map.h"

#include <array>
#include <atomic>
#include <charconv>
#include <map>
#include <stdexcept>
#include <string_view>

namespace leaklab::scenarios {
namespace request_map {

namespace {

// The generic frames the leak and its look-alike share. In the incident both
// maps showed up in the same runtime frames (Go's map assignment and string
// copies), so a flat profile ranked those first and could not say which map
// kept what; only the cum column (who called them) could.
using StringMap = std::map<std::string, std::string, std::less<>>;

// A string copied into the heap (Go: the runtime's string copy).
[[gnu::noinline]] std::string CopyString(std::string_view s) { return std::string(s); }

// Stores a fresh copy of `value` under `key` (Go: map assignment, with a new
// string for the value, since Go strings are immutable and an update
// allocates). The old value, if any, is freed.
[[gnu::noinline]] void MapAssign(StringMap& map, std::string_view key, std::string_view value) {
  auto it = map.find(key);
  if (it == map.end()) {
    map.emplace(CopyString(key), CopyString(value));
  } else {
    it->second = CopyString(value);
  }
}

}  // namespace

struct RequestContext::Entry {
  std::shared_ptr<ParsedRequest> request;  // keeps the request alive, as Go's map key did
  StringMap values;
};

void RequestContext::Set(const std::shared_ptr<ParsedRequest>& request, std::string_view key,
                         std::string_view value) {
  std::lock_guard lock(mu_);
  auto& entry = data_[request.get()];
  if (!entry) entry = std::make_shared<Entry>(Entry{request, {}});
  MapAssign(entry->values, key, value);
}

const std::string* RequestContext::Get(const ParsedRequest* request, std::string_view key) const {
  std::lock_guard lock(mu_);
  auto it = data_.find(request);
  if (it == data_.end()) return nullptr;
  auto v = it->second->values.find(key);
  return v == it->second->values.end() ? nullptr : &v->second;
}

void RequestContext::Clear(const ParsedRequest* request) {
  std::shared_ptr<Entry> doomed;  // destroyed outside the lock
  std::lock_guard lock(mu_);
  auto it = data_.find(request);
  if (it == data_.end()) return;
  doomed = std::move(it->second);
  data_.erase(it);
}

size_t RequestContext::size() const {
  std::lock_guard lock(mu_);
  return data_.size();
}

namespace {

// Above this many live entries the leaky variant stops storing (and says so
// in its answers), so that a long run cannot take the machine down: at about
// 2.5 KB a request this is about 500 MB.
constexpr size_t kMaxEntries = 200'000;

// The copy of every header line into owned strings (Go's ReadMIMEHeader).
[[gnu::noinline]] std::vector<std::pair<std::string, std::string>> ReadMimeHeader(
    std::span<const runtime::Header> headers) {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(headers.size());
  for (const auto& h : headers) out.emplace_back(CopyString(h.name), CopyString(h.value));
  return out;
}

// Builds the request object the handlers see (Go's net/http.readRequest).
[[gnu::noinline]] std::shared_ptr<ParsedRequest> ReadRequest(const runtime::Request& raw) {
  auto r = std::make_shared<ParsedRequest>();
  r->method = std::string(raw.method);
  r->target = std::string(raw.path) + (raw.query.empty() ? "" : "?" + std::string(raw.query));
  r->headers = ReadMimeHeader(raw.headers);
  return r;
}

}  // namespace

// The look-alike: a global concurrent map of the users online, sharded like
// streamrail/concurrent-map, the map the incident's team blamed and removed
// first. It is written on every request and keeps each user's latest
// session and request headers, replacing the previous ones: it allocates on
// every request through the same frames as the leak (MapAssign, CopyString),
// so it is busy in every profile, but what it holds is bounded by the number
// of users.
class App::OnlineUsers {
 public:
  [[gnu::noinline]] void Touch(uint64_t user_id, const ParsedRequest& request,
                               std::string_view session) {
    Shard& s = shards_[user_id % kShards];
    std::lock_guard lock(s.mu);
    StringMap& presence = s.users[user_id];
    MapAssign(presence, "session", session);
    MapAssign(presence, "target", request.target);
    for (const auto& [name, value] : request.headers) MapAssign(presence, name, value);
  }

  size_t size() const {
    size_t n = 0;
    for (const Shard& s : shards_) {
      std::lock_guard lock(s.mu);
      n += s.users.size();
    }
    return n;
  }

 private:
  static constexpr size_t kShards = 32;
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<uint64_t, StringMap> users;
  };
  std::array<Shard, kShards> shards_;
};

// Session data the middleware attaches to each request (gorilla/sessions):
// a user, a CSRF token and some flash messages, about a kilobyte.
[[gnu::noinline]] static std::string LoadSession(uint64_t user_id, uint64_t request_id) {
  std::string s = "user=" + std::to_string(user_id) + ";csrf=";
  for (int i = 0; i < 4; ++i) s += std::to_string(request_id * 2654435761u + i) + "-";
  s += ";flashes=";
  s.append(900, 'f');
  return s;
}

// Users cycle over this many ids: the online-users map is bounded by it.
static constexpr uint64_t kUsers = 500;

App::App(AppConfig config)
    : config_(config),
      online_(config.track_online_users ? std::make_unique<OnlineUsers>() : nullptr) {}
App::~App() = default;

size_t App::online_users() const { return online_ ? online_->size() : 0; }

runtime::Response App::Handle(const runtime::Request& raw) {
  if (raw.path != "/page") return {404, "text/plain", "try /page?id=N\n"};
  std::shared_ptr<ParsedRequest> request = ReadRequest(raw);
  if (!config_.clear_context) return Serve(request, raw);
  // The fix (context.ClearHandler): whatever the handler does, returns or
  // throws, the request's entry goes when it ends.
  struct ClearOnExit {
    RequestContext& context;
    const ParsedRequest* request;
    ~ClearOnExit() { context.Clear(request); }
  } guard{context_, request.get()};
  return Serve(request, raw);
}

// The application handler: a session middleware, then the page. One
// request in 50 fails after the session was attached (an error path).
runtime::Response App::Serve(const std::shared_ptr<ParsedRequest>& request,
                             const runtime::Request& raw) {
  uint64_t id = 0;
  if (auto v = raw.QueryParam("id")) std::from_chars(v->data(), v->data() + v->size(), id);
  const uint64_t user_id = id % kUsers;
  const std::string session = LoadSession(user_id, id);
  if (online_) online_->Touch(user_id, *request, session);
  if (context_.size() < kMaxEntries) {
    context_.Set(request, "session", session);
    context_.Set(request, "request_id", std::to_string(id));
  }
  if (id % 50 == 49) throw std::runtime_error("page " + std::to_string(id) + " failed to render");
  const std::string* stored = context_.Get(request.get(), "session");
  return {200, "text/plain",
          "page " + std::to_string(id) + " for user " + std::to_string(user_id) + " (session " +
              std::to_string(stored ? stored->size() : 0) + " bytes)\n"};
}

}  // namespace request_map

runtime::ScenarioInfo GlobalRequestMapInfo() {
  runtime::ScenarioInfo info;
  info.name = "global-request-map";
  info.description = "per-request values kept in a process-wide map keyed by the request";
  // About 2.1 KB kept per request: the parsed request with its six header
  // lines and a 1 KB session. The wrong fix keeps the same.
  const runtime::VariantCheck keeps_every_request{.duration = "6s",
                                                  .counter = "requests_total",
                                                  .min_bytes_per_unit = 1'800,
                                                  .max_bytes_per_unit = 2'800};
  info.variants = {
      {"leaky", "handlers are not wrapped: every request's entry (request, headers, session) stays",
       "leak", keeps_every_request},
      {"fixed", "a scope guard clears the request's entry when the handler returns or throws",
       "no-leak"},
      // The team's first fix: the busy online-users map removed. The same
      // entries stay; what goes is the look-alike's bounded churn.
      {"drop-online-users",
       "the wrong fix: the online-users map removed, handlers still not wrapped", "leak",
       keeps_every_request},
  };
  // About 2.5 KB kept per request (parsed request with these headers, plus
  // the session); 1500 req/s is about 4 MB/s, 40 MB over a run.
  info.load.path_template = "/page?id={n}";
  info.load.headers = {
      "Cookie: "
      "session=MTY5OTk5OTk5OXxEdi1CQkFFQ180SUFBUkFCRUFBQVBfLUNBQUVHYzNSeWFXNW5EQWdBQm5WelpYSkpa",
      "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
      "Accept-Language: en-GB,en;q=0.9,zh-CN;q=0.8,zh;q=0.7",
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
      "X-Forwarded-For: 127.0.0.1",
  };
  info.load.connections = 4;
  info.load.schedule = "steady 10s at 1500/s";
  info.create = [](std::string_view variant) -> std::unique_ptr<runtime::Scenario> {
    return std::make_unique<request_map::App>(request_map::AppConfig{
        .clear_context = variant == "fixed", .track_online_users = variant != "drop-online-users"});
  };
  return info;
}

}  // namespace leaklab::scenarios
