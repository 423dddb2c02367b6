#ifndef LEAKLAB_REPORT_HTML_H_
#define LEAKLAB_REPORT_HTML_H_

// Text for HTML and SVG: escaping, and the number formats the report shows.

#include <string>
#include <string_view>

namespace leaklab::report {

// Escapes text for an HTML or SVG element's content or a quoted attribute
// value: & < > " ' become entities. Bytes that are not valid UTF-8 become
// U+FFFD and control characters other than tab and line feed are dropped, so
// that text from a profile (a C++ function name, a Go symbol) can never break
// the page, whatever it holds.
std::string Escape(std::string_view text);

// A plain number with at most `significant` significant figures, no
// exponent below 1e15 ("1200", "0.25", "3.14").
std::string FormatNumber(double value, int significant = 3);

// The style sheet shared by the report and the index page: large type, high
// contrast, light background, readable on a projector.
extern const char* const kStyleSheet;

}  // namespace leaklab::report

#endif  // LEAKLAB_REPORT_HTML_H_
