// The schedule language: phases of load and timed event requests, parsed,
// checked and written back (loadgen/README.md, "Schedules").

#include <boost/beast/http/verb.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/duration.h"
#include "loadgen/loadgen.h"
#include "loadgen/request_template.h"

namespace leaklab::loadgen {
namespace {

// Far above what one client machine can generate; larger values are typos.
constexpr double kMaxRatePerS = 1e6;
// Longer runs belong to a series of shorter ones.
constexpr milliseconds kMaxPhase = std::chrono::hours(24);
// Schedules are written by hand; more clauses than this are a mistake, and
// the bound keeps the per-request phase lookup cheap.
constexpr size_t kMaxClauses = 1000;
constexpr size_t kMaxSpecBytes = 64 * 1024;
// An event more often than this is load, not an event: use a phase.
constexpr milliseconds kMinEventInterval{10};
// Servers (Beast included) reject request heads above 8 KiB by default.
constexpr size_t kMaxPathBytes = 8 * 1024;
constexpr size_t kMaxEventName = 64;

const char* KindWord(PhaseKind kind) {
  switch (kind) {
    case PhaseKind::kIdle:
      return "idle";
    case PhaseKind::kSteady:
      return "steady";
    case PhaseKind::kRamp:
      return "ramp";
    case PhaseKind::kBurst:
      return "burst";
  }
  return "?";
}

std::string FormatRate(double rate) {
  char buf[64];
  if (rate == std::floor(rate) && rate < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f/s", rate);
  } else {
    std::snprintf(buf, sizeof buf, "%.6g/s", rate);
  }
  return buf;
}

// Each check returns what is wrong, or nothing.
std::optional<std::string> CheckPhase(const Phase& p) {
  if (p.duration <= milliseconds::zero() || p.duration > kMaxPhase) {
    return "duration must be > 0 and at most 24h (got " + FormatDuration(p.duration) + ")";
  }
  auto bad_rate = [](double r, bool zero_ok) {
    return !std::isfinite(r) || r < 0 || (r == 0 && !zero_ok) || r > kMaxRatePerS;
  };
  const std::string range = "a rate must be > 0 and at most " + FormatRate(kMaxRatePerS);
  switch (p.kind) {
    case PhaseKind::kIdle:
      return std::nullopt;
    case PhaseKind::kRamp:
      if (p.closed_loop) return std::string("a ramp needs rates, not 'max'");
      if (bad_rate(p.from_rate_per_s, true) || bad_rate(p.to_rate_per_s, true)) {
        return "ramp rates must be >= 0 and at most " + FormatRate(kMaxRatePerS);
      }
      if (p.from_rate_per_s == 0 && p.to_rate_per_s == 0) {
        return std::string("a ramp from 0/s to 0/s sends nothing; use 'idle'");
      }
      return std::nullopt;
    case PhaseKind::kSteady:
    case PhaseKind::kBurst:
      if (p.closed_loop) return std::nullopt;
      if (bad_rate(p.from_rate_per_s, false) || p.to_rate_per_s != p.from_rate_per_s) {
        return range + " (got " + std::to_string(p.from_rate_per_s) + ")";
      }
      return std::nullopt;
  }
  return std::string("unknown phase kind");
}

std::optional<std::string> CheckEvent(const ScheduledEvent& e) {
  if (e.name.empty() || e.name.size() > kMaxEventName) {
    return "event name must be 1.." + std::to_string(kMaxEventName) + " characters";
  }
  for (char c : e.name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return "event name '" + e.name + "' may hold only letters, digits, '_', '-' and '.'";
  }
  if (boost::beast::http::string_to_verb(e.method) == boost::beast::http::verb::unknown) {
    return "event method must be an HTTP method such as GET or POST (got '" + e.method + "')";
  }
  if (e.path.empty() || e.path.front() != '/' || !IsVisibleAscii(e.path) ||
      e.path.size() > kMaxPathBytes) {
    return "event path must start with '/' and be visible ASCII, at most 8 KiB (got '" + e.path +
           "')";
  }
  if (e.first_at < milliseconds::zero() || e.first_at > kMaxPhase) {
    return "event time must be >= 0 and at most 24h (got " + FormatDuration(e.first_at) + ")";
  }
  if (e.every != milliseconds::zero() && (e.every < kMinEventInterval || e.every > kMaxPhase)) {
    return "event interval must be at least " + FormatDuration(kMinEventInterval) +
           " and at most 24h (got " + FormatDuration(e.every) + ")";
  }
  return std::nullopt;
}

// The words of one clause and where it came from, for error messages.
class Clause {
 public:
  Clause(size_t number, std::string_view text) : number_(number), text_(text) {
    size_t i = 0;
    while (i < text.size()) {
      while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r')) ++i;
      size_t j = i;
      while (j < text.size() && text[j] != ' ' && text[j] != '\t' && text[j] != '\r') ++j;
      if (j > i) words_.push_back(text.substr(i, j - i));
      i = j;
    }
  }

