// A report opened in a real browser (headless Chromium, Debian's `chromium`,
// which ci/install-deps installs): the verdict banner, the chart lines and
// the allocation sites must be laid out and painted, not merely present in
// the file. Three looks: the DOM the browser built; a probe page that
// measures the rendered elements (sizes, computed colours, path lengths);
// and a screenshot, saved beside the report, whose pixels are counted.

#include <gtest/gtest.h>
#include <zlib.h>

#include <array>
#include <boost/json.hpp>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "common/read_file.h"
#include "report/report.h"

namespace leaklab::report {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

// Headless Chromium starts in about a second here; a minute allows for a
// loaded 2-core machine. `timeout` kills it if it hangs.
constexpr int kBrowserTimeoutS = 60;
// Colours of the style sheet (report/html.cc) the pixels are checked for.
constexpr std::array<uint8_t, 3> kLeakBanner = {0xa0, 0x0d, 0x0d};
constexpr std::array<uint8_t, 3> kRssLine = {0x17, 0x47, 0xa6};
constexpr std::array<uint8_t, 3> kHeapLine = {0xb2, 0x3c, 0x00};

// Pages, screenshots and Chromium's output are small; the limit only stops a
// wrong path from filling memory.
constexpr std::uintmax_t kMaxFileBytes = 64 << 20;

std::string Chromium() {
  for (const char* name : {"chromium", "chromium-browser"}) {
    const std::string cmd = std::string("command -v ") + name + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) == 0) return name;
  }
  return "";
}

class ReportInBrowser : public ::testing::Test {
 protected:
  void SetUp() override {
    chromium_ = Chromium();
    if (chromium_.empty())
      GTEST_SKIP() << "chromium is not installed (bash ci/install-deps installs it)";
    // A folder per test: ctest runs them as parallel processes.
    dir_ = fs::path(LEAKLAB_TEST_RESULTS_DIR) / "report-browser" /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "run");
    for (const auto& e :
         fs::directory_iterator(fs::path(LEAKLAB_REPORT_TESTDATA_DIR) / "runaway-workers-leaky")) {
      fs::copy_file(e.path(), dir_ / "run" / e.path().filename());
    }
    report_ = WriteReport(dir_ / "run");
  }

  // Runs headless Chromium with `flags` on `page`; returns its stdout.
  std::string Browse(const std::string& flags, const fs::path& page) {
    const fs::path out = dir_ / "chromium.out", err = dir_ / "chromium.err";
    // As root Chromium needs --no-sandbox; its profile stays in the test folder.
    const std::string cmd =
        "timeout -k 5 " + std::to_string(kBrowserTimeoutS) + " " + chromium_ +
        " --headless --no-sandbox --disable-gpu --no-first-run --disable-extensions"
        " --user-data-dir=" +
        (dir_ / "chromium-profile").string() + " " + flags + " 'file://" +
        fs::absolute(page).string() + "' > " + out.string() + " 2> " + err.string();
    const int status = std::system(cmd.c_str());
    EXPECT_EQ(status, 0) << cmd << "\n" << ReadFileTail(err, 16 << 10);
    return ReadWholeFile(out, kMaxFileBytes);
  }

  std::string chromium_;
  fs::path dir_, report_;
};

TEST_F(ReportInBrowser, DomHasTheVerdictChartPathsAndSites) {
  const std::string dom = Browse("--dump-dom", report_);
  ASSERT_FALSE(dom.empty());
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      dom, m, std::regex("<section class=\"verdict v-leak\"[^>]*><div class=\"kind\">([^<]*)")));
  EXPECT_EQ(m[1], "LEAK");
  EXPECT_NE(dom.find("about 5.0 MB per reload"), std::string::npos);
  // Every chart line has a non-empty path.
  const std::regex line_path("<path class=\"line [^\"]*\" d=\"(M[^\"]+)\"");
  size_t lines = 0;
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), line_path);
       it != std::sregex_iterator(); ++it) {
    EXPECT_GT((*it)[1].length(), 100) << (*it)[1];
    ++lines;
  }
  EXPECT_EQ(lines, 5u);
  EXPECT_NE(dom.find("runaway_workers::Discovery::Impl::Watcher"), std::string::npos);
  EXPECT_NE(dom.find("SharedConnection::AcquireStream"), std::string::npos);
}

