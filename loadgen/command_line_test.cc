#include "loadgen/command_line.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace leaklab::loadgen {
namespace {

std::string ErrorOf(const std::vector<std::string>& args) {
  try {
    ParseCommandLine(args);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(ParseCommandLine, TakesWrkCommandLines) {
  // As wrk's README writes it.
  const CommandLine cl =
      ParseCommandLine({"-t12", "-c400", "-d30s", "--latency", "--timeout", "3s", "-H", "X-A: 1",
                        "-H", "X-B: 2", "http://127.0.0.1:8080/index.html"});
  EXPECT_EQ(cl.action, CommandLine::Action::kRun);
  EXPECT_EQ(cl.options.threads, 12);
  EXPECT_EQ(cl.options.connections, 400);
  EXPECT_EQ(cl.options.duration, milliseconds(30'000));
  EXPECT_TRUE(cl.latency);
  EXPECT_EQ(cl.options.request_timeout, milliseconds(3000));
  EXPECT_EQ(cl.options.headers, (std::vector<std::string>{"X-A: 1", "X-B: 2"}));
  EXPECT_EQ(cl.options.port, 8080);
  EXPECT_EQ(cl.options.path_template, "/index.html");
  EXPECT_TRUE(cl.options.schedule.phases.empty());  // closed loop
  // wrk's other spellings: short -L and -T, a bare number of seconds, metric suffixes.
  const CommandLine more = ParseCommandLine(
      {"http://localhost/", "-c", "1k", "-t", "2", "-d", "5", "-L", "-T", "500ms"});
  EXPECT_EQ(more.options.connections, 1000);
  EXPECT_EQ(more.options.duration, milliseconds(5000));
  EXPECT_TRUE(more.latency);
  EXPECT_EQ(more.options.request_timeout, milliseconds(500));
}

TEST(ParseCommandLine, TakesWrk2Rates) {
  const CommandLine cl = ParseCommandLine({"-t2", "-c100", "-d10s", "-R2k", "http://127.0.0.1:1/"});
  ASSERT_EQ(cl.options.schedule.phases.size(), 1u);
  EXPECT_EQ(cl.options.schedule.ToString(), "steady 10s at 2000/s");
  EXPECT_EQ(
      ParseCommandLine({"--rate", "150.5", "http://127.0.0.1:1/"}).options.schedule.ToString(),
      "steady 10s at 150.5/s");
  // leaklab-loadgen's old -r still works; 0 is closed loop.
  EXPECT_EQ(ParseCommandLine({"-r", "10", "http://127.0.0.1:1/"}).options.schedule.ToString(),
            "steady 10s at 10/s");
  EXPECT_EQ(ParseCommandLine({"-R", "0", "http://127.0.0.1:1/"}).options.schedule.ToString(),
            "steady 10s");
}

TEST(ParseCommandLine, LeaklabOptions) {
  const CommandLine cl = ParseCommandLine(
      {"--schedule",
       "ramp 2s to 100/s; steady 3s at 100/s; event reload POST /reload at 1s every 1s", "--keys",
       "zipf:1000:1.1", "--seed", "9", "-m", "POST", "--body", "k={key}", "-n", "500", "--json",
       "--connect-timeout", "1s", "http://127.0.0.1:1/put/{key}"});
  EXPECT_EQ(cl.options.duration, milliseconds(5000));  // the schedule's length
  EXPECT_EQ(cl.options.schedule.events.size(), 1u);
  EXPECT_EQ(cl.options.keys.kind, KeySpec::Kind::kZipf);
  EXPECT_EQ(cl.options.seed, 9u);
  EXPECT_EQ(cl.options.method, "POST");
  EXPECT_EQ(cl.options.body, "k={key}");
  EXPECT_EQ(cl.options.max_requests, 500u);
  EXPECT_TRUE(cl.json);
  EXPECT_EQ(cl.options.connect_timeout, milliseconds(1000));
  // -d cuts or holds the schedule.
  EXPECT_EQ(ParseCommandLine({"--schedule", "steady 5s at 1/s", "-d", "1s", "http://127.0.0.1:1/"})
                .options.duration,
            milliseconds(1000));
}

TEST(ParseCommandLine, ReadsBodyAndScheduleFromFiles) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path();
  const std::filesystem::path body = dir / "loadgen_cli_body.txt";
  const std::filesystem::path schedule = dir / "loadgen_cli_schedule.txt";
  std::ofstream(body) << "{\"a\": 1}";
  std::ofstream(schedule) << "# warm up\nramp 1s to 10/s\nsteady 2s at 10/s\n";
  const CommandLine cl =
      ParseCommandLine({"--body", "@" + body.string(), "--schedule", "@" + schedule.string(), "-m",
                        "POST", "http://127.0.0.1:1/"});
  EXPECT_EQ(cl.options.body, "{\"a\": 1}");
  EXPECT_EQ(cl.options.schedule.phases.size(), 2u);
  std::filesystem::remove(body);
  std::filesystem::remove(schedule);
  EXPECT_EQ(ErrorOf({"--body", "@/no/such/file", "http://127.0.0.1:1/"}),
            "--body: /no/such/file: cannot open: No such file or directory");
  // An endless file stops at the limit (common/input_limits.h), named.
  EXPECT_EQ(ErrorOf({"--schedule", "@/dev/zero", "http://127.0.0.1:1/"}),
            "--schedule: /dev/zero: larger than 1 MiB, the limit for a flag's @FILE");
}

TEST(ParseCommandLine, HelpAndVersion) {
  const CommandLine help = ParseCommandLine({"--help"});
  EXPECT_EQ(help.action, CommandLine::Action::kHelp);
  EXPECT_NE(help.help.find("--latency"), std::string::npos);
  EXPECT_EQ(ParseCommandLine({"-v"}).action, CommandLine::Action::kVersion);
}

TEST(ParseCommandLine, ErrorsNameTheFlag) {
  const std::string url = "http://127.0.0.1:1/";
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{}, "URL: missing (see --help)"},
      {{url, url}, "URL: give one URL (got 'http://127.0.0.1:1/' and 'http://127.0.0.1:1/')"},
      {{"https://127.0.0.1/"},
       "URL: bad URL 'https://127.0.0.1/': https is not supported, use http://"},
      {{"-c", "0", url}, "--connections: connections must be >= 1 and <= 1000 (got 0)"},
      {{"-c", "many", url}, "--connections: 'many' is not a whole number (e.g. 100, 2.5k)"},
      {{"-c", "2.5", url}, "--connections: '2.5' is not a whole number"},
      {{"-t", "4", "-c", "2", url},
       "--threads: threads must be <= connections (got 4 threads, 2 connections)"},
      {{"-d", "10parsecs", url},
       "--duration: malformed duration '10parsecs': unknown unit 'parsecs' (use ms, s, m or h)"},
      {{"-R", "-5", url}, "--rate: '-5' is not a number (e.g. 100, 2.5k)"},
      {{"-R", "5000000", url},
       "--schedule: schedule phase 1 (steady): a rate must be > 0 and at most 1000000/s (got "
       "5000000.000000)"},
      {{"-R", "10", "--schedule", "steady 1s", url},
       "--rate: cannot be combined with the phases of --schedule (give rates in the phases)"},
      {{"--schedule", "steady 1s; ramp 1s to", url},
       "--schedule: clause 2 'ramp 1s to': expected a rate after 'to' (e.g. 1000/s)"},
      {{"--keys", "zipf:0", url},
       "--keys: keys 'zipf:0': the key count K must be a whole number 1..2^40 (got '0')"},
      {{"-H", "NoColon", url}, "--header: header must be 'Name: value' (got 'NoColon')"},
      {{"-H", "Content-Length: 3", url},
       "--header: headers: Content-Length is set from the body; leave it out"},
      {{"-m", "FETCH", url},
       "--method: method must be an HTTP method such as GET or POST (got 'FETCH')"},
      {{"--timeout", "0s", url},
       "--timeout: request_timeout must be > 0 and <= 3600000ms (got 0ms)"},
      {{"-s", "script.lua", url},
       "--script: Lua scripts are not supported; --method, --header, --body, --keys and --schedule "
       "cover requests, keys and timing"},
      {{"http://10.0.0.1/"},
       "URL: host '10.0.0.1' is not a loopback address (127.0.0.0/8, ::1, localhost); set "
       "allow_remote (--allow-remote) to target other machines"},
  };
  for (const auto& [args, error] : cases) {
    EXPECT_EQ(ErrorOf(args), error) << (args.empty() ? "" : args[0]);
  }
  // program_options names unknown flags and missing arguments itself.
  EXPECT_NE(ErrorOf({"--bogus", url}).find("--bogus"), std::string::npos);
  EXPECT_NE(ErrorOf({url, "-c"}).find("--connections"), std::string::npos);
}

TEST(ParseCommandLine, AllowRemoteLetsOtherHostsThrough) {
  EXPECT_EQ(ParseCommandLine({"--allow-remote", "http://10.0.0.1:8080/"}).options.host, "10.0.0.1");
}

}  // namespace
}  // namespace leaklab::loadgen
