// The report of a results folder: what it shows for a real run (the fixture
// in testdata/), for folders that lack files or fields, for foreign data, and
// for input that is malformed or hostile.

#include "report/report.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <regex>

#include "common/read_file.h"
#include "report/run_data.h"

namespace leaklab::report {
namespace {

namespace fs = std::filesystem;

void WriteFile(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size()))
    ++n;
  return n;
}

// The `d` attributes of the <path> elements of a class.
std::vector<std::string> PathData(const std::string& html, const std::string& css_class) {
  std::vector<std::string> out;
  const std::regex path("<path class=\"" + css_class + "[^\"]*\" d=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), path); it != std::sregex_iterator();
       ++it) {
    out.push_back((*it)[1]);
  }
  return out;
}

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(LEAKLAB_TEST_RESULTS_DIR) / "report" /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  // A copy of the fixture run, so tests may change it.
  void CopyFixture() {
    for (const auto& e :
         fs::directory_iterator(fs::path(LEAKLAB_REPORT_TESTDATA_DIR) / "runaway-workers-leaky")) {
      fs::copy_file(e.path(), dir_ / e.path().filename());
    }
  }
  fs::path dir_;
};

// A report.html leaklab did not write is never replaced; one it wrote is,
// whether it carries the generator mark or only the older closing note.
TEST_F(ReportTest, NeverReplacesAReportItDidNotWrite) {
  CopyFixture();
  std::ofstream(dir_ / "report.html") << "<html>my own page</html>\n";
  try {
    WriteReport(dir_);
    FAIL() << "replaced the user's report.html";
  } catch (const ReportError& e) {
    EXPECT_EQ(std::string(e.what()),
              (dir_ / "report.html").string() +
                  ": exists and was not written by leaklab; it is left as it is (move it away to "
                  "get leaklab's report there)");
  }
  EXPECT_EQ(ReadWholeFile(dir_ / "report.html", 1 << 20), "<html>my own page</html>\n");
  std::ofstream(dir_ / "report.html") << "<p class=\"note\">Made by <code>leaklab report</code>";
  WriteReport(dir_);
  const std::string html = ReadWholeFile(dir_ / "report.html", 64 << 20);
  EXPECT_NE(html.find(kGeneratorMark), std::string::npos);
  EXPECT_TRUE(IsLeaklabReport(dir_ / "report.html"));
  WriteReport(dir_);  // its own, replaced again
}

TEST_F(ReportTest, RealRunShowsVerdictChartsTrendEventsCausesAndManifest) {
  CopyFixture();
  const fs::path path = WriteReport(dir_);
  EXPECT_EQ(path, dir_ / "report.html");
  const std::string html = ReadWholeFile(path, 64 << 20);
  // Self-contained: no script, nothing fetched.
  EXPECT_EQ(Count(html, "<script"), 0u);
  EXPECT_EQ(Count(html, "http://"), Count(html, "http://www.w3.org/2000/svg"));
  EXPECT_EQ(Count(html, "https://"), 0u);
  EXPECT_EQ(Count(html, "src="), 0u);
  // The verdict banner with the explanation.
  EXPECT_NE(html.find("<section class=\"verdict v-leak\" id=\"verdict\" data-verdict=\"leak\"><div "
                      "class=\"kind\">LEAK"),
            std::string::npos);
  EXPECT_NE(html.find("5.0 MB per reload"), std::string::npos);
  // Three charts: memory, freed-but-held, workers; every line has data.
  for (const char* id : {"chart-memory", "chart-freed", "chart-workers"}) {
    EXPECT_NE(html.find("<svg class=\"plot\" id=\"" + std::string(id) + "\""), std::string::npos)
        << id;
  }
  const std::vector<std::string> lines = PathData(html, "line");
  ASSERT_EQ(lines.size(), 5u);  // RSS, heap in use, LazyFree, allocator free, workers
  for (const std::string& d : lines) {
    EXPECT_GT(d.size(), 200u);
    EXPECT_EQ(d[0], 'M');
  }
  // The fitted trends of heap in use and RSS, with their confidence bands.
  EXPECT_EQ(PathData(html, "fit").size(), 2u);
  EXPECT_EQ(PathData(html, "band").size(), 2u);
  // Ten reloads, marked on each of the three charts; the load is shaded.
  EXPECT_EQ(Count(html, "<title>reload at "), 30u);
  EXPECT_EQ(Count(html, "<title>under load (steady): "), 3u);
  // The growing allocation site and worker group, with shares.
  EXPECT_NE(html.find("runaway_workers::Discovery::Impl::Watcher"), std::string::npos);
  EXPECT_NE(html.find("SharedConnection::AcquireStream"), std::string::npos);
  EXPECT_NE(html.find("100 %"), std::string::npos);
  // The manifest.
  EXPECT_NE(html.find("<code>scenario</code></th><td>runaway-workers"), std::string::npos);
  EXPECT_NE(html.find("reload: POST /reload every 1 s from 500 ms"), std::string::npos);
  EXPECT_NE(html.find("requests ("), std::string::npos);  // loadgen.json's summary
  // A pure function of the folder: the same files give the same page.
  EXPECT_EQ(RenderReport(dir_), html);
}