// The probe page loads the report in a frame and measures what the browser
// laid out: a script in the probe, never in the report (which has none).
TEST_F(ReportInBrowser, BannerChartsAndSitesAreLaidOutAndPainted) {
  std::ofstream(dir_ / "run" / "probe.html")
      << R"(<!DOCTYPE html><html><body><pre id="result">pending</pre>
<iframe id="f" src="report.html" style="width:1280px;height:2400px"></iframe>
<script>
document.getElementById('f').addEventListener('load', function () {
  var out = {};
  try {
    var d = this.contentDocument;
    var b = d.getElementById('verdict');
    var r = b.getBoundingClientRect();
    out.banner = {text: b.innerText, width: r.width, height: r.height,
                  background: getComputedStyle(b).backgroundColor, color: getComputedStyle(b).color};
    out.charts = [];
    d.querySelectorAll('svg.plot').forEach(function (s) {
      var box = s.getBoundingClientRect();
      out.charts.push({id: s.id, width: box.width, height: box.height});
    });
    out.lines = [];
    d.querySelectorAll('svg.plot path.line').forEach(function (p) {
      var bb = p.getBBox();
      out.lines.push({length: p.getTotalLength(), width: bb.width, height: bb.height,
                      stroke: getComputedStyle(p).stroke, fill: getComputedStyle(p).fill});
    });
    out.fits = d.querySelectorAll('svg.plot path.fit').length;
    out.sites = [];
    d.querySelectorAll('code.site-name').forEach(function (c) {
      out.sites.push({text: c.innerText, height: c.getBoundingClientRect().height});
    });
  } catch (e) { out.error = String(e); }
  document.getElementById('result').textContent = JSON.stringify(out);
});
</script></body></html>)";
  const std::string dom =
      Browse("--allow-file-access-from-files --virtual-time-budget=10000 --dump-dom",
             dir_ / "run" / "probe.html");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(dom, m, std::regex("<pre id=\"result\">([^<]*)</pre>")))
      << dom.substr(0, 2000);
  std::string text = m[1];
  for (const auto& [entity, ch] :
       {std::pair{"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&amp;", "&"}}) {
    for (size_t at = text.find(entity); at != std::string::npos; at = text.find(entity, at + 1)) {
      text.replace(at, std::strlen(entity), ch);
    }
  }
  std::ofstream(dir_ / "probe-result.json") << text << "\n";
  ASSERT_NE(text, "pending") << "the probe's script did not run";
  const json::object r = json::parse(text).as_object();
  ASSERT_FALSE(r.contains("error")) << text;

  const json::object& banner = r.at("banner").as_object();
  EXPECT_EQ(std::string(banner.at("text").as_string()).substr(0, 4), "LEAK");
  EXPECT_GT(banner.at("width").to_number<double>(), 600);
  EXPECT_GT(banner.at("height").to_number<double>(), 100);
  EXPECT_EQ(banner.at("background").as_string(), "rgb(160, 13, 13)");
  EXPECT_EQ(banner.at("color").as_string(), "rgb(255, 255, 255)");

  const json::array& charts = r.at("charts").as_array();
  ASSERT_EQ(charts.size(), 3u);
  for (const json::value& c : charts) {
    EXPECT_GT(c.at("width").to_number<double>(), 900) << c;
    EXPECT_GT(c.at("height").to_number<double>(), 250) << c;
  }
  const json::array& lines = r.at("lines").as_array();
  ASSERT_EQ(lines.size(), 5u);
  for (const json::value& l : lines) {
    // Drawn across the whole plot (1000 units), as a stroke, not a filled shape.
    EXPECT_GT(l.at("length").to_number<double>(), 900) << l;
    EXPECT_GT(l.at("width").to_number<double>(), 900) << l;
    EXPECT_EQ(l.at("fill").as_string(), "none") << l;
    EXPECT_NE(l.at("stroke").as_string(), "none") << l;
  }
  EXPECT_EQ(lines[0].at("stroke").as_string(), "rgb(23, 71, 166)");  // RSS
  EXPECT_GT(lines[0].at("height").to_number<double>(), 100) << "RSS grows across the plot";
  EXPECT_EQ(r.at("fits").to_number<int>(), 2);
  const json::array& sites = r.at("sites").as_array();
  ASSERT_GE(sites.size(), 2u);
  EXPECT_NE(std::string(sites[0].at("text").as_string()).find("Discovery::Impl::Watcher"),
            std::string::npos);
  EXPECT_GT(sites[0].at("height").to_number<double>(), 10);
}

// A minimal PNG reader (RFC 2083): 8-bit RGB or RGBA, non-interlaced, as
// Chromium writes screenshots. Returns the pixel count of each colour asked.
struct Png {
  uint32_t width = 0, height = 0;
  std::vector<std::array<uint8_t, 3>> pixels;
};

