// make_profile_pair SAMPLES DIR: writes DIR/base.pb.gz and DIR/source.pb.gz,
// two synthetic heap profiles of SAMPLES stacks each (synthetic_profile.h),
// for ci/bench-analyze-vs-pprof.

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "analyzers/pprof/synthetic_profile.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: make_profile_pair SAMPLES DIR\n");
    return 2;
  }
  char* end = nullptr;
  const unsigned long long samples = std::strtoull(argv[1], &end, 10);
  if (end == argv[1] || *end != '\0' || samples == 0 || samples > 10'000'000) {
    std::fprintf(stderr, "make_profile_pair: SAMPLES must be 1..10000000, got '%s'\n", argv[1]);
    return 2;
  }
  const std::filesystem::path dir = argv[2];
  std::filesystem::create_directories(dir);
  for (int round : {0, 1}) {
    const auto profile = leaklab::pprof::SyntheticHeapProfile(samples, 42, round);
    const std::filesystem::path out = dir / (round == 0 ? "base.pb.gz" : "source.pb.gz");
    std::ofstream(out, std::ios::binary) << leaklab::pprof::EncodeProfile(profile);
    std::printf("%s\n", out.c_str());
  }
  return 0;
}
