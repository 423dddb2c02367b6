#include "harness/results_folder.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <fstream>

#include "common/errors.h"
#include "common/read_file.h"

namespace leaklab::harness {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

std::string Read(const fs::path& p) { return ReadWholeFile(p, 1 << 20); }

json::object Manifest(const fs::path& dir) {
  return json::parse(Read(dir / "manifest.json")).as_object();
}

class ResultsFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("leaklab-results-folder-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  // Expects ClaimFolder to refuse `dir` with a UsageError naming --out, and
  // returns the message.
  std::string Refused(const fs::path& dir, bool replace_analysis) {
    try {
      ClaimFolder(dir, "x", "manifest.json", replace_analysis);
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("--out " + dir.string()), std::string::npos) << e.what();
      return e.what();
    }
    ADD_FAILURE() << dir << " was claimed";
    return "";
  }

  fs::path root_;
};

TEST_F(ResultsFolderTest, ClaimsNewAndEmptyFoldersWithTheClaimFile) {
  const fs::path fresh = root_ / "a" / "b";
  EXPECT_EQ(ClaimFolder(fresh, "x", "manifest.json"), fresh);
  EXPECT_TRUE(fs::exists(fresh / "manifest.json"));
  const fs::path empty = root_ / "empty";
  fs::create_directories(empty);
  EXPECT_EQ(ClaimFolder(empty, "x", "index.json"), empty);
  EXPECT_TRUE(fs::exists(empty / "index.json"));
  // Once claimed, it is taken: a second writer is refused.
  Refused(fresh, false);
  Refused(empty, true);
}

TEST_F(ResultsFolderTest, RefusesFoldersWithOthersFilesAndLeavesThemAlone) {
  const fs::path mine = root_ / "mine";
  fs::create_directories(mine);
  std::ofstream(mine / "notes.txt") << "precious\n";
  EXPECT_NE(Refused(mine, false).find("holds other files (notes.txt)"), std::string::npos);
  EXPECT_NE(Refused(mine, true).find("holds other files"), std::string::npos);
  EXPECT_EQ(Read(mine / "notes.txt"), "precious\n");
  EXPECT_FALSE(fs::exists(mine / "manifest.json"));

  const fs::path run = root_ / "run";
  fs::create_directories(run);
  std::ofstream(run / "manifest.json") << "{\"scenario\":\"x\"}\n";
  EXPECT_NE(Refused(run, true).find("already holds a run"), std::string::npos);
  EXPECT_EQ(Read(run / "manifest.json"), "{\"scenario\":\"x\"}\n");

  const fs::path file = root_ / "file";
  std::ofstream(file) << "x";
  EXPECT_NE(Refused(file, false).find("is not a folder"), std::string::npos);
}

TEST_F(ResultsFolderTest, AnAnalysisFolderMayBeReplacedByAnotherAnalysisOnly) {
  const fs::path dir = root_ / "analysis";
  { ResultsFolder f(dir, "analysis", json::object{{"origin", kAnalysisOrigin}}, true); }
  EXPECT_EQ(ClaimFolder(dir, "analysis", "manifest.json", true), dir);
  Refused(dir, false);
}

TEST_F(ResultsFolderTest, DefaultNamesAreDistinctWithinOneSecond) {
  const fs::path cwd = fs::current_path();
  fs::current_path(root_);
  const fs::path a = ClaimFolder("", "steady-fixed", "manifest.json");
  const fs::path b = ClaimFolder("", "steady-fixed", "manifest.json");
  fs::current_path(cwd);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.parent_path(), "results");
  EXPECT_EQ(a.filename().string().rfind("steady-fixed-", 0), 0u) << a;
  EXPECT_TRUE(fs::exists(root_ / b / "manifest.json"));
}

TEST_F(ResultsFolderTest, WritesSeriesEventsAndManifestAsTheyFill) {
  ResultsFolder f(root_ / "run", "x", json::object{{"scenario", "s"}});
  json::object m = Manifest(f.dir());
  EXPECT_EQ(m.at("schema_version").as_int64(), kManifestSchemaVersion);
  EXPECT_EQ(m.at("status").as_string(), "running");
  EXPECT_EQ(m.at("scenario").as_string(), "s");
  EXPECT_THROW(f.AddSample(std::vector<double>{0, 1}), std::logic_error);
  f.SetColumns({"t_s", "rss_bytes"});
  f.AddSample(std::vector<double>{0, 100});
  f.AddSample(std::vector<double>{0.5, std::nan("")});
  f.AddEvent(0.25, "reload", "a,b \"c\"\nd");
  f.Flush();
  EXPECT_EQ(Read(f.dir() / "series.csv"), "t_s,rss_bytes\n0,100\n0.5,\n");
  EXPECT_EQ(Read(f.dir() / "events.csv"), "t_s,event,detail\n0.250,reload,a b  c  d\n");
  EXPECT_EQ(f.samples(), 2u);
  EXPECT_EQ(f.NextProfilePath("heap"), f.dir() / "profiles" / "heap-0001.pb.gz");
  EXPECT_EQ(f.NextProfilePath("workers"), f.dir() / "profiles" / "workers-0001.pb.gz");
  EXPECT_EQ(f.NextProfilePath("heap"), f.dir() / "profiles" / "heap-0002.pb.gz");
  EXPECT_EQ(f.profiles("heap"), 2);
  EXPECT_EQ(f.profiles("other"), 0);
  EXPECT_TRUE(fs::is_directory(f.dir() / "profiles"));
}

