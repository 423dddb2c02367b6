// libFuzzer target: the load generator's HTTP/1.1 response parser (`ci/fuzz
// response_parser_fuzz SECONDS`), fed as a connection feeds it: the server's
// bytes arrive in pieces, what Feed() leaves unconsumed is presented again
// with the next piece, and a complete keep-alive response is followed by
// the next one on the same connection. The first two bytes choose HEAD
// requests and the piece size; the rest is what the server sent.

#include <algorithm>
#include <cstdint>
#include <string>

#include "common/fuzz_check.h"
#include "loadgen/response_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using leaklab::loadgen::ResponseParser;
  if (size < 2) return 0;
  const bool head = data[0] & 1;
  const size_t piece = 1 + data[1];
  const char* wire = reinterpret_cast<const char*>(data) + 2;
  const size_t wire_size = size - 2;

  ResponseParser parser;
  parser.Reset(head);
  std::string pending;
  size_t sent = 0;
  int responses = 0;
  while (true) {
    if (sent < wire_size) {
      const size_t n = std::min(piece, wire_size - sent);
      pending.append(wire + sent, n);
      sent += n;
    }
    const uint64_t before = parser.bytes_consumed();
    const size_t used = parser.Feed(pending.data(), pending.size());
    leaklab::FuzzCheck(used <= pending.size());
    leaklab::FuzzCheck(parser.bytes_consumed() == before + used);
    pending.erase(0, used);
    if (parser.state() == ResponseParser::State::kError) break;
    if (parser.state() == ResponseParser::State::kDone) {
      leaklab::FuzzCheck(parser.status() >= 100 && parser.status() <= 999);
      ++responses;
      if (!parser.keep_alive()) break;
      parser.Reset(head);  // the next response on the same connection
      continue;
    }
    // Waiting for more: an incomplete line never grows past the head limit.
    leaklab::FuzzCheck(pending.size() <= ResponseParser::kMaxHeadBytes);
    if (sent == wire_size) {
      if (used == 0) {
        parser.FeedEof();  // the server closed the connection
        leaklab::FuzzCheck(parser.state() != ResponseParser::State::kNeedMore);
        break;
      }
    }
  }
  (void)responses;
  return 0;
}
