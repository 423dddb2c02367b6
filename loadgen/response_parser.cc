#include "loadgen/response_parser.h"

#include <algorithm>
#include <cstring>

namespace leaklab::loadgen {
namespace {

// A chunk-size line is hex digits and perhaps extensions; nothing legitimate
// comes near this.
constexpr size_t kMaxChunkLineBytes = 4096;
// 15 hex digits = 60 bits: far above kMaxBodyBytes, and no overflow.
constexpr size_t kMaxChunkSizeDigits = 15;

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return Lower(x) == Lower(y); });
}

std::string_view Trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = Lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Calls f(token) for each comma-separated, trimmed, non-empty token.
template <typename F>
void ForEachToken(std::string_view list, F f) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    std::string_view token = Trim(list.substr(0, comma));
    if (!token.empty()) f(token);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace

void ResponseParser::Reset(bool head_request) {
  *this = ResponseParser();
  head_request_ = head_request;
}

size_t ResponseParser::Feed(const char* data, size_t size) {
  size_t used = 0;
  while (state_ == State::kNeedMore && used < size) {
    const char* at = data + used;
    const size_t available = size - used;
    switch (phase_) {
      case Phase::kBodyLength:
      case Phase::kChunkData: {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, available));
        used += n;
        consumed_ += n;
        remaining_ -= n;
        body_bytes_ += n;
        if (remaining_ == 0) {
          if (phase_ == Phase::kBodyLength) {
            Finish();
          } else {
            phase_ = Phase::kChunkDataEnd;
          }
        }
        break;
      }
      case Phase::kBodyToClose:
        used += available;
        consumed_ += available;
        body_bytes_ += available;
        if (body_bytes_ > kMaxBodyBytes) Fail("response body larger than 1 GiB");
        break;
      default: {
        const bool in_head =
            phase_ == Phase::kStatusLine || phase_ == Phase::kHeaders || phase_ == Phase::kTrailers;
        // Garbage is told apart at once, not when a line ending finally comes.
        if (phase_ == Phase::kStatusLine) {
          constexpr std::string_view kPrefix = "HTTP/";
          const size_t n = std::min(available, kPrefix.size());
          if (std::memcmp(at, kPrefix.data(), n) != 0) {
            Fail("not an HTTP response");
            break;
          }
        }
        const void* newline = std::memchr(at, '\n', available);
        const size_t limit_left =
            in_head ? kMaxHeadBytes - std::min<uint64_t>(head_bytes_, kMaxHeadBytes)
                    : kMaxChunkLineBytes;
        if (newline == nullptr) {
          if (available > limit_left) {
            Fail(in_head ? "response head larger than 64 KiB" : "chunk size line too long");
          }
          return used;  // the incomplete line stays with the caller
        }
        const size_t line_bytes = static_cast<size_t>(static_cast<const char*>(newline) - at) + 1;
        if (line_bytes > limit_left) {
          Fail(in_head ? "response head larger than 64 KiB" : "chunk size line too long");
          break;
        }
        used += line_bytes;
        consumed_ += line_bytes;
        if (in_head) head_bytes_ += line_bytes;
        // Lines end in CRLF; a bare LF is accepted too (RFC 9112 section 2.2).
        std::string_view line(at, line_bytes - 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        OnLine(line);
        break;
      }
    }
    if (body_bytes_ > kMaxBodyBytes && state_ == State::kNeedMore) {
      Fail("response body larger than 1 GiB");
    }
  }
  return used;
}

void ResponseParser::FeedEof() {
  if (state_ != State::kNeedMore) return;
  if (phase_ == Phase::kBodyToClose) {
    keep_alive_ = false;
    Finish();
    return;
  }
  Fail(consumed_ == 0 ? "connection closed before any response" : "connection closed mid-response");
}

void ResponseParser::OnLine(std::string_view line) {
  switch (phase_) {
    case Phase::kStatusLine:
      OnStatusLine(line);
      break;
    case Phase::kHeaders:
      OnHeader(line);
      break;
    case Phase::kChunkSize:
      OnChunkSize(line);
      break;
    case Phase::kChunkDataEnd:
      if (!line.empty()) {
        Fail("chunk data not followed by a line end");
      } else {
        phase_ = Phase::kChunkSize;
      }
      break;
    case Phase::kTrailers:
      // Trailer fields are not needed; the empty line ends the message.
      if (line.empty()) Finish();
      break;
    default:
      break;
  }
}

