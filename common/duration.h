#ifndef LEAKLAB_COMMON_DURATION_H_
#define LEAKLAB_COMMON_DURATION_H_

#include <chrono>
#include <string>
#include <string_view>

namespace leaklab {

// Parses a duration such as "20s", "500ms", "1.5s", "2m", "1h" or a bare
// number of seconds ("10"). Throws std::invalid_argument naming the text and
// what was expected when it is malformed, negative or absurdly large.
std::chrono::milliseconds ParseDuration(std::string_view text);

// Formats a duration the way ParseDuration reads it ("1500ms" -> "1.5s").
std::string FormatDuration(std::chrono::milliseconds d);

// Parses a byte size such as "200M", "512KiB", "1G", "4096". Suffixes are
// binary (K = 1024). Throws std::invalid_argument when malformed.
long long ParseBytes(std::string_view text);

}  // namespace leaklab

#endif  // LEAKLAB_COMMON_DURATION_H_
