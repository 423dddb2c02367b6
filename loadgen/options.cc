// Option checks and the small pure helpers behind them.

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/verb.hpp>
#include <cctype>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>
#include <string_view>

#include "loadgen/loadgen.h"
#include "loadgen/rate_plan.h"
#include "loadgen/request_template.h"

namespace leaklab::loadgen {
namespace {

using std::chrono::milliseconds;

// Each connection holds a file descriptor, and the default soft RLIMIT_NOFILE on
// Linux is 1024; more connections than this would fail on fds, not on the server.
constexpr int kMaxConnections = 1000;
// One event loop per thread; more threads than this only contend for cores.
constexpr int kMaxThreads = 64;
// Longer runs belong to a schedule of shorter ones in the harness.
constexpr milliseconds kMaxDuration = std::chrono::hours(24);
// A timeout longer than this would mean "wait forever" on a local server.
constexpr milliseconds kMaxTimeout = std::chrono::hours(1);
// Servers (Beast included) reject request headers above 8 KiB by default.
constexpr size_t kMaxPathBytes = 8 * 1024;
// The body is rendered into every request; a load test of uploads bigger than
// this wants a different tool.
constexpr size_t kMaxBodyBytes = 1024 * 1024;
// Key counts beyond 2^40 are typos (ParseKeySpec says the same).
constexpr uint64_t kMaxKeyCount = uint64_t{1} << 40;

[[noreturn]] void Fail(const std::string& message) { throw std::invalid_argument(message); }

std::string Ms(milliseconds d) { return std::to_string(d.count()) + "ms"; }

void CheckTimeout(const char* name, milliseconds value) {
  if (value <= milliseconds::zero() || value > kMaxTimeout) {
    Fail(std::string(name) + " must be > 0 and <= " + Ms(kMaxTimeout) + " (got " + Ms(value) + ")");
  }
}

}  // namespace

bool IsLoopbackHost(std::string_view host) {
  std::string lower(host);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "localhost") return true;
  boost::system::error_code ec;
  const boost::asio::ip::address address = boost::asio::ip::make_address(lower, ec);
  if (ec) return false;
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6())
        .is_loopback();
  }
  return address.is_loopback();
}

std::string ExpandTemplate(std::string_view text, uint64_t n, uint64_t key) {
  constexpr std::string_view kNumber = "{n}";
  constexpr std::string_view kKey = "{key}";
  std::string out;
  out.reserve(text.size() + 16);
  for (size_t i = 0; i < text.size();) {
    if (text.substr(i).starts_with(kNumber)) {
      out += std::to_string(n);
      i += kNumber.size();
    } else if (text.substr(i).starts_with(kKey)) {
      out += std::to_string(key);
      i += kKey.size();
    } else {
      out += text[i++];
    }
  }
  return out;
}

std::pair<std::string, std::string> ParseHeader(std::string_view header) {
  size_t colon = header.find(':');
  auto trim = [](std::string_view v) {
    size_t b = v.find_first_not_of(" \t");
    size_t e = v.find_last_not_of(" \t");
    return b == std::string_view::npos ? std::string() : std::string(v.substr(b, e - b + 1));
  };
  if (colon == std::string_view::npos || trim(header.substr(0, colon)).empty()) {
    Fail("header must be 'Name: value' (got '" + std::string(header) + "')");
  }
  std::string name = trim(header.substr(0, colon));
  std::string value = trim(header.substr(colon + 1));
  if (!IsVisibleAscii(name)) Fail("header name must be visible ASCII (got '" + name + "')");
  for (unsigned char c : value) {
    // Field values are visible characters, spaces and tabs (RFC 9110 section 5.5).
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      Fail("header value must not contain line breaks or control characters (header '" + name +
           "')");
    }
  }
  return {name, value};
}

void ValidateOptions(const LoadOptions& options) {
  if (options.host.empty()) Fail("host must not be empty");
  if (!IsVisibleAscii(options.host))
    Fail("host must be visible ASCII (got '" + options.host + "')");
  if (!options.allow_remote && !IsLoopbackHost(options.host)) {
    Fail("host '" + options.host +
         "' is not a loopback address (127.0.0.0/8, ::1, localhost); set allow_remote "
         "(--allow-remote) to target other machines");
  }
  if (options.port == 0) Fail("port must be 1..65535 (got 0)");
  if (options.path_template.empty() || options.path_template.front() != '/') {
    Fail("path_template must start with '/' (got '" + options.path_template + "')");
  }
  if (options.path_template.size() > kMaxPathBytes) {
    Fail("path_template must be at most " + std::to_string(kMaxPathBytes) + " bytes (got " +
         std::to_string(options.path_template.size()) + ")");
  }
  if (!IsVisibleAscii(options.path_template)) {
    Fail("path_template must be visible ASCII, no spaces or control characters");
  }
  if (boost::beast::http::string_to_verb(options.method) == boost::beast::http::verb::unknown) {
    Fail("method must be an HTTP method such as GET or POST (got '" + options.method + "')");
  }
  for (const auto& h : options.headers) {
    auto [name, value] = ParseHeader(h);
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower == "content-length" || lower == "transfer-encoding") {
      Fail("headers: " + name + " is set from the body; leave it out");
    }
  }
  if (options.body.size() > kMaxBodyBytes) {
    Fail("body must be at most 1 MiB (got " + std::to_string(options.body.size()) + " bytes)");
  }
  if (options.keys.kind != KeySpec::Kind::kUnique) {
    if (options.keys.count < 1 || options.keys.count > kMaxKeyCount) {
      Fail("keys: the key count must be 1..2^40 (got " + std::to_string(options.keys.count) + ")");
    }
    if (options.keys.kind == KeySpec::Kind::kZipf &&
        (!std::isfinite(options.keys.exponent) || options.keys.exponent <= 0 ||
         options.keys.exponent > 20)) {
      Fail("keys: the Zipf exponent must be > 0 and <= 20 (got " +
           std::to_string(options.keys.exponent) + ")");
    }
  }
  if (options.threads < 1 || options.threads > kMaxThreads) {
    Fail("threads must be >= 1 and <= " + std::to_string(kMaxThreads) + " (got " +
         std::to_string(options.threads) + ")");
  }
  if (options.duration <= milliseconds::zero() || options.duration > kMaxDuration) {
    Fail("duration must be > 0 and <= " + Ms(kMaxDuration) + " (got " + Ms(options.duration) + ")");
  }
  ValidateSchedule(options.schedule);
  const bool has_load = RatePlan(options.schedule, options.duration).has_load();
  if (options.connections < (has_load ? 1 : 0) || options.connections > kMaxConnections) {
    Fail("connections must be >= " + std::string(has_load ? "1" : "0") + " and <= " +
         std::to_string(kMaxConnections) + " (got " + std::to_string(options.connections) + ")");
  }
  if (options.connections > 0 && options.threads > options.connections) {
    Fail("threads must be <= connections (got " + std::to_string(options.threads) + " threads, " +
         std::to_string(options.connections) + " connections)");
  }
  CheckTimeout("request_timeout", options.request_timeout);
  CheckTimeout("connect_timeout", options.connect_timeout);
}

}  // namespace leaklab::loadgen