  bool empty() const { return words_.empty(); }
  size_t size() const { return words_.size(); }
  std::string_view word(size_t i) const {
    return i < words_.size() ? words_[i] : std::string_view();
  }

  [[noreturn]] void Fail(const std::string& what) const {
    std::string text(text_);
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.erase(0, 1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
      text.pop_back();
    }
    throw std::invalid_argument("clause " + std::to_string(number_) + " '" + text + "': " + what);
  }

  milliseconds Duration(size_t i, const char* what) const {
    if (i >= words_.size()) Fail(std::string("expected ") + what + " (e.g. 10s, 500ms)");
    try {
      return ParseDuration(words_[i]);
    } catch (const std::invalid_argument& e) {
      Fail(std::string(what) + ": " + e.what());
    }
  }

  // "1000/s", "1000" or "2.5/s"; "max" (closed loop) when allowed.
  std::optional<double> Rate(size_t i, const char* after, bool max_ok) const {
    if (i >= words_.size())
      Fail(std::string("expected a rate after '") + after + "' (e.g. 1000/s)");
    std::string_view w = words_[i];
    if (w == "max") {
      if (!max_ok)
        Fail(std::string("'max' is not a rate here; give requests per second after '") + after +
             "'");
      return std::nullopt;
    }
    if (w.ends_with("/s")) w.remove_suffix(2);
    double rate = 0;
    const auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), rate);
    if (w.empty() || ec != std::errc() || end != w.data() + w.size() || !std::isfinite(rate) ||
        rate < 0) {
      Fail("'" + std::string(words_[i]) + "' is not a rate (e.g. 1000/s" +
           (max_ok ? std::string(", or max") : std::string()) + ")");
    }
    return rate;
  }

  void Expect(size_t i, std::string_view word, const char* example) const {
    if (this->word(i) != word) {
      Fail("expected '" + std::string(word) + "'" +
           (i < words_.size() ? " instead of '" + std::string(words_[i]) + "'" : std::string()) +
           " (" + example + ")");
    }
  }

  void End(size_t i, const char* example) const {
    if (i < words_.size()) {
      Fail("unexpected '" + std::string(words_[i]) + "' (" + example + ")");
    }
  }

 private:
  size_t number_;
  std::string_view text_;
  std::vector<std::string_view> words_;
};

Phase ParsePhase(const Clause& c, PhaseKind kind, const Phase* previous) {
  Phase p;
  p.kind = kind;
  p.duration = c.Duration(1, "a duration");
  switch (kind) {
    case PhaseKind::kIdle:
      c.End(2, "idle DURATION");
      break;
    case PhaseKind::kSteady:
    case PhaseKind::kBurst: {
      const char* example =
          kind == PhaseKind::kSteady ? "steady DURATION [at RATE]" : "burst DURATION [at RATE]";
      if (c.size() == 2) {
        p.closed_loop = true;
        break;
      }
      c.Expect(2, "at", example);
      std::optional<double> rate = c.Rate(3, "at", true);
      c.End(4, example);
      if (rate) {
        p.from_rate_per_s = p.to_rate_per_s = *rate;
      } else {
        p.closed_loop = true;
      }
      break;
    }
    case PhaseKind::kRamp: {
      constexpr const char* kExample = "ramp DURATION [from RATE] to RATE";
      size_t i = 2;
      const bool has_from = c.word(i) == "from";
      if (has_from) {
        p.from_rate_per_s = *c.Rate(i + 1, "from", false);
        i += 2;
      }
      c.Expect(i, "to", kExample);
      p.to_rate_per_s = *c.Rate(i + 1, "to", false);
      c.End(i + 2, kExample);
      // Without "from", the ramp starts where the previous phase ended.
      if (!has_from && previous != nullptr) {
        if (previous->closed_loop) c.Fail("a ramp after a closed-loop phase needs 'from RATE'");
        if (previous->kind != PhaseKind::kIdle) p.from_rate_per_s = previous->to_rate_per_s;
      }
      break;
    }
  }
  if (auto problem = CheckPhase(p)) c.Fail(*problem);
  return p;
}

ScheduledEvent ParseEvent(const Clause& c) {
  constexpr const char* kExample = "event NAME METHOD /path at TIME [every INTERVAL]";
  if (c.size() < 4) c.Fail(std::string("expected ") + kExample);
  ScheduledEvent e;
  e.name = std::string(c.word(1));
  e.method = std::string(c.word(2));
  e.path = std::string(c.word(3));
  c.Expect(4, "at", kExample);
  e.first_at = c.Duration(5, "a time after 'at'");
  if (c.size() > 6) {
    c.Expect(6, "every", kExample);
    e.every = c.Duration(7, "an interval after 'every'");
    c.End(8, kExample);
  }
  if (auto problem = CheckEvent(e)) c.Fail(*problem);
  return e;
}

}  // namespace

