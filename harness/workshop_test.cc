// The workshop path end to end: `leaklab run --all` runs every scenario
// variant of the catalog (real servers, here for 2 s each to keep CI short),
// and writes an index page that links a report for each, with the expected
// and actual verdicts. When chromium is installed the index is also opened
// in it, and a screenshot saved beside it.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>

#include "common/read_file.h"
#include "harness/catalog_client.h"
#include "harness/child_process.h"

namespace leaklab::harness {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

// Test outputs are small; the limit only stops a wrong path from filling memory.
constexpr std::uintmax_t kMaxFileBytes = 64 << 20;
// Enough of a log to see why a step failed.
constexpr std::uintmax_t kLogTailBytes = 16 << 10;

TEST(Workshop, RunAllWritesAnIndexLinkingAReportForEveryVariant) {
  const fs::path dir = fs::path(LEAKLAB_TEST_RESULTS_DIR) / "workshop";
  fs::remove_all(dir);
  fs::create_directories(dir.parent_path());
  const fs::path log = dir.string() + ".log";
  ExitInfo run;
  const auto start = std::chrono::steady_clock::now();
  {
    ChildProcess leaklab(
        fs::path(LEAKLAB_BIN_DIR) / "leaklab",
        {"run", "--all", "--duration", "2s", "--profile-every", "1s", "--out", dir.string()}, log);
    // 15 variants of 2 s, each with start-up, profiles and analysis: about 50 s.
    run = leaklab.Wait(std::chrono::seconds(200), std::chrono::milliseconds(3000));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RecordProperty("seconds", std::to_string(seconds));
  ASSERT_EQ(run.exit_code, 0) << run.Describe() << "\n" << ReadFileTail(log, kLogTailBytes);

  const json::object index =
      json::parse(ReadWholeFile(dir / "index.json", kMaxFileBytes)).as_object();
  const json::array& runs = index.at("runs").as_array();
  // Every variant of the catalog, whatever it holds (a new scenario adds
  // its own without touching this test).
  size_t variants = 0;
  for (const ScenarioEntry& s : LoadCatalog(fs::path(LEAKLAB_BIN_DIR) / "leaklab-scenario"))
    variants += s.variants.size();
  ASSERT_EQ(runs.size(), variants);
  ASSERT_GE(runs.size(), 13u) << "the course's scenarios are all there";
  EXPECT_EQ(runs[0].at("scenario").as_string(), "global-request-tracker") << "the course's order";
  const std::string html = ReadWholeFile(dir / "index.html", kMaxFileBytes);
  for (const json::value& r : runs) {
    EXPECT_EQ(r.at("status").as_string(), "done") << r;
    EXPECT_TRUE(r.at("actual").is_string()) << r;
    const std::string folder(r.at("folder").as_string());
    EXPECT_TRUE(fs::exists(dir / folder / "report.html")) << folder;
    EXPECT_TRUE(fs::exists(dir / folder / "verdict.json")) << folder;
    EXPECT_NE(html.find("<a href=\"" + folder + "/report.html\">"), std::string::npos) << folder;
    EXPECT_NE(html.find("data-expected=\"" + std::string(r.at("expected").as_string()) +
                        "\" data-actual=\"" + std::string(r.at("actual").as_string()) + "\""),
              std::string::npos)
        << folder;
  }
  EXPECT_EQ(html.find("http-equiv=\"refresh\""), std::string::npos)
      << "a finished index does not refresh";

  if (std::system("command -v chromium >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "chromium is not installed";
  const fs::path png = dir / "index.png";
  const std::string cmd =
      "timeout -k 5 60 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars "
      "--user-data-dir=" +
      (dir / "chromium-profile").string() +
      " --window-size=1280,2000 --screenshot=" + png.string() + " 'file://" +
      fs::absolute(dir / "index.html").string() + "' > " + (dir / "chromium.log").string() +
      " 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << ReadFileTail(dir / "chromium.log", kLogTailBytes);
  EXPECT_GT(fs::file_size(png), 10'000u);
}

}  // namespace
}  // namespace leaklab::harness
