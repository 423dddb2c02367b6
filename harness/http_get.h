#ifndef LEAKLAB_HARNESS_HTTP_GET_H_
#define LEAKLAB_HARNESS_HTTP_GET_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace leaklab::harness {

struct HttpReply {
  int status = 0;
  std::string body;
  std::string error;  // non-empty when no reply arrived (connect, timeout, ...)
  bool ok() const { return error.empty() && status >= 200 && status < 300; }
};

// A blocking HTTP/1.1 GET client for the harness's polling of a server's
// debug endpoints: one keep-alive connection, reopened when it breaks, and a
// deadline on every call so a hung server can never hang the harness.
class HttpGetter {
 public:
  HttpGetter(std::string host, uint16_t port);
  ~HttpGetter();
  HttpGetter(const HttpGetter&) = delete;
  HttpGetter& operator=(const HttpGetter&) = delete;

  HttpReply Get(const std::string& target, std::chrono::milliseconds timeout) {
    return Request("GET", target, timeout);
  }
  // Any method; the request has no body.
  HttpReply Request(const std::string& method, const std::string& target,
                    std::chrono::milliseconds timeout);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace leaklab::harness

#endif  // LEAKLAB_HARNESS_HTTP_GET_H_
