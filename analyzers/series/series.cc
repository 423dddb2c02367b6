#include "analyzers/series/series.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <system_error>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "common/input_limits.h"
#include "common/read_file.h"

namespace leaklab::series {
namespace {

// Cells quoted in messages are cut to this length so one huge cell cannot turn
// an error message into megabytes.
constexpr size_t kMaxQuotedCellChars = 40;

constexpr std::string_view kUtf8ByteOrderMark = "\xEF\xBB\xBF";

std::string_view TrimBlanks(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::string Quote(std::string_view text) {
  std::string out = "'";
  if (text.size() > kMaxQuotedCellChars) {
    out.append(text.substr(0, kMaxQuotedCellChars)).append("...");
  } else {
    out.append(text);
  }
  return out + "'";
}

// Builds the "FILE:LINE: problem" messages of InputError.
class ErrorSite {
 public:
  explicit ErrorSite(std::string_view source) : source_(source) {}

  [[noreturn]] void Fail(std::string_view problem) const {
    throw InputError(std::string(source_) + ": " + std::string(problem));
  }
  [[noreturn]] void Fail(size_t line, std::string_view problem) const {
    throw InputError(std::string(source_) + ":" + std::to_string(line) + ": " +
                     std::string(problem));
  }

 private:
  std::string_view source_;
};

// Splits one line on commas; `cells` is reused from row to row so the parser
// does not allocate per row.
void SplitCells(std::string_view line, std::vector<std::string_view>& cells) {
  cells.clear();
  size_t start = 0;
  while (true) {
    size_t comma = line.find(',', start);
    if (comma == std::string_view::npos) {
      cells.push_back(TrimBlanks(line.substr(start)));
      return;
    }
    cells.push_back(TrimBlanks(line.substr(start, comma - start)));
    start = comma + 1;
  }
}

// Reads one cell: NaN when empty, otherwise a finite number or an InputError
// naming the line and column.
double ParseCell(std::string_view cell, const ErrorSite& site, size_t line,
                 std::string_view column) {
  if (cell.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::string_view digits = cell;
  // std::from_chars takes no leading '+', but spreadsheets and printf("%+g") write one.
  if (digits.size() > 1 && digits.front() == '+' && digits[1] != '-' && digits[1] != '+') {
    digits.remove_prefix(1);
  }
  double value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  const char* problem = nullptr;
  if (ec == std::errc::result_out_of_range) {
    problem = " is out of range";
  } else if (ec != std::errc() || end != digits.data() + digits.size()) {
    problem = " is not a number";
  } else if (!std::isfinite(value)) {
    problem = " is not a finite number";
  }
  if (problem != nullptr) site.Fail(line, "column " + Quote(column) + ": " + Quote(cell) + problem);
  return value;
}

}  // namespace

bool IsKnownColumn(std::string_view column) {
  return std::find(kKnownColumns.begin(), kKnownColumns.end(), column) != kKnownColumns.end();
}

const std::vector<double>* Series::Find(std::string_view column) const {
  if (column == kTimeColumn) return &t_s;
  for (size_t c = 0; c < columns.size() && c < values.size(); ++c) {
    if (columns[c] == column) return &values[c];
  }
  return nullptr;
}

Series ParseSeriesCsv(std::string_view text, std::string_view source,
                      const SeriesCsvLimits& bounds) {
  const ErrorSite site(source);
  if (text.starts_with(kUtf8ByteOrderMark)) text.remove_prefix(kUtf8ByteOrderMark.size());

  Series series;
  series.source = std::string(source);

  // Walk the text line by line; `line_number` is 1-based with the header on line 1.
  size_t pos = 0;
  size_t line_number = 0;
  auto next_line = [&](std::string_view& line) {
    if (pos >= text.size()) return false;
    size_t newline = text.find('\n', pos);
    if (newline == std::string_view::npos) newline = text.size();
    line = text.substr(pos, newline - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = newline + 1;
    ++line_number;
    return true;
  };

  // 1. The header: non-empty, unique names, exactly one of them t_s.
  std::string_view line;
  if (!next_line(line) || TrimBlanks(line).empty()) {
    site.Fail("no header row; expected column names such as 't_s,rss_bytes'");
  }
  std::vector<std::string_view> cells;
  SplitCells(line, cells);
  const std::vector<std::string_view> header = cells;
  if (header.size() > limits::kSeriesCsvColumns) {
    site.Fail(1, "the header has " + std::to_string(header.size()) + " columns, more than " +
                     std::to_string(limits::kSeriesCsvColumns) + ", the limit for a series CSV");
  }
  size_t time_index = header.size();
  // Each name's first column: duplicates are found in one pass.
  std::unordered_map<std::string_view, size_t> first_column;
  for (size_t c = 0; c < header.size(); ++c) {
    if (header[c].empty()) {
      site.Fail(1, "column " + std::to_string(c + 1) + " of the header has no name");
    }
    if (const auto [it, fresh] = first_column.emplace(header[c], c); !fresh) {
      site.Fail(1, "column " + Quote(header[c]) + " appears twice (columns " +
                       std::to_string(it->second + 1) + " and " + std::to_string(c + 1) + ")");
    }
    if (header[c] == kTimeColumn) time_index = c;
  }
  if (time_index == header.size()) {
    site.Fail(1, "no 't_s' column; the header is " + Quote(TrimBlanks(line)));
  }

  // metric_of[c] maps a file column to its index in series.values (or npos for t_s).
  constexpr size_t kNotMetric = std::numeric_limits<size_t>::max();
  std::vector<size_t> metric_of(header.size(), kNotMetric);
  for (size_t c = 0; c < header.size(); ++c) {
    if (c == time_index) continue;
    metric_of[c] = series.columns.size();
    series.columns.emplace_back(header[c]);
  }
  series.values.resize(series.columns.size());

  // 2. Reserve once: the number of line breaks bounds the number of rows,
  // and the limits on rows and cells bound both (a wide file gets fewer).
  const size_t row_limit = std::min(bounds.rows, bounds.cells / header.size());
  std::min(limits::kSeriesCsvRows, limits::kSeriesCsvCells / header.size());
  const std::string_view rest = text.substr(std::min(pos, text.size()));
  const size_t max_rows = static_cast<size_t>(std::count(rest.begin(), rest.end(), '\n')) + 1;
  series.t_s.reserve(std::min(max_rows, row_limit));
  for (auto& column : series.values) column.reserve(std::min(max_rows, row_limit));

  // 3. The rows. A blank line is accepted only if nothing but blank lines follows it.
  size_t first_blank_line = 0;
  while (next_line(line)) {
    if (TrimBlanks(line).empty()) {
      if (first_blank_line == 0) first_blank_line = line_number;
      continue;
    }
    if (first_blank_line != 0) {
      site.Fail(first_blank_line, "blank line before the last row (line " +
                                      std::to_string(line_number) + " has data)");
    }
    if (series.t_s.size() == row_limit) {
      site.Fail(line_number, "more than " + std::to_string(row_limit) + " rows of " +
                                 std::to_string(header.size()) +
                                 " columns, the limit for a series CSV (" +
                                 std::to_string(bounds.rows) + " rows, " +
                                 std::to_string(bounds.cells) + " cells)");
    }
    SplitCells(line, cells);
    if (cells.size() < header.size()) {
      site.Fail(line_number, std::to_string(cells.size()) + " cells, expected " +
                                 std::to_string(header.size()) + ": column " +
                                 Quote(header[cells.size()]) + " is missing");
    }
    if (cells.size() > header.size()) {
      site.Fail(line_number, std::to_string(cells.size()) + " cells, expected " +
                                 std::to_string(header.size()) + ": extra cell " +
                                 Quote(cells[header.size()]) + " after the last column " +
                                 Quote(header.back()));
    }
    for (size_t c = 0; c < cells.size(); ++c) {
      const double value = ParseCell(cells[c], site, line_number, header[c]);
      if (c == time_index) {
        if (std::isnan(value)) {
          site.Fail(line_number, "column 't_s' is empty; every row needs a time");
        }
        if (std::fabs(value) > kMaxTimeSeconds) {
          site.Fail(line_number, "t_s " + Quote(cells[c]) +
                                     " is beyond 1e12 s (31,700 years) from zero, the range of a "
                                     "series' time in seconds");
        }
        series.t_s.push_back(value);
      } else {
        series.values[metric_of[c]].push_back(value);
      }
    }
  }
  return series;
}

Series ReadSeriesCsv(const std::filesystem::path& path) {
  const std::string source = path.string();
  const ErrorSite site(source);
  std::string text;
  try {
    text = ReadWholeFile(path, limits::kSeriesCsvBytes, "a series file");
  } catch (const ReadFileError& e) {
    site.Fail(e.problem());
  }
  return ParseSeriesCsv(text, source);
}

bool IsStrictlyIncreasing(std::span<const double> values) {
  for (size_t i = 1; i < values.size(); ++i) {
    // Written as !(a < b) so that a NaN on either side counts as not increasing.
    if (!(values[i - 1] < values[i])) return false;
  }
  return values.size() != 1 || !std::isnan(values[0]);
}

std::string FormatCsvHeader(const std::vector<std::string>& columns) {
  std::string out;
  std::unordered_set<std::string_view> seen;
  for (size_t c = 0; c < columns.size(); ++c) {
    const std::string& name = columns[c];
    if (name.empty() || name != TrimBlanks(name) ||
        name.find_first_of(",\"\r\n") != std::string::npos) {
      throw std::invalid_argument("column name " + Quote(name) +
                                  " cannot be written to a series CSV (empty, or has a comma, "
                                  "quote, line break or surrounding blanks)");
    }
    if (!seen.insert(name).second) {
      throw std::invalid_argument("column name " + Quote(name) + " appears twice");
    }
    if (c > 0) out.push_back(',');
    out.append(name);
  }
  out.push_back('\n');
  return out;
}

void AppendCsvRow(std::string& out, std::span<const double> row) {
  // Check first so that a rejected row leaves `out` untouched.
  for (const double value : row) {
    if (std::isinf(value)) {
      throw std::invalid_argument("cannot write an infinite value to a series CSV");
    }
  }
  // The shortest round-trip form of a double is at most 24 characters
  // ("-2.2250738585072014e-308"); 32 leaves room.
  char buffer[32];
  for (size_t i = 0; i < row.size(); ++i) {
    if (i > 0) out.push_back(',');
    if (std::isnan(row[i])) continue;
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, row[i]);
    // Cannot fail with this buffer size; checked so a surprise is loud, not a truncated cell.
    if (ec != std::errc()) throw std::logic_error("std::to_chars failed on a finite double");
    out.append(buffer, end);
  }
  out.push_back('\n');
}

}  // namespace leaklab::series
