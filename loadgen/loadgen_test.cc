#include "loadgen/loadgen.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <limits>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace leaklab::loadgen {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// A minimal keep-alive HTTP/1.1 server on 127.0.0.1:<ephemeral>, on its own
// thread. It answers every request with `status` and records the targets.
class TestServer {
 public:
  explicit TestServer(unsigned status = 200, bool close_each = false)
      : status_(status), close_each_(close_each) {
    acceptor_.open(tcp::v4());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind({asio::ip::make_address_v4("127.0.0.1"), 0});
    acceptor_.listen();
    asio::co_spawn(io_, Accept(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TestServer() {
    io_.stop();
    thread_.join();
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::vector<std::string> Targets() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return targets_;
  }

 private:
  asio::awaitable<void> Accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kNoThrow);
      if (ec) co_return;
      asio::co_spawn(io_, Serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> Serve(tcp::socket socket) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> request;
      auto [read_ec, read] = co_await http::async_read(socket, buffer, request, kNoThrow);
      if (read_ec) co_return;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        targets_.emplace_back(request.target());
      }
      http::response<http::string_body> response{static_cast<http::status>(status_),
                                                 request.version()};
      response.keep_alive(request.keep_alive() && !close_each_);
      response.body() = "ok";
      response.prepare_payload();
      auto [write_ec, written] = co_await http::async_write(socket, response, kNoThrow);
      if (write_ec || !response.keep_alive()) co_return;
    }
  }

  const unsigned status_;
  const bool close_each_;
  asio::io_context io_{1};
  tcp::acceptor acceptor_{io_};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<std::string> targets_;
};