TEST_F(ReportTest, CsvOnlyFolderHasChartsOfItsColumnsAndSaysItIsNotAnalyzed) {
  WriteFile(dir_ / "series.csv",
            "t_s,rss_bytes,gc_note\n0,1000000,\n1,2000000,7\n2,3000000,\n3,4000000,\n");
  const std::string html = RenderReport(dir_);
  EXPECT_NE(html.find("data-verdict=\"\"><div class=\"kind\">NOT ANALYZED"), std::string::npos);
  EXPECT_NE(html.find("id=\"chart-memory\""), std::string::npos);
  EXPECT_EQ(html.find("id=\"chart-freed\""), std::string::npos);
  EXPECT_EQ(html.find("id=\"chart-workers\""), std::string::npos);
  ASSERT_EQ(PathData(html, "line").size(), 1u);
  EXPECT_EQ(PathData(html, "fit").size(), 0u);
  // The title falls back to the folder's name.
  EXPECT_NE(html.find("<h1>CsvOnlyFolderHasChartsOfItsColumnsAndSaysItIsNotAnalyzed</h1>"),
            std::string::npos);
}

// Values at the edges of the double range: the chart's range was infinite,
// its grid step did not advance, and the report never finished (1.47 GB
// after 20 s). It now draws a bounded grid.
TEST_F(ReportTest, ValuesAtTheEdgeOfTheDoubleRangeDrawABoundedChart) {
  std::string csv = "t_s,rss_bytes,workers\n";
  for (int i = 0; i < 20; ++i)
    csv += std::to_string(i) + (i % 2 ? ",1.7e308,-1.7e308\n" : ",-1.7e308,1.7e308\n");
  WriteFile(dir_ / "series.csv", csv);
  const std::string html = RenderReport(dir_);
  EXPECT_NE(html.find("id=\"chart-memory\""), std::string::npos);
  EXPECT_LT(html.size(), 2'000'000u);
}

TEST_F(ReportTest, VerdictWithOnlyAVerdictDrawsWhatItCan) {
  WriteFile(dir_ / "series.csv", "t_s,heap_inuse_bytes,workers\n0,10,1\n1,20,2\n2,30,3\n");
  WriteFile(dir_ / "verdict.json", R"({"verdict": "no-leak"})");
  const std::string html = RenderReport(dir_);
  EXPECT_NE(html.find("data-verdict=\"no-leak\"><div class=\"kind\">NO LEAK"), std::string::npos);
  EXPECT_EQ(PathData(html, "line").size(), 2u);
  EXPECT_EQ(PathData(html, "fit").size(), 0u);
  EXPECT_EQ(html.find("allocation sites"), std::string::npos);
}

