// The load engine: one io_context on the calling thread, one coroutine per
// keep-alive connection doing request/response in a loop, plus a deadline and
// an optional stop watcher that end the run by closing every socket.

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "loadgen/loadgen.h"

namespace leaklab::loadgen {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// After a failed connect, write or read, a connection waits this long before
// reconnecting: a dead server then costs at most 10 attempts/s per connection
// instead of a tight loop, and a restarted server is picked up again quickly.
constexpr std::chrono::milliseconds kReconnectBackoff{100};
// How often the caller's stop flag is read; also the worst-case extra run time
// after the caller asks to stop.
constexpr std::chrono::milliseconds kStopPollInterval{20};
// A paced connection that fell further behind its schedule than this (slow
// server, reconnect) drops the missed slots instead of sending them back to
// back: a stall must not be followed by a burst the target rate never asked for.
constexpr std::chrono::milliseconds kMaxScheduleLag{100};
// Responses are read whole and thrown away; this bounds the memory one
// connection can be made to hold. Bigger responses count as read errors.
constexpr uint64_t kMaxResponseBodyBytes = 4 * 1024 * 1024;
constexpr char kUserAgent[] = "leaklab-loadgen/0.1";

// Errors come back as values, not exceptions: they are expected and counted.
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

enum class Step { kConnect, kWrite, kRead };

double SecondsBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

class LoadRun {
 public:
  LoadRun(const LoadOptions& options, const std::atomic<bool>* stop,
          std::atomic<uint64_t>* completed);
  LoadRun(const LoadRun&) = delete;
  LoadRun& operator=(const LoadRun&) = delete;

  LoadResult Run();

 private:
  struct Connection {
    explicit Connection(asio::io_context& io) : stream(io), timer(io) {}
    beast::tcp_stream stream;
    asio::steady_timer timer;  // pacing and reconnect backoff
  };

  asio::awaitable<void> Drive(Connection& connection, int index);
  asio::awaitable<void> WatchDeadline();
  asio::awaitable<void> WatchStop();
  // Waits on the connection's timer; false when the run ended meanwhile.
  asio::awaitable<bool> PauseUntil(Connection& connection, Clock::time_point until);
  // Pacing: connection `index` sends its `slot`-th request no earlier than
  // start + (index + slot * connections) / rate, so the connections interleave
  // evenly and together send `rate` requests per second.
  Clock::time_point SlotTime(int index, uint64_t slot) const;
  uint64_t FirstSlotAtOrAfter(int index, Clock::time_point when) const;
  void CountError(Step step, const beast::error_code& ec);
  void CountResponse(unsigned status, double latency_ms);
  void Finish();

  const LoadOptions& options_;
  const std::atomic<bool>* stop_;
  std::atomic<uint64_t>* completed_;
  const http::verb verb_;
  const bool paced_;
  std::string host_header_;

  // One thread runs everything, so the state below needs no locks.
  asio::io_context io_{1};
  tcp::resolver::results_type endpoints_;
  asio::steady_timer deadline_timer_{io_};
  asio::steady_timer stop_timer_{io_};
  // Declared after io_ so they are destroyed before it.
  std::vector<std::unique_ptr<Connection>> connections_;

