#include "common/end_reason.h"

#include <gtest/gtest.h>

namespace leaklab {
namespace {

TEST(EndReason, EveryReasonRoundTripsThroughItsName) {
  for (EndReason r : {EndReason::kCompleted, EndReason::kInterrupted, EndReason::kServerExited,
                      EndReason::kOomKilled, EndReason::kServerFailedToStart,
                      EndReason::kHarnessError, EndReason::kProcessExited}) {
    EXPECT_EQ(ParseEndReason(EndReasonName(r)), r) << EndReasonName(r);
  }
  EXPECT_EQ(EndReasonName(EndReason::kOomKilled), "oom_killed");  // the manifest's spelling
  EXPECT_FALSE(ParseEndReason("finished").has_value());
}

}  // namespace
}  // namespace leaklab
