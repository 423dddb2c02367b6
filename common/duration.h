#ifndef LEAKLAB_COMMON_DURATION_H_
#define LEAKLAB_COMMON_DURATION_H_

// Durations: read from flags and schedules ("1.5s"), written back in that
// syntax, and written for people ("4 min 10 s"), the one style of the
// explanations, the command line and the report alike.

#include <chrono>
#include <string>
#include <string_view>

// ParseBytes lived here; its callers are moving to common/bytes.h.

namespace leaklab {

// Parses a duration such as "20s", "500ms", "1.5s", "2m", "1h" or a bare
// number of seconds ("10"). Throws std::invalid_argument naming the text and
// what was expected when it is malformed, negative or absurdly large.
std::chrono::milliseconds ParseDuration(std::string_view text);

// Formats a duration the way ParseDuration reads it ("1500ms" -> "1500ms",
// 20 s -> "20s"), for flags and schedules that are parsed again. For people,
// FormatSeconds.
std::string FormatDuration(std::chrono::milliseconds d);

// A span or a time of day in seconds, for people: "850 ms", "2.5 s", "12 s",
// "4 min 10 s", "3 h 20 min", "2 d 4 h"; negative with a minus sign. One
// decimal below 10 s and whole seconds to a minute, as FormatBytes rounds,
// without a trailing ".0" ("1 s", "5 s").
// The unit is chosen after rounding, so 59.97 s reads "1 min 0 s", not
// "60 s". Infinite: "forever"; NaN (a missing value): "-".
std::string FormatSeconds(double seconds);

}  // namespace leaklab

#endif  // LEAKLAB_COMMON_DURATION_H_