  Clock::time_point start_;
  Clock::time_point end_;
  bool finished_ = false;
  int active_connections_ = 0;
  uint64_t next_n_ = 0;
  double latency_sum_ms_ = 0;
  LoadResult result_;
};

LoadRun::LoadRun(const LoadOptions& options, const std::atomic<bool>* stop,
                 std::atomic<uint64_t>* completed)
    : options_(options),
      stop_(stop),
      completed_(completed),
      verb_(http::string_to_verb(options.method)),
      paced_(options.rate_per_s > 0) {
  const bool v6_literal = options.host.find(':') != std::string::npos;
  host_header_ =
      (v6_literal ? "[" + options.host + "]" : options.host) + ":" + std::to_string(options.port);

  // Resolved once, before the clock starts: lookups are not part of the load.
  tcp::resolver resolver(io_);
  beast::error_code ec;
  endpoints_ = resolver.resolve(options.host, std::to_string(options.port), ec);
  if (ec || endpoints_.empty()) {
    throw std::runtime_error("cannot resolve host '" + options.host + "': " + ec.message());
  }
  // "localhost" is only as local as the resolver says; check what it gave.
  if (!options.allow_remote) {
    for (const auto& entry : endpoints_) {
      if (!IsLoopbackHost(entry.endpoint().address().to_string())) {
        throw std::invalid_argument("host '" + options.host + "' resolves to " +
                                    entry.endpoint().address().to_string() +
                                    ", which is not a loopback address; set allow_remote "
                                    "(--allow-remote) to target other machines");
      }
    }
  }
}

LoadResult LoadRun::Run() {
  // An exception inside a coroutine (e.g. std::bad_alloc) leaves io_.run()
  // instead of being swallowed.
  auto rethrow = [](std::exception_ptr error) {
    if (error) std::rethrow_exception(error);
  };
  start_ = Clock::now();
  end_ = start_;
  for (int i = 0; i < options_.connections; ++i) {
    connections_.push_back(std::make_unique<Connection>(io_));
  }
  active_connections_ = options_.connections;
  for (int i = 0; i < options_.connections; ++i) {
    asio::co_spawn(io_, Drive(*connections_[i], i), rethrow);
  }
  asio::co_spawn(io_, WatchDeadline(), rethrow);
  if (stop_ != nullptr) asio::co_spawn(io_, WatchStop(), rethrow);
  io_.run();

  result_.elapsed_s = SecondsBetween(start_, end_);
  if (result_.elapsed_s > 0) {
    result_.requests_per_s = static_cast<double>(result_.requests) / result_.elapsed_s;
  }
  if (result_.requests > 0) {
    result_.latency_mean_ms = latency_sum_ms_ / static_cast<double>(result_.requests);
  }
  return result_;
}

asio::awaitable<void> LoadRun::Drive(Connection& connection, int index) {
  http::request<http::empty_body> request{verb_, "/", 11};
  request.set(http::field::host, host_header_);
  request.set(http::field::user_agent, kUserAgent);
  for (const auto& h : options_.headers) {
    auto [name, value] = ParseHeader(h);
    request.set(name, value);
  }
  // Adds "Content-Length: 0" for methods that expect a body (POST, PUT).
  request.prepare_payload();
  beast::flat_buffer buffer;
  std::optional<http::response_parser<http::string_body>> parser;
  bool connected = false;
  uint64_t slot = 0;

  // After every co_await: if the run ended meanwhile, the operation was
  // aborted by Finish() and is neither an error nor a response.
  while (!finished_) {
    // 1. (Re)connect.
    if (!connected) {
      connection.stream.expires_after(options_.connect_timeout);
      auto [ec, endpoint] = co_await connection.stream.async_connect(endpoints_, kNoThrow);
      if (finished_) break;
      if (ec) {
        CountError(Step::kConnect, ec);
        connection.stream.close();
        if (!co_await PauseUntil(connection, Clock::now() + kReconnectBackoff)) break;
        continue;
      }
      connected = true;
      buffer.clear();
    }

    // 2. Wait for this connection's next slot when paced (not when no request is left).
    if (options_.max_requests != 0 && next_n_ >= options_.max_requests) break;
    if (paced_) {
      Clock::time_point due = SlotTime(index, slot);
      const Clock::time_point now = Clock::now();
      if (now - due > kMaxScheduleLag) {
        slot = FirstSlotAtOrAfter(index, now);
        due = SlotTime(index, slot);
      }
      ++slot;
      if (due > now && !co_await PauseUntil(connection, due)) break;
    }

    // 3. Claim a request number; the run is over once max_requests are claimed
    // (checked again: other connections may have claimed some while this one waited).
    if (options_.max_requests != 0 && next_n_ >= options_.max_requests) break;
    request.target(ExpandPathTemplate(options_.path_template, next_n_++));
    ++result_.requests_sent;

    // 4. Write the request and read the whole response under one timeout.
    const Clock::time_point sent_at = Clock::now();
    connection.stream.expires_after(options_.request_timeout);
    auto [write_ec, bytes_written] =
        co_await http::async_write(connection.stream, request, kNoThrow);
    if (finished_) break;
    std::optional<Step> failed;
    if (write_ec) {
      CountError(Step::kWrite, write_ec);
      failed = Step::kWrite;
    } else {
      parser.emplace();
      parser->body_limit(kMaxResponseBodyBytes);
      auto [read_ec, bytes_read] =
          co_await http::async_read(connection.stream, buffer, *parser, kNoThrow);
      if (read_ec) {
        if (finished_) break;
        CountError(Step::kRead, read_ec);
        failed = Step::kRead;
      } else {
        CountResponse(parser->get().result_int(),
                      std::chrono::duration<double, std::milli>(Clock::now() - sent_at).count());
        if (!parser->get().keep_alive()) {
          // The server asked to close: reconnect at once, this is not an error.
          connection.stream.close();
          connected = false;
        }
      }
    }
    if (failed) {
      connection.stream.close();
      connected = false;
      if (!co_await PauseUntil(connection, Clock::now() + kReconnectBackoff)) break;
    }
  }
  connection.stream.close();
  if (--active_connections_ == 0) Finish();
}

asio::awaitable<void> LoadRun::WatchDeadline() {
  deadline_timer_.expires_at(start_ + options_.duration);
  co_await deadline_timer_.async_wait(kNoThrow);
  Finish();  // no-op when the run already ended and cancelled this timer
}

asio::awaitable<void> LoadRun::WatchStop() {
  while (!finished_) {
    if (stop_->load(std::memory_order_relaxed)) {
      Finish();
      break;
    }
    stop_timer_.expires_after(kStopPollInterval);
    co_await stop_timer_.async_wait(kNoThrow);
  }
}

asio::awaitable<bool> LoadRun::PauseUntil(Connection& connection, Clock::time_point until) {
  connection.timer.expires_at(until);
  co_await connection.timer.async_wait(kNoThrow);
  co_return !finished_;
}

Clock::time_point LoadRun::SlotTime(int index, uint64_t slot) const {
  const double offset_s =
      (static_cast<double>(index) + static_cast<double>(slot) * options_.connections) /
      options_.rate_per_s;
  return start_ +
         std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(offset_s));
}

