#ifndef LEAKLAB_ANALYZERS_SERIES_SERIES_H_
#define LEAKLAB_ANALYZERS_SERIES_SERIES_H_

// The in-memory model of a telemetry series, its CSV reader, and the writer the
// harness uses to produce series.csv. The format is the "Series CSV" contract
// of DESIGN.md: a header row, one sample per row, a `t_s` time column in any
// position, empty cells for missing values.

#include <array>
#include <cstddef>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/errors.h"
#include "common/input_limits.h"

namespace leaklab::series {

// Column names of the Series CSV contract. A file may hold any subset of them,
// plus columns of its own, which are kept but not interpreted.
inline constexpr std::string_view kTimeColumn = "t_s";
inline constexpr std::string_view kRssBytesColumn = "rss_bytes";
inline constexpr std::string_view kAnonBytesColumn = "anon_bytes";
inline constexpr std::string_view kLazyfreeBytesColumn = "lazyfree_bytes";
inline constexpr std::string_view kHeapInuseBytesColumn = "heap_inuse_bytes";
inline constexpr std::string_view kHeapFreeBytesColumn = "heap_free_bytes";
inline constexpr std::string_view kWorkersColumn = "workers";
inline constexpr std::string_view kRequestsTotalColumn = "requests_total";
inline constexpr std::string_view kKeysTotalColumn = "keys_total";
inline constexpr std::string_view kReloadsTotalColumn = "reloads_total";
// Bytes allocated so far (freed or not), from a heap profile's alloc_space:
// what tells a Go heap profile that repeats itself because no collection
// came (alloc_space stands still too) from one whose sampled live set is the
// same after a collection (alloc_space moved). Written by `leaklab watch`
// and for profiles given to `leaklab analyze`.
inline constexpr std::string_view kHeapAllocatedBytesColumn = "heap_allocated_bytes";
// Garbage collections so far (Go's go_gc_duration_seconds_count, a JVM's
// collection counts): a heap figure reported as of the last collection is
// new only when this moved.
inline constexpr std::string_view kCollectionsTotalColumn = "collections_total";
// Memory a runtime has committed (reserved) for its heap, a JVM's above all:
// RSS that rises while this does not is the runtime touching what it had
// already reserved, not new demand.
inline constexpr std::string_view kHeapCommittedBytesColumn = "heap_committed_bytes";
// Bytes the runtime says it has returned to the OS and not reused (Go's
// HeapReleased): given back with MADV_FREE they stay in RSS, as LazyFree,
// until the kernel needs them, so this can rise while RSS does not fall.
inline constexpr std::string_view kHeapReleasedBytesColumn = "heap_released_bytes";

// The metric columns of the contract (the time column excluded), in the order
// DESIGN.md lists them.
inline constexpr std::array<std::string_view, 12> kKnownColumns = {
    kRssBytesColumn,      kAnonBytesColumn,         kLazyfreeBytesColumn, kHeapInuseBytesColumn,
    kHeapFreeBytesColumn, kWorkersColumn,           kRequestsTotalColumn, kKeysTotalColumn,
    kReloadsTotalColumn,  kHeapAllocatedBytesColumn};

// True for the metric columns DESIGN.md names (not for `t_s`).
bool IsKnownColumn(std::string_view column);

// A series of samples: one time column and any number of metric columns, all
// of the same length.
struct Series {
  std::string source;                       // file name or label, used in messages
  std::vector<double> t_s;                  // time column, seconds; always finite
  std::vector<std::string> columns;         // metric column names in file order (t_s excluded)
  std::vector<std::vector<double>> values;  // values[c][i]; NaN for an empty cell

  // The values of a metric column, or nullptr if the series has no such
  // column. Find("t_s") returns the time column, so callers can treat time
  // like any other column when they pick regressors.
  const std::vector<double>* Find(std::string_view column) const;

  // Number of samples (rows).
  size_t size() const { return t_s.size(); }
};

// Thrown for malformed input; what() is "FILE:LINE: problem" (or "FILE: problem"
// when no single line is at fault).
// The lab's bad-input kind (common/errors.h): exit status 2.
using InputError = ::leaklab::InputError;

// The largest time a series CSV may give, in seconds from zero either way:
// 1e12 s is 31,700 years, far beyond Unix time (1.7e9 s); a larger one is
// another unit (nanoseconds) or nonsense, and differences of times near the
// double range overflow.
inline constexpr double kMaxTimeSeconds = 1e12;

// The most columns, rows and cells a series CSV may have, and its bytes:
// common/input_limits.h.

// Parses Series CSV text. `source` names the text in error messages.
// Accepted: LF or CRLF line ends, a UTF-8 byte order mark, blank lines at the
// end, spaces around cells. Not accepted (InputError naming file, line and
// column): a missing header or `t_s` column, empty or duplicate column names,
// a row with the wrong number of cells, a blank line before the last row, a
// cell that is not a finite number, an empty `t_s` cell. Quoted cells are not
// part of the format. Time need not increase; see IsStrictlyIncreasing.
// `bounds` limit its rows and cells (defaults: common/input_limits.h).
struct SeriesCsvLimits {
  size_t rows = limits::kSeriesCsvRows;
  size_t cells = limits::kSeriesCsvCells;
};
Series ParseSeriesCsv(std::string_view text, std::string_view source,
                      const SeriesCsvLimits& bounds = {});

// Reads and parses a Series CSV file; the path is the source in messages.
// Throws InputError when the file cannot be read or is larger than the limit
// in series.cc.
Series ReadSeriesCsv(const std::filesystem::path& path);

// True when every value is greater than the one before, so false when any
// value is NaN. Empty sequences and a single number are increasing.
bool IsStrictlyIncreasing(std::span<const double> values);

// Writes the header row, terminated by '\n'. The caller lists every column,
// `t_s` included, in the order its rows will use. Throws std::invalid_argument
// for an empty name or one holding a comma, quote, or line break, since such a
// file could not be read back.
std::string FormatCsvHeader(const std::vector<std::string>& columns);

// Appends one row, terminated by '\n': NaN as an empty cell, other numbers in
// the shortest form that reads back to the same double, so writing and reading
// round-trips exactly. Throws std::invalid_argument for an infinite value,
// which the reader would reject. Allocates only when `out` must grow: reserve
// it to write samples without allocating.
void AppendCsvRow(std::string& out, std::span<const double> row);

}  // namespace leaklab::series

#endif  // LEAKLAB_ANALYZERS_SERIES_SERIES_H_
