#include "harness/sample_row.h"

#include <array>
#include <limits>

#include "analyzers/series/series.h"

namespace leaklab::harness {
namespace {

constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

// /debug/memstats names its fields as the series columns are named.
constexpr std::array<std::string_view, 8> kMemstatsColumns = {
    series::kHeapInuseBytesColumn,    series::kHeapFreeBytesColumn, kMallocInuseBytesColumn,
    series::kHeapReleasedBytesColumn, series::kWorkersColumn,       series::kRequestsTotalColumn,
    series::kKeysTotalColumn,         series::kReloadsTotalColumn};

double Bytes(int64_t v) { return v < 0 ? kMissing : static_cast<double>(v); }

}  // namespace

std::vector<std::string> RunSeriesColumns() {
  std::vector<std::string> columns = {
      std::string(series::kTimeColumn), std::string(series::kRssBytesColumn),
      std::string(series::kAnonBytesColumn), std::string(series::kLazyfreeBytesColumn)};
  for (std::string_view c : kMemstatsColumns) columns.emplace_back(c);
  return columns;
}

std::vector<double> SampleRow(double t_s, const ProcMemory& proc,
                              const boost::json::object& memstats) {
  std::vector<double> row = {t_s, Bytes(proc.rss_bytes), Bytes(proc.anon_bytes),
                             Bytes(proc.lazyfree_bytes)};
  for (std::string_view c : kMemstatsColumns) {
    const boost::json::value* v = memstats.if_contains(c);
    row.push_back(v != nullptr && v->is_number() ? v->to_number<double>() : kMissing);
  }
  return row;
}

}  // namespace leaklab::harness
