#ifndef LEAKLAB_COMMON_END_REASON_H_
#define LEAKLAB_COMMON_END_REASON_H_

// Why a run or a watch ended: manifest.json's end.reason (shared/DESIGN.md,
// "Results folder"), written by the harness and read by the analyzers, who
// judge a run that ended early differently.

#include <optional>
#include <string_view>

namespace leaklab {

enum class EndReason {
  kCompleted,            // ran for the time asked
  kInterrupted,          // Ctrl-C (SIGINT/SIGTERM): the data so far are kept
  kServerExited,         // the scenario server exited during the run
  kOomKilled,            // ... killed by the OOM killer under --mem-limit
  kServerFailedToStart,  // it never became healthy
  kHarnessError,         // leaklab itself failed mid-run
  kProcessExited,        // the process a watch followed exited
  kTargetUnreachable,    // the endpoints a watch read stopped answering
};

// The name written in manifest.json: "completed", "oom_killed", ...
std::string_view EndReasonName(EndReason reason);

// The reason of a name, nullopt for a name leaklab does not write.
std::optional<EndReason> ParseEndReason(std::string_view name);

}  // namespace leaklab

#endif  // LEAKLAB_COMMON_END_REASON_H_
