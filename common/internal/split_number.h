#ifndef LEAKLAB_COMMON_INTERNAL_SPLIT_NUMBER_H_
#define LEAKLAB_COMMON_INTERNAL_SPLIT_NUMBER_H_

// Shared by the duration and byte-size parsers; not for other callers.

#include <string_view>
#include <utility>

namespace leaklab::internal {

// Splits "1.5s" into the non-negative number 1.5 and the unit "s". Throws
// std::invalid_argument ("malformed <what> '<text>': ...") when the text does
// not start with a finite number.
std::pair<double, std::string_view> SplitNumber(std::string_view text, const char* what);

}  // namespace leaklab::internal

#endif  // LEAKLAB_COMMON_INTERNAL_SPLIT_NUMBER_H_
