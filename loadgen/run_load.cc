// The engine: worker threads, each with its own io_context, histogram and
// share of the connections; connections driven by plain callbacks (no
// coroutine frames on the hot path) and a hand-written response parser.
//
// Per request a connection does one non-blocking send() (no trip through the
// event loop: on loopback a request always fits the socket buffer), then
// reads until the response parser says the response is complete. Timeouts
// are not a timer per request: a per-worker tick sweeps the connections'
// deadlines every 10 ms, which costs nothing per request.

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cmath>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "loadgen/histogram.h"
#include "loadgen/key_sampler.h"
#include "loadgen/loadgen.h"
#include "loadgen/rate_plan.h"
#include "loadgen/request_template.h"
#include "loadgen/response_parser.h"

namespace leaklab::loadgen {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using error_code = boost::system::error_code;

// The timeout sweep and stop-flag poll: timeouts fire up to this late.
constexpr milliseconds kTick{10};
// Each thread's request rate is sampled this often (wrk's RECORD_INTERVAL_MS).
constexpr milliseconds kRateInterval{100};
// After a failed connect, write or read, a connection waits this long before
// it connects again, so that a server that refuses or garbles everything is
// not hammered in a tight loop (at most connections / 100 ms attempts).
constexpr milliseconds kReconnectBackoff{100};
constexpr std::chrono::seconds kProgressInterval{1};
// Read buffer per connection: a whole small response in one read. It grows
// (up to the parser's head limit) only for a response head that does not fit.
constexpr size_t kReadBufferBytes = 16 * 1024;
constexpr size_t kMaxReadBufferBytes = ResponseParser::kMaxHeadBytes + 1024;

Clock::time_point At(Clock::time_point start, double seconds) {
  return start +
         std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

double SecondsBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

bool IsIdempotent(std::string_view method) {
  // RFC 9110 section 9.2.2.
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" ||
         method == "OPTIONS" || method == "TRACE";
}

// A counter with one writer (its worker's thread) that other threads may
// read for progress: relaxed load and store, no locked instruction.
class Counter {
 public:
  void Add(uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t Get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

struct Counters {
  Counter requests, ok, connect, read, write, status, timeout, sent, dropped, retried, bytes;
  Counter status_class[6];
  uint64_t Errors() const {
    return connect.Get() + read.Get() + write.Get() + status.Get() + timeout.Get();
  }
};

enum class Failure { kConnect, kWrite, kRead, kTimeout };

class Connection;

// What a connection reports to whoever drives it.
class ConnectionOwner {
 public:
  virtual void OnConnected(Connection& c) = 0;
  // The response is complete; if the server closed the connection,
  // c.connected() is already false.
  virtual void OnResponse(Connection& c, const ResponseParser& response) = 0;
  virtual void OnFailure(Connection& c, Failure failure, const std::string& what) = 0;
  // The request is being sent again on a fresh connection (see Send).
  virtual void OnRetry(Connection& c) = 0;

 protected:
  ~ConnectionOwner() = default;
};

// One keep-alive HTTP/1.1 connection, one request at a time.
class Connection {
 public:
  Connection(asio::io_context& io, ConnectionOwner& owner,
             const std::vector<tcp::endpoint>& endpoints, milliseconds connect_timeout,
             milliseconds request_timeout, bool head_requests)
      : io_(io),
        owner_(owner),
        endpoints_(endpoints),
        socket_(io),
        backoff_(io),
        connect_timeout_(connect_timeout),
        request_timeout_(request_timeout),
        head_requests_(head_requests),
        buffer_(kReadBufferBytes) {}

  bool connected() const { return state_ == State::kIdle; }
  std::string& request() { return request_; }
  Clock::time_point planned() const { return planned_; }

  // Connects (to the first endpoint that accepts) -> OnConnected or OnFailure.
  void Connect() {
    if (stopped_) return;
    CloseSocket();
    state_ = State::kConnecting;
    timed_out_ = false;
    deadline_ = Clock::now() + connect_timeout_;
    ConnectTo(preferred_endpoint_, 0);
  }

  void ConnectAfter(milliseconds delay) {
    CloseSocket();
    state_ = State::kBackoff;
    backoff_.expires_after(delay);
    backoff_.async_wait([this](const error_code& ec) {
      if (stopped_ || ec) return;
      Connect();
    });
  }

  // Sends request() and reads the response -> OnResponse or OnFailure. The
  // latency and the timeout count from `planned`. When `idempotent` and the
  // connection has served before, a request that finds the connection closed
  // by the server (no byte of answer) is sent once more on a new connection:
  // servers close idle keep-alive connections at any time (RFC 9112 section 9.3).
  void Send(Clock::time_point planned, bool idempotent) {
    planned_ = planned;
    deadline_ = planned + request_timeout_;
    retry_allowed_ = idempotent && served_ > 0;
    SendNow();
  }

  // The tick: ends an operation that ran past its deadline. Its handler then
  // sees operation_aborted and reports a timeout.
  void Expire(Clock::time_point now) {
    if (timed_out_ || now < deadline_) return;
    if (state_ != State::kConnecting && state_ != State::kWriting && state_ != State::kReading)
      return;
    timed_out_ = true;
    error_code ignored;
    socket_.close(ignored);
  }

  // The run is over: close, and let pending handlers return quietly.
  void Stop() {
    stopped_ = true;
    backoff_.cancel();
    CloseSocket();
    state_ = State::kStopped;
  }

 private:
  enum class State { kClosed, kBackoff, kConnecting, kIdle, kWriting, kReading, kStopped };

  void CloseSocket() {
    error_code ignored;
    socket_.close(ignored);
    buffered_ = 0;
    if (state_ != State::kStopped) state_ = State::kClosed;
  }

  void ConnectTo(size_t index, size_t tried) {
    socket_.async_connect(endpoints_[index], [this, index, tried](const error_code& ec) {
      if (stopped_) return;
      if (timed_out_) {
        Fail(Failure::kTimeout, "connect timed out");
        return;
      }
      if (ec) {
        // Try the host's other addresses ("localhost" may be ::1 and 127.0.0.1)
        // before calling it a failure.
        if (tried + 1 < endpoints_.size()) {
          error_code ignored;
          socket_.close(ignored);
          ConnectTo((index + 1) % endpoints_.size(), tried + 1);
          return;
        }
        Fail(Failure::kConnect, ec.message());
        return;
      }
      preferred_endpoint_ = index;
      error_code ignored;
      socket_.set_option(tcp::no_delay(true), ignored);
      // The request is written with a direct send(); it must not block.
      socket_.non_blocking(true, ignored);
      state_ = State::kIdle;
      served_ = 0;
      if (resend_) {
        resend_ = false;
        deadline_ = planned_ + request_timeout_;
        SendNow();
        return;
      }
      owner_.OnConnected(*this);
    });
  }

  void SendNow() {
    state_ = State::kWriting;
    timed_out_ = false;
    parser_.Reset(head_requests_);
    error_code ec;
    const size_t n = socket_.write_some(asio::buffer(request_), ec);
    if (!ec && n == request_.size()) {
      StartRead();
      return;
    }
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
      RetryOrFail(Failure::kWrite, ec);
      return;
    }
    const size_t written = ec ? 0 : n;
    asio::async_write(socket_, asio::buffer(request_.data() + written, request_.size() - written),
                      [this](const error_code& ec, size_t) {
                        if (stopped_) return;
                        if (timed_out_) {
                          Fail(Failure::kTimeout, "request timed out while writing");
                        } else if (ec) {
                          RetryOrFail(Failure::kWrite, ec);
                        } else {
                          StartRead();
                        }
                      });
  }

  void StartRead() {
    state_ = State::kReading;
    if (buffered_ == 0) {
      Read();
      return;
    }
    // Bytes the server sent beyond the last response: parse them first, but
    // from the event loop, so that a server sending many unasked-for
    // responses cannot make this recurse.
    const uint64_t generation = ++generation_;
    asio::post(io_, [this, generation] {
      if (stopped_ || generation != generation_ || state_ != State::kReading) return;
      if (!Parse()) Read();
    });
  }

  void Read() {
    if (buffered_ == buffer_.size()) {
      if (buffer_.size() >= kMaxReadBufferBytes) {
        Fail(Failure::kRead, "response head too large");
        return;
      }
      buffer_.resize(std::min(buffer_.size() * 2, kMaxReadBufferBytes));
    }
    socket_.async_read_some(asio::buffer(buffer_.data() + buffered_, buffer_.size() - buffered_),
                            [this](const error_code& ec, size_t n) {
                              if (stopped_) return;
                              if (timed_out_) {
                                Fail(Failure::kTimeout, "no complete response within the timeout");
                                return;
                              }
                              if (ec == asio::error::eof) {
                                parser_.FeedEof();
                                if (parser_.state() == ResponseParser::State::kDone) {
                                  Complete();
                                } else {
                                  RetryOrFail(Failure::kRead, ec);
                                }
                                return;
                              }
                              if (ec) {
                                RetryOrFail(Failure::kRead, ec);
                                return;
                              }
                              buffered_ += n;
                              if (!Parse()) Read();
                            });
  }

  // Feeds the buffer to the parser; true when the response is complete or
  // failed (and reported).
  bool Parse() {
    const size_t used = parser_.Feed(buffer_.data(), buffered_);
    if (used > 0) {
      std::memmove(buffer_.data(), buffer_.data() + used, buffered_ - used);
      buffered_ -= used;
    }
    switch (parser_.state()) {
      case ResponseParser::State::kDone:
        Complete();
        return true;
      case ResponseParser::State::kError:
        Fail(Failure::kRead, parser_.error());
        return true;
      case ResponseParser::State::kNeedMore:
        break;
    }
    return false;
  }

  void Complete() {
    ++served_;
    state_ = State::kIdle;
    // The server closes after this response: not an error, the owner reconnects.
    if (!parser_.keep_alive()) CloseSocket();
    owner_.OnResponse(*this, parser_);
  }

  void RetryOrFail(Failure failure, const error_code& ec) {
    const bool closed_by_peer = ec == asio::error::eof || ec == asio::error::connection_reset ||
                                ec == asio::error::broken_pipe;
    if (retry_allowed_ && closed_by_peer && parser_.bytes_consumed() == 0 && buffered_ == 0) {
      retry_allowed_ = false;
      resend_ = true;
      owner_.OnRetry(*this);
      Connect();
      return;
    }
    Fail(failure,
         parser_.state() == ResponseParser::State::kError ? parser_.error() : ec.message());
  }

  void Fail(Failure failure, const std::string& what) {
    resend_ = false;
    CloseSocket();
    owner_.OnFailure(*this, failure, what);
  }

  asio::io_context& io_;
  ConnectionOwner& owner_;
  const std::vector<tcp::endpoint>& endpoints_;
  tcp::socket socket_;
  asio::steady_timer backoff_;
  const milliseconds connect_timeout_;
  const milliseconds request_timeout_;
  const bool head_requests_;
  State state_ = State::kClosed;
  bool stopped_ = false;
  bool timed_out_ = false;
  bool retry_allowed_ = false;
  bool resend_ = false;
  size_t preferred_endpoint_ = 0;
  uint64_t served_ = 0;  // responses on the current TCP connection
  uint64_t generation_ = 0;
  Clock::time_point planned_;
  Clock::time_point deadline_ = Clock::time_point::max();
  std::string request_;
  std::vector<char> buffer_;
  size_t buffered_ = 0;
  ResponseParser parser_;
};

class Worker;

// Everything the workers share; read-only during the run except the atomics.
struct Shared {
  Shared(const LoadOptions& o, const RunControl& c)
      : options(o),
        control(c),
        request(o),
        keys(o.keys, o.seed),
        plan(o.schedule, o.duration),
        idempotent(IsIdempotent(o.method)),
        numbered(request.needs_number() || o.max_requests > 0),
        keyed(o.keys.kind != KeySpec::Kind::kUnique) {}

  const LoadOptions& options;
  const RunControl& control;
  const RequestTemplate request;
  const KeySampler keys;
  const RatePlan plan;
  const bool idempotent;
  const bool numbered;  // requests need a number: "{n}", "{key}" or max_requests
  const bool keyed;
  std::vector<tcp::endpoint> endpoints;
  std::string host_field;
  Clock::time_point start;
  Clock::time_point end;
  int threads = 1;
  std::atomic<uint64_t> next_number{0};
  std::atomic<bool> stop_all{false};
  std::vector<std::unique_ptr<Worker>> workers;
};

// The scheduled event requests, on worker 0, on a connection of their own.
class EventRunner final : public ConnectionOwner {
 public:
  EventRunner(Shared& run, asio::io_context& io)
      : run_(run),
        timer_(io),
        connection_(io, *this, run.endpoints, run.options.connect_timeout,
                    run.options.request_timeout, false) {
    for (const ScheduledEvent& e : run.options.schedule.events) {
      Item item;
      item.spec = e;
      item.due = run.start + e.first_at;
      item.request = SimpleRequest(e.method, e.path, run.host_field);
      item.stats.name = e.name;
      items_.push_back(std::move(item));
    }
  }

  void Start() { Arm(); }
  void Expire(Clock::time_point now) { connection_.Expire(now); }
  void Stop() {
    stopped_ = true;
    timer_.cancel();
    connection_.Stop();
  }
  std::vector<EventStats> Stats() const {
    std::vector<EventStats> out;
    for (const Item& item : items_) out.push_back(item.stats);
    return out;
  }

  void OnConnected(Connection&) override { SendCurrent(); }
  void OnResponse(Connection&, const ResponseParser& response) override {
    Item& item = items_[current_];
    if (response.status() >= 200 && response.status() < 300) {
      ++item.stats.ok;
    } else {
      ++item.stats.failed;
    }
    Done(std::to_string(response.status()));
  }
  void OnFailure(Connection&, Failure failure, const std::string& what) override {
    ++items_[current_].stats.failed;
    const char* kind = failure == Failure::kConnect ? "connect error: "
                       : failure == Failure::kWrite ? "write error: "
                       : failure == Failure::kRead  ? "read error: "
                                                    : "timeout: ";
    Done(kind + what);
  }
  void OnRetry(Connection&) override {}

 private:
  struct Item {
    ScheduledEvent spec;
    Clock::time_point due;
    std::string request;
    EventStats stats;
  };

  void Arm() {
    if (stopped_ || current_ >= 0) return;
    Clock::time_point next = Clock::time_point::max();
    for (const Item& item : items_) next = std::min(next, item.due);
    if (next == Clock::time_point::max() || next >= run_.end) return;
    timer_.expires_at(next);
    timer_.async_wait([this](const error_code& ec) {
      if (stopped_ || ec) return;
      OnTimer();
    });
  }

  void OnTimer() {
    const Clock::time_point now = Clock::now();
    int earliest = -1;
    for (size_t i = 0; i < items_.size(); ++i) {
      if (items_[i].due <= now && (earliest < 0 || items_[i].due < items_[earliest].due)) {
        earliest = static_cast<int>(i);
      }
    }
    if (earliest < 0) {
      Arm();
      return;
    }
    current_ = earliest;
    ++items_[current_].stats.sent;
    if (connection_.connected()) {
      SendCurrent();
    } else {
      connection_.Connect();
    }
  }

  void SendCurrent() {
    connection_.request() = items_[current_].request;
    connection_.Send(Clock::now(), IsIdempotent(items_[current_].spec.method));
  }

  void Done(const std::string& outcome) {
    Item& item = items_[current_];
    const Clock::time_point now = Clock::now();
    if (run_.control.on_event) {
      run_.control.on_event(
          {now, item.spec.name, item.spec.method + " " + item.spec.path + " -> " + outcome});
    }
    // The next due time; times that passed while this request ran are
    // skipped (and counted), not sent in a catch-up burst.
    if (item.spec.every <= milliseconds::zero()) {
      item.due = Clock::time_point::max();
    } else {
      item.due += item.spec.every;
      if (item.due <= now) {
        const auto behind = (now - item.due) / item.spec.every + 1;
        item.stats.missed += static_cast<uint64_t>(behind);
        item.due += item.spec.every * behind;
      }
    }
    current_ = -1;
    Arm();
  }

  Shared& run_;
  asio::steady_timer timer_;
  Connection connection_;
  std::vector<Item> items_;
  int current_ = -1;  // the item whose request is in flight
  bool stopped_ = false;
};

class Worker final : public ConnectionOwner {
 public:
  Worker(Shared& run, int index, int connections)
      : run_(run), index_(index), pace_timer_(io_), tick_timer_(io_), end_timer_(io_) {
    for (int i = 0; i < connections; ++i) {
      connections_.push_back(
          std::make_unique<Connection>(io_, *this, run.endpoints, run.options.connect_timeout,
                                       run.options.request_timeout, run.request.head_request()));
    }
    idle_.reserve(connections_.size());
  }

  // On the worker's own thread: runs until the run ends.
  void Work() {
    if (index_ == 0 && !run_.options.schedule.events.empty()) {
      events_ = std::make_unique<EventRunner>(run_, io_);
      events_->Start();
    }
    if (index_ == 0) ReportPhase(0);
    for (auto& c : connections_) c->Connect();
    end_timer_.expires_at(run_.end);
    end_timer_.async_wait([this](const error_code& ec) {
      if (!ec) Finish(Clock::now());
    });
    next_tick_ = run_.start + kTick;
    next_progress_ = run_.start + kProgressInterval;
    last_progress_at_ = run_.start;
    rate_since_ = run_.start;
    Tick();
    io_.run();
  }

  const Counters& counters() const { return counters_; }
  const LatencyHistogram& histogram() const { return histogram_; }
  const std::vector<double>& rate_samples() const { return rate_samples_; }
  Clock::time_point finished_at() const { return finished_at_; }
  std::vector<EventStats> EventStatsList() const {
    return events_ ? events_->Stats() : std::vector<EventStats>();
  }
  // This worker's slots that were due before `end_s` but never sent nor
  // dropped: no connection was ready for them before the run ended (e.g.
  // none could connect).
  uint64_t UnsentSlots(double end_s) const {
    const double due = std::ceil(run_.plan.SlotsBefore(end_s));  // slots 0 .. due-1
    if (due <= index_) return 0;
    const auto owned = static_cast<uint64_t>(std::ceil((due - index_) / run_.threads));
    return owned > next_slot_ ? owned - next_slot_ : 0;
  }

  void OnConnected(Connection& c) override { Ready(c); }

  void OnResponse(Connection& c, const ResponseParser& response) override {
    const Clock::time_point now = Clock::now();
    histogram_.Record(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(now - c.planned()).count()));
    counters_.requests.Add();
    counters_.bytes.Add(response.bytes_consumed());
    const unsigned status = response.status();
    counters_.status_class[status >= 100 && status < 600 ? status / 100 : 0].Add();
    if (status >= 200 && status < 300) {
      counters_.ok.Add();
    } else {
      counters_.status.Add();
    }
    if (finished_) return;
    if (!c.connected()) {
      c.Connect();
      return;
    }
    Ready(c);
  }

  void OnFailure(Connection& c, Failure failure, const std::string&) override {
    switch (failure) {
      case Failure::kConnect:
        counters_.connect.Add();
        break;
      case Failure::kWrite:
        counters_.write.Add();
        break;
      case Failure::kRead:
        counters_.read.Add();
        break;
      case Failure::kTimeout:
        counters_.timeout.Add();
        break;
    }
    if (finished_) return;
    // A timeout already took its time; other failures wait before trying again.
    if (failure == Failure::kTimeout) {
      c.Connect();
    } else {
      c.ConnectAfter(kReconnectBackoff);
    }
  }

  void OnRetry(Connection&) override { counters_.retried.Add(); }

 private:
  // A connection is free: send now, or wait for the next planned request.
  void Ready(Connection& c) {
    if (finished_) return;
    const Clock::time_point now = Clock::now();
    if (std::optional<Clock::time_point> due = TakeDueSlot(now)) {
      Dispatch(c, *due);
      return;
    }
    if (run_.plan.ModeAt(SecondsBetween(run_.start, now)) == RatePlan::Mode::kClosed) {
      Dispatch(c, now);
      return;
    }
    idle_.push_back(&c);
    ArmPaceTimer(now);
  }

  // Open loop: this worker owns the run's request slots index, index +
  // threads, index + 2 threads, ... Returns the planned time of the next
  // one if it is due by `now`. Slots more than request_timeout overdue are
  // dropped in one step: nobody would wait for their answer.
  std::optional<Clock::time_point> TakeDueSlot(Clock::time_point now) {
    double due_s = SlotTime(next_slot_);
    if (due_s == RatePlan::kNever || At(run_.start, due_s) > now) return std::nullopt;
    const double now_s = SecondsBetween(run_.start, now);
    const double timeout_s = std::chrono::duration<double>(run_.options.request_timeout).count();
    if (now_s - due_s > timeout_s) {
      const double first_alive = std::ceil(run_.plan.SlotsBefore(now_s - timeout_s));
      const double m = std::ceil((first_alive - index_) / run_.threads);
      const uint64_t skip_to =
          m > static_cast<double>(next_slot_) ? static_cast<uint64_t>(m) : next_slot_ + 1;
      counters_.dropped.Add(skip_to - next_slot_);
      next_slot_ = skip_to;
      due_s = SlotTime(next_slot_);
      if (due_s == RatePlan::kNever || At(run_.start, due_s) > now) return std::nullopt;
    }
    ++next_slot_;
    return At(run_.start, due_s);
  }

  double SlotTime(uint64_t m) const {
    return run_.plan.SlotTime(static_cast<double>(index_) +
                              static_cast<double>(run_.threads) * static_cast<double>(m));
  }

  void ArmPaceTimer(Clock::time_point now) {
    if (pace_armed_ || idle_.empty() || finished_) return;
    const double wake_s =
        std::min(SlotTime(next_slot_), run_.plan.NextClosedStart(SecondsBetween(run_.start, now)));
    if (wake_s == RatePlan::kNever) return;  // nothing more to send: idle to the end
    pace_armed_ = true;
    pace_timer_.expires_at(At(run_.start, wake_s));
    pace_timer_.async_wait([this](const error_code& ec) {
      pace_armed_ = false;
      if (ec || finished_) return;
      OnPaceTimer();
    });
  }

  void OnPaceTimer() {
    const Clock::time_point now = Clock::now();
    while (!idle_.empty() && !finished_) {
      std::optional<Clock::time_point> due = TakeDueSlot(now);
      if (!due && run_.plan.ModeAt(SecondsBetween(run_.start, now)) == RatePlan::Mode::kClosed) {
        due = now;
      }
      if (!due) break;
      Connection* c = idle_.back();
      idle_.pop_back();
      Dispatch(*c, *due);
    }
    ArmPaceTimer(now);
  }

  void Dispatch(Connection& c, Clock::time_point planned) {
    uint64_t n = 0;
    if (run_.numbered) {
      n = run_.next_number.fetch_add(1, std::memory_order_relaxed);
      if (run_.options.max_requests != 0 && n >= run_.options.max_requests) {
        Retire(c);
        return;
      }
    }
    // A request without "{n}" or "{key}" is the same every time: rendered once.
    if (run_.request.needs_number() || c.request().empty()) {
      run_.request.Render(n, run_.keyed ? run_.keys.KeyFor(n) : n, c.request());
    }
    counters_.sent.Add();
    c.Send(planned, run_.idempotent);
  }

  // max_requests are all claimed: this connection is done, and so is every
  // connection waiting for a planned request (no number is left for it).
  void Retire(Connection& c) {
    c.Stop();
    ++retired_;
    RetireIdle();
  }

  void RetireIdle() {
    while (!idle_.empty()) {
      idle_.back()->Stop();
      idle_.pop_back();
      ++retired_;
    }
    if (retired_ == connections_.size()) Finish(Clock::now());
  }

  bool NumbersExhausted() const {
    return run_.options.max_requests != 0 &&
           run_.next_number.load(std::memory_order_relaxed) >= run_.options.max_requests;
  }

  void Tick() {
    tick_timer_.expires_at(next_tick_);
    tick_timer_.async_wait([this](const error_code& ec) {
      if (ec || finished_) return;
      const Clock::time_point now = Clock::now();
      for (auto& c : connections_) c->Expire(now);
      if (events_) events_->Expire(now);
      SampleRate(now);
      if (run_.control.stop != nullptr && run_.control.stop->load(std::memory_order_relaxed)) {
        run_.stop_all.store(true, std::memory_order_relaxed);
      }
      if (run_.stop_all.load(std::memory_order_relaxed)) {
        Finish(now);
        return;
      }
      // Another worker claimed the last number: connections idle here would
      // otherwise wait for their next planned time to find out.
      if (!idle_.empty() && NumbersExhausted()) RetireIdle();
      if (finished_) return;
      if (index_ == 0) Report(now);
      next_tick_ += kTick;
      if (next_tick_ < now) next_tick_ = now + kTick;
      Tick();
    });
  }

  // This thread's requests per second since the last sample, every
  // kRateInterval, when it completed any.
  void SampleRate(Clock::time_point now) {
    if (now - rate_since_ < kRateInterval) return;
    const uint64_t requests = counters_.requests.Get();
    if (requests == rate_requests_) return;
    rate_samples_.push_back(static_cast<double>(requests - rate_requests_) /
                            SecondsBetween(rate_since_, now));
    rate_requests_ = requests;
    rate_since_ = now;
  }

  // Worker 0 tells the caller about phase changes and progress.
  void Report(Clock::time_point now) {
    const double now_s = SecondsBetween(run_.start, now);
    const size_t segment = run_.plan.SegmentAt(now_s);
    if (segment != reported_segment_) ReportPhase(segment);
    if (now >= next_progress_ && run_.control.on_progress) {
      Progress p;
      p.elapsed_s = now_s;
      for (const auto& w : run_.workers) {
        p.requests += w->counters().requests.Get();
        p.errors += w->counters().Errors();
      }
      const double interval = SecondsBetween(last_progress_at_, now);
      p.requests_per_s =
          interval > 0 ? static_cast<double>(p.requests - last_progress_requests_) / interval : 0;
      last_progress_requests_ = p.requests;
      last_progress_at_ = now;
      next_progress_ += kProgressInterval;
      if (next_progress_ < now) next_progress_ = now + kProgressInterval;
      run_.control.on_progress(p);
    }
  }

  void ReportPhase(size_t segment) {
    reported_segment_ = segment;
    if (!run_.control.on_event) return;
    const RatePlan::Segment& s = run_.plan.segments()[segment];
    run_.control.on_event({At(run_.start, s.start_s), "phase", s.label});
  }

  void Finish(Clock::time_point now) {
    if (finished_) return;
    finished_ = true;
    finished_at_ = now;
    // Cancelling every timer and closing every socket completes each pending
    // operation with operation_aborted, whatever the server does, so
    // io_.run() returns as soon as the handlers have seen that.
    pace_timer_.cancel();
    tick_timer_.cancel();
    end_timer_.cancel();
    for (auto& c : connections_) c->Stop();
    idle_.clear();
    if (events_) events_->Stop();
  }

  // Declared first, destroyed last: sockets and timers go before it. Only
  // this worker's thread ever touches it (the stop flag is polled, nothing
  // is posted from outside), so Asio may drop its internal locking.
  asio::io_context io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE};
  Shared& run_;
  const int index_;
  LatencyHistogram histogram_;
  Counters counters_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<Connection*> idle_;  // waiting for a planned request
  std::unique_ptr<EventRunner> events_;
  asio::steady_timer pace_timer_;
  asio::steady_timer tick_timer_;
  asio::steady_timer end_timer_;
  bool pace_armed_ = false;
  bool finished_ = false;
  size_t retired_ = 0;
  uint64_t next_slot_ = 0;  // this worker's next slot: run slot index + threads * next_slot_
  Clock::time_point finished_at_;
  Clock::time_point next_tick_;
  Clock::time_point next_progress_;
  Clock::time_point last_progress_at_;
  uint64_t last_progress_requests_ = 0;
  size_t reported_segment_ = 0;
  std::vector<double> rate_samples_;
  Clock::time_point rate_since_;
  uint64_t rate_requests_ = 0;
};

LatencySummary Summarize(const LatencyHistogram& h) {
  auto ms = [](double ns) { return ns / 1e6; };
  LatencySummary s;
  s.count = h.count();
  if (s.count == 0) return s;
  s.mean_ms = ms(h.mean());
  s.stdev_ms = ms(h.stddev());
  s.min_ms = ms(static_cast<double>(h.min()));
  s.max_ms = ms(static_cast<double>(h.max()));
  s.p50_ms = ms(static_cast<double>(h.ValueAtPercentile(50)));
  s.p75_ms = ms(static_cast<double>(h.ValueAtPercentile(75)));
  s.p90_ms = ms(static_cast<double>(h.ValueAtPercentile(90)));
  s.p99_ms = ms(static_cast<double>(h.ValueAtPercentile(99)));
  s.p999_ms = ms(static_cast<double>(h.ValueAtPercentile(99.9)));
  s.p9999_ms = ms(static_cast<double>(h.ValueAtPercentile(99.99)));
  s.p99999_ms = ms(static_cast<double>(h.ValueAtPercentile(99.999)));
  s.within_stdev_pct = h.PercentWithin(h.mean() - h.stddev(), h.mean() + h.stddev());
  return s;
}

ThreadRateSummary SummarizeRates(const std::vector<double>& samples) {
  ThreadRateSummary r;
  r.samples = samples.size();
  if (samples.empty()) return r;
  double sum = 0, sum_of_squares = 0;
  for (double x : samples) {
    sum += x;
    sum_of_squares += x * x;
    r.max = std::max(r.max, x);
  }
  const double n = static_cast<double>(samples.size());
  r.mean = sum / n;
  r.stdev = std::sqrt(std::max(0.0, sum_of_squares / n - r.mean * r.mean));
  const double within =
      static_cast<double>(std::count_if(samples.begin(), samples.end(), [&r](double x) {
        return x >= r.mean - r.stdev && x <= r.mean + r.stdev;
      }));
  r.within_stdev_pct = 100 * within / n;
  return r;
}

}  // namespace

