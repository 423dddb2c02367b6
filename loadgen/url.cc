// Target URL parsing for the command line: the subset of RFC 3986 that names an
// HTTP server and a request target, "http://host[:port][/path][?query]".

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>
#include <string>
#include <string_view>

#include "loadgen/loadgen.h"

namespace leaklab::loadgen {
namespace {

[[noreturn]] void Fail(std::string_view url, const std::string& what) {
  throw std::invalid_argument("bad URL '" + std::string(url) + "': " + what);
}

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         });
}

uint16_t ParsePort(std::string_view url, std::string_view text) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value == 0 ||
      value > 65535) {
    Fail(url, "port must be a number 1..65535 (got '" + std::string(text) + "')");
  }
  return static_cast<uint16_t>(value);
}

}  // namespace

HttpUrl ParseHttpUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (StartsWithNoCase(url, "https://")) Fail(url, "https is not supported, use http://");
  if (!StartsWithNoCase(url, kScheme)) Fail(url, "must start with http://");
  std::string_view rest = url.substr(kScheme.size());

  // 1. Split the authority (host and port) from the request target.
  const size_t target_at = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, target_at);
  std::string_view target =
      target_at == std::string_view::npos ? std::string_view() : rest.substr(target_at);
  // The fragment is for the client only; HTTP never sends it (RFC 9110, 4.2.4).
  target = target.substr(0, target.find('#'));
  if (authority.find('@') != std::string_view::npos) Fail(url, "user info is not supported");

  // 2. Host, with IPv6 literals in brackets (RFC 3986, 3.2.2), then optional port.
  HttpUrl parsed;
  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) Fail(url, "missing ']' after IPv6 address");
    parsed.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') Fail(url, "expected ':port' after ']'");
      port_text = after.substr(1);
      has_port = true;
    }
  } else {
    const size_t colon = authority.find(':');
    if (colon != std::string_view::npos &&
        authority.find(':', colon + 1) != std::string_view::npos) {
      Fail(url, "IPv6 addresses must be in brackets, e.g. http://[::1]:8080/");
    }
    parsed.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      has_port = true;
    }
  }
  if (parsed.host.empty()) Fail(url, "missing host");
  if (has_port) parsed.port = ParsePort(url, port_text);

  // 3. Request target: "/" when absent; a bare query gets the root path.
  if (target.empty()) {
    parsed.path = "/";
  } else if (target.front() == '?') {
    parsed.path = "/" + std::string(target);
  } else {
    parsed.path = std::string(target);
  }
  return parsed;
}

}  // namespace leaklab::loadgen
