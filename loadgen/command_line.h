#ifndef LEAKLAB_LOADGEN_COMMAND_LINE_H_
#define LEAKLAB_LOADGEN_COMMAND_LINE_H_

// leaklab-loadgen's command line: wrk's and wrk2's core flags in their order
// (-t -c -d -R -H --latency --timeout, then the URL), and leaklab's own on
// top (--schedule, --keys, --body, --json, ...). A library function so that
// tests can check every flag and every error message.

#include <string>
#include <vector>

#include "loadgen/loadgen.h"

namespace leaklab::loadgen {

struct CommandLine {
  enum class Action { kRun, kHelp, kVersion };
  Action action = Action::kRun;
  LoadOptions options;
  bool json = false;
  bool latency = false;  // print the latency distribution (wrk's --latency)
  std::string help;      // the usage text, for kHelp
};

// `args` excludes the program name. Throws std::invalid_argument whose
// message starts with the flag at fault, e.g. "--rate: '-5' is not a
// rate", or "URL: ..." for the target.
CommandLine ParseCommandLine(const std::vector<std::string>& args);

}  // namespace leaklab::loadgen

#endif  // LEAKLAB_LOADGEN_COMMAND_LINE_H_
