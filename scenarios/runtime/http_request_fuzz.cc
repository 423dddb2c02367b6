// libFuzzer target: the scenario runtime's HTTP request path (`ci/fuzz
// http_request_fuzz SECONDS`), everything a server does between reading
// bytes from a socket and writing its answer: Beast's request parser with
// the server's limits, pipelined requests on one connection, the router's
// debug surface (/metrics, /debug/pprof/..., /debug/release) and a
// scenario's handler, and the response. The input is what a client sent.

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/write.hpp>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "scenarios/runtime/http_exchange.h"
#include "scenarios/runtime/router.h"

namespace {

namespace http = boost::beast::http;
using namespace leaklab::runtime;

// Reads what a business handler reads of a request, keeps nothing.
class EchoScenario : public Scenario {
 public:
  Response Handle(const Request& request) override {
    std::string body(request.method);
    body += ' ';
    body += request.path;
    if (auto key = request.QueryParam("key")) body += " key=" + std::string(*key);
    for (const Header& h : request.headers) body += "\n" + std::string(h.name);
    body += "\n" + std::to_string(request.body.size());
    return {200, "text/plain", std::move(body)};
  }
};

// The answer the server would write, serialized as Beast writes it.
void Write(internal::BeastResponse res, bool keep_alive) {
  res.keep_alive(keep_alive);
  std::ostringstream out;
  out << res;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static EchoScenario scenario;
  static Router router(scenario);
  const ServerOptions options;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  std::vector<Header> headers;
  // One connection: requests until the client's bytes run out, the
  // connection is closed, or a bounded number of pipelined requests.
  for (int i = 0; i < 64 && !rest.empty(); ++i) {
    internal::RequestParser parser;
    internal::ApplyLimits(parser, options);
    parser.eager(true);  // as http::read does
    boost::beast::error_code ec;
    size_t used = 0;
    while (!parser.is_done()) {
      const size_t n = parser.put(boost::asio::buffer(rest.data() + used, rest.size() - used), ec);
      used += n;
      // No progress without an error (Beast, in a chunk with no bytes
      // left) means the same as need_more: http::read would read again.
      if (ec == http::error::need_more || (n == 0 && !ec)) {
        ec = {};
        if (n == 0 || used == rest.size()) {
          parser.put_eof(ec);  // nothing more will come: the client closed
          if (!parser.is_done() && !ec) ec = http::error::partial_message;
        }
        if (ec) break;
        continue;
      }
      if (ec) break;
    }
    rest.remove_prefix(used);
    if (ec == http::error::end_of_stream || ec == http::error::partial_message) return 0;
    if (ec) {
      Write(internal::ToBeast(internal::ErrorFor(ec), 11, false), false);
      return 0;  // the server answers, then closes
    }
    const internal::BeastRequest& req = parser.get();
    Write(internal::ToBeast(router.Handle(internal::ViewOf(req, headers)), req.version(),
                            req.method() == http::verb::head),
          req.keep_alive());
    if (!req.keep_alive()) return 0;
  }
  return 0;
}
