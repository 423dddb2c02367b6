#ifndef LEAKLAB_REPORT_RUN_DATA_H_
#define LEAKLAB_REPORT_RUN_DATA_H_

// What a report shows, read from a results folder's files alone (see
// results/README.md): series.csv (required), events.csv, verdict.json,
// manifest.json and loadgen.json (each optional). verdict.json is read
// tolerantly: a field that is missing or of another type leaves out the
// element drawn from it, so that fields added later do no harm.

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "analyzers/series/series.h"

namespace leaklab::report {

struct Event {
  double t_s = 0;
  std::string event, detail;
};

// One memory signal's evidence (verdict.json evidence.signals[]).
struct SignalView {
  std::string signal, trend, reason;
  std::optional<double> t_begin_s, t_end_s;            // the analysed window
  std::optional<double> slope, slope_low, slope_high;  // bytes per second
  std::optional<double> level_bytes;                   // median over the window
  std::optional<double> intercept_bytes;               // at t = 0, when verdict.json gives it
  std::optional<double> growth_bytes, p_value;
  // The floor (minima under a sawtooth), when verdict.json gives one:
  // `floor` as {"t_s": [...], "bytes": [...]} or as [[t, bytes], ...].
  std::vector<double> floor_t, floor_v;
  std::optional<double> level_shift_t_s;  // `level_shift_t_s` or `level_shift.t_s`
};

struct SiteView {
  std::string site;
  std::vector<std::string> stack;  // leaf first
  std::optional<double> share, growth, first, last;
};

// A site ranked by what it allocated (freed or not), with its share of the
// in-use growth: verdict.json's evidence.profiles.heap.allocating.
struct AllocatingView {
  std::string site;
  std::optional<double> allocated, share, growth_share;
};

struct WorkerGroupView {
  std::string wait_point, spawn_site, blocked_in;
  std::vector<std::string> stack;
  std::optional<double> share, growth, first, last;
};

struct WorkView {
  std::string signal, counter, unit;  // signal: "workers" when it counts workers
  std::optional<double> bytes_per_unit, r_squared, units, points;
};

struct ExhaustionView {
  std::optional<double> limit_bytes, predicted_t_s, time_left_s, observed_t_s;
  std::string signal;
};

struct VerdictView {
  std::string verdict;  // as written: "leak", "no-leak", ...
  std::string explanation, source;
  std::vector<std::string> missing;
  std::vector<SignalView> signals;
  std::vector<WorkView> work;
  std::vector<std::pair<std::string, std::string>> release;  // label, value
  std::optional<ExhaustionView> exhaustion;
  std::vector<SiteView> sites;
  std::vector<AllocatingView> allocating;
  std::vector<WorkerGroupView> groups;
  std::string heap_profiles_note, worker_profiles_note;  // e.g. "6 profiles over 10 s"
  std::string diff_profile;
};

struct RunData {
  std::filesystem::path dir;
  std::string title;      // "scenario / variant", or the folder's name
  std::string subtitle;   // the scenario's description, or where the data came from
  series::Series series;  // sorted by time
  std::vector<Event> events;
  std::optional<VerdictView> verdict;
  std::vector<std::pair<std::string, std::string>>
      manifest;                    // key, value (flattened, readable order)
  std::string load_summary;        // from loadgen.json
  std::vector<std::string> notes;  // what was left out and why
};

// Reads a results folder. Throws ReportError (report.h) naming the file, and
// the line or field where one is at fault: a folder without series.csv, a
// file that is not valid CSV or JSON, a verdict.json without a `verdict`.
RunData ReadRunData(const std::filesystem::path& dir);

// Sets d.series, ordered by time (with a note in d.notes when the file's
// rows were not).
void AdoptSeries(RunData& d, series::Series s);

// Reads manifest.json text into d: its rows, and the title and subtitle it
// gives (scenario / variant, description). Throws ReportError naming `source`.
void ReadManifestInto(RunData& d, const std::string& text, const std::string& source);

// Parses verdict.json text; `source` names it in errors. Exposed for tests.
VerdictView ParseVerdictJson(const std::string& text, const std::string& source);

// Parses events.csv text (`t_s,event,detail`); `source` names it in errors.
std::vector<Event> ParseEventsCsv(const std::string& text, const std::string& source);

}  // namespace leaklab::report

#endif  // LEAKLAB_REPORT_RUN_DATA_H_