// A port on which nothing listens (bound, read, released; the kernel will not
// hand it out again this quickly).
uint16_t UnusedPort() {
  asio::io_context io;
  tcp::acceptor acceptor(io, {asio::ip::make_address_v4("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

LoadOptions OptionsFor(uint16_t port) {
  LoadOptions options;
  options.port = port;
  options.connections = 4;
  options.duration = milliseconds(2000);
  options.request_timeout = milliseconds(1000);
  options.connect_timeout = milliseconds(500);
  return options;
}

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

TEST(RunLoad, CountsRequestsAndNumbersEachOnce) {
  TestServer server;
  LoadOptions options = OptionsFor(server.port());
  options.path_template = "/track?id={n}&again={n}";
  options.max_requests = 500;
  std::atomic<uint64_t> completed{0};

  const LoadResult result = RunLoad(options, nullptr, &completed);

  EXPECT_EQ(result.requests, 500u);
  EXPECT_EQ(result.ok, 500u);
  EXPECT_EQ(result.requests_sent, 500u);
  EXPECT_EQ(completed.load(), 500u);
  EXPECT_EQ(result.connect_errors + result.read_errors + result.write_errors +
                result.status_errors + result.timeouts,
            0u);
  EXPECT_GT(result.latency_mean_ms, 0);
  EXPECT_GE(result.latency_max_ms, result.latency_mean_ms);
  const std::vector<std::string> targets = server.Targets();
  ASSERT_EQ(targets.size(), 500u);
  std::set<std::string> expected;
  for (int n = 0; n < 500; ++n) {
    expected.insert("/track?id=" + std::to_string(n) + "&again=" + std::to_string(n));
  }
  EXPECT_EQ(std::set<std::string>(targets.begin(), targets.end()), expected);
}

TEST(RunLoad, ClosedLoopEndsOnTimeWithUniqueNumbers) {
  TestServer server;
  LoadOptions options = OptionsFor(server.port());
  options.path_template = "/k/{n}";
  options.duration = milliseconds(300);

  const Clock::time_point start = Clock::now();
  const LoadResult result = RunLoad(options);

  EXPECT_LT(SecondsSince(start), 2.0);
  EXPECT_NEAR(result.elapsed_s, 0.3, 0.2);
  EXPECT_GT(result.requests, 0u);
  EXPECT_EQ(result.ok, result.requests);
  const std::vector<std::string> targets = server.Targets();
  EXPECT_EQ(std::set<std::string>(targets.begin(), targets.end()).size(), targets.size());
  // Requests cut short by the deadline may have reached the server uncounted.
  EXPECT_GE(targets.size(), result.requests);
  EXPECT_LE(targets.size(), result.requests_sent);
}

TEST(RunLoad, PacesToTheTargetRate) {
  TestServer server;
  LoadOptions options = OptionsFor(server.port());
  options.rate_per_s = 200;
  options.duration = milliseconds(1000);

  const LoadResult result = RunLoad(options);

  // Exactly 200 slots fall inside the second; the machine is shared and noisy.
  EXPECT_GE(result.requests, 150u);
  EXPECT_LE(result.requests, 250u);
  EXPECT_EQ(result.ok, result.requests);
}

TEST(RunLoad, ReconnectsWhenTheServerClosesEachConnection) {
  TestServer server(200, /*close_each=*/true);
  LoadOptions options = OptionsFor(server.port());
  options.max_requests = 50;

  const LoadResult result = RunLoad(options);

  EXPECT_EQ(result.requests, 50u);
  EXPECT_EQ(result.ok, 50u);
  EXPECT_EQ(result.connect_errors + result.read_errors + result.write_errors, 0u);
}

TEST(RunLoad, RefusedConnectionsAreCountedAndTheRunEndsOnTime) {
  LoadOptions options = OptionsFor(UnusedPort());
  options.duration = milliseconds(500);

  const Clock::time_point start = Clock::now();
  const LoadResult result = RunLoad(options);

  EXPECT_LT(SecondsSince(start), 3.0);
  EXPECT_GT(result.connect_errors, 0u);
  // The reconnect backoff keeps this far from a tight loop: at most about
  // 4 connections * 500 ms / 100 ms.
  EXPECT_LE(result.connect_errors, 40u);
  EXPECT_EQ(result.requests, 0u);
}

TEST(RunLoad, ServerErrorsAreStatusErrors) {
  TestServer server(500);
  LoadOptions options = OptionsFor(server.port());
  options.max_requests = 20;

  const LoadResult result = RunLoad(options);

  EXPECT_EQ(result.requests, 20u);
  EXPECT_EQ(result.status_errors, 20u);
  EXPECT_EQ(result.ok, 0u);
}

TEST(RunLoad, SilentServerTimesOutAndTheRunEndsOnTime) {
  // Connections complete in the listen backlog, but nobody ever answers.
  asio::io_context io;
  tcp::acceptor silent(io, {asio::ip::make_address_v4("127.0.0.1"), 0});
  LoadOptions options = OptionsFor(silent.local_endpoint().port());
  options.connections = 2;
  options.request_timeout = milliseconds(150);
  options.duration = milliseconds(700);

  const Clock::time_point start = Clock::now();
  const LoadResult result = RunLoad(options);

  EXPECT_LT(SecondsSince(start), 3.0);
  EXPECT_GE(result.timeouts, 2u);
  EXPECT_EQ(result.requests, 0u);
}

TEST(RunLoad, StopFlagEndsTheRunEarly) {
  TestServer server;
  LoadOptions options = OptionsFor(server.port());
  options.duration = milliseconds(10000);
  std::atomic<bool> stop{false};
  std::thread stopper([&stop] {
    std::this_thread::sleep_for(milliseconds(200));
    stop = true;
  });

  const Clock::time_point start = Clock::now();
  const LoadResult result = RunLoad(options, &stop);
  stopper.join();

  EXPECT_LT(SecondsSince(start), 2.0);
  EXPECT_LT(result.elapsed_s, 2.0);
  EXPECT_GT(result.requests, 0u);
}

TEST(RunLoad, RefusesNonLoopbackHosts) {
  LoadOptions options = OptionsFor(80);
  for (const char* host : {"10.0.0.1", "192.168.1.1", "example.com", "::2", "0.0.0.0"}) {
    options.host = host;
    try {
      RunLoad(options);
      ADD_FAILURE() << host << " was accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("allow_remote"), std::string::npos) << e.what();
    }
  }
}

TEST(ValidateOptions, NamesTheBadField) {
  struct Case {
    const char* field;
    void (*mutate)(LoadOptions&);
  };
  const Case cases[] = {
      {"connections", [](LoadOptions& o) { o.connections = 0; }},
      {"connections", [](LoadOptions& o) { o.connections = 100000; }},
      {"duration", [](LoadOptions& o) { o.duration = milliseconds(0); }},
      {"rate_per_s", [](LoadOptions& o) { o.rate_per_s = -1; }},
      {"rate_per_s",
       [](LoadOptions& o) { o.rate_per_s = std::numeric_limits<double>::infinity(); }},
      {"request_timeout", [](LoadOptions& o) { o.request_timeout = milliseconds(-5); }},
      {"connect_timeout", [](LoadOptions& o) { o.connect_timeout = milliseconds(0); }},
      {"port", [](LoadOptions& o) { o.port = 0; }},
      {"host", [](LoadOptions& o) { o.host = ""; }},
      {"path_template", [](LoadOptions& o) { o.path_template = "track"; }},
      {"path_template", [](LoadOptions& o) { o.path_template = "/a b"; }},
      {"path_template", [](LoadOptions& o) { o.path_template = "/a\r\nX-Evil: 1"; }},
      {"method", [](LoadOptions& o) { o.method = "FETCH"; }},
  };
  for (const Case& c : cases) {
    LoadOptions options = OptionsFor(8080);
    c.mutate(options);
    try {
      ValidateOptions(options);
      ADD_FAILURE() << "accepted a bad " << c.field;
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).rfind(c.field, 0), 0u) << e.what();
    }
  }
  EXPECT_NO_THROW(ValidateOptions(OptionsFor(8080)));
}

TEST(ValidateOptions, AllowRemoteAcceptsOtherHosts) {
  LoadOptions options = OptionsFor(8080);
  options.host = "10.0.0.1";
  options.allow_remote = true;
  EXPECT_NO_THROW(ValidateOptions(options));
}

TEST(IsLoopbackHost, KnowsLoopbackAddresses) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.8.9.10"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_TRUE(IsLoopbackHost("::ffff:127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_TRUE(IsLoopbackHost("LocalHost"));
  EXPECT_FALSE(IsLoopbackHost("128.0.0.1"));
  EXPECT_FALSE(IsLoopbackHost("::ffff:10.0.0.1"));
  EXPECT_FALSE(IsLoopbackHost("localhost.example.com"));
  EXPECT_FALSE(IsLoopbackHost(""));
}

TEST(ExpandPathTemplate, ReplacesEveryPlaceholder) {
  EXPECT_EQ(ExpandPathTemplate("/", 7), "/");
  EXPECT_EQ(ExpandPathTemplate("/track?id={n}", 42), "/track?id=42");
  EXPECT_EQ(ExpandPathTemplate("/{n}/{n}", 0), "/0/0");
  EXPECT_EQ(ExpandPathTemplate("/{m}{n", 3), "/{m}{n");
  EXPECT_EQ(ExpandPathTemplate("/{n}", UINT64_MAX), "/18446744073709551615");
}

TEST(ParseHttpUrl, AcceptsUsualForms) {
  HttpUrl url = ParseHttpUrl("http://127.0.0.1:8080/track?id={n}");
  EXPECT_EQ(url.host, "127.0.0.1");
  EXPECT_EQ(url.port, 8080);
  EXPECT_EQ(url.path, "/track?id={n}");

  url = ParseHttpUrl("HTTP://localhost");
  EXPECT_EQ(url.host, "localhost");
  EXPECT_EQ(url.port, 80);
  EXPECT_EQ(url.path, "/");

  url = ParseHttpUrl("http://[::1]:9000?q=1#frag");
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.port, 9000);
  EXPECT_EQ(url.path, "/?q=1");
}

TEST(ParseHttpUrl, RejectsBadUrls) {
  for (const char* bad : {"", "127.0.0.1:8080/", "https://127.0.0.1/", "http://", "http://:80/",
                          "http://h:0/", "http://h:65536/", "http://h:8x/", "http://h:/",
                          "http://::1/", "http://[::1/", "http://u@h/"}) {
    EXPECT_THROW(ParseHttpUrl(bad), std::invalid_argument) << bad;
  }
}

TEST(ToJson, CarriesOptionsAndResult) {
  LoadOptions options = OptionsFor(8080);
  LoadResult result;
  result.requests = 10;
  result.timeouts = 2;
  const boost::json::object json = ToJson(options, result);
  EXPECT_EQ(json.at("options").at("port").to_number<int64_t>(), 8080);
  EXPECT_EQ(json.at("options").at("duration_ms").to_number<int64_t>(), 2000);
  EXPECT_EQ(json.at("result").at("requests").as_uint64(), 10u);
  EXPECT_EQ(json.at("result").at("errors").at("timeout").as_uint64(), 2u);
}

}  // namespace
}  // namespace leaklab::loadgen
