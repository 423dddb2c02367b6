#ifndef LEAKLAB_COMMON_INPUT_LIMITS_H_
#define LEAKLAB_COMMON_INPUT_LIMITS_H_

// Bounds on everything leaklab reads from outside (files a user points at,
// replies of services it watches), stated once, each with its reason. A
// reader that meets one refuses the input with an error that names the file
// (or URL), and the limit; it never reads on into exhausted memory. Profiles
// have their own, finer bounds in pprof::DecodeLimits
// (analyzers/pprof/profile.h): bytes inflated, samples, locations,
// functions, mappings, strings. The scenario server's request limits are
// ServerOptions' (scenarios/runtime/http_server.h); the load generator's
// response limits are ResponseParser's (loadgen/response_parser.h).

#include <cstddef>
#include <cstdint>

namespace leaklab::limits {

// A series CSV. A day of samples at 10 per second with every column a run
// records is about 100 MiB; ten times that is not a series, and the text
// and the parsed model are in memory together while it is read.
inline constexpr std::uintmax_t kSeriesCsvBytes = std::uintmax_t{1} << 30;
// Its columns: each is a signal the analysis tests and the report draws, so
// a header of more is a mistake (a transposed export); refused before any
// row is read.
inline constexpr std::size_t kSeriesCsvColumns = 10'000;
// Its rows: 10^7 is 116 days at one sample a second, and the analysis of a
// signal is measured up to there (README, "Analysis speed").
inline constexpr std::size_t kSeriesCsvRows = 10'000'000;
// Its cells, rows times columns: 10^8 doubles are 800 MB, the most a series
// may take in memory (a wide file gets fewer rows).
inline constexpr std::size_t kSeriesCsvCells = 100'000'000;

// A Prometheus query_range export (`leaklab analyze export.json`). It is
// parsed whole into a JSON tree, which takes about 5.5 times the text
// (measured: a 100 MB export of 4 x 10^6 samples peaked at 558 MB), so
// 256 MiB bounds the reader at about 1.5 GB. Larger fleets are for a reader
// that streams.
inline constexpr std::uintmax_t kPrometheusExportBytes = std::uintmax_t{256} << 20;
// Its series: each is analyzed and reported on its own; Prometheus itself
// refuses a range query of more than 11,000 points per series, and 10,000
// series is already a fleet.
inline constexpr std::size_t kPrometheusExportSeries = 10'000;

// A results folder's JSON (manifest.json, verdict.json, loadgen.json): ours
// are a few KB, a verdict with dozens of sites tens of KB.
inline constexpr std::uintmax_t kResultsJsonBytes = std::uintmax_t{64} << 20;
// events.csv: a line per reload or burst; a reload a second for a month is
// about 150 MB.
inline constexpr std::uintmax_t kEventsCsvBytes = std::uintmax_t{256} << 20;

// A reply of a watched service's debug endpoint (/metrics, a heap or
// goroutine profile): memstats is 300 bytes, a heap profile a few MB.
inline constexpr std::uint64_t kHttpReplyBytes = std::uint64_t{64} << 20;

// A load generator flag's @FILE (--body @file, --schedule @file): a request
// body or a schedule, kilobytes.
inline constexpr std::uintmax_t kFlagFileBytes = std::uintmax_t{1} << 20;

}  // namespace leaklab::limits

#endif  // LEAKLAB_COMMON_INPUT_LIMITS_H_