milliseconds Schedule::PhasesDuration() const {
  milliseconds total{0};
  for (const Phase& p : phases) total += p.duration;
  return total;
}

Schedule Schedule::Steady(milliseconds duration, double rate_per_s) {
  Phase p;
  p.kind = PhaseKind::kSteady;
  p.duration = duration;
  p.closed_loop = rate_per_s <= 0;
  p.from_rate_per_s = p.to_rate_per_s = rate_per_s > 0 ? rate_per_s : 0;
  Schedule s;
  s.phases.push_back(p);
  return s;
}

std::string FormatPhase(const Phase& p) {
  std::string out = std::string(KindWord(p.kind)) + " " + FormatDuration(p.duration);
  switch (p.kind) {
    case PhaseKind::kIdle:
      break;
    case PhaseKind::kRamp:
      out += " from " + FormatRate(p.from_rate_per_s) + " to " + FormatRate(p.to_rate_per_s);
      break;
    case PhaseKind::kSteady:
    case PhaseKind::kBurst:
      if (!p.closed_loop) out += " at " + FormatRate(p.from_rate_per_s);
      break;
  }
  return out;
}

std::string Schedule::ToString() const {
  std::string out;
  auto add = [&out](const std::string& clause) {
    if (!out.empty()) out += "; ";
    out += clause;
  };
  for (const Phase& p : phases) add(FormatPhase(p));
  for (const ScheduledEvent& e : events) {
    std::string clause =
        "event " + e.name + " " + e.method + " " + e.path + " at " + FormatDuration(e.first_at);
    if (e.every > milliseconds::zero()) clause += " every " + FormatDuration(e.every);
    add(clause);
  }
  return out;
}

Schedule ParseSchedule(std::string_view spec) {
  if (spec.size() > kMaxSpecBytes) {
    throw std::invalid_argument("schedule longer than 64 KiB");
  }
  Schedule schedule;
  std::set<std::string> names;
  size_t number = 0;
  size_t from = 0;
  while (from <= spec.size()) {
    // A clause ends at ';' or a line end; a '#' comment runs to the line end.
    size_t end = spec.find_first_of(";\n#", from);
    if (end == std::string_view::npos) end = spec.size();
    const std::string_view text = spec.substr(from, end - from);
    if (end < spec.size() && spec[end] == '#') {
      const size_t line_end = spec.find('\n', end);
      end = line_end == std::string_view::npos ? spec.size() : line_end;
    }
    from = end + 1;
    const Clause clause(number + 1, text);
    if (clause.empty()) continue;
    if (++number > kMaxClauses) {
      throw std::invalid_argument("schedule has more than " + std::to_string(kMaxClauses) +
                                  " clauses");
    }
    const std::string_view head = clause.word(0);
    const Phase* previous = schedule.phases.empty() ? nullptr : &schedule.phases.back();
    if (head == "idle") {
      schedule.phases.push_back(ParsePhase(clause, PhaseKind::kIdle, previous));
    } else if (head == "steady") {
      schedule.phases.push_back(ParsePhase(clause, PhaseKind::kSteady, previous));
    } else if (head == "ramp") {
      schedule.phases.push_back(ParsePhase(clause, PhaseKind::kRamp, previous));
    } else if (head == "burst") {
      schedule.phases.push_back(ParsePhase(clause, PhaseKind::kBurst, previous));
    } else if (head == "event") {
      ScheduledEvent e = ParseEvent(clause);
      if (!names.insert(e.name).second) clause.Fail("event name '" + e.name + "' is used twice");
      schedule.events.push_back(std::move(e));
    } else {
      clause.Fail("unknown clause '" + std::string(head) +
                  "' (expected idle, steady, ramp, burst or event)");
    }
  }
  return schedule;
}

void ValidateSchedule(const Schedule& schedule) {
  if (schedule.phases.size() + schedule.events.size() > kMaxClauses) {
    throw std::invalid_argument("schedule has more than " + std::to_string(kMaxClauses) +
                                " phases and events");
  }
  for (size_t i = 0; i < schedule.phases.size(); ++i) {
    if (auto problem = CheckPhase(schedule.phases[i])) {
      throw std::invalid_argument("schedule phase " + std::to_string(i + 1) + " (" +
                                  KindWord(schedule.phases[i].kind) + "): " + *problem);
    }
  }
  std::set<std::string> names;
  for (size_t i = 0; i < schedule.events.size(); ++i) {
    const ScheduledEvent& e = schedule.events[i];
    if (auto problem = CheckEvent(e)) {
      throw std::invalid_argument("schedule event " + std::to_string(i + 1) + " (" + e.name +
                                  "): " + *problem);
    }
    if (!names.insert(e.name).second) {
      throw std::invalid_argument("schedule event name '" + e.name + "' is used twice");
    }
  }
}

}  // namespace leaklab::loadgen
