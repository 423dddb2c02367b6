#include "loadgen/command_line.h"

#include <boost/program_options.hpp>
#include <charconv>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "common/duration.h"
#include "common/input_limits.h"
#include "common/read_file.h"

namespace leaklab::loadgen {
namespace {

namespace po = boost::program_options;

[[noreturn]] void Fail(const std::string& flag, const std::string& what) {
  throw std::invalid_argument(flag + ": " + what);
}

// wrk's numbers: "10", "1k", "2.5M" (k, M, G = 10^3, 10^6, 10^9).
double ParseMetric(const std::string& flag, const std::string& text, bool whole) {
  std::string_view digits = text;
  double scale = 1;
  if (!digits.empty()) {
    switch (digits.back()) {
      case 'k':
      case 'K':
        scale = 1e3;
        break;
      case 'M':
        scale = 1e6;
        break;
      case 'G':
        scale = 1e9;
        break;
      default:
        break;
    }
    if (scale != 1) digits.remove_suffix(1);
  }
  double value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
      !std::isfinite(value) || value < 0) {
    Fail(flag,
         "'" + text + "' is not a " + (whole ? "whole number" : "number") + " (e.g. 100, 2.5k)");
  }
  value *= scale;
  if (whole && (value != std::floor(value) || value > 1e15)) {
    Fail(flag, "'" + text + "' is not a whole number");
  }
  return value;
}

milliseconds ParseDurationFlag(const std::string& flag, const std::string& text) {
  try {
    return ParseDuration(text);
  } catch (const std::invalid_argument& e) {
    Fail(flag, e.what());
  }
}

// TEXT, or the contents of FILE for "@FILE", read under the limit for a
// flag's file (common/input_limits.h: a body or a schedule is kilobytes).
std::string TextOrFile(const std::string& flag, const std::string& value) {
  if (value.empty() || value.front() != '@') return value;
  try {
    return ReadWholeFile(value.substr(1), limits::kFlagFileBytes, "a flag's @FILE");
  } catch (const ReadFileError& e) {
    Fail(flag, e.what());
  }
}

// ValidateOptions names LoadOptions fields; on the command line the user knows
// the flags, so its message is prefixed with the flag that sets the field.
std::string WithFlag(const std::string& message) {
  static constexpr std::pair<std::string_view, std::string_view> kFlagOfField[] = {
      {"connections", "--connections"},
      {"threads", "--threads"},
      {"duration", "--duration"},
      {"request_timeout", "--timeout"},
      {"connect_timeout", "--connect-timeout"},
      {"max_requests", "--max-requests"},
      {"method", "--method"},
      {"headers", "--header"},
      {"header", "--header"},
      {"body", "--body"},
      {"keys", "--keys"},
      {"schedule", "--schedule"},
      {"host", "URL"},
      {"port", "URL"},
      {"path_template", "URL"},
  };
  for (const auto& [field, flag] : kFlagOfField) {
    if (message.starts_with(field) && message.size() > field.size() &&
        (message[field.size()] == ' ' || message[field.size()] == ':')) {
      return std::string(flag) + ": " + message;
    }
  }
  return message;
}

constexpr const char* kUsage =
    "Usage: leaklab-loadgen [options] URL\n"
    "A load generator for HTTP/1.1 servers that takes wrk's and wrk2's flags:\n"
    "  leaklab-loadgen -t2 -c32 -d10s http://127.0.0.1:8080/          closed loop, like wrk\n"
    "  leaklab-loadgen -t2 -c32 -d10s -R2000 --latency URL             open loop, like wrk2\n"
    "  leaklab-loadgen -c4 --schedule 'ramp 5s to 1000/s; steady 20s at 1000/s;\n"
    "      event reload POST /reload at 1s every 2s' --keys zipf:10000:1.1 \\\n"
    "      'http://127.0.0.1:8080/get?key={key}'\n"
    "In the URL and body, {n} is the request's number (unique in the run) and {key}\n"
    "its key (see --keys). Open-loop latency counts from each request's planned send\n"
    "time (corrected for coordinated omission). Only loopback hosts unless\n"
    "--allow-remote. loadgen/README.md describes the schedule language.\n\n"
    "Options";

}  // namespace

