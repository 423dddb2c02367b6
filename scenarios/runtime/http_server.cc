#include "scenarios/runtime/http_server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <csignal>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "scenarios/runtime/http_exchange.h"

namespace leaklab::runtime {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::chrono::milliseconds kAcceptErrorPause{50};

// Each connection lives on its own strand; `busy` is touched only there.
struct Connection {
  explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  bool busy = false;
};

}  // namespace

class HttpServer::Impl {
 public:
  Impl(ServerOptions options, Handler handler)
      : options_(std::move(options)),
        handler_(std::move(handler)),
        control_(asio::make_strand(ioc_)),
        acceptor_(asio::make_strand(ioc_)),
        signals_(control_, SIGINT, SIGTERM),
        grace_timer_(control_) {}

  uint16_t Listen() {
    beast::error_code ec;
    auto address = asio::ip::make_address(options_.address, ec);
    if (ec) throw std::runtime_error("bad listen address '" + options_.address + "'");
    tcp::endpoint endpoint(address, options_.port);
    auto fail = [&](const char* step) {
      throw std::runtime_error(std::string("cannot ") + step + " " + options_.address + ":" +
                               std::to_string(options_.port) + ": " + ec.message());
    };
    acceptor_.open(endpoint.protocol(), ec);
    if (ec) fail("open");
    acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    acceptor_.bind(endpoint, ec);
    if (ec) fail("bind");
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) fail("listen on");
    return acceptor_.local_endpoint().port();
  }

  void Run() {
    signals_.async_wait([this](const beast::error_code& ec, int) {
      if (!ec) BeginShutdown();
    });
    asio::co_spawn(acceptor_.get_executor(), Accept(), asio::detached);
    std::vector<std::thread> threads;
    for (int i = 1; i < options_.threads; ++i) threads.emplace_back([this] { ioc_.run(); });
    ioc_.run();
    for (auto& t : threads) t.join();
  }

  void Stop() {
    asio::post(control_, [this] { BeginShutdown(); });
  }

 private:
  asio::awaitable<void> Accept() {
    for (;;) {
      beast::error_code ec;
      tcp::socket socket = co_await acceptor_.async_accept(
          asio::make_strand(ioc_), asio::redirect_error(asio::use_awaitable, ec));
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      // Transient accept errors (e.g. EMFILE) must not end the server, nor
      // spin it: wait a little for descriptors to come free.
      if (ec) {
        asio::steady_timer pause(acceptor_.get_executor(), kAcceptErrorPause);
        co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      auto conn = std::make_shared<Connection>(std::move(socket));
      {
        std::lock_guard lock(mu_);
        connections_.insert(conn);
      }
      asio::co_spawn(conn->stream.get_executor(), Serve(conn), asio::detached);
    }
  }

  asio::awaitable<void> Serve(std::shared_ptr<Connection> conn) {
    beast::flat_buffer buffer;
    // Reused across the connection's requests: no allocation per request
    // once it has grown to the usual header count.
    std::vector<Header> headers;
    for (;;) {
      if (stopping_.load()) break;
      internal::RequestParser parser;
      internal::ApplyLimits(parser, options_);
      conn->stream.expires_after(options_.read_timeout);
      beast::error_code ec;
      co_await http::async_read(conn->stream, buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
      if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
          ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
          ec == asio::error::eof || ec == asio::error::bad_descriptor) {
        break;
      }
      conn->busy = true;
      internal::BeastResponse res;
      bool keep_alive = false;
      if (ec) {
        res = internal::ToBeast(internal::ErrorFor(ec), 11, false);
      } else {
        const auto& req = parser.get();
        res = internal::ToBeast(CallHandler(internal::ViewOf(req, headers)), req.version(),
                                req.method() == http::verb::head);
        keep_alive = req.keep_alive() && !stopping_.load();
      }
      res.keep_alive(keep_alive);
      conn->stream.expires_after(options_.write_timeout);
      co_await http::async_write(conn->stream, res, asio::redirect_error(asio::use_awaitable, ec));
      conn->busy = false;
      if (ec || !keep_alive) break;
    }
    beast::error_code ignored;
    conn->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    conn->stream.close();
    bool last = false;
    {
      std::lock_guard lock(mu_);
      connections_.erase(conn);
      last = connections_.empty();
    }
    if (last && stopping_.load()) asio::post(control_, [this] { grace_timer_.cancel(); });
  }

  // The handler must not take the connection down with an exception (a
  // coroutine's exception would be lost by `detached`, and its cleanup with it).
  Response CallHandler(const Request& request) {
    try {
      return handler_(request);
    } catch (const std::exception& e) {
      return {500, "text/plain", std::string("internal error: ") + e.what() + "\n"};
    } catch (...) {
      return {500, "text/plain", "internal error\n"};
    }
  }

  // Runs on control_, like everything that touches signals_ and grace_timer_.
  // Step 1: stop accepting. Step 2: close idle connections; busy ones close
  // after their response. Step 3: whatever is left after the grace period is
  // abandoned by stopping the io_context.
  void BeginShutdown() {
    if (stopping_.exchange(true)) return;
    beast::error_code ignored;
    signals_.cancel(ignored);
    asio::post(acceptor_.get_executor(), [this] {
      beast::error_code ignored;
      acceptor_.close(ignored);
    });
    std::vector<std::shared_ptr<Connection>> open;
    {
      std::lock_guard lock(mu_);
      open.assign(connections_.begin(), connections_.end());
    }
    for (auto& conn : open) {
      asio::post(conn->stream.get_executor(), [conn] {
        // The socket may already be closed (e.g. by its read timeout): the
        // error_code overload, since a throw here would end the server.
        beast::error_code ignored;
        if (!conn->busy) conn->stream.socket().cancel(ignored);
      });
    }
    if (open.empty()) return;
    grace_timer_.expires_after(options_.shutdown_grace);
    grace_timer_.async_wait([this](const beast::error_code& ec) {
      if (!ec) ioc_.stop();
    });
  }

  ServerOptions options_;
  Handler handler_;
  asio::io_context ioc_;
  // Serialises shutdown: the signal handler, Stop() and the last connection's
  // exit may run on different I/O threads.
  asio::strand<asio::io_context::executor_type> control_;
  tcp::acceptor acceptor_;
  asio::signal_set signals_;
  asio::steady_timer grace_timer_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::set<std::shared_ptr<Connection>> connections_;  // guarded by mu_
};

HttpServer::HttpServer(ServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}
HttpServer::~HttpServer() = default;
uint16_t HttpServer::Listen() { return impl_->Listen(); }
void HttpServer::Run() { impl_->Run(); }
void HttpServer::Stop() { impl_->Stop(); }

}  // namespace leaklab::runtime
