// The schedule language and the rate plan it becomes.

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "loadgen/loadgen.h"
#include "loadgen/rate_plan.h"

namespace leaklab::loadgen {
namespace {

using Mode = RatePlan::Mode;

std::string ErrorOf(const std::string& spec) {
  try {
    ParseSchedule(spec);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(ParseSchedule, EveryKindOfClause) {
  const Schedule s = ParseSchedule(
      "idle 1s; steady 10s at 1000/s\n"
      "ramp 5s from 100/s to 2000/s;  burst 500ms at 5000 ; burst 1s; steady 2m at max\n"
      "# a comment line; with a semicolon\n"
      "ramp 2s from 1/s to 10/s   # a comment after a clause\n"
      "event reload POST /reload?all=1 at 500ms every 1s; event once GET /x at 0s");
  ASSERT_EQ(s.phases.size(), 7u);
  EXPECT_EQ(s.phases[0].kind, PhaseKind::kIdle);
  EXPECT_EQ(s.phases[0].duration, milliseconds(1000));
  EXPECT_EQ(s.phases[1].kind, PhaseKind::kSteady);
  EXPECT_EQ(s.phases[1].from_rate_per_s, 1000);
  EXPECT_FALSE(s.phases[1].closed_loop);
  EXPECT_EQ(s.phases[2].kind, PhaseKind::kRamp);
  EXPECT_EQ(s.phases[2].from_rate_per_s, 100);
  EXPECT_EQ(s.phases[2].to_rate_per_s, 2000);
  EXPECT_EQ(s.phases[3].kind, PhaseKind::kBurst);
  EXPECT_EQ(s.phases[3].to_rate_per_s, 5000);
  EXPECT_TRUE(s.phases[4].closed_loop);
  EXPECT_TRUE(s.phases[5].closed_loop);
  EXPECT_EQ(s.phases[5].duration, milliseconds(120'000));
  EXPECT_EQ(s.phases[6].kind, PhaseKind::kRamp);
  ASSERT_EQ(s.events.size(), 2u);
  EXPECT_EQ(s.events[0].name, "reload");
  EXPECT_EQ(s.events[0].method, "POST");
  EXPECT_EQ(s.events[0].path, "/reload?all=1");
  EXPECT_EQ(s.events[0].first_at, milliseconds(500));
  EXPECT_EQ(s.events[0].every, milliseconds(1000));
  EXPECT_EQ(s.events[1].every, milliseconds(0));
  EXPECT_EQ(s.PhasesDuration(), milliseconds(1000 + 10000 + 5000 + 500 + 1000 + 120000 + 2000));
}

TEST(ParseSchedule, RampStartsFromThePreviousRate) {
  EXPECT_EQ(ParseSchedule("steady 1s at 300/s; ramp 1s to 10/s").phases[1].from_rate_per_s, 300);
  EXPECT_EQ(ParseSchedule("idle 1s; ramp 1s to 10/s").phases[1].from_rate_per_s, 0);
  EXPECT_EQ(ParseSchedule("ramp 1s to 10/s").phases[0].from_rate_per_s, 0);
  EXPECT_EQ(ParseSchedule("ramp 1s from 5/s to 10/s; ramp 1s to 1/s").phases[1].from_rate_per_s,
            10);
}

TEST(ParseSchedule, WritesBackWhatItReads) {
  const std::string spec =
      "idle 1s; steady 10s at 1000/s; ramp 5s from 0/s to 2.5/s; burst 500ms; "
      "event reload POST /reload at 500ms every 1s";
  const Schedule s = ParseSchedule(spec);
  EXPECT_EQ(s.ToString(), spec);
  EXPECT_EQ(ParseSchedule(s.ToString()).ToString(), spec);
  EXPECT_EQ(ParseSchedule("").ToString(), "");
  EXPECT_EQ(Schedule::Steady(milliseconds(3000), 0).ToString(), "steady 3s");
  EXPECT_EQ(Schedule::Steady(milliseconds(3000), 50).ToString(), "steady 3s at 50/s");
}

TEST(ParseSchedule, ErrorsNameTheClauseAndTheWord) {
  const std::pair<const char*, const char*> cases[] = {
      {"steady 5s; ramp 2s to", "clause 2 'ramp 2s to': expected a rate after 'to' (e.g. 1000/s)"},
      {"stedy 5s",
       "clause 1 'stedy 5s': unknown clause 'stedy' (expected idle, steady, ramp, burst or event)"},
      {"steady", "clause 1 'steady': expected a duration (e.g. 10s, 500ms)"},
      {"steady 5parsecs",
       "clause 1 'steady 5parsecs': a duration: malformed duration '5parsecs': unknown unit "
       "'parsecs' (use ms, s, m or h)"},
      {"steady 5s at", "clause 1 'steady 5s at': expected a rate after 'at' (e.g. 1000/s)"},
      {"steady 5s at fast",
       "clause 1 'steady 5s at fast': 'fast' is not a rate (e.g. 1000/s, or max)"},
      {"steady 5s at 0/s",
       "clause 1 'steady 5s at 0/s': a rate must be > 0 and at most 1000000/s (got 0.000000)"},
      {"steady 5s for 100/s",
       "clause 1 'steady 5s for 100/s': expected 'at' instead of 'for' (steady DURATION [at "
       "RATE])"},
      {"steady 5s at 10/s please",
       "clause 1 'steady 5s at 10/s please': unexpected 'please' (steady DURATION [at RATE])"},
      {"steady 0s", "clause 1 'steady 0s': duration must be > 0 and at most 24h (got 0s)"},
      {"idle 1s at 5/s", "clause 1 'idle 1s at 5/s': unexpected 'at' (idle DURATION)"},
      {"ramp 1s from max to 5/s",
       "clause 1 'ramp 1s from max to 5/s': 'max' is not a rate here; give requests per second "
       "after 'from'"},
      {"ramp 1s to 0/s",
       "clause 1 'ramp 1s to 0/s': a ramp from 0/s to 0/s sends nothing; use 'idle'"},
      {"steady 1s; ramp 1s to 5/s",
       "clause 2 'ramp 1s to 5/s': a ramp after a closed-loop phase needs 'from RATE'"},
      {"steady 1s at 2000000/s",
       "clause 1 'steady 1s at 2000000/s': a rate must be > 0 and at most 1000000/s (got "
       "2000000.000000)"},
      {"event reload POST /reload",
       "clause 1 'event reload POST /reload': expected 'at' (event NAME METHOD /path at TIME "
       "[every INTERVAL])"},
      {"event reload",
       "clause 1 'event reload': expected event NAME METHOD /path at TIME [every INTERVAL]"},
      {"event reload POST /reload at 1s every 1ms",
       "clause 1 'event reload POST /reload at 1s every 1ms': event interval must be at least 10ms "
       "and at most 24h (got 1ms)"},
      {"event re/load POST /r at 1s",
       "clause 1 'event re/load POST /r at 1s': event name 're/load' may hold only letters, "
       "digits, '_', '-' and '.'"},
      {"event r FETCH /r at 1s",
       "clause 1 'event r FETCH /r at 1s': event method must be an HTTP method such as GET or POST "
       "(got 'FETCH')"},
      {"event r GET r at 1s",
       "clause 1 'event r GET r at 1s': event path must start with '/' and be visible ASCII, at "
       "most 8 KiB (got 'r')"},
      {"event r GET /r at 1s; event r GET /s at 2s",
       "clause 2 'event r GET /s at 2s': event name 'r' is used twice"},
  };
  for (const auto& [spec, error] : cases) EXPECT_EQ(ErrorOf(spec), error) << spec;
}

TEST(ValidateSchedule, NamesThePhaseOrEvent) {
  Schedule s;
  s.phases.push_back({PhaseKind::kSteady, milliseconds(1000), 10, 10, false});
  s.phases.push_back({PhaseKind::kRamp, milliseconds(1000), 10, -1, false});
  try {
    ValidateSchedule(s);
    ADD_FAILURE();
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind("schedule phase 2 (ramp): ", 0), 0u) << e.what();
  }
  s.phases.pop_back();
  s.events.push_back({"x", "GET", "no-slash", milliseconds(0), milliseconds(0)});
  try {
    ValidateSchedule(s);
    ADD_FAILURE();
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind("schedule event 1 (x): event path", 0), 0u) << e.what();
  }
}

TEST(RatePlan, SteadyRateSlots) {
  const RatePlan plan(Schedule::Steady(milliseconds(10'000), 1000), milliseconds(10'000));
  EXPECT_DOUBLE_EQ(plan.total_slots(), 10'000);
  EXPECT_DOUBLE_EQ(plan.SlotTime(0), 0);
  EXPECT_DOUBLE_EQ(plan.SlotTime(1), 0.001);
  EXPECT_NEAR(plan.SlotTime(9999), 9.999, 1e-12);
  EXPECT_EQ(plan.SlotTime(10'000), RatePlan::kNever);
  EXPECT_DOUBLE_EQ(plan.SlotsBefore(2.5), 2500);
  EXPECT_EQ(plan.ModeAt(3), Mode::kPaced);
  EXPECT_TRUE(plan.has_load());
  EXPECT_TRUE(plan.has_paced());
}

TEST(RatePlan, RampSlotsFollowTheIntegral) {
  // 0 -> 1000/s over 10 s: 5000 requests, the first half of them in the
  // last 3 s or so (the integral is quadratic).
  const RatePlan plan(ParseSchedule("ramp 10s from 0/s to 1000/s"), milliseconds(10'000));
  EXPECT_DOUBLE_EQ(plan.total_slots(), 5000);
  EXPECT_NEAR(plan.SlotsBefore(5), 1250, 1e-9);
  EXPECT_NEAR(plan.SlotTime(1250), 5, 1e-9);
  EXPECT_NEAR(plan.SlotTime(2500), std::sqrt(50.0), 1e-9);
  double previous = -1;
  for (double k = 0; k < 5000; k += 7) {
    const double t = plan.SlotTime(k);
    ASSERT_GT(t, previous);
    ASSERT_NEAR(plan.SlotsBefore(t), k, 1e-6);
    previous = t;
  }
  // Down as well as up.
  const RatePlan down(ParseSchedule("ramp 4s from 100/s to 20/s"), milliseconds(4000));
  EXPECT_DOUBLE_EQ(down.total_slots(), 240);
  for (double k = 0; k < 240; k += 1) ASSERT_NEAR(down.SlotsBefore(down.SlotTime(k)), k, 1e-6);
}

TEST(RatePlan, PhasesInSequenceSkipIdleAndClosedLoop) {
  const RatePlan plan(ParseSchedule("steady 1s at 10/s; idle 1s; burst 1s; steady 1s at 20/s"),
                      milliseconds(4000));
  ASSERT_EQ(plan.segments().size(), 4u);
  EXPECT_DOUBLE_EQ(plan.total_slots(), 30);
  EXPECT_NEAR(plan.SlotTime(9), 0.9, 1e-12);
  EXPECT_NEAR(plan.SlotTime(10), 3.0, 1e-12);  // the next paced phase
  EXPECT_NEAR(plan.SlotTime(11), 3.05, 1e-12);
  EXPECT_EQ(plan.ModeAt(1.5), Mode::kIdle);
  EXPECT_EQ(plan.ModeAt(2.5), Mode::kClosed);
  EXPECT_DOUBLE_EQ(plan.NextClosedStart(0.5), 2);
  EXPECT_EQ(plan.NextClosedStart(2.5), RatePlan::kNever);
  EXPECT_DOUBLE_EQ(plan.SlotsBefore(2.5), 10);
  EXPECT_EQ(plan.segments()[2].label, "burst 1s");
}

TEST(RatePlan, CutsAndHoldsToTheRunsDuration) {
  const Schedule s = ParseSchedule("steady 2s at 10/s; ramp 2s to 30/s");
  const RatePlan cut(s, milliseconds(3000));
  ASSERT_EQ(cut.segments().size(), 2u);
  EXPECT_DOUBLE_EQ(cut.segments()[1].to_rate, 20);  // half-way up the ramp
  EXPECT_DOUBLE_EQ(cut.total_slots(), 20 + 15);
  const RatePlan held(s, milliseconds(6000));
  ASSERT_EQ(held.segments().size(), 3u);
  EXPECT_EQ(held.segments()[2].label, "ramp 2s from 10/s to 30/s (held to the end)");
  EXPECT_DOUBLE_EQ(held.total_slots(), 20 + 40 + 60);
  EXPECT_DOUBLE_EQ(held.end_s(), 6);
}

TEST(RatePlan, NoPhasesIsClosedLoopAndIdleHasNoLoad) {
  const RatePlan closed(Schedule{}, milliseconds(5000));
  EXPECT_EQ(closed.ModeAt(1), Mode::kClosed);
  EXPECT_TRUE(closed.has_load());
  EXPECT_FALSE(closed.has_paced());
  EXPECT_EQ(closed.SlotTime(0), RatePlan::kNever);
  const RatePlan idle(ParseSchedule("idle 5s; event e GET / at 1s"), milliseconds(5000));
  EXPECT_FALSE(idle.has_load());
}

}  // namespace
}  // namespace leaklab::loadgen
