#include "common/internal/split_number.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string>

namespace leaklab::internal {

std::pair<double, std::string_view> SplitNumber(std::string_view text, const char* what) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, value);
  if (i == 0 || ec != std::errc() || ptr != text.data() + i || !std::isfinite(value)) {
    throw std::invalid_argument("malformed " + std::string(what) + " '" + std::string(text) +
                                "': expected a non-negative number");
  }
  return {value, text.substr(i)};
}

}  // namespace leaklab::internal
