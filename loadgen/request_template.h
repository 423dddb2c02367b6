#ifndef LEAKLAB_LOADGEN_REQUEST_TEMPLATE_H_
#define LEAKLAB_LOADGEN_REQUEST_TEMPLATE_H_

// The bytes of each request, prepared once: the fixed parts of the request
// head are joined up front, and only "{n}" and "{key}" are filled in per
// request, into a buffer the connection reuses (no allocation per request).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "loadgen/loadgen.h"

namespace leaklab::loadgen {

class RequestTemplate {
 public:
  // `options` must have passed ValidateOptions.
  explicit RequestTemplate(const LoadOptions& options);

  // True when the target or body holds "{n}" or "{key}".
  bool needs_number() const { return needs_number_; }
  bool head_request() const { return head_request_; }
  // Writes request number n, with key `key`, into `out` (replacing it).
  void Render(uint64_t n, uint64_t key, std::string& out) const;

 private:
  struct Piece {
    enum class Kind { kText, kNumber, kKey };
    Kind kind;
    std::string text;
  };
  static std::vector<Piece> Split(std::string_view text);
  static void Append(const std::vector<Piece>& pieces, uint64_t n, uint64_t key, std::string& out);
  static size_t Length(const std::vector<Piece>& pieces, uint64_t n, uint64_t key);

  std::vector<Piece> target_;
  std::vector<Piece> body_;
  std::string start_;      // "GET "
  std::string head_rest_;  // " HTTP/1.1\r\nHost: ...\r\n" and the other fields
  bool send_length_ = false;
  bool needs_number_ = false;
  bool head_request_ = false;
};

// "127.0.0.1:8080" or "[::1]:8080": the Host field for host and port.
std::string HostField(const std::string& host, uint16_t port);

// A request with no body of its own, for event requests (which name
// themselves in User-Agent, for the server's logs):
// "POST /reload HTTP/1.1\r\nHost: ...\r\nUser-Agent: ...\r\nContent-Length: 0\r\n\r\n".
std::string SimpleRequest(std::string_view method, std::string_view target,
                          std::string_view host_field);

// Whether a request with this method carries Content-Length even when empty
// (RFC 9110 section 8.6: methods that define a meaning for content).
bool MethodSendsLength(std::string_view method);

// Whether `text` may go verbatim into a request head (a target, a Host, a
// header name): visible ASCII only, since a space, CR, LF or control byte
// would corrupt or split the head.
bool IsVisibleAscii(std::string_view text);

inline constexpr std::string_view kUserAgent = "leaklab-loadgen/0.2";

}  // namespace leaklab::loadgen

#endif  // LEAKLAB_LOADGEN_REQUEST_TEMPLATE_H_
