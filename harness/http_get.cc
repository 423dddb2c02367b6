#include "harness/http_get.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <optional>
#include <vector>

#include "common/input_limits.h"

namespace leaklab::harness {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

class HttpGetter::Impl {
 public:
  Impl(std::string host, uint16_t port) : host_(std::move(host)), port_(port) {}

  HttpReply Request(const std::string& method, const std::string& target,
                    std::chrono::milliseconds timeout) {
    HttpReply reply;
    // A kept-alive connection may have been closed by the server since the
    // last call; one retry on a fresh connection tells that from a real failure.
    for (int attempt = 0; attempt < 2; ++attempt) {
      bool reused = stream_.has_value();
      reply = HttpReply{};
      ioc_.restart();
      asio::co_spawn(ioc_, DoRequest(method, target, timeout, reply), [](std::exception_ptr) {});
      ioc_.run();
      if (reply.error.empty() || !reused) break;
    }
    return reply;
  }

 private:
  asio::awaitable<void> DoRequest(const std::string& method, const std::string& target,
                                  std::chrono::milliseconds timeout, HttpReply& reply) {
    beast::error_code ec;
    if (!stream_) {
      // A numeric address is used as it is; a name ("localhost") is
      // resolved, within the same timeout, and its addresses are tried in
      // the resolver's order (::1 then 127.0.0.1 for localhost on Debian).
      std::vector<tcp::endpoint> endpoints;
      const asio::ip::address address = asio::ip::make_address(host_, ec);
      if (!ec) {
        endpoints.emplace_back(address, port_);
      } else {
        endpoints = co_await Resolve(timeout, ec);
        if (ec || endpoints.empty()) {
          reply.error = "cannot resolve host " + host_ + ": " +
                        (ec ? ec.message() : std::string("no addresses"));
          co_return;
        }
      }
      stream_.emplace(ioc_);
      stream_->expires_after(timeout);
      co_await stream_->async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        reply.error = "connect to " + host_ + ":" + std::to_string(port_) + ": " + ec.message();
        stream_.reset();
        co_return;
      }
    }
    http::verb verb = http::string_to_verb(method);
    if (verb == http::verb::unknown) {
      reply.error = "unknown HTTP method " + method;
      co_return;
    }
    http::request<http::empty_body> req{verb, target, 11};
    req.prepare_payload();
    req.set(http::field::host, host_);
    req.set(http::field::user_agent, "leaklab-harness");
    stream_->expires_after(timeout);
    co_await http::async_write(*stream_, req, asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
      beast::flat_buffer buffer;
      http::response_parser<http::string_body> parser;
      parser.body_limit(limits::kHttpReplyBytes);
      co_await http::async_read(*stream_, buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
      if (!ec) {
        reply.status = static_cast<int>(parser.get().result_int());
        reply.body = std::move(parser.get().body());
        if (!parser.get().keep_alive()) stream_.reset();
        co_return;
      }
    }
    reply.error = method + " " + target + ": " +
                  (ec == http::error::body_limit
                       ? "the reply is larger than 64 MiB, the limit for a debug endpoint's reply"
                       : ec.message());
    stream_.reset();
  }

  // The addresses of host_, or ec set (timed_out once `timeout` passes).
  // Asio resolves on a thread of its own with getaddrinfo, which cannot be
  // interrupted: a name server that does not answer still holds the call for
  // glibc's own limit (resolv.conf's timeout and attempts, 5 s x 2 by
  // default) before the timeout is reported. Names in /etc/hosts, such as
  // localhost, answer at once.
  asio::awaitable<std::vector<tcp::endpoint>> Resolve(std::chrono::milliseconds timeout,
                                                      beast::error_code& ec) {
    tcp::resolver resolver(ioc_);
    asio::steady_timer deadline(ioc_, timeout);
    deadline.async_wait([&resolver](beast::error_code wait_ec) {
      if (!wait_ec) resolver.cancel();
    });
    const tcp::resolver::results_type results = co_await resolver.async_resolve(
        host_, std::to_string(port_), asio::redirect_error(asio::use_awaitable, ec));
    deadline.cancel();
    if (ec == asio::error::operation_aborted) ec = asio::error::timed_out;
    std::vector<tcp::endpoint> out;
    if (!ec) {
      for (const auto& entry : results) out.push_back(entry.endpoint());
    }
    co_return out;
  }

  std::string host_;
  uint16_t port_;
  asio::io_context ioc_;
  std::optional<beast::tcp_stream> stream_;
};

HttpGetter::HttpGetter(std::string host, uint16_t port)
    : impl_(std::make_unique<Impl>(std::move(host), port)) {}
HttpGetter::~HttpGetter() = default;
HttpReply HttpGetter::Request(const std::string& method, const std::string& target,
                              std::chrono::milliseconds timeout) {
  return impl_->Request(method, target, timeout);
}

}  // namespace leaklab::harness
