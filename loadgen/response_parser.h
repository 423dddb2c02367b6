#ifndef LEAKLAB_LOADGEN_RESPONSE_PARSER_H_
#define LEAKLAB_LOADGEN_RESPONSE_PARSER_H_

// Finds where one HTTP/1.1 response ends without keeping its body (RFC 9112
// section 6.3, "Message Body Length"). The load generator needs only the
// status, whether the connection stays open and the byte counts, so the
// parser is a small state machine that never allocates: Feed() consumes
// complete lines of the head and any number of body bytes, and leaves an
// incomplete line for the caller to present again with more data after it.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace leaklab::loadgen {

class ResponseParser {
 public:
  enum class State { kNeedMore, kDone, kError };

  // Limits, with their reason: a response head is a few hundred bytes from
  // any sane server, so 64 KiB of head means garbage; bodies are counted and
  // dropped, not stored, but a server that streams forever must still end
  // the request (the request timeout also does).
  static constexpr size_t kMaxHeadBytes = 64 * 1024;
  static constexpr uint64_t kMaxBodyBytes = uint64_t{1} << 30;

  // Starts a new response; `head_request` = the request was HEAD (no body).
  void Reset(bool head_request = false);

  // Consumes a prefix of data[0, size): whole lines of the head, body bytes,
  // chunk framing. Returns the number of bytes consumed; the rest (an
  // incomplete line, or bytes after the end of the response) is the caller's.
  // Stops consuming once the state is kDone or kError.
  size_t Feed(const char* data, size_t size);
  // The peer closed the connection: ends a body delimited by the close,
  // otherwise an error (the response was cut short).
  void FeedEof();

  State state() const { return state_; }
  unsigned status() const { return status_; }
  // False when the server said "Connection: close", answered HTTP/1.0 without
  // keep-alive, or delimited the body by closing.
  bool keep_alive() const { return keep_alive_; }
  // A short reason for kError, e.g. "not an HTTP response".
  const char* error() const { return error_; }
  // Bytes consumed since Reset(), head and body; 0 means nothing arrived yet.
  uint64_t bytes_consumed() const { return consumed_; }

 private:
  enum class Phase {
    kStatusLine,
    kHeaders,
    kBodyLength,   // Content-Length bytes remain
    kBodyToClose,  // everything until the connection closes
    kChunkSize,
    kChunkData,
    kChunkDataEnd,  // the CRLF after a chunk's data
    kTrailers,
  };

  // Handles one complete line (without its line ending).
  void OnLine(std::string_view line);
  void OnStatusLine(std::string_view line);
  void OnHeader(std::string_view line);
  void OnHeadEnd();
  void OnChunkSize(std::string_view line);
  void Fail(const char* reason);
  void Finish();

  State state_ = State::kNeedMore;
  Phase phase_ = Phase::kStatusLine;
  bool head_request_ = false;
  unsigned status_ = 0;
  int minor_version_ = 1;
  bool keep_alive_ = true;
  bool connection_close_ = false;
  bool connection_keep_alive_ = false;
  bool chunked_ = false;
  bool te_present_ = false;
  bool has_length_ = false;
  uint64_t length_ = 0;
  uint64_t remaining_ = 0;  // body or chunk bytes still to come
  uint64_t body_bytes_ = 0;
  uint64_t head_bytes_ = 0;
  uint64_t consumed_ = 0;
  const char* error_ = "";
};

}  // namespace leaklab::loadgen

#endif  // LEAKLAB_LOADGEN_RESPONSE_PARSER_H_
