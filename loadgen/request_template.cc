#include "loadgen/request_template.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace leaklab::loadgen {
namespace {

constexpr std::string_view kNumberMark = "{n}";
constexpr std::string_view kKeyMark = "{key}";

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

void AppendNumber(uint64_t value, std::string& out) {
  char digits[24];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, end);
}

size_t DecimalDigits(uint64_t value) {
  size_t digits = 1;
  while (value >= 10) {
    value /= 10;
    ++digits;
  }
  return digits;
}

}  // namespace

std::string HostField(const std::string& host, uint16_t port) {
  const bool v6_literal = host.find(':') != std::string::npos;
  return (v6_literal ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

bool MethodSendsLength(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

std::string SimpleRequest(std::string_view method, std::string_view target,
                          std::string_view host_field) {
  std::string out;
  out.reserve(128 + target.size());
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ").append(host_field);
  out.append("\r\nUser-Agent: ").append(kUserAgent).append("\r\n");
  if (MethodSendsLength(method)) out.append("Content-Length: 0\r\n");
  out.append("\r\n");
  return out;
}

RequestTemplate::RequestTemplate(const LoadOptions& options) {
  target_ = Split(options.path_template);
  body_ = Split(options.body);
  for (const auto* pieces : {&target_, &body_}) {
    for (const Piece& p : *pieces) needs_number_ = needs_number_ || p.kind != Piece::Kind::kText;
  }
  head_request_ = options.method == "HEAD";
  start_ = options.method + " ";

  // The fixed fields, user headers last; a Host of the user's replaces ours.
  // No User-Agent unless the user gives one: the same bytes on the wire as
  // wrk sends, so that the two tools ask the server for the same work.
  bool user_host = false;
  std::string fields;
  for (const std::string& h : options.headers) {
    auto [name, value] = ParseHeader(h);
    user_host = user_host || EqualsNoCase(name, "host");
    fields += name + ": " + value + "\r\n";
  }
  head_rest_ = " HTTP/1.1\r\n";
  if (!user_host) head_rest_ += "Host: " + HostField(options.host, options.port) + "\r\n";
  head_rest_ += fields;
  send_length_ = !options.body.empty() || MethodSendsLength(options.method);
}

std::vector<RequestTemplate::Piece> RequestTemplate::Split(std::string_view text) {
  std::vector<Piece> pieces;
  std::string literal;
  size_t i = 0;
  while (i < text.size()) {
    const std::string_view rest = text.substr(i);
    const bool number = rest.starts_with(kNumberMark);
    const bool key = rest.starts_with(kKeyMark);
    if (number || key) {
      if (!literal.empty()) pieces.push_back({Piece::Kind::kText, std::move(literal)});
      literal.clear();
      pieces.push_back({number ? Piece::Kind::kNumber : Piece::Kind::kKey, {}});
      i += number ? kNumberMark.size() : kKeyMark.size();
    } else {
      literal.push_back(text[i++]);
    }
  }
  if (!literal.empty()) pieces.push_back({Piece::Kind::kText, std::move(literal)});
  return pieces;
}

void RequestTemplate::Append(const std::vector<Piece>& pieces, uint64_t n, uint64_t key,
                             std::string& out) {
  for (const Piece& p : pieces) {
    switch (p.kind) {
      case Piece::Kind::kText:
        out.append(p.text);
        break;
      case Piece::Kind::kNumber:
        AppendNumber(n, out);
        break;
      case Piece::Kind::kKey:
        AppendNumber(key, out);
        break;
    }
  }
}

size_t RequestTemplate::Length(const std::vector<Piece>& pieces, uint64_t n, uint64_t key) {
  size_t length = 0;
  for (const Piece& p : pieces) {
    switch (p.kind) {
      case Piece::Kind::kText:
        length += p.text.size();
        break;
      case Piece::Kind::kNumber:
        length += DecimalDigits(n);
        break;
      case Piece::Kind::kKey:
        length += DecimalDigits(key);
        break;
    }
  }
  return length;
}

void RequestTemplate::Render(uint64_t n, uint64_t key, std::string& out) const {
  out.clear();
  out.append(start_);
  Append(target_, n, key, out);
  out.append(head_rest_);
  if (send_length_) {
    out.append("Content-Length: ");
    AppendNumber(Length(body_, n, key), out);
    out.append("\r\n\r\n");
    Append(body_, n, key, out);
  } else {
    out.append("\r\n");
  }
}

bool IsVisibleAscii(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](unsigned char c) { return c > 0x20 && c < 0x7f; });
}

}  // namespace leaklab::loadgen