// A steady series of `n` samples, 100 ms apart.
void AddSteadySeries(ResultsFolder& f, int n) {
  f.SetColumns({"t_s", "rss_bytes"});
  for (int i = 0; i < n; ++i) f.AddSample(std::vector<double>{i * 0.1, 50e6 + (i % 3) * 1e3});
}

TEST_F(ResultsFolderTest, FinishRecordsTheEndAnalyzesAndReports) {
  ResultsFolder f(root_ / "run", "x", json::object{});
  AddSteadySeries(f, 150);
  f.RecordEnd(EndReason::kCompleted, "ran for 15s", 15);
  const FolderAnalysis a = f.Finish(true);
  const json::object m = Manifest(f.dir());
  EXPECT_EQ(m.at("status").as_string(), "finished");
  EXPECT_EQ(m.at("end").at("reason").as_string(), "completed");
  EXPECT_EQ(m.at("end").at("samples").as_int64(), 150);
  EXPECT_EQ(a.verdict.kind, verdict::Kind::kNoLeak) << a.verdict.explanation;
  EXPECT_EQ(json::parse(Read(f.dir() / "verdict.json")).at("verdict").as_string(), "no-leak");
  EXPECT_EQ(a.report, f.dir() / "report.html");
  EXPECT_TRUE(fs::exists(a.report));
  EXPECT_TRUE(a.report_error.empty() && a.write_error.empty());
}

TEST_F(ResultsFolderTest, FinishWritesAVerdictGivenToIt) {
  ResultsFolder f(root_ / "analysis", "x", json::object{{"origin", kAnalysisOrigin}}, true);
  f.WriteFile("series.csv", "t_s,rss_bytes\n0,1\n1,2\n");
  verdict::Verdict v;
  v.kind = verdict::Kind::kLeak;
  v.explanation = "given";
  const FolderAnalysis a = f.Finish(false, v);
  EXPECT_EQ(a.verdict.explanation, "given");
  EXPECT_EQ(json::parse(Read(f.dir() / "verdict.json")).at("verdict").as_string(), "leak");
  EXPECT_FALSE(fs::exists(f.dir() / "report.html"));
  EXPECT_FALSE(fs::exists(f.dir() / "events.csv"));  // no sampled series, no events
}

// The last steps never cost what is already written: a verdict.json that
// cannot be written is reported, and the series stays.
TEST_F(ResultsFolderTest, AFolderThatCannotBeWrittenKeepsWhatItHas) {
  ResultsFolder f(root_ / "run", "x", json::object{});
  AddSteadySeries(f, 50);
  f.Flush();
  fs::create_directories(f.dir() / "verdict.json");  // a folder where the file should go
  const FolderAnalysis a = f.Finish(true);
  EXPECT_NE(a.write_error.find("verdict.json"), std::string::npos) << a.write_error;
  EXPECT_TRUE(a.report.empty());
  EXPECT_NE(Read(f.dir() / "series.csv").find("4.9"), std::string::npos);
}

// `leaklab analyze DIR` on a folder of the user's: a verdict.json or a
// heap-diff.pb.gz leaklab did not write is left as it is, and said so;
// files of its own are replaced.
TEST_F(ResultsFolderTest, AnalysisNeverReplacesFilesItDidNotWrite) {
  const fs::path dir = root_ / "users";
  fs::create_directories(dir);
  std::ofstream(dir / "series.csv") << "t_s,rss_bytes\n0,1\n1,2\n2,3\n";
  std::ofstream(dir / "verdict.json") << "{\"mine\": true}\n";
  std::ofstream(dir / "heap-diff.pb.gz") << "my own notes";
  const FolderAnalysis a = AnalyzeFolder(dir, true);
  EXPECT_EQ(a.write_error, (dir / "verdict.json").string() +
                               ": exists and was not written by leaklab; it is left as it is");
  EXPECT_EQ(Read(dir / "verdict.json"), "{\"mine\": true}\n");
  EXPECT_EQ(Read(dir / "heap-diff.pb.gz"), "my own notes");
  EXPECT_FALSE(fs::exists(dir / "report.html"));
  // Its own verdict.json it replaces.
  fs::remove(dir / "verdict.json");
  EXPECT_EQ(AnalyzeFolder(dir, false).write_error, "");
  const std::string first = Read(dir / "verdict.json");
  EXPECT_EQ(AnalyzeFolder(dir, false).write_error, "");
  EXPECT_EQ(Read(dir / "verdict.json"), first);
}

}  // namespace
}  // namespace leaklab::harness
