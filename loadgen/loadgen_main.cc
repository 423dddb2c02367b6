// leaklab-loadgen: a thin command line over RunLoad, used like wrk.
//   leaklab-loadgen [-c N] [-d 10s] [--rate R] [--timeout 5s] [--json] URL

#include <atomic>
#include <boost/json.hpp>
#include <boost/program_options.hpp>
#include <csignal>
#include <cstdint>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "common/duration.h"
#include "loadgen/loadgen.h"

namespace {

namespace po = boost::program_options;
namespace loadgen = leaklab::loadgen;

constexpr int kExitUsage = 2;
constexpr int kExitFailure = 1;

// Written by the signal handler: a lock-free atomic store is async-signal-safe.
std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void OnSignal(int) { g_stop.store(true); }

// Wraps a parse error so the message names the flag it came from.
template <typename Parse>
auto ParseFlag(const char* flag, const std::string& text, Parse parse) {
  try {
    return parse(text);
  } catch (const std::exception& e) {
    throw std::invalid_argument(std::string("--") + flag + ": " + e.what());
  }
}

// ValidateOptions names LoadOptions fields; on the command line the user knows
// the flags, so its message is prefixed with the flag that sets the field.
std::string WithFlag(const std::string& message) {
  static constexpr std::pair<std::string_view, std::string_view> kFlagOfField[] = {
      {"connections", "--connections"},
      {"duration", "--duration"},
      {"rate_per_s", "--rate"},
      {"request_timeout", "--timeout"},
      {"connect_timeout", "--connect-timeout"},
      {"max_requests", "--max-requests"},
      {"method", "--method"},
      {"host", "URL"},
      {"port", "URL"},
      {"path_template", "URL"},
  };
  for (const auto& [field, flag] : kFlagOfField) {
    if (message.starts_with(field) && message.size() > field.size() &&
        message[field.size()] == ' ') {
      return std::string(flag) + ": " + message;
    }
  }
  return message;
}

int Main(int argc, char** argv) {
  std::string url;
  std::string duration_text = "10s";
  std::string timeout_text = "5s";
  std::string connect_timeout_text = "2s";
  loadgen::LoadOptions options;

  po::options_description flags(
      "Usage: leaklab-loadgen [options] URL\n"
      "Drives an HTTP/1.1 server with keep-alive connections and reports counts, rate and\n"
      "latency. URL is like http://127.0.0.1:8080/track?id={n}; every {n} becomes a\n"
      "counter unique per request. Only loopback hosts unless --allow-remote.\n\n"
      "Options");
  // clang-format off
  flags.add_options()
      ("help,h", "show this help")
      ("connections,c", po::value<int>(&options.connections)->default_value(options.connections),
       "keep-alive connections")
      ("duration,d", po::value<std::string>(&duration_text)->default_value(duration_text),
       "how long to run, e.g. 500ms, 10s, 2m")
      ("rate,r", po::value<double>(&options.rate_per_s)->default_value(0, "0"),
       "total requests per second over all connections; 0 = as fast as possible")
      ("timeout,t", po::value<std::string>(&timeout_text)->default_value(timeout_text),
       "per-request timeout (write request + read response)")
      ("connect-timeout", po::value<std::string>(&connect_timeout_text)
           ->default_value(connect_timeout_text), "connect timeout")
      ("max-requests,n", po::value<uint64_t>(&options.max_requests)->default_value(0),
       "stop after sending this many requests; 0 = no limit")
      ("header,H", po::value<std::vector<std::string>>(&options.headers)->composing(),
       "add a request header \"Name: value\" (repeatable)")
      ("method,m", po::value<std::string>(&options.method)->default_value(options.method),
       "HTTP method (requests carry no body)")
      ("allow-remote", po::bool_switch(&options.allow_remote),
       "allow targets that are not loopback addresses")
      ("json", "print the result as one JSON object instead of a summary");
  // clang-format on
  po::options_description hidden;
  hidden.add_options()("url", po::value<std::string>(&url), "target URL");
  po::options_description all;
  all.add(flags).add(hidden);
  po::positional_options_description positional;
  positional.add("url", 1);

  po::variables_map vars;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vars);
    if (vars.count("help") != 0) {
      std::cout << flags << "\n";
      return 0;
    }
    po::notify(vars);
    if (url.empty()) throw std::invalid_argument("missing URL (see --help)");
    options.duration =
        ParseFlag("duration", duration_text, [](auto& t) { return leaklab::ParseDuration(t); });
    options.request_timeout =
        ParseFlag("timeout", timeout_text, [](auto& t) { return leaklab::ParseDuration(t); });
    options.connect_timeout = ParseFlag("connect-timeout", connect_timeout_text,
                                        [](auto& t) { return leaklab::ParseDuration(t); });
    const loadgen::HttpUrl target = loadgen::ParseHttpUrl(url);
    options.host = target.host;
    options.port = target.port;
    options.path_template = target.path;
    try {
      loadgen::ValidateOptions(options);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(WithFlag(e.what()));
    }
  } catch (const std::exception& e) {
    // program_options messages already name the option ("the argument for option '--rate'...").
    std::cerr << "leaklab-loadgen: " << e.what() << "\n";
    return kExitUsage;
  }

  // Ctrl-C ends the run early but still prints what was measured.
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  loadgen::LoadResult result;
  try {
    result = loadgen::RunLoad(options, &g_stop);
  } catch (const std::invalid_argument& e) {
    std::cerr << "leaklab-loadgen: " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "leaklab-loadgen: " << e.what() << "\n";
    return kExitFailure;
  }
  if (vars.count("json") != 0) {
    std::cout << boost::json::serialize(loadgen::ToJson(options, result)) << "\n";
  } else {
    std::cout << loadgen::FormatSummary(options, result);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