LoadResult RunLoad(const LoadOptions& options, const RunControl& control) {
  ValidateOptions(options);
  Shared run(options, control);
  run.host_field = HostField(options.host, options.port);

  // Resolved once, before the clock starts: lookups are not part of the load.
  {
    asio::io_context io;
    tcp::resolver resolver(io);
    error_code ec;
    const auto results = resolver.resolve(options.host, std::to_string(options.port), ec);
    if (ec || results.empty()) {
      throw std::runtime_error("cannot resolve host '" + options.host + "': " + ec.message());
    }
    for (const auto& entry : results) {
      // "localhost" is only as local as the resolver says; check what it gave.
      if (!options.allow_remote && !IsLoopbackHost(entry.endpoint().address().to_string())) {
        throw std::invalid_argument("host '" + options.host + "' resolves to " +
                                    entry.endpoint().address().to_string() +
                                    ", which is not a loopback address; set allow_remote "
                                    "(--allow-remote) to target other machines");
      }
      run.endpoints.push_back(entry.endpoint());
    }
  }

  // wrk's rule: the connections are shared out over the threads.
  run.threads = options.connections == 0 ? 1 : std::min(options.threads, options.connections);
  for (int i = 0; i < run.threads; ++i) {
    const int share =
        options.connections / run.threads + (i < options.connections % run.threads ? 1 : 0);
    run.workers.push_back(std::make_unique<Worker>(run, i, share));
  }

  run.start = Clock::now();
  run.end = run.start + options.duration;
  std::vector<std::thread> threads;
  std::mutex error_mutex;
  std::exception_ptr error;
  auto work = [&](Worker& w) {
    try {
      w.Work();
    } catch (...) {
      // std::bad_alloc and the like: stop everyone, report after the join.
      std::lock_guard lock(error_mutex);
      if (!error) error = std::current_exception();
      run.stop_all = true;
    }
  };
  for (int i = 1; i < run.threads; ++i) {
    threads.emplace_back([&work, &run, i] { work(*run.workers[i]); });
  }
  work(*run.workers[0]);
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);

  LoadResult result;
  LatencyHistogram merged;
  Clock::time_point last = run.start;
  for (const auto& w : run.workers) {
    const Counters& c = w->counters();
    result.requests += c.requests.Get();
    result.ok += c.ok.Get();
    for (int i = 0; i < 6; ++i) result.status_classes[i] += c.status_class[i].Get();
    result.connect_errors += c.connect.Get();
    result.read_errors += c.read.Get();
    result.write_errors += c.write.Get();
    result.status_errors += c.status.Get();
    result.timeouts += c.timeout.Get();
    result.requests_sent += c.sent.Get();
    result.dropped += c.dropped.Get();
    result.retried += c.retried.Get();
    result.bytes_read += c.bytes.Get();
    merged.Merge(w->histogram());
    last = std::max(last, w->finished_at());
  }
  result.events = run.workers[0]->EventStatsList();
  result.elapsed_s = SecondsBetween(run.start, last);
  if (result.elapsed_s > 0) {
    result.requests_per_s = static_cast<double>(result.requests) / result.elapsed_s;
  }
  result.planned = static_cast<uint64_t>(std::ceil(run.plan.SlotsBefore(result.elapsed_s)));
  for (const auto& w : run.workers) result.dropped += w->UnsentSlots(result.elapsed_s);
  result.latency_from_planned = run.plan.has_paced();
  result.latency = Summarize(merged);
  std::vector<double> rates;
  for (const auto& w : run.workers) {
    rates.insert(rates.end(), w->rate_samples().begin(), w->rate_samples().end());
  }
  result.thread_rate = SummarizeRates(rates);
  return result;
}

}  // namespace leaklab::loadgen