TEST_F(ReportTest, AllocatedMostIsShownBesideGrewMost) {
  WriteFile(dir_ / "series.csv", "t_s,heap_inuse_bytes\n0,10\n1,20\n2,30\n");
  WriteFile(dir_ / "verdict.json",
            R"({"verdict": "leak", "evidence": {"profiles": {"heap": {
      "sites": [{"site": "Cache::Set", "stack": ["Cache::Set"], "share": 1, "growth_bytes": 3e6}],
      "allocating": [
        {"site": "Repo::ToDomain", "allocated_bytes": 27e6, "share": 0.9, "growth_share": 0},
        {"site": "Cache::Set", "allocated_bytes": 3e6, "share": 0.1, "growth_share": 1},
        {"site": 5}]}}}})");
  const std::string html = RenderReport(dir_);
  const size_t table = html.find("<h3>Allocated most");
  ASSERT_NE(table, std::string::npos);
  EXPECT_LT(html.find("Where it grows"), table);  // after what grew
  const std::string rows = html.substr(table);
  const size_t to_domain = rows.find("Repo::ToDomain");
  ASSERT_NE(to_domain, std::string::npos);
  EXPECT_LT(to_domain, rows.find("Cache::Set"));
  EXPECT_NE(rows.find("27 MB"), std::string::npos);
  EXPECT_NE(rows.find("90 %"), std::string::npos);
  // The row without a name is left out, not drawn blank.
  EXPECT_EQ(rows.find("<td><code class=\"site-name\"></code>"), std::string::npos);

  // Without the field (older verdicts, profiles without alloc_space): no table.
  WriteFile(dir_ / "verdict.json", R"({"verdict": "leak"})");
  EXPECT_EQ(RenderReport(dir_).find("Allocated most"), std::string::npos);
}

TEST_F(ReportTest, FieldsOfOtherTypesOrUnknownFieldsAreLeftOut) {
  WriteFile(dir_ / "series.csv", "t_s,rss_bytes\n0,10\n1,20\n2,30\n3,40\n");
  // window_s is a string, the CI has one end unbounded, sites is an object,
  // and a field from a later analyzer is present.
  WriteFile(dir_ / "verdict.json",
            R"({"verdict": "leak", "explanation": 7, "future_field": {"x": 1},
    "evidence": {"signals": [{"signal": "rss_bytes", "trend": "growing", "window_s": "0..3",
                              "slope_bytes_per_s": 10, "level_bytes": 25},
                             {"signal": "rss_bytes", "trend": "growing", "window_s": [0, 3],
                              "slope_bytes_per_s": 10, "slope_ci95_bytes_per_s": [5, null], "level_bytes": 25}],
                 "profiles": {"heap": {"sites": {"not": "an array"}}}, "work": "none"}})");
  const std::string html = RenderReport(dir_);
  EXPECT_NE(html.find("data-verdict=\"leak\""), std::string::npos);
  EXPECT_EQ(PathData(html, "fit").size(), 1u);   // only the signal with a window
  EXPECT_EQ(PathData(html, "band").size(), 0u);  // no band for an unbounded interval
  EXPECT_NE(html.find("unbounded"), std::string::npos);
}

TEST_F(ReportTest, FloorAndLevelShiftAreDrawnWhenTheVerdictGivesThem) {
  WriteFile(dir_ / "series.csv", "t_s,rss_bytes\n0,10\n1,30\n2,12\n3,32\n4,14\n5,34\n");
  WriteFile(dir_ / "verdict.json", R"({"verdict": "leak", "evidence": {"signals": [
      {"signal": "rss_bytes", "trend": "growing", "floor": {"t_s": [0, 2, 4], "bytes": [10, 12, 14]},
       "level_shift_t_s": 2.5}]}})");
  std::string html = RenderReport(dir_);
  ASSERT_EQ(PathData(html, "floor").size(), 1u);
  EXPECT_NE(html.find("floor of RSS"), std::string::npos);
  EXPECT_EQ(Count(html, "<title>RSS: level shift at 2.5 s</title>"), 1u);
  // The other shape: pairs.
  WriteFile(dir_ / "verdict.json", R"({"verdict": "leak", "evidence": {"signals": [
      {"signal": "rss_bytes", "floor": [[0, 10], [2, 12], [4, 14]], "level_shift": {"t_s": 2.5}}]}})");
  html = RenderReport(dir_);
  EXPECT_EQ(PathData(html, "floor").size(), 1u);
  EXPECT_EQ(Count(html, "<title>RSS: level shift at 2.5 s</title>"), 1u);
}

