// The engine against small HTTP servers that behave well, slowly, rudely or
// not at all: counts, numbering, pacing, events, error categories, and that
// every run ends on time.

#include "loadgen/loadgen.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json.hpp>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
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
using Clock = std::chrono::steady_clock;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// How a TestServer answers.
struct Behaviour {
  unsigned status = 200;
  bool close_each = false;             // "Connection: close" on every response
  bool close_silently = false;         // close after each response without saying so
  bool garbage = false;                // answer with bytes that are not HTTP
  std::chrono::milliseconds delay{0};  // wait this long before answering
};

// A minimal HTTP/1.1 server on 127.0.0.1:<ephemeral>, on its own thread,
// recording what it is asked. Destroying it closes the port and every
// connection at once: a server that goes away.
class TestServer {
 public:
  explicit TestServer(Behaviour behaviour = {}) : behaviour_(behaviour) {
    acceptor_.open(tcp::v4());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind({asio::ip::make_address_v4("127.0.0.1"), 0});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(io_, Accept(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TestServer() {
    io_.stop();
    thread_.join();
  }

  uint16_t port() const { return port_; }
  struct Seen {
    std::string method, target, body;
    double at_s;  // since the server started
  };
  std::vector<Seen> Requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return seen_;
  }
  std::vector<std::string> Targets() const {
    std::vector<std::string> out;
    for (const Seen& s : Requests()) out.push_back(s.target);
    return out;
  }
  int connections() const { return connections_.load(); }

 private:
  asio::awaitable<void> Accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kNoThrow);
      if (ec) co_return;
      ++connections_;
      asio::co_spawn(io_, Serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> Serve(tcp::socket socket) {
    beast::flat_buffer buffer;
    asio::steady_timer timer(io_);
    for (;;) {
      http::request<http::string_body> request;
      auto [read_ec, read] = co_await http::async_read(socket, buffer, request, kNoThrow);
      if (read_ec) co_return;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        seen_.push_back({std::string(request.method_string()), std::string(request.target()),
                         request.body(),
                         std::chrono::duration<double>(Clock::now() - started_).count()});
      }
      if (behaviour_.delay.count() > 0) {
        timer.expires_after(behaviour_.delay);
        co_await timer.async_wait(kNoThrow);
      }
      if (behaviour_.garbage) {
        static const std::string kJunk = "SSH-2.0-OpenSSH_9.2 not what you asked for\r\n\r\n";
        auto [ec, n] = co_await asio::async_write(socket, asio::buffer(kJunk), kNoThrow);
        if (ec) co_return;
        continue;
      }
      http::response<http::string_body> response{static_cast<http::status>(behaviour_.status),
                                                 request.version()};
      response.keep_alive(request.keep_alive() && !behaviour_.close_each);
      response.body() = "ok";
      response.prepare_payload();
      auto [write_ec, written] = co_await http::async_write(socket, response, kNoThrow);
      if (write_ec || behaviour_.close_each || behaviour_.close_silently) co_return;
    }
  }

  const Behaviour behaviour_;
  const Clock::time_point started_ = Clock::now();
  asio::io_context io_{1};
  tcp::acceptor acceptor_{io_};
  uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<int> connections_{0};
  mutable std::mutex mutex_;
  std::vector<Seen> seen_;
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

uint64_t Errors(const LoadResult& r) {
  return r.connect_errors + r.read_errors + r.write_errors + r.status_errors + r.timeouts;
}

TEST(RunLoad, CountsRequestsAndNumbersEachOnce) {
  TestServer server;
  LoadOptions options = OptionsFor(server.port());
  options.path_template = "/track?id={n}&again={n}";
  options.max_requests = 500;

  const LoadResult result = RunLoad(options);

  EXPECT_EQ(result.requests, 500u);
  EXPECT_EQ(result.ok, 500u);
  EXPECT_EQ(result.status_classes[2], 500u);
  EXPECT_EQ(result.requests_sent, 500u);
  EXPECT_EQ(Errors(result), 0u);
  EXPECT_EQ(result.latency.count, 500u);
  EXPECT_GT(result.latency.mean_ms, 0);
  EXPECT_LE(result.latency.p50_ms, result.latency.p99_ms);
  EXPECT_LE(result.latency.p99_ms, result.latency.max_ms);
  EXPECT_FALSE(result.latency_from_planned);
  EXPECT_GT(result.bytes_read, 500u * 20);
  const std::vector<std::string> targets = server.Targets();
  ASSERT_EQ(targets.size(), 500u);
  std::set<std::string> expected;
  for (int n = 0; n < 500; ++n) {
    expected.insert("/track?id=" + std::to_string(n) + "&again=" + std::to_string(n));
  }
  EXPECT_EQ(std::set<std::string>(targets.begin(), targets.end()), expected);
}

TEST(RunLoad, ThreadsShareTheConnectionsAndTheNumbers) {
  TestServer server;
  LoadOptions options = OptionsFor(server.port());
  options.path_template = "/t/{n}";
  options.threads = 3;
  options.connections = 7;
  options.max_requests = 900;

  const LoadResult result = RunLoad(options);

  EXPECT_EQ(result.requests, 900u);
  EXPECT_EQ(Errors(result), 0u);
  EXPECT_EQ(server.connections(), 7);
  const std::vector<std::string> targets = server.Targets();
  std::set<std::string> unique(targets.begin(), targets.end());
  EXPECT_EQ(unique.size(), 900u);
  EXPECT_TRUE(unique.count("/t/0") == 1 && unique.count("/t/899") == 1);
}

TEST(RunLoad, MaxRequestsEndsAnOpenLoopRunOnceAnswered) {
  TestServer server;
  LoadOptions options = OptionsFor(server.port());
  options.threads = 2;
  options.connections = 4;
  options.max_requests = 20;
  // Connections waiting for a planned request that will never come must
  // notice that the numbers are used up, and the run end.
  options.schedule = ParseSchedule("steady 200ms at 100/s; idle 9800ms");
  options.duration = milliseconds(10'000);

  const Clock::time_point start = Clock::now();
  const LoadResult result = RunLoad(options);

  EXPECT_LT(SecondsSince(start), 2.0);
  EXPECT_EQ(result.requests, 20u);
  EXPECT_LT(result.elapsed_s, 1.0);
}

TEST(RunLoad, ClosedLoopEndsOnTimeWithUniqueNumbers) {
  TestServer server;
  LoadOptions options = OptionsFor(server.port());
  options.path_template = "/k/{n}";
  options.threads = 2;
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

TEST(RunLoad, OpenLoopSendsThePlannedRequests) {
  TestServer server;
  LoadOptions options = OptionsFor(server.port());
  options.threads = 2;
  options.schedule = Schedule::Steady(milliseconds(1000), 200);
  options.duration = milliseconds(1000);

  const LoadResult result = RunLoad(options);

  // 200 requests are planned in the second; all are sent unless the machine
  // stalls for a long time, and none more.
  EXPECT_EQ(result.planned, 200u);
  EXPECT_LE(result.requests_sent, 200u);
  EXPECT_GE(result.requests, 150u);
  EXPECT_EQ(result.ok, result.requests);
  EXPECT_TRUE(result.latency_from_planned);
  // Evenly spread: the first tenth of the second holds about a tenth of them.
  const auto seen = server.Requests();
  ASSERT_FALSE(seen.empty());
  int early = 0;
  for (const auto& s : seen) early += s.at_s < seen.front().at_s + 0.1;
  EXPECT_LE(early, 40);
}

TEST(RunLoad, OpenLoopLatencyCountsFromThePlannedSendTime) {
  // One connection, a server that takes 50 ms, 100 requests a second planned:
  // the connection manages 20 a second, so requests wait longer and longer
  // for it. Measured from the send time (what a closed-loop tool reports)
  // every request takes 50 ms; from the planned time, the waiting counts too.
  TestServer server({.delay = milliseconds(50)});
  LoadOptions options = OptionsFor(server.port());
  options.connections = 1;
  options.duration = milliseconds(1000);
  options.request_timeout = milliseconds(5000);
  options.schedule = Schedule::Steady(options.duration, 100);

  const LoadResult open = RunLoad(options);
  options.schedule = {};
  const LoadResult closed = RunLoad(options);

  ASSERT_GT(open.requests, 5u);
  EXPECT_TRUE(open.latency_from_planned);
  EXPECT_GT(open.latency.p50_ms, 150) << "waiting for the busy connection must count";
  EXPECT_GT(open.latency.max_ms, 400);
  EXPECT_FALSE(closed.latency_from_planned);
  EXPECT_LT(closed.latency.p50_ms, 150);
  // Most planned requests never got a connection before the end.
  EXPECT_GT(open.dropped, 50u);
}

TEST(RunLoad, FollowsPhasesAndReportsThem) {
  TestServer server;
  LoadOptions options = OptionsFor(server.port());
  options.schedule = ParseSchedule("idle 300ms; steady 400ms at 100/s; idle 300ms");
  options.duration = options.schedule.PhasesDuration();
  std::mutex mutex;
  std::vector<LoadEvent> events;
  RunControl control;
  control.on_event = [&](const LoadEvent& e) {
    std::lock_guard lock(mutex);
    events.push_back(e);
  };

  const Clock::time_point start = Clock::now();
  const LoadResult result = RunLoad(options, control);

  EXPECT_LT(SecondsSince(start), 3.0);
  EXPECT_EQ(result.planned, 40u);
  EXPECT_GE(result.requests, 35u);
  EXPECT_LE(result.requests, 40u);
  // Nothing is sent in the idle phases (the server's clock started a little
  // before the run's).
  for (const auto& seen : server.Requests()) {
    EXPECT_GT(seen.at_s, 0.25);
    EXPECT_LT(seen.at_s, 0.85);
  }
  std::lock_guard lock(mutex);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].name, "phase");
  EXPECT_EQ(events[0].detail, "idle 300ms");
  EXPECT_EQ(events[1].detail, "steady 400ms at 100/s");
  EXPECT_EQ(events[2].detail, "idle 300ms");
  EXPECT_NEAR(std::chrono::duration<double>(events[1].at - events[0].at).count(), 0.3, 0.001);
}

TEST(RunLoad, ClosedLoopPhaseBetweenPacedOnes) {
  TestServer server;
  LoadOptions options = OptionsFor(server.port());
  options.schedule = ParseSchedule("steady 200ms at 50/s; burst 200ms; steady 200ms at 50/s");
  options.duration = options.schedule.PhasesDuration();

  const LoadResult result = RunLoad(options);

  // 10 + 10 paced requests, and the burst as fast as 4 connections go.
  EXPECT_EQ(result.planned, 20u);
  EXPECT_GT(result.requests, 60u);
  EXPECT_EQ(Errors(result), 0u);
}

TEST(RunLoad, SendsEventRequestsOnTheirScheduleAndReportsThem) {
  TestServer server;
  LoadOptions options = OptionsFor(server.port());
  options.path_template = "/load";
  options.schedule = ParseSchedule("steady 1s at 50/s; event ping POST /ping at 100ms every 200ms");
  options.duration = milliseconds(1000);
  std::mutex mutex;
  std::vector<LoadEvent> pings;
  RunControl control;
  control.on_event = [&](const LoadEvent& e) {
    std::lock_guard lock(mutex);
    if (e.name == "ping") pings.push_back(e);
  };

  const LoadResult result = RunLoad(options, control);

  int seen_pings = 0;
  for (const auto& seen : server.Requests()) {
    if (seen.target == "/ping") {
      ++seen_pings;
      EXPECT_EQ(seen.method, "POST");
    }
  }
  // Due at 100, 300, 500, 700 and 900 ms.
  EXPECT_EQ(seen_pings, 5);
  ASSERT_EQ(result.events.size(), 1u);
  EXPECT_EQ(result.events[0].name, "ping");
  EXPECT_EQ(result.events[0].sent, 5u);
  EXPECT_EQ(result.events[0].ok, 5u);
  // Event requests are not part of the load's counts.
  EXPECT_LE(result.requests, 50u);
  std::lock_guard lock(mutex);
  ASSERT_EQ(pings.size(), 5u);
  EXPECT_EQ(pings[0].detail, "POST /ping -> 200");
}

TEST(RunLoad, EventsRunWithoutLoadConnections) {
  TestServer server;
  LoadOptions options = OptionsFor(server.port());
  options.connections = 0;
  options.schedule = ParseSchedule("idle 500ms; event burst GET /burst?mb=1 at 100ms");
  options.duration = milliseconds(500);

  const Clock::time_point start = Clock::now();
  const LoadResult result = RunLoad(options);

  EXPECT_LT(SecondsSince(start), 2.0);
  EXPECT_EQ(result.requests, 0u);
  EXPECT_EQ(server.Targets(), std::vector<std::string>{"/burst?mb=1"});
  ASSERT_EQ(result.events.size(), 1u);
  EXPECT_EQ(result.events[0].ok, 1u);
}

TEST(RunLoad, EventToAServerThatIsGoneIsReportedAsFailed) {
  LoadOptions options = OptionsFor(UnusedPort());
  options.connections = 0;
  options.schedule = ParseSchedule("idle 300ms; event reload POST /reload at 50ms every 100ms");
  options.duration = milliseconds(300);
  std::vector<std::string> details;
  RunControl control;
  control.on_event = [&](const LoadEvent& e) {
    if (e.name == "reload") details.push_back(e.detail);
  };

  const LoadResult result = RunLoad(options, control);

  ASSERT_EQ(result.events.size(), 1u);
  EXPECT_GE(result.events[0].failed, 2u);
  EXPECT_EQ(result.events[0].ok, 0u);
  ASSERT_FALSE(details.empty());
  EXPECT_EQ(details[0].rfind("POST /reload -> connect error: ", 0), 0u) << details[0];
}

TEST(RunLoad, KeysFollowTheSeed) {
  TestServer server;
  LoadOptions options = OptionsFor(server.port());
  options.path_template = "/get?n={n}&key={key}";
  options.keys = ParseKeySpec("zipf:50:1.1");
  options.max_requests = 300;
  options.threads = 2;
  options.seed = 7;

  RunLoad(options);
  const std::vector<std::string> first = server.Targets();
  TestServer again;
  options.port = again.port();
  RunLoad(options);
  const std::vector<std::string> second = again.Targets();
  TestServer other;
  options.port = other.port();
  options.seed = 8;
  RunLoad(options);
  const std::vector<std::string> third = other.Targets();

  // The same (number, key) pairs whatever the threads' timing; another seed,
  // other keys.
  EXPECT_EQ(std::set<std::string>(first.begin(), first.end()),
            std::set<std::string>(second.begin(), second.end()));
  EXPECT_NE(std::set<std::string>(first.begin(), first.end()),
            std::set<std::string>(third.begin(), third.end()));
  std::map<int, int> count;
  for (const std::string& t : first) count[std::stoi(t.substr(t.find("key=") + 4))]++;
  EXPECT_LT(count.rbegin()->first, 50);
  EXPECT_GT(count[0], count[10]);
}

TEST(RunLoad, SendsBodiesWithTheirLength) {
  TestServer server;
  LoadOptions options = OptionsFor(server.port());
  options.method = "POST";
  options.body = "{\"id\": {n}}";
  options.headers = {"Content-Type: application/json"};
  options.max_requests = 12;

  const LoadResult result = RunLoad(options);

  EXPECT_EQ(result.ok, 12u);
  std::set<std::string> bodies;
  for (const auto& seen : server.Requests()) bodies.insert(seen.body);
  EXPECT_EQ(bodies.size(), 12u);
  EXPECT_EQ(bodies.count("{\"id\": 11}"), 1u);
}

TEST(RunLoad, ReconnectsWhenTheServerClosesEachConnection) {
  TestServer server({.close_each = true});
  LoadOptions options = OptionsFor(server.port());
  options.max_requests = 50;

  const LoadResult result = RunLoad(options);

  EXPECT_EQ(result.requests, 50u);
  EXPECT_EQ(result.ok, 50u);
  EXPECT_EQ(Errors(result), 0u);
}

TEST(RunLoad, RetriesOnceWhenAKeepAliveConnectionWasClosedUnannounced) {
  // The server closes after every response without "Connection: close": the
  // next request on that connection finds it closed, and is sent again on a
  // new connection (GET is idempotent), without counting an error.
  TestServer server({.close_silently = true});
  LoadOptions options = OptionsFor(server.port());
  options.connections = 2;
  options.max_requests = 40;

  const LoadResult result = RunLoad(options);

  EXPECT_EQ(result.ok, 40u);
  EXPECT_EQ(Errors(result), 0u);
  EXPECT_GT(result.retried, 0u);
}

TEST(RunLoad, DoesNotRetryNonIdempotentRequests) {
  TestServer server({.close_silently = true});
  LoadOptions options = OptionsFor(server.port());
  options.method = "POST";
  options.connections = 1;
  options.duration = milliseconds(500);

  const LoadResult result = RunLoad(options);

  EXPECT_EQ(result.retried, 0u);
  EXPECT_GT(result.ok, 0u);
  EXPECT_GT(result.read_errors + result.write_errors, 0u);
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

TEST(RunLoad, RefusedConnectionsInOpenLoopDropThePlannedRequests) {
  LoadOptions options = OptionsFor(UnusedPort());
  options.duration = milliseconds(500);
  options.schedule = Schedule::Steady(options.duration, 1000);

  const LoadResult result = RunLoad(options);

  EXPECT_GT(result.connect_errors, 0u);
  EXPECT_EQ(result.requests_sent, 0u);
  EXPECT_EQ(result.planned, 500u);
  EXPECT_EQ(result.dropped, 500u);
}

TEST(RunLoad, ServerErrorsAreStatusErrors) {
  TestServer server({.status = 503});
  LoadOptions options = OptionsFor(server.port());
  options.max_requests = 20;

  const LoadResult result = RunLoad(options);

  EXPECT_EQ(result.requests, 20u);
  EXPECT_EQ(result.status_errors, 20u);
  EXPECT_EQ(result.status_classes[5], 20u);
  EXPECT_EQ(result.ok, 0u);
}

TEST(RunLoad, GarbageAnswersAreReadErrorsAndTheRunEndsOnTime) {
  TestServer server({.garbage = true});
  LoadOptions options = OptionsFor(server.port());
  options.duration = milliseconds(500);

  const Clock::time_point start = Clock::now();
  const LoadResult result = RunLoad(options);

  EXPECT_LT(SecondsSince(start), 3.0);
  EXPECT_EQ(result.requests, 0u);
  EXPECT_GT(result.read_errors, 0u);
  // One error per connection and backoff (100 ms), not a tight loop.
  EXPECT_LE(result.read_errors, 40u);
  EXPECT_EQ(result.timeouts, 0u);
}

TEST(RunLoad, SlowServerTimesOutAndTheRunEndsOnTime) {
  TestServer server({.delay = milliseconds(400)});
  LoadOptions options = OptionsFor(server.port());
  options.connections = 2;
  options.request_timeout = milliseconds(100);
  options.duration = milliseconds(700);

  const Clock::time_point start = Clock::now();
  const LoadResult result = RunLoad(options);

  EXPECT_LT(SecondsSince(start), 3.0);
  EXPECT_GE(result.timeouts, 4u);
  EXPECT_EQ(result.requests, 0u);
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

TEST(RunLoad, ServerThatGoesAwayMidRun) {
  auto server = std::make_unique<TestServer>();
  LoadOptions options = OptionsFor(server->port());
  options.duration = milliseconds(1000);
  std::thread killer([&server] {
    std::this_thread::sleep_for(milliseconds(300));
    server.reset();
  });

  const Clock::time_point start = Clock::now();
  const LoadResult result = RunLoad(options);
  killer.join();

  EXPECT_LT(SecondsSince(start), 3.0);
  EXPECT_GT(result.ok, 0u);
  // Connections closed under the requests, then refused.
  EXPECT_GT(result.connect_errors, 0u);
  EXPECT_LE(result.connect_errors, 40u);
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
  RunControl control;
  control.stop = &stop;

  const Clock::time_point start = Clock::now();
  const LoadResult result = RunLoad(options, control);
  stopper.join();

  EXPECT_LT(SecondsSince(start), 2.0);
  EXPECT_LT(result.elapsed_s, 2.0);
  EXPECT_GT(result.requests, 0u);
}

TEST(RunLoad, ReportsProgress) {
  TestServer server;
  LoadOptions options = OptionsFor(server.port());
  options.duration = milliseconds(2200);
  options.schedule = Schedule::Steady(options.duration, 100);
  std::vector<Progress> reports;
  RunControl control;
  control.on_progress = [&reports](const Progress& p) { reports.push_back(p); };

  RunLoad(options, control);

  ASSERT_EQ(reports.size(), 2u);
  EXPECT_NEAR(reports[0].elapsed_s, 1.0, 0.1);
  EXPECT_GT(reports[1].requests, reports[0].requests);
  EXPECT_NEAR(reports[1].requests_per_s, 100, 30);
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
      {"threads", [](LoadOptions& o) { o.threads = 0; }},
      {"threads", [](LoadOptions& o) { o.threads = 5; }},
      {"duration", [](LoadOptions& o) { o.duration = milliseconds(0); }},
      {"schedule", [](LoadOptions& o) { o.schedule = Schedule::Steady(milliseconds(0), 10); }},
      {"schedule",
       [](LoadOptions& o) {
         o.schedule = Schedule::Steady(milliseconds(10), std::numeric_limits<double>::infinity());
       }},
      {"request_timeout", [](LoadOptions& o) { o.request_timeout = milliseconds(-5); }},
      {"connect_timeout", [](LoadOptions& o) { o.connect_timeout = milliseconds(0); }},
      {"port", [](LoadOptions& o) { o.port = 0; }},
      {"host", [](LoadOptions& o) { o.host = ""; }},
      {"path_template", [](LoadOptions& o) { o.path_template = "track"; }},
      {"path_template", [](LoadOptions& o) { o.path_template = "/a b"; }},
      {"path_template", [](LoadOptions& o) { o.path_template = "/a\r\nX-Evil: 1"; }},
      {"method", [](LoadOptions& o) { o.method = "FETCH"; }},
      {"headers", [](LoadOptions& o) { o.headers = {"Content-Length: 5"}; }},
      {"header", [](LoadOptions& o) { o.headers = {"X-Evil: a\r\nb"}; }},
      {"body", [](LoadOptions& o) { o.body.assign(2 << 20, 'x'); }},
      {"keys",
       [](LoadOptions& o) {
         o.keys = {KeySpec::Kind::kZipf, 10, -1};
       }},
      {"keys",
       [](LoadOptions& o) {
         o.keys = {KeySpec::Kind::kUniform, 0, 1};
       }},
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

TEST(ValidateOptions, ZeroConnectionsOnlyWithoutLoad) {
  LoadOptions options = OptionsFor(8080);
  options.connections = 0;
  options.schedule = ParseSchedule("idle 1s; event r GET /r at 0s");
  EXPECT_NO_THROW(ValidateOptions(options));
  options.schedule = ParseSchedule("idle 1s; steady 1s at 5/s");
  EXPECT_THROW(ValidateOptions(options), std::invalid_argument);
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

TEST(ExpandTemplate, ReplacesEveryPlaceholder) {
  EXPECT_EQ(ExpandTemplate("/", 7, 1), "/");
  EXPECT_EQ(ExpandTemplate("/track?id={n}", 42, 1), "/track?id=42");
  EXPECT_EQ(ExpandTemplate("/{n}/{n}/{key}", 0, 9), "/0/0/9");
  EXPECT_EQ(ExpandTemplate("/{m}{n", 3, 1), "/{m}{n");
  EXPECT_EQ(ExpandTemplate("/{n}", UINT64_MAX, 1), "/18446744073709551615");
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
  options.schedule = ParseSchedule("steady 2s at 100/s; event r POST /r at 1s");
  LoadResult result;
  result.requests = 10;
  result.timeouts = 2;
  result.dropped = 3;
  result.latency.p99_ms = 1.5;
  result.latency_from_planned = true;
  result.events.push_back({"r", 1, 1, 0, 0});
  const boost::json::object json = ToJson(options, result);
  EXPECT_EQ(json.at("schema_version").as_int64(), 2);
  EXPECT_EQ(json.at("options").at("port").to_number<int64_t>(), 8080);
  EXPECT_EQ(json.at("options").at("duration_ms").to_number<int64_t>(), 2000);
  EXPECT_EQ(json.at("options").at("schedule").as_string(),
            "steady 2s at 100/s; event r POST /r at 1s");
  EXPECT_EQ(json.at("options").at("mode").as_string(), "open");
  EXPECT_EQ(json.at("result").at("requests").as_uint64(), 10u);
  EXPECT_EQ(json.at("result").at("dropped").as_uint64(), 3u);
  EXPECT_EQ(json.at("result").at("errors").at("timeout").as_uint64(), 2u);
  EXPECT_EQ(json.at("result").at("latency_ms").at("p99").as_double(), 1.5);
  EXPECT_EQ(json.at("result").at("latency_from").as_string(), "planned_send_time");
  EXPECT_EQ(json.at("result").at("events").at(0).at("name").as_string(), "r");
}

TEST(FormatSummary, ReadsLikeWrk) {
  LoadOptions options = OptionsFor(8080);
  LoadResult result;
  result.requests = 1000;
  result.elapsed_s = 2;
  result.requests_per_s = 500;
  result.read_errors = 1;
  const std::string text = FormatSummary(options, result, true);
  EXPECT_NE(text.find("Running 2s test @ http://127.0.0.1:8080/"), std::string::npos) << text;
  EXPECT_NE(text.find("Latency Distribution"), std::string::npos) << text;
  EXPECT_NE(text.find("Socket errors: connect 0, read 1, write 0, timeout 0"), std::string::npos)
      << text;
  EXPECT_NE(text.find("\nRequests/sec:    500.00\n"), std::string::npos) << text;  // wrk's %9.2f
  EXPECT_NE(text.find("  Thread Stats   Avg      Stdev     Max   +/- Stdev\n"), std::string::npos)
      << text;
}

// The shape of a line as scripts read it: its whitespace-separated fields,
// with every number (with or without its unit: 174.49us, 13.33k, 97.91%,
// 4.78MB, 2s) replaced by '#'.
std::string Shape(const std::string& line) {
  std::string out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ') ++j;
    if (j == i) break;
    std::string field = line.substr(i, j - i);
    const bool comma = field.size() > 1 && field.back() == ',';  // "1.10s,"
    if (comma) field.pop_back();
    const bool number = std::isdigit(static_cast<unsigned char>(field[0])) &&
                        field.find_first_not_of("0123456789.") != 0 &&
                        field.find_first_not_of("0123456789.kMGTKBusmh%") == std::string::npos;
    out += (out.empty() ? "" : " ") + (number ? std::string("#") : field) + (comma ? "," : "");
    i = j;
  }
  return out;
}

std::vector<std::string> Shapes(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out.push_back(Shape(text.substr(start, end - start)));
    start = end + 1;
  }
  return out;
}

// Scripts written for wrk's output must read ours: the same server, loaded
// by wrk and by us with the same flags, gives lines of the same shapes, in
// the same order (ours may add lines of its own between them).
TEST(FormatSummary, LinesHaveTheShapesOfWrksOwnOutput) {
  if (std::system("command -v wrk >/dev/null 2>&1") != 0) GTEST_SKIP() << "wrk is not installed";
  TestServer server;
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
  std::string wrk_text;
  {
    FILE* pipe = popen(("wrk -t 1 -c 2 -d 1s --latency " + url + " 2>&1").c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    char buf[4096];
    size_t got = 0;
    while ((got = std::fread(buf, 1, sizeof buf, pipe)) > 0) wrk_text.append(buf, got);
    ASSERT_EQ(pclose(pipe), 0) << wrk_text;
  }
  LoadOptions options = OptionsFor(server.port());
  options.threads = 1;
  options.connections = 2;
  options.duration = std::chrono::seconds(1);
  const std::string ours = FormatSummary(options, RunLoad(options), true);

  const std::vector<std::string> theirs = Shapes(wrk_text), mine = Shapes(ours);
  size_t next = 0;
  for (const std::string& line : theirs) {
    // Errors depend on the run (a reset at the end of wrk's): not a shape.
    if (line.starts_with("Socket errors") || line.starts_with("Non-2xx")) continue;
    const auto it = std::find(mine.begin() + static_cast<std::ptrdiff_t>(next), mine.end(), line);
    EXPECT_NE(it, mine.end()) << "wrk's line shape '" << line << "' is missing or out of order\n"
                              << "wrk:\n"
                              << wrk_text << "ours:\n"
                              << ours;
    if (it != mine.end()) next = static_cast<size_t>(it - mine.begin()) + 1;
  }
  EXPECT_GE(theirs.size(), 12u) << wrk_text;  // the whole report, not an error line
}

}  // namespace
}  // namespace leaklab::loadgen
