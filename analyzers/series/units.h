#ifndef LEAKLAB_ANALYZERS_SERIES_UNITS_H_
#define LEAKLAB_ANALYZERS_SERIES_UNITS_H_

// Byte counts and durations written for people ("412 KB", "2 h 5 min") have
// one home, common/bytes.h and common/duration.h, so that the explanations
// and the report say them alike. These names stay for the callers not yet
// moved to those headers.

#include <string>

#include "common/bytes.h"
#include "common/duration.h"

namespace leaklab::series {

using ::leaklab::FormatBytes;

inline std::string FormatDuration(double seconds) { return FormatSeconds(seconds); }

}  // namespace leaklab::series

#endif  // LEAKLAB_ANALYZERS_SERIES_UNITS_H_