uint32_t BigEndian(const std::string& s, size_t at) {
  return (uint32_t{static_cast<uint8_t>(s[at])} << 24) |
         (uint32_t{static_cast<uint8_t>(s[at + 1])} << 16) |
         (uint32_t{static_cast<uint8_t>(s[at + 2])} << 8) |
         uint32_t{static_cast<uint8_t>(s[at + 3])};
}

Png DecodePng(const std::string& file) {
  Png png;
  if (file.size() < 8 || file.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0)
    throw std::runtime_error("not a PNG");
  std::string idat;
  int bytes_per_pixel = 0;
  // Steps: 1. chunks (length, type, data, CRC); 2. inflate the IDAT stream;
  // 3. undo each row's filter (RFC 2083, section 6).
  for (size_t at = 8; at + 8 <= file.size();) {
    const uint32_t length = BigEndian(file, at);
    const std::string type = file.substr(at + 4, 4);
    if (at + 12 + length > file.size()) throw std::runtime_error("truncated chunk " + type);
    const std::string data = file.substr(at + 8, length);
    at += 12 + length;
    if (type == "IHDR") {
      png.width = BigEndian(data, 0);
      png.height = BigEndian(data, 4);
      const int depth = static_cast<uint8_t>(data[8]), colour = static_cast<uint8_t>(data[9]);
      const int interlace = static_cast<uint8_t>(data[12]);
      if (depth != 8 || (colour != 2 && colour != 6) || interlace != 0) {
        throw std::runtime_error("unsupported PNG layout");
      }
      bytes_per_pixel = colour == 6 ? 4 : 3;
    } else if (type == "IDAT") {
      idat += data;
    } else if (type == "IEND") {
      break;
    }
  }
  const size_t stride = size_t{png.width} * bytes_per_pixel;
  std::vector<uint8_t> raw(png.height * (stride + 1));
  uLongf raw_size = raw.size();
  if (uncompress(raw.data(), &raw_size, reinterpret_cast<const Bytef*>(idat.data()), idat.size()) !=
          Z_OK ||
      raw_size != raw.size()) {
    throw std::runtime_error("bad IDAT stream");
  }
  std::vector<uint8_t> prev(stride, 0), row(stride);
  png.pixels.reserve(size_t{png.width} * png.height);
  for (uint32_t y = 0; y < png.height; ++y) {
    const uint8_t filter = raw[y * (stride + 1)];
    std::memcpy(row.data(), &raw[y * (stride + 1) + 1], stride);
    for (size_t x = 0; x < stride; ++x) {
      const int a = x >= size_t(bytes_per_pixel) ? row[x - bytes_per_pixel] : 0;
      const int b = prev[x];
      const int c = x >= size_t(bytes_per_pixel) ? prev[x - bytes_per_pixel] : 0;
      int predictor = 0;
      switch (filter) {
        case 1:
          predictor = a;
          break;
        case 2:
          predictor = b;
          break;
        case 3:
          predictor = (a + b) / 2;
          break;
        case 4: {
          const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
          predictor = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c);
          break;
        }
        default:
          break;
      }
      row[x] = static_cast<uint8_t>(row[x] + predictor);
    }
    for (size_t x = 0; x < stride; x += bytes_per_pixel)
      png.pixels.push_back({row[x], row[x + 1], row[x + 2]});
    prev.swap(row);
  }
  return png;
}

size_t CountColour(const Png& png, const std::array<uint8_t, 3>& colour) {
  size_t n = 0;
  for (const auto& p : png.pixels) n += p == colour;
  return n;
}

TEST_F(ReportInBrowser, ScreenshotShowsTheBannerAndTheCurves) {
  const fs::path png_path = dir_ / "run" / "report.png";
  Browse("--hide-scrollbars --window-size=1280,2400 --screenshot=" + png_path.string(), report_);
  ASSERT_TRUE(fs::exists(png_path));
  RecordProperty("screenshot", png_path.string());
  const Png png = DecodePng(ReadWholeFile(png_path, kMaxFileBytes));
  EXPECT_EQ(png.width, 1280u);
  EXPECT_EQ(png.height, 2400u);
  // The banner is about 1200 x 400 pixels of its red, less its text.
  EXPECT_GT(CountColour(png, kLeakBanner), 200'000u);
  // The RSS and heap lines, 3 units wide across three charts of 1000 units.
  EXPECT_GT(CountColour(png, kRssLine), 1'000u);
  EXPECT_GT(CountColour(png, kHeapLine), 1'000u);
}

}  // namespace
}  // namespace leaklab::report
