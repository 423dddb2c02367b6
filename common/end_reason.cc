#include "common/end_reason.h"

#include <array>
#include <utility>

namespace leaklab {
namespace {

constexpr std::array<std::pair<EndReason, std::string_view>, 8> kNames = {{
    {EndReason::kCompleted, "completed"},
    {EndReason::kInterrupted, "interrupted"},
    {EndReason::kServerExited, "server_exited"},
    {EndReason::kOomKilled, "oom_killed"},
    {EndReason::kServerFailedToStart, "server_failed_to_start"},
    {EndReason::kHarnessError, "harness_error"},
    {EndReason::kProcessExited, "process_exited"},
    {EndReason::kTargetUnreachable, "target_unreachable"},
}};

}  // namespace

std::string_view EndReasonName(EndReason reason) {
  for (const auto& [r, name] : kNames) {
    if (r == reason) return name;
  }
  return "unknown";
}

std::optional<EndReason> ParseEndReason(std::string_view name) {
  for (const auto& [r, n] : kNames) {
    if (n == name) return r;
  }
  return std::nullopt;
}

}  // namespace leaklab
