// The verdict's English: sentences built from the evidence that
// AnalyzeSeries (series_verdict.cc) decided on, which it puts together into
// Verdict::explanation and the signals' reasons. The decision is made there;
// here only how it is said. Internal to analyzers/verdict.
#ifndef LEAKLAB_ANALYZERS_VERDICT_EXPLAIN_H_
#define LEAKLAB_ANALYZERS_VERDICT_EXPLAIN_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/series/growth.h"
#include "analyzers/series/series.h"
#include "analyzers/verdict/verdict.h"

namespace leaklab::verdict {

// "12", a count rounded to a whole number.
std::string Count(double x);

// The text with its first letter a capital.
std::string Capitalized(std::string text);

// The signal named for a reader: "the heap in use (heap_inuse_bytes)".
std::string Describe(std::string_view signal);

// "about 5.0 MB/s; with 95 % confidence between 4.7 MB/s and 6.2 MB/s", or
// the interval's width as a share of the rate when the rounded ends agree.
std::string RateWithInterval(const series::TheilSen& fit);

// How the floor was read (a repeating pattern, warm-up left out, a heap read
// one step per collection), or "" when there is nothing to say.
std::string FloorNote(const series::GrowthEvidence& ev);

// "the worker count grew from 8 to 6410 in 38 s (about 168 a second)"
std::string WorkerGrowth(const series::GrowthEvidence& ev);

// The start of a heap signal's reason when it was read one step per collection.
std::string StaleNote(const series::GrowthEvidence& ev);

// How bad a leak is: what it adds in an hour, and how soon it adds its own
// level again; "" when it does not grow.
std::string Severity(const series::GrowthEvidence& ev);

// " Watching about 40 s longer (20 more samples at this rate) would decide it."
std::string WatchLonger(const series::Series& s, double decide_window_s);

// " How much could grow unseen: at most ...", or "" without a bound.
std::string BoundSentence(const std::optional<Bound>& b);

// "RSS grew 8.4 MB, and 8.3 MB of that is memory the program freed and ...":
// `rss_growth_bytes` and `kept_free_bytes` over the run, `held` the verdict
// on RSS minus what is kept free.
std::string KeptFreeSentence(double rss_growth_bytes, double kept_free_bytes,
                             const series::GrowthEvidence& held);

// " The growth follows the work done: about 10 KB per request ...", when the
// best fit is good enough to state (R² 0.9 or more, growing); with a note
// when `second_fits_as_well`. "" otherwise.
std::string WorkSentence(const std::vector<WorkExplanation>& work, bool second_fits_as_well);

}  // namespace leaklab::verdict

#endif  // LEAKLAB_ANALYZERS_VERDICT_EXPLAIN_H_
