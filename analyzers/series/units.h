#ifndef LEAKLAB_ANALYZERS_SERIES_UNITS_H_
#define LEAKLAB_ANALYZERS_SERIES_UNITS_H_

// Byte counts and durations written for people: "412 KB", "3.5 MB/s",
// "2 h 5 min". Decimal units (1 KB = 1000 B), as the figures are rounded anyway.

#include <string>

namespace leaklab::series {

// "0 B", "950 B", "1.2 KB", "412 KB", "3.5 GB"; negative with a minus sign.
std::string FormatBytes(double bytes);

// "0.4 s", "12 s", "5 min", "2 h 5 min", "3 d 4 h".
std::string FormatDuration(double seconds);

}  // namespace leaklab::series

#endif  // LEAKLAB_ANALYZERS_SERIES_UNITS_H_