CommandLine ParseCommandLine(const std::vector<std::string>& args) {
  CommandLine cl;
  LoadOptions& o = cl.options;
  std::string threads = "1", connections = "4", duration, rate, timeout = "5s",
              connect_timeout = "2s", max_requests = "0", body, keys = "unique", schedule;
  std::vector<std::string> urls;

  po::options_description flags(kUsage);
  // clang-format off
  flags.add_options()
      ("help,h", "show this help")
      ("version,v", "print the version")
      ("threads,t", po::value(&threads)->default_value(threads),
       "threads, each with its own event loop (wrk's -t)")
      ("connections,c", po::value(&connections)->default_value(connections),
       "keep-alive connections over all threads (wrk's -c)")
      ("duration,d", po::value(&duration),
       "how long to run, e.g. 10s, 2m (default: the schedule's length, else 10s)")
      ("rate,R", po::value(&rate),
       "open loop: total requests per second (wrk2's -R); 0 or none = closed loop")
      ("header,H", po::value(&o.headers)->composing(), "add a request header \"Name: value\"")
      ("latency,L", po::bool_switch(&cl.latency), "print the latency distribution")
      ("timeout,T", po::value(&timeout)->default_value(timeout),
       "request timeout (write the request, read the whole response)")
      ("script,s", po::value<std::string>(), "wrk's Lua script: not supported (see --body, --keys)")
      ("connect-timeout", po::value(&connect_timeout)->default_value(connect_timeout),
       "connect timeout")
      ("method,m", po::value(&o.method)->default_value(o.method), "HTTP method")
      ("body", po::value(&body), "request body, or @FILE; may hold {n} and {key}")
      ("keys", po::value(&keys)->default_value(keys),
       "keys for {key}: unique, uniform:K or zipf:K[:S] (Zipf exponent S, default 1)")
      ("seed", po::value(&o.seed)->default_value(o.seed), "seed for the key choice")
      ("schedule", po::value(&schedule),
       "phases and events, or @FILE: e.g. 'idle 1s; ramp 5s to 1000/s; steady 10s at 1000/s;"
       " burst 1s; event reload POST /reload at 2s every 5s'")
      ("max-requests,n", po::value(&max_requests)->default_value(max_requests),
       "stop after this many requests; 0 = no limit")
      ("allow-remote", po::bool_switch(&o.allow_remote),
       "allow targets that are not loopback addresses")
      ("json", po::bool_switch(&cl.json), "print the result as one JSON object");
  // clang-format on
  po::options_description hidden;
  // -r: the rate flag of leaklab-loadgen before it took wrk2's -R.
  hidden.add_options()(",r", po::value(&rate), "")("url", po::value(&urls), "");
  po::options_description all;
  all.add(flags).add(hidden);
  po::positional_options_description positional;
  positional.add("url", -1);

  po::variables_map vars;
  try {
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), vars);
    po::notify(vars);
  } catch (const po::error& e) {
    // program_options names the option ("the argument for option '--rate' ...").
    throw std::invalid_argument(e.what());
  }
  std::ostringstream help;
  help << flags;
  cl.help = help.str();
  if (vars.count("help") != 0) {
    cl.action = CommandLine::Action::kHelp;
    return cl;
  }
  if (vars.count("version") != 0) {
    cl.action = CommandLine::Action::kVersion;
    return cl;
  }
  if (vars.count("script") != 0) {
    Fail("--script",
         "Lua scripts are not supported; --method, --header, --body, --keys and "
         "--schedule cover requests, keys and timing");
  }
  if (urls.empty()) throw std::invalid_argument("URL: missing (see --help)");
  if (urls.size() > 1) {
    throw std::invalid_argument("URL: give one URL (got '" + urls[0] + "' and '" + urls[1] + "')");
  }
  const HttpUrl target = [&] {
    try {
      return ParseHttpUrl(urls[0]);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string("URL: ") + e.what());
    }
  }();
  o.host = target.host;
  o.port = target.port;
  o.path_template = target.path;

  o.threads = static_cast<int>(std::min(ParseMetric("--threads", threads, true), 1e6));
  o.connections = static_cast<int>(std::min(ParseMetric("--connections", connections, true), 1e6));
  o.max_requests = static_cast<uint64_t>(ParseMetric("--max-requests", max_requests, true));
  o.request_timeout = ParseDurationFlag("--timeout", timeout);
  o.connect_timeout = ParseDurationFlag("--connect-timeout", connect_timeout);
  if (vars.count("body") != 0) o.body = TextOrFile("--body", body);
  try {
    o.keys = ParseKeySpec(keys);
  } catch (const std::invalid_argument& e) {
    Fail("--keys", e.what());
  }
  if (!schedule.empty()) {
    try {
      o.schedule = ParseSchedule(TextOrFile("--schedule", schedule));
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      throw std::invalid_argument(what.starts_with("--schedule") ? what : "--schedule: " + what);
    }
  }
  // The run's length: -d, else the schedule's phases, else wrk's 10 s.
  if (!duration.empty()) {
    o.duration = ParseDurationFlag("--duration", duration);
  } else if (o.schedule.PhasesDuration() > milliseconds::zero()) {
    o.duration = o.schedule.PhasesDuration();
  } else {
    o.duration = std::chrono::seconds(10);
  }
  if (!rate.empty()) {
    if (!o.schedule.phases.empty()) {
      Fail("--rate", "cannot be combined with the phases of --schedule (give rates in the phases)");
    }
    const double r = ParseMetric("--rate", rate, false);
    o.schedule.phases = Schedule::Steady(o.duration, r).phases;
  }
  try {
    ValidateOptions(o);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(WithFlag(e.what()));
  }
  return cl;
}

}  // namespace leaklab::loadgen
