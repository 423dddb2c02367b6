#include "harness/http_get.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <string>
#include <thread>

namespace leaklab::harness {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr const char* kOkReply =
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

// Answers one HTTP request on 127.0.0.1 with `reply` ("ok", the way a
// scenario server or a Go service would), then closes.
class OneReplyServer {
 public:
  explicit OneReplyServer(std::string reply = kOkReply)
      : acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this, reply] {
      boost::system::error_code ec;
      tcp::socket socket(ioc_);
      acceptor_.accept(socket, ec);
      if (ec) return;
      asio::streambuf request;
      asio::read_until(socket, request, "\r\n\r\n", ec);
      asio::write(socket, asio::buffer(reply), ec);
    });
  }
  ~OneReplyServer() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    thread_.join();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

// One GET through HttpGetter to `host`, answered by a server on 127.0.0.1.
void ExpectReplyVia(const std::string& host) {
  OneReplyServer server;
  HttpGetter http(host, server.port());
  const HttpReply reply = http.Request("GET", "/debug/pprof/heap", std::chrono::seconds(5));
  EXPECT_EQ(reply.error, "") << host;
  EXPECT_EQ(reply.status, 200) << host;
  EXPECT_EQ(reply.body, "ok") << host;
}

TEST(HttpGetter, ReachesAServerByNumericAddress) { ExpectReplyVia("127.0.0.1"); }

// `leaklab watch --pprof http://localhost:6060/...` used to fail with "bad
// address localhost": names are resolved, and each address tried in turn
// (the server listens on 127.0.0.1 only, localhost may come first as ::1).
TEST(HttpGetter, ReachesAServerByName) { ExpectReplyVia("localhost"); }

TEST(HttpGetter, NoServerIsAnErrorNamingHostAndPort) {
  uint16_t port = 0;
  {
    OneReplyServer gone;  // a port that was free a moment ago
    port = gone.port();
    HttpGetter(std::string("127.0.0.1"), port).Request("GET", "/", std::chrono::seconds(5));
  }
  HttpGetter http("127.0.0.1", port);
  const HttpReply reply = http.Request("GET", "/", std::chrono::seconds(5));
  EXPECT_NE(reply.error.find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << reply.error;
}

// A reply past the stated limit (common/input_limits.h) is refused as soon
// as its head announces it, with the limit in the message.
TEST(HttpGetter, ReplyOverTheLimitIsRefusedNamingIt) {
  OneReplyServer server("HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\n");
  HttpGetter http("127.0.0.1", server.port());
  const HttpReply reply = http.Request("GET", "/debug/pprof/heap", std::chrono::seconds(5));
  EXPECT_EQ(reply.error,
            "GET /debug/pprof/heap: the reply is larger than 64 MiB, the limit for a debug "
            "endpoint's reply");
}

}  // namespace
}  // namespace leaklab::harness
