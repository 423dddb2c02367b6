#include "report/html.h"

#include <cmath>
#include <cstdint>
#include <cstdio>

namespace leaklab::report {

namespace {

// The length of the valid UTF-8 sequence starting at text[i], or 0 when the
// bytes there are not one (RFC 3629, section 4: no overlong forms, no
// surrogates, nothing above U+10FFFF).
size_t Utf8SequenceLength(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  const uint8_t b0 = byte(i);
  size_t n = 0;
  uint8_t lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
  if (b0 < 0x80) return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

}  // namespace

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    switch (c) {
      case '&':
        out += "&amp;";
        ++i;
        continue;
      case '<':
        out += "&lt;";
        ++i;
        continue;
      case '>':
        out += "&gt;";
        ++i;
        continue;
      case '"':
        out += "&quot;";
        ++i;
        continue;
      case '\'':
        out += "&#39;";
        ++i;
        continue;
      default:
        break;
    }
    const size_t n = Utf8SequenceLength(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      ++i;
      continue;
    }
    const auto b = static_cast<uint8_t>(c);
    if (n == 1 && (b < 0x20 || b == 0x7F) && c != '\t' && c != '\n') {
      ++i;  // other control characters have no business in a page
      continue;
    }
    out.append(text.substr(i, n));
    i += n;
  }
  return out;
}

std::string FormatNumber(double value, int significant) {
  if (!std::isfinite(value)) return std::isnan(value) ? "-" : (value > 0 ? "∞" : "-∞");
  char buf[64];
  if (std::fabs(value) >= std::pow(10.0, significant) && std::fabs(value) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", value);
  } else {
    std::snprintf(buf, sizeof buf, "%.*g", significant, value);
  }
  return buf;
}

// Sizes in rem so that the browser's zoom (Ctrl +) scales everything; the
// base of 20 px reads from the back of a room. Colours: text contrast ratios
// of 7:1 or more (WCAG AAA) on their backgrounds; each chart line is named in
// its legend and in a tooltip (<title>), not by colour alone.
const char* const kStyleSheet = R"css(
:root { color-scheme: light; }
* { box-sizing: border-box; }
html { font-size: 20px; }
body { margin: 0 auto; padding: 1rem 1.5rem 3rem; max-width: 72rem; background: #fff; color: #111;
  font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; line-height: 1.45; }
h1 { font-size: 1.9rem; margin: 0.4rem 0 0.2rem; }
h2 { font-size: 1.4rem; margin: 2rem 0 0.6rem; border-bottom: 3px solid #111; padding-bottom: 0.2rem; }
p.source { margin: 0 0 1rem; color: #333; word-break: break-all; }
code, .mono { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 0.9em; }
.verdict { padding: 1rem 1.4rem; border-radius: 6px; color: #fff; margin: 1rem 0; }
.verdict .kind { font-size: 2.6rem; font-weight: bold; letter-spacing: 0.04em; line-height: 1.1; }
.verdict p { font-size: 1.15rem; margin: 0.6rem 0 0; }
.verdict ul { margin: 0.4rem 0 0; font-size: 1.05rem; }
.v-leak { background: #a00d0d; }
.v-no-leak { background: #135e21; }
.v-lazy-release { background: #7a3e00; }
.v-inconclusive { background: #3b4652; }
.v-none { background: #fff; color: #111; border: 3px dashed #111; }
figure.chart { margin: 1.2rem 0 0.4rem; }
figure.chart figcaption { font-size: 1.15rem; font-weight: bold; margin-bottom: 0.3rem; }
.legend { font-weight: normal; font-size: 0.95rem; }
.legend span.key { display: inline-block; margin-right: 1.2rem; white-space: nowrap; }
.legend svg { vertical-align: middle; }
svg.plot { width: 100%; height: auto; display: block; background: #fff; }
svg.plot text { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; fill: #111; }
svg.plot .tick { font-size: 17px; }
svg.plot .label { font-size: 17px; font-weight: bold; }
svg.plot .axis { stroke: #111; stroke-width: 2; }
svg.plot .grid { stroke: #c8c8c8; stroke-width: 1; }
.load { fill: #eef3fb; }
.event { stroke-width: 2.5; }
.ev-reload { stroke: #5b21b6; }
.ev-burst { stroke: #a00d0d; }
.ev-other { stroke: #444; }
.ev-exit { stroke: #a00d0d; stroke-width: 3; stroke-dasharray: 8 5; }
.ev-shift { stroke: #111; stroke-width: 3; stroke-dasharray: 2 4; }
.limit { stroke: #a00d0d; stroke-width: 2.5; stroke-dasharray: 12 6; }
.c-rss { --c: #1747a6; }
.c-heap { --c: #b23c00; }
.c-anon { --c: #555; }
.c-lazyfree { --c: #6b21a8; }
.c-heapfree { --c: #0f6b5f; }
.c-workers { --c: #1747a6; }
.line { fill: none; stroke: var(--c); stroke-width: 3; stroke-linejoin: round; stroke-linecap: round; }
.fit { fill: none; stroke: #111; stroke-width: 2.5; stroke-dasharray: 12 6; }
.band { fill: var(--c); stroke: none; opacity: 0.25; }
.floor { fill: none; stroke: var(--c); stroke-width: 4; stroke-dasharray: 2 5; stroke-linecap: round; }
svg.key { vertical-align: middle; }
table { border-collapse: collapse; width: 100%; margin: 0.4rem 0 1rem; font-size: 0.95rem; }
th, td { text-align: left; vertical-align: top; padding: 0.35rem 0.6rem; border-bottom: 1px solid #bbb; }
th { background: #eee; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.stack { font-size: 0.8rem; color: #222; }
td code, .stack { overflow-wrap: anywhere; }
table.manifest th { width: 14rem; background: #f4f4f4; font-weight: normal; }
table.manifest td { word-break: break-word; }
svg.share { vertical-align: middle; }
svg.share .bar { fill: #b23c00; }
svg.share .rest { fill: #e4e4e4; }
.ok { color: #135e21; font-weight: bold; }
.bad { color: #a00d0d; font-weight: bold; }
.note { color: #333; font-size: 0.95rem; }
.badge { display: inline-block; padding: 0.05rem 0.5rem; border-radius: 4px; color: #fff; font-weight: bold; }
a { color: #0b3d91; }
)css";

}  // namespace leaklab::report
