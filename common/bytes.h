#ifndef LEAKLAB_COMMON_BYTES_H_
#define LEAKLAB_COMMON_BYTES_H_

// Byte sizes: read from flags ("200M") and written for people ("412 KB"), the
// one style of the explanations, the command line and the report alike.

#include <string>
#include <string_view>

namespace leaklab {

// Parses a byte size such as "200M", "512KiB", "1G", "4096". Suffixes are
// binary (K = 1024), as memory limits are. Throws std::invalid_argument
// naming the text when it is malformed.
long long ParseBytes(std::string_view text);

// "0 B", "950 B", "1.2 KB", "412 KB", "3.5 GB"; negative with a minus sign.
// Decimal units (1 KB = 1000 B) and two significant figures below 10 of a
// unit, none above: the figures are estimates, and a third digit would
// promise a precision they do not have. The unit is chosen after rounding,
// so 999,960 B reads "1.0 MB", not "1000 KB". Infinite: "unbounded"; NaN
// (a missing value): "-".
std::string FormatBytes(double bytes);

// A rate of bytes per second, signed: "+10 MB/s", "-3.2 KB/s", "0 B/s".
std::string FormatBytesPerSecond(double bytes_per_s);

}  // namespace leaklab

#endif  // LEAKLAB_COMMON_BYTES_H_
