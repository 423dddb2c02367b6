#include "loadgen/response_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace leaklab::loadgen {
namespace {

using State = ResponseParser::State;

// Feeds `bytes` the way a connection does: appended to a buffer, the parser
// given the whole buffer, the consumed prefix removed. `step` bytes arrive
// at a time (1 = byte by byte). Returns the bytes left over.
std::string FeedInSteps(ResponseParser& parser, std::string_view bytes, size_t step) {
  std::string buffer;
  for (size_t at = 0; at < bytes.size() && parser.state() == State::kNeedMore; at += step) {
    buffer.append(bytes.substr(at, step));
    const size_t used = parser.Feed(buffer.data(), buffer.size());
    buffer.erase(0, used);
  }
  return buffer;
}

struct Parsed {
  State state;
  unsigned status;
  bool keep_alive;
  std::string error;
  std::string rest;
};

Parsed Parse(std::string_view bytes, size_t step = 1 << 20, bool head = false, bool eof = false) {
  ResponseParser p;
  p.Reset(head);
  std::string rest = FeedInSteps(p, bytes, step);
  if (eof) p.FeedEof();
  return {p.state(), p.status(), p.keep_alive(), p.error(), rest};
}

TEST(ResponseParser, ContentLengthInOnePieceAndByteByByte) {
  const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\nhello";
  for (size_t step : {size_t{1}, size_t{3}, response.size()}) {
    const Parsed p = Parse(response, step);
    EXPECT_EQ(p.state, State::kDone) << step;
    EXPECT_EQ(p.status, 200u);
    EXPECT_TRUE(p.keep_alive);
    EXPECT_EQ(p.rest, "");
  }
}

TEST(ResponseParser, StopsAtTheEndOfTheResponse) {
  ResponseParser p;
  const std::string two = "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n";
  const size_t used = p.Feed(two.data(), two.size());
  EXPECT_EQ(p.state(), State::kDone);
  EXPECT_EQ(used, std::string("HTTP/1.1 204 No Content\r\n\r\n").size());
  EXPECT_EQ(p.bytes_consumed(), used);
}

TEST(ResponseParser, ChunkedWithExtensionsAndTrailers) {
  const std::string response =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
      "5;name=value\r\nhello\r\n"
      "A\r\n0123456789\r\n"
      "0\r\nTrailer: x\r\n\r\n";
  for (size_t step : {size_t{1}, size_t{7}, response.size()}) {
    const Parsed p = Parse(response + "NEXT", step);
    EXPECT_EQ(p.state, State::kDone) << step;
    EXPECT_TRUE(p.keep_alive);
    if (step == 1) {
      EXPECT_EQ(p.rest, "");  // stopped before the next bytes arrived
    }
  }
  EXPECT_EQ(Parse(response + "NEXT").rest, "NEXT");
}

TEST(ResponseParser, BodyUntilCloseWhenNotFramed) {
  const Parsed open = Parse("HTTP/1.1 200 OK\r\n\r\nsome body");
  EXPECT_EQ(open.state, State::kNeedMore);
  const Parsed closed = Parse("HTTP/1.1 200 OK\r\n\r\nsome body", 4, false, true);
  EXPECT_EQ(closed.state, State::kDone);
  EXPECT_FALSE(closed.keep_alive);
  // Transfer-Encoding without chunked last: also until the close.
  EXPECT_EQ(Parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz", 100, false, true).state,
            State::kDone);
}

TEST(ResponseParser, ResponsesWithoutBody) {
  EXPECT_EQ(Parse("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n").state, State::kDone);
  EXPECT_EQ(Parse("HTTP/1.1 304 Not Modified\r\n\r\n").state, State::kDone);
  EXPECT_EQ(Parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", 100, /*head=*/true).state,
            State::kDone);
  EXPECT_EQ(Parse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").state, State::kDone);
}

TEST(ResponseParser, SkipsInterimResponses) {
  const Parsed p = Parse(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n"
      "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
      5);
  EXPECT_EQ(p.state, State::kDone);
  EXPECT_EQ(p.status, 201u);
  EXPECT_EQ(Parse("HTTP/1.1 101 Switching Protocols\r\n\r\n").state, State::kError);
}

TEST(ResponseParser, KeepAliveRules) {
  EXPECT_FALSE(
      Parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").keep_alive);
  EXPECT_FALSE(Parse("HTTP/1.1 200 OK\r\nconnection: Upgrade, CLOSE\r\nContent-Length: 0\r\n\r\n")
                   .keep_alive);
  EXPECT_FALSE(Parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive);
  EXPECT_TRUE(
      Parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n").keep_alive);
}

TEST(ResponseParser, AcceptsBareLineFeedsAndAStatusWithoutReason) {
  const Parsed p = Parse("HTTP/1.1 404\nContent-Length: 1\n\nx", 1);
  EXPECT_EQ(p.state, State::kDone);
  EXPECT_EQ(p.status, 404u);
}

TEST(ResponseParser, GarbageIsAnErrorAtOnce) {
  // No line end needed to tell that this is not HTTP.
  const Parsed p = Parse("SSH-2.0-OpenSSH", 1);
  EXPECT_EQ(p.state, State::kError);
  EXPECT_EQ(p.error, "not an HTTP response");
  EXPECT_EQ(Parse("\r\n").state, State::kError);
}

TEST(ResponseParser, MalformedHeadsAreErrors) {
  const std::pair<const char*, const char*> cases[] = {
      {"HTTP/2 200 OK\r\n\r\n", "unsupported HTTP version"},
      {"HTTP/1.1 20 OK\r\n\r\n", "malformed status line"},
      {"HTTP/1.1 200OK\r\n\r\n", "malformed status line"},
      {"HTTP/1.1 099 Odd\r\n\r\n", "malformed status line"},
      {"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "malformed header line"},
      {"HTTP/1.1 200 OK\r\nName : v\r\n\r\n", "malformed header line"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", "bad Content-Length"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "bad Content-Length"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\n", "bad Content-Length"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "malformed chunk size"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY\r\n",
       "chunk data not followed by a line end"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n",
       "chunk size too large"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", "response body larger than 1 GiB"},
  };
  for (const auto& [bytes, error] : cases) {
    const Parsed p = Parse(bytes);
    EXPECT_EQ(p.state, State::kError) << bytes;
    EXPECT_EQ(p.error, error) << bytes;
    EXPECT_FALSE(p.keep_alive);
  }
  // Repeated identical lengths are fine.
  EXPECT_EQ(Parse("HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\nx").state, State::kDone);
}

TEST(ResponseParser, BoundsTheHead) {
  std::string head = "HTTP/1.1 200 OK\r\n";
  while (head.size() < ResponseParser::kMaxHeadBytes)
    head += "X-Filler: " + std::string(100, 'x') + "\r\n";
  EXPECT_EQ(Parse(head + "\r\n").error, "response head larger than 64 KiB");
  // One endless line is caught before its end arrives.
  const Parsed endless = Parse("HTTP/1.1 200 OK\r\nX: " + std::string(70000, 'y'));
  EXPECT_EQ(endless.state, State::kError);
  // Endless interim responses count against the same limit.
  std::string interim;
  while (interim.size() < 70000) interim += "HTTP/1.1 100 Continue\r\n\r\n";
  EXPECT_EQ(Parse(interim).state, State::kError);
}

TEST(ResponseParser, ClosedEarlyIsAnError) {
  EXPECT_EQ(Parse("", 1, false, true).error, "connection closed before any response");
  const Parsed mid = Parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 100, false, true);
  EXPECT_EQ(mid.state, State::kError);
  EXPECT_EQ(mid.error, "connection closed mid-response");
}

TEST(ResponseParser, ResetStartsOver) {
  ResponseParser p;
  const std::string bad = "garbage";
  p.Feed(bad.data(), bad.size());
  ASSERT_EQ(p.state(), State::kError);
  p.Reset();
  const std::string good = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  p.Feed(good.data(), good.size());
  EXPECT_EQ(p.state(), State::kDone);
  EXPECT_EQ(p.bytes_consumed(), good.size());
}

}  // namespace
}  // namespace leaklab::loadgen
