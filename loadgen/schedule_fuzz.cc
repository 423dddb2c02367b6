// libFuzzer target: the schedule language (`ci/fuzz schedule_fuzz SECONDS`),
// read from --schedule and from scenario catalogs. What parses must pass
// ValidateSchedule, print as a spec that reads back as the same text, and
// give a rate plan whose request times are finite and in order.

#include <chrono>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include "common/fuzz_check.h"
#include "loadgen/loadgen.h"
#include "loadgen/rate_plan.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace leaklab::loadgen;
  Schedule schedule;
  try {
    schedule = ParseSchedule(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const std::invalid_argument&) {
    return 0;
  }
  ValidateSchedule(schedule);  // throws (a finding) if the parser let through a bad one
  const std::string text = schedule.ToString();
  leaklab::FuzzCheck(ParseSchedule(text).ToString() == text);

  // The run as the load generator plans it: the phases, or 10 s of closed loop.
  std::chrono::milliseconds duration = schedule.PhasesDuration();
  if (duration.count() <= 0) duration = std::chrono::milliseconds(10'000);
  const RatePlan plan(schedule, duration);
  leaklab::FuzzCheck(std::isfinite(plan.end_s()) && plan.end_s() >= 0);
  double previous = -1;
  for (int i = 0; i <= 16; ++i) {
    const double t = plan.end_s() * i / 16;
    (void)plan.ModeAt(t);
    const double slots = plan.SlotsBefore(t);
    leaklab::FuzzCheck(!std::isnan(slots) && slots >= previous);
    previous = slots;
  }
  if (plan.has_paced() && std::isfinite(plan.total_slots())) {
    double last = -1;
    for (int i = 0; i <= 16; ++i) {
      const double at = plan.SlotTime(std::floor(plan.total_slots() * i / 16));
      leaklab::FuzzCheck(!std::isnan(at) && at >= last);
      last = at;
    }
  }
  return 0;
}
