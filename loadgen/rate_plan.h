#ifndef LEAKLAB_LOADGEN_RATE_PLAN_H_
#define LEAKLAB_LOADGEN_RATE_PLAN_H_

// A schedule's phases laid out on the run's clock: which mode holds at time
// t, and when the k-th open-loop request is due. Times are seconds since the
// start of the run. The planned send times are what makes open-loop latency
// honest: a request is late from the moment it was due, not from when a
// busy connection finally got round to sending it (the coordinated-omission
// correction of wrk2, Gil Tene's fork of wrk).

#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "loadgen/loadgen.h"

namespace leaklab::loadgen {

class RatePlan {
 public:
  enum class Mode { kIdle, kPaced, kClosed };

  struct Segment {
    double start_s = 0;
    double end_s = 0;
    Mode mode = Mode::kIdle;
    double from_rate = 0;     // paced only: requests/s at start_s ...
    double to_rate = 0;       // ... and at end_s, linear in between
    double slots_before = 0;  // open-loop requests due before start_s
    std::string label;        // the phase as written, for events.csv
  };

  static constexpr double kNever = std::numeric_limits<double>::infinity();

  // Lays `schedule`'s phases over [0, duration): phases past the end are
  // cut, and when they end early the last one holds until the end (a ramp
  // holds its final rate). No phases: closed loop throughout.
  RatePlan(const Schedule& schedule, milliseconds duration);

  const std::vector<Segment>& segments() const { return segments_; }
  double end_s() const { return end_s_; }
  // Open-loop requests due over the whole run.
  double total_slots() const { return total_slots_; }
  bool has_load() const;
  bool has_paced() const;

  // The segment in force at t (the last one at or after the end).
  size_t SegmentAt(double t) const;
  Mode ModeAt(double t) const { return segments_[SegmentAt(t)].mode; }
  // How many open-loop requests are due before t (a real number: the
  // integral of the rate from 0 to t).
  double SlotsBefore(double t) const;
  // When request slot k (0, 1, 2, ...) is due: the t with SlotsBefore(t) = k;
  // kNever when the run plans fewer than k + 1 requests.
  double SlotTime(double k) const;
  // The start of the next closed-loop segment after t, or kNever.
  double NextClosedStart(double t) const;

 private:
  void Add(double length_s, Mode mode, double from_rate, double to_rate, std::string label);

  std::vector<Segment> segments_;
  double end_s_ = 0;
  double total_slots_ = 0;
};

}  // namespace leaklab::loadgen

#endif  // LEAKLAB_LOADGEN_RATE_PLAN_H_
