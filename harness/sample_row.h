#ifndef LEAKLAB_HARNESS_SAMPLE_ROW_H_
#define LEAKLAB_HARNESS_SAMPLE_ROW_H_

// One row of a run's series.csv from one sample: the columns a run records,
// named by the series module's constants, and where each value comes from.

#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "harness/procfs_sampler.h"

namespace leaklab::harness {

// glibc's own count of bytes in use (mallinfo2 uordblks), from the server's
// /debug/memstats: not a known column of the analyzers, kept for reading.
inline constexpr std::string_view kMallocInuseBytesColumn = "malloc_inuse_bytes";

// series.csv's header: t_s, the /proc columns, then the /debug/memstats ones.
std::vector<std::string> RunSeriesColumns();

// The row for a sample taken at t_s: /proc's figures (negative: missing) and
// the /debug/memstats fields of the same names (absent or not a number:
// missing, written as an empty cell). Pure: one sample in, one row out, in
// RunSeriesColumns' order.
std::vector<double> SampleRow(double t_s, const ProcMemory& proc,
                              const boost::json::object& memstats);

}  // namespace leaklab::harness

#endif  // LEAKLAB_HARNESS_SAMPLE_ROW_H_
