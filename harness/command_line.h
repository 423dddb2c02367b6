#ifndef LEAKLAB_HARNESS_COMMAND_LINE_H_
#define LEAKLAB_HARNESS_COMMAND_LINE_H_

// The flags of leaklab's commands (shared/DESIGN.md, "CLI"): each Parse*
// function turns a command's arguments into the options of the library
// function that carries it out. They print the command's help to `help` and
// return nullopt for --help; they throw UsageError naming the flag at fault.

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "analyzers/verdict/verdict.h"
#include "harness/analyze.h"
#include "harness/experiment.h"
#include "harness/watch.h"

namespace leaklab::harness {

extern const char* const kUsage;  // `leaklab --help`

struct RunCommand {
  RunOptions options;
  std::string scenario;  // empty with --all
  bool all = false;
  std::optional<verdict::Kind> expect;
  bool expect_catalog = false;  // --all --expect catalog
};
std::optional<RunCommand> ParseRunCommand(const std::vector<std::string>& args, std::ostream& help);

struct AnalyzeCommand {
  AnalyzeRequest request;
  bool json = false;
  std::optional<verdict::Kind> expect;
};
std::optional<AnalyzeCommand> ParseAnalyzeCommand(const std::vector<std::string>& args,
                                                  std::ostream& help);

struct WatchCommand {
  WatchOptions options;
  bool json = false;
  std::optional<verdict::Kind> expect;
};
std::optional<WatchCommand> ParseWatchCommand(const std::vector<std::string>& args,
                                              std::ostream& help);

// The folders to write reports for.
std::optional<std::vector<std::string>> ParseReportCommand(const std::vector<std::string>& args,
                                                           std::ostream& help);

}  // namespace leaklab::harness

#endif  // LEAKLAB_HARNESS_COMMAND_LINE_H_