TEST_F(ReportTest, InconclusiveRunShowsWhatIsMissingTheLimitAndTheServerExit) {
  WriteFile(dir_ / "series.csv", "t_s,rss_bytes\n0,10000000\n1,30000000\n2,50000000\n3,60000000\n");
  WriteFile(dir_ / "events.csv",
            "t_s,event,detail\n0,phase,steady\n3.2,server_exit,killed by SIGKILL\n");
  WriteFile(dir_ / "verdict.json", R"({"verdict": "inconclusive", "explanation": "Too short.",
      "missing": ["a run of 20 s or more", "heap in use"],
      "evidence": {"exhaustion": {"limit_bytes": 64000000, "signal": "rss_bytes", "predicted_t_s": 3.1,
                                  "observed_t_s": 3.2}}})");
  const std::string html = RenderReport(dir_);
  EXPECT_NE(
      html.find("class=\"verdict v-inconclusive\" id=\"verdict\" data-verdict=\"inconclusive\">"
                "<div class=\"kind\">INCONCLUSIVE"),
      std::string::npos);
  EXPECT_NE(html.find("<li>a run of 20 s or more</li><li>heap in use</li>"), std::string::npos);
  EXPECT_NE(html.find("<line class=\"limit\""), std::string::npos);
  EXPECT_NE(html.find(">memory limit 64 MB</text>"), std::string::npos);
  EXPECT_NE(html.find("reaches the 64 MB limit at t = 3.1 s; the server was killed at t = 3.2 s"),
            std::string::npos);
  EXPECT_NE(html.find("<title>the server exited at 3.2 s: killed by SIGKILL</title>"),
            std::string::npos);
  EXPECT_NE(html.find(">server exited</text>"), std::string::npos);
}

