#ifndef LEAKLAB_SCENARIOS_RUNTIME_HTTP_SERVER_H_
#define LEAKLAB_SCENARIOS_RUNTIME_HTTP_SERVER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "scenarios/runtime/scenario.h"

namespace leaklab::runtime {

struct ServerOptions {
  // Loopback by default: scenario servers leak memory on purpose.
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0 = let the kernel pick a free port
  int threads = 2;
  // An idle keep-alive connection, or a client that sends a request too
  // slowly, is closed after this.
  std::chrono::milliseconds read_timeout{30'000};
  std::chrono::milliseconds write_timeout{30'000};
  // Requests are small GETs; larger headers or bodies are refused (431/413)
  // so a bad client cannot make the server's memory grow.
  uint32_t header_limit_bytes = 16 * 1024;
  uint64_t body_limit_bytes = 1024 * 1024;
  // On SIGTERM/SIGINT, requests in flight get this long to finish.
  std::chrono::milliseconds shutdown_grace{3'000};
};

// A Boost.Beast HTTP/1.1 server: keep-alive, timeouts, limits, graceful stop.
// Asio stays out of this header so that scenario code compiles fast.
class HttpServer {
 public:
  using Handler = std::function<Response(const Request&)>;

  HttpServer(ServerOptions options, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens; returns the port. Throws std::runtime_error naming the
  // address and port on failure.
  uint16_t Listen();
  // Serves on options.threads threads until Stop() or SIGTERM/SIGINT, then
  // drains in-flight requests (up to shutdown_grace) and returns.
  void Run();
  // Starts a graceful stop; safe from any thread.
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace leaklab::runtime

#endif  // LEAKLAB_SCENARIOS_RUNTIME_HTTP_SERVER_H_