// status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 section 4);
// the reason and the space before it may be missing in practice.
void ResponseParser::OnStatusLine(std::string_view line) {
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || !IsDigit(line[7]) || line[8] != ' ' ||
      !IsDigit(line[9]) || !IsDigit(line[10]) || !IsDigit(line[11]) ||
      (line.size() > 12 && line[12] != ' ')) {
    Fail(line.substr(0, 5) == "HTTP/" && (line.size() < 7 || line.substr(0, 7) != "HTTP/1.")
             ? "unsupported HTTP version"
             : "malformed status line");
    return;
  }
  minor_version_ = line[7] - '0';
  status_ = static_cast<unsigned>((line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0'));
  if (status_ < 100) {
    Fail("malformed status line");
    return;
  }
  phase_ = Phase::kHeaders;
}

void ResponseParser::OnHeader(std::string_view line) {
  if (line.empty()) {
    OnHeadEnd();
    return;
  }
  // An obsolete folded continuation line (RFC 9112 section 5.2): none of the
  // fields read here is ever folded, so it is skipped.
  if (line.front() == ' ' || line.front() == '\t') return;
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    Fail("malformed header line");
    return;
  }
  const std::string_view name = line.substr(0, colon);
  if (name.back() == ' ' || name.back() == '\t') {
    // No whitespace between field name and colon (RFC 9112 section 5.1).
    Fail("malformed header line");
    return;
  }
  const std::string_view value = Trim(line.substr(colon + 1));
  if (EqualsNoCase(name, "content-length")) {
    // "5" or, from some proxies, "5, 5": every value must be the same number.
    bool ok = true;
    ForEachToken(value, [&](std::string_view token) {
      uint64_t n = 0;
      if (token.size() > 18) ok = false;
      for (char c : token) {
        if (!IsDigit(c)) ok = false;
        n = n * 10 + static_cast<uint64_t>(c - '0');
      }
      if (!ok) return;
      if (has_length_ && n != length_) ok = false;
      has_length_ = true;
      length_ = n;
    });
    if (!ok || !has_length_) Fail("bad Content-Length");
  } else if (EqualsNoCase(name, "transfer-encoding")) {
    // Chunked only counts when it is the last coding (RFC 9112 section 6.3).
    te_present_ = true;
    chunked_ = false;
    ForEachToken(value, [&](std::string_view token) { chunked_ = EqualsNoCase(token, "chunked"); });
  } else if (EqualsNoCase(name, "connection")) {
    ForEachToken(value, [&](std::string_view token) {
      if (EqualsNoCase(token, "close")) connection_close_ = true;
      if (EqualsNoCase(token, "keep-alive")) connection_keep_alive_ = true;
    });
  }
}

void ResponseParser::OnHeadEnd() {
  if (status_ < 200) {
    if (status_ == 101) {
      Fail("101 Switching Protocols is not supported");
      return;
    }
    // An interim response (100 Continue, 103 Early Hints): the real one follows.
    // Its bytes still count against the head limit, so this cannot loop forever.
    phase_ = Phase::kStatusLine;
    connection_close_ = connection_keep_alive_ = chunked_ = te_present_ = has_length_ = false;
    length_ = 0;
    return;
  }
  keep_alive_ =
      minor_version_ >= 1 ? !connection_close_ : connection_keep_alive_ && !connection_close_;
  // RFC 9112 section 6.3, in its order: responses that never have a body,
  // then Transfer-Encoding, then Content-Length, else until the close.
  if (head_request_ || status_ == 204 || status_ == 304) {
    Finish();
  } else if (te_present_) {
    if (chunked_) {
      phase_ = Phase::kChunkSize;
    } else {
      phase_ = Phase::kBodyToClose;
      keep_alive_ = false;
    }
  } else if (has_length_) {
    if (length_ > kMaxBodyBytes) {
      Fail("response body larger than 1 GiB");
    } else if (length_ == 0) {
      Finish();
    } else {
      remaining_ = length_;
      phase_ = Phase::kBodyLength;
    }
  } else {
    phase_ = Phase::kBodyToClose;
    keep_alive_ = false;
  }
}

void ResponseParser::OnChunkSize(std::string_view line) {
  // chunk-size [ chunk-ext ] (RFC 9112 section 7.1); extensions are ignored.
  size_t digits = 0;
  uint64_t size = 0;
  for (char c : line) {
    const int v = HexValue(c);
    if (v < 0) break;
    if (++digits > kMaxChunkSizeDigits) {
      Fail("chunk size too large");
      return;
    }
    size = size * 16 + static_cast<uint64_t>(v);
  }
  if (digits == 0) {
    Fail("malformed chunk size");
    return;
  }
  const std::string_view rest = Trim(line.substr(digits));
  if (!rest.empty() && rest.front() != ';') {
    Fail("malformed chunk size");
    return;
  }
  if (size == 0) {
    phase_ = Phase::kTrailers;
  } else if (size > kMaxBodyBytes - std::min(body_bytes_, kMaxBodyBytes)) {
    Fail("response body larger than 1 GiB");
  } else {
    remaining_ = size;
    phase_ = Phase::kChunkData;
  }
}

void ResponseParser::Fail(const char* reason) {
  state_ = State::kError;
  error_ = reason;
  keep_alive_ = false;
}

void ResponseParser::Finish() { state_ = State::kDone; }

}  // namespace leaklab::loadgen