TEST_F(ReportTest, HostileNamesAreEscapedEverywhere) {
  const std::string evil = "<script>alert(1)</script>&\"'";
  WriteFile(dir_ / "series.csv", "t_s,rss_bytes\n0,10\n1,20\n");
  WriteFile(dir_ / "events.csv", "t_s,event,detail\n0.5,<img src=x>,\"<b>\n");
  WriteFile(dir_ / "manifest.json", R"({"scenario": "<h1>x</h1>", "variant": "a&b"})");
  WriteFile(dir_ / "verdict.json",
            R"json({"verdict": "<i>leak</i>", "explanation": "<script>alert(1)</script>&\"'",
                "evidence": {"profiles": {"heap": {"sites": [{"site": "operator<<(std::ostream&, T const&)",
                  "stack": ["<script>alert(1)</script>&\"'", "f<int>"], "share": 1}]},
                  "workers": {"groups": [{"wait_point": "</code><b>boom</b>", "stack": []}]}}}})json");
  const std::string html = RenderReport(dir_);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<h1>x"), std::string::npos);
  EXPECT_EQ(html.find("<i>leak"), std::string::npos);
  EXPECT_EQ(html.find("<b>boom"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;&#39;"), std::string::npos);
  EXPECT_NE(html.find("operator&lt;&lt;(std::ostream&amp;, T const&amp;)"), std::string::npos);
  // An unknown verdict gets the neutral style, not a class made of its text.
  EXPECT_NE(html.find("class=\"verdict v-inconclusive\""), std::string::npos);
  (void)evil;
}

TEST_F(ReportTest, ErrorsNameTheFileAndWhatIsWrong) {
  const auto error_of = [&] {
    try {
      RenderReport(dir_);
    } catch (const ReportError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of().find("not a results folder (no series.csv)"), std::string::npos)
      << error_of();
  WriteFile(dir_ / "series.csv", "t_s,rss_bytes\n0,10\n1,oops\n");
  EXPECT_NE(error_of().find("series.csv:3"), std::string::npos) << error_of();
  WriteFile(dir_ / "series.csv", "t_s,rss_bytes\n0,10\n1,20\n");
  WriteFile(dir_ / "verdict.json", "{\"verdict\": \"leak\",");
  EXPECT_NE(error_of().find("verdict.json: not valid JSON"), std::string::npos) << error_of();
  WriteFile(dir_ / "verdict.json", "{\"explanation\": \"x\"}");
  EXPECT_NE(error_of().find("verdict.json: no field 'verdict'"), std::string::npos) << error_of();
  WriteFile(dir_ / "verdict.json", "{\"verdict\": 3}");
  EXPECT_NE(error_of().find("field 'verdict' is not a verdict name (3)"), std::string::npos)
      << error_of();
  WriteFile(dir_ / "verdict.json", "[]");
  EXPECT_NE(error_of().find("verdict.json: not a JSON object"), std::string::npos) << error_of();
  fs::remove(dir_ / "verdict.json");
  WriteFile(dir_ / "events.csv", "t_s,event,detail\n0.5,reload,ok\nsoon,reload,ok\n");
  EXPECT_NE(error_of().find("events.csv:3: t_s 'soon' is not a number"), std::string::npos)
      << error_of();
  fs::remove(dir_ / "events.csv");
  WriteFile(dir_ / "manifest.json", "{");
  EXPECT_NE(error_of().find("manifest.json: not valid JSON"), std::string::npos) << error_of();
  EXPECT_EQ(error_of().find(dir_.string()), 0u) << "the message starts with the file's path";
  // A failed report writes nothing.
  EXPECT_THROW(WriteReport(dir_), ReportError);
  EXPECT_FALSE(fs::exists(dir_ / "report.html"));
}

TEST_F(ReportTest, SamplesOutOfOrderAreDrawnSortedWithANote) {
  WriteFile(dir_ / "series.csv", "t_s,rss_bytes\n2,30\n0,10\n1,20\n");
  const std::string html = RenderReport(dir_);
  const std::vector<std::string> lines = PathData(html, "line");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind("M125.0 ", 0), 0u) << lines[0];  // starts at t = 0, the left edge
  EXPECT_NE(html.find("not in time order"), std::string::npos);
}

// A run of a day at 100 ms (864,000 samples) with one spike: the page stays
// small, and the spike sets the scale, so it is drawn.
TEST_F(ReportTest, DayLongSeriesGivesASmallPageThatKeepsTheSpike) {
  std::string csv = "t_s,rss_bytes,heap_inuse_bytes,workers\n";
  constexpr int kSamples = 864'000;
  csv.reserve(kSamples * 40);
  char row[96];
  for (int i = 0; i < kSamples; ++i) {
    const double rss = i == 500'000 ? 3e9 : 2e8 + (i % 50) * 1e5;
    std::snprintf(row, sizeof row, "%.1f,%.0f,%.0f,%d\n", i * 0.1, rss, 1.5e8 + (i % 30) * 1e5,
                  8 + i % 3);
    csv += row;
  }
  WriteFile(dir_ / "series.csv", csv);
  std::string events = "t_s,event,detail\n0,phase,steady\n";
  for (int i = 1; i < 86'400; i += 1)
    events += std::to_string(i) + ".000,reload,POST /reload -> 200\n";
  WriteFile(dir_ / "events.csv", events);
  const auto start = std::chrono::steady_clock::now();
  const std::string html = RenderReport(dir_);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RecordProperty("report_bytes", static_cast<int>(html.size()));
  RecordProperty("seconds", std::to_string(seconds));
  EXPECT_LT(html.size(), 400'000u) << "report of a day-long series";
  // The y axis reaches the spike: a tick at 3 GB or above.
  EXPECT_NE(html.find(">3 GB</text>"), std::string::npos);
  // Many reloads: one path of ticks per chart, one tick per pixel column at
  // most (1001 positions), with one tooltip.
  EXPECT_EQ(Count(html, "<title>reload: 86399 events, from 1 s to 1 d 0 h</title>"), 2u);
  EXPECT_LE(Count(html, "v16"), 2 * 1001u);
  WriteFile(dir_ / "report.html", html);
}

TEST(ParseEventsCsv, ReadsOurFormat) {
  const std::vector<Event> events = ParseEventsCsv(
      "t_s,event,detail\r\n0.000,server_ready,port 1\r\n1.5,burst,POST /burst -> 200\n2,phase,\n",
      "events.csv");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].t_s, 1.5);
  EXPECT_EQ(events[1].event, "burst");
  EXPECT_EQ(events[1].detail, "POST /burst -> 200");
  EXPECT_EQ(events[2].detail, "");
  EXPECT_THROW(ParseEventsCsv("time,what\n", "events.csv"), ReportError);
  EXPECT_THROW(ParseEventsCsv("", "events.csv"), ReportError);
}

TEST(RenderIndex, TableOfExpectedAndActualVerdictsWithLinks) {
  const fs::path dir = fs::path(LEAKLAB_TEST_RESULTS_DIR) / "report" / "index";
  fs::remove_all(dir);
  fs::create_directories(dir / "a-leaky");
  fs::create_directories(dir / "a-fixed");
  for (const auto& e :
       fs::directory_iterator(fs::path(LEAKLAB_REPORT_TESTDATA_DIR) / "runaway-workers-leaky")) {
    fs::copy_file(e.path(), dir / "a-leaky" / e.path().filename());
  }
  WriteReport(dir / "a-leaky");
  WriteFile(dir / "a-fixed" / "series.csv", "t_s,rss_bytes\n0,1\n1,1\n");
  WriteFile(dir / "a-fixed" / "verdict.json",
            R"({"verdict": "leak", "explanation": "Odd. Very."})");
  const std::vector<IndexEntry> entries = {
      {"a", "leaky", "the <leak>", "leak", "a-leaky", RunStatus::kDone, ""},
      {"a", "fixed", "the fix", "no-leak", "a-fixed", RunStatus::kDone, ""},
      {"b", "x", "", "no-leak", "b-x", RunStatus::kRunning, ""},
      {"c", "y", "", "leak", "c-y", RunStatus::kFailed, "the server did not start"}};
  const std::string html = RenderIndex(dir, "workshop", entries);
  EXPECT_NE(html.find("<a href=\"a-leaky/report.html\">"), std::string::npos);
  EXPECT_EQ(html.find("a-fixed/report.html"), std::string::npos)
      << "no link to a report that is not there";
  EXPECT_NE(html.find("data-expected=\"leak\" data-actual=\"leak\""), std::string::npos);
  EXPECT_NE(html.find("data-expected=\"no-leak\" data-actual=\"leak\""), std::string::npos);
  EXPECT_NE(html.find("leak ✓"), std::string::npos);
  EXPECT_NE(html.find("leak ✗"), std::string::npos);
  EXPECT_NE(html.find("1 of 4 verdicts as expected"), std::string::npos);
  EXPECT_NE(html.find("http-equiv=\"refresh\""), std::string::npos)
      << "refreshes while runs are going";
  EXPECT_NE(html.find("failed: the server did not start"), std::string::npos);
  EXPECT_NE(html.find("the &lt;leak&gt;"), std::string::npos);
  EXPECT_NE(html.find("Discovery::Impl::Watcher"), std::string::npos) << "the cause of the leak";
  EXPECT_NE(html.find("<svg class=\"spark\""), std::string::npos);
  EXPECT_EQ(ActualVerdict(dir / "a-leaky"), "leak");
  EXPECT_EQ(ActualVerdict(dir / "b-x"), "");
}

}  // namespace
}  // namespace leaklab::report
