#include "loadgen/rate_plan.h"

#include <algorithm>
#include <cmath>

#include "common/duration.h"

namespace leaklab::loadgen {
namespace {

double Seconds(milliseconds d) { return std::chrono::duration<double>(d).count(); }

// Requests due in the first `t` seconds of a segment whose rate goes
// linearly from a to b over `length` seconds: a t + (b - a) t^2 / (2 length).
double SlotsWithin(double a, double b, double length, double t) {
  return a * t + (b - a) * t * t / (2 * length);
}

// The inverse: the t at which `slots` requests are due. The root of the
// quadratic c t^2 + a t - slots = 0 (c = (b - a) / (2 length)) written as
// 2 slots / (a + sqrt(a^2 + 4 c slots)), which stays accurate when c is tiny
// or a is 0 (no cancellation).
double TimeWithin(double a, double b, double length, double slots) {
  if (slots <= 0) return 0;
  if (a == b) return slots / a;
  const double discriminant = std::max(0.0, a * a + 2 * (b - a) * slots / length);
  const double denominator = a + std::sqrt(discriminant);
  return denominator > 0 ? 2 * slots / denominator : length;
}

}  // namespace

RatePlan::RatePlan(const Schedule& schedule, milliseconds duration) {
  const double total = Seconds(duration);
  if (schedule.phases.empty()) {
    Add(total, Mode::kClosed, 0, 0, "steady " + FormatDuration(duration));
    return;
  }
  double at = 0;
  for (const Phase& p : schedule.phases) {
    if (at >= total) break;
    const double full = Seconds(p.duration);
    const double length = std::min(full, total - at);
    const Mode mode = p.kind == PhaseKind::kIdle ? Mode::kIdle
                      : p.closed_loop            ? Mode::kClosed
                                                 : Mode::kPaced;
    // A ramp cut short ends at the rate it had reached.
    const double to_rate =
        p.from_rate_per_s + (p.to_rate_per_s - p.from_rate_per_s) * length / full;
    Add(length, mode, p.from_rate_per_s, to_rate, FormatPhase(p));
    at += length;
  }
  if (at < total) {
    const Segment last = segments_.back();
    Add(total - at, last.mode, last.to_rate, last.to_rate, last.label + " (held to the end)");
  }
}

void RatePlan::Add(double length_s, Mode mode, double from_rate, double to_rate,
                   std::string label) {
  if (length_s <= 0) return;
  Segment s;
  s.start_s = end_s_;
  s.end_s = end_s_ + length_s;
  s.mode = mode;
  if (mode == Mode::kPaced) {
    s.from_rate = from_rate;
    s.to_rate = to_rate;
  }
  s.slots_before = total_slots_;
  s.label = std::move(label);
  if (mode == Mode::kPaced) total_slots_ += (s.from_rate + s.to_rate) / 2 * length_s;
  end_s_ = s.end_s;
  segments_.push_back(std::move(s));
}

bool RatePlan::has_load() const {
  return std::any_of(segments_.begin(), segments_.end(), [](const Segment& s) {
    return s.mode == Mode::kClosed ||
           (s.mode == Mode::kPaced && (s.from_rate > 0 || s.to_rate > 0));
  });
}

bool RatePlan::has_paced() const {
  return std::any_of(segments_.begin(), segments_.end(),
                     [](const Segment& s) { return s.mode == Mode::kPaced; });
}

size_t RatePlan::SegmentAt(double t) const {
  // The first segment ending after t; segments are few (bounded by the
  // schedule's clause limit) and sorted, so a binary search.
  auto it = std::upper_bound(segments_.begin(), segments_.end(), t,
                             [](double value, const Segment& s) { return value < s.end_s; });
  if (it == segments_.end()) return segments_.size() - 1;
  return static_cast<size_t>(it - segments_.begin());
}

double RatePlan::SlotsBefore(double t) const {
  if (t <= 0) return 0;
  if (t >= end_s_) return total_slots_;
  const Segment& s = segments_[SegmentAt(t)];
  if (s.mode != Mode::kPaced) return s.slots_before;
  return s.slots_before + SlotsWithin(s.from_rate, s.to_rate, s.end_s - s.start_s, t - s.start_s);
}

double RatePlan::SlotTime(double k) const {
  if (k >= total_slots_) return kNever;
  // The last segment whose slots start at or before k holds slot k (segments
  // without slots share their start with the next one and are skipped).
  auto it = std::upper_bound(segments_.begin(), segments_.end(), k,
                             [](double value, const Segment& s) { return value < s.slots_before; });
  while (it != segments_.begin()) {
    --it;
    if (it->mode == Mode::kPaced &&
        k < it->slots_before + (it->from_rate + it->to_rate) / 2 * (it->end_s - it->start_s)) {
      const double length = it->end_s - it->start_s;
      const double t = TimeWithin(it->from_rate, it->to_rate, length, k - it->slots_before);
      return it->start_s + std::min(t, length);
    }
  }
  return kNever;
}

double RatePlan::NextClosedStart(double t) const {
  for (size_t i = SegmentAt(t) + 1; i < segments_.size(); ++i) {
    if (segments_[i].mode == Mode::kClosed) return segments_[i].start_s;
  }
  return kNever;
}

}  // namespace leaklab::loadgen