uint64_t LoadRun::FirstSlotAtOrAfter(int index, Clock::time_point when) const {
  const double slots =
      (SecondsBetween(start_, when) * options_.rate_per_s - index) / options_.connections;
  return slots <= 0 ? 0 : static_cast<uint64_t>(std::ceil(slots));
}

void LoadRun::CountError(Step step, const beast::error_code& ec) {
  if (ec == beast::error::timeout) {
    ++result_.timeouts;
    return;
  }
  switch (step) {
    case Step::kConnect:
      ++result_.connect_errors;
      break;
    case Step::kWrite:
      ++result_.write_errors;
      break;
    case Step::kRead:
      ++result_.read_errors;
      break;
  }
}

void LoadRun::CountResponse(unsigned status, double latency_ms) {
  ++result_.requests;
  if (status >= 200 && status < 300) {
    ++result_.ok;
  } else {
    ++result_.status_errors;
  }
  latency_sum_ms_ += latency_ms;
  if (latency_ms > result_.latency_max_ms) result_.latency_max_ms = latency_ms;
  if (completed_ != nullptr) completed_->fetch_add(1, std::memory_order_relaxed);
}

void LoadRun::Finish() {
  if (finished_) return;
  finished_ = true;
  end_ = Clock::now();
  // Cancelling every timer and closing every socket completes each pending
  // operation with operation_aborted, whatever the server is doing, so
  // io_.run() returns as soon as the coroutines have seen finished_.
  deadline_timer_.cancel();
  stop_timer_.cancel();
  for (auto& connection : connections_) {
    connection->timer.cancel();
    connection->stream.close();
  }
}

}  // namespace

LoadResult RunLoad(const LoadOptions& options, const std::atomic<bool>* stop,
                   std::atomic<uint64_t>* completed) {
  ValidateOptions(options);
  LoadRun run(options, stop, completed);
  return run.Run();
}

}  // namespace leaklab::loadgen
