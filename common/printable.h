#ifndef LEAKLAB_COMMON_PRINTABLE_H_
#define LEAKLAB_COMMON_PRINTABLE_H_

// Text from input files and endpoints (a CSV cell, a column or function
// name, a label) reaches the terminal inside messages and summaries. Control
// bytes in it would be read by the terminal (escape sequences can move the
// cursor, retitle the window, hide text) or cut the line (NUL): they are
// shown as \xNN instead.

#include <string>
#include <string_view>

namespace leaklab {

// `text` with every control byte (0x00-0x1f and 0x7f) other than line feed
// and tab written as \xNN; other bytes, UTF-8 included, as they are.
std::string Printable(std::string_view text);

}  // namespace leaklab

#endif  // LEAKLAB_COMMON_PRINTABLE_H_
