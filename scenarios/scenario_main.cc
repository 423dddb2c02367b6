// leaklab-scenario: hosts one scenario variant behind the runtime's HTTP server.
//
//   leaklab-scenario --scenario NAME [--variant V] [--port P] [--address A]
//                    [--heap-profile-rate BYTES]
//   leaklab-scenario --list [--json]
//   leaklab-scenario --hold-memory BYTES [--cgroup DIR] [--parent-pid PID]
//
// With --port 0 (the default) the kernel picks a free port; the port is always
// the first line on stdout, so a parent process can read it.

#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>

#include "scenarios/catalog.h"
#include "scenarios/runtime/heap_profiler.h"
#include "scenarios/runtime/http_server.h"
#include "scenarios/runtime/profiles.h"
#include "scenarios/runtime/router.h"

namespace po = boost::program_options;
using leaklab::runtime::ScenarioInfo;

namespace {

constexpr int kUsageError = 2;

void PrintList() {
  for (const ScenarioInfo& info : leaklab::scenarios::Catalog()) {
    std::cout << info.name << "  " << info.description << "\n";
    for (const auto& v : info.variants)
      std::cout << "    " << v.name << "  " << v.description << "\n";
  }
}

// --parent-pid and --cgroup, for the server and the pressure process alike;
// false (after saying why) when the process should not go on.
bool JoinParentAndCgroup(const po::variables_map& vm) {
  if (vm.count("parent-pid")) {
    // A harness that is killed must not leave a leaking server behind.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != vm["parent-pid"].as<int>()) return false;  // the parent is already gone
  }
  if (vm.count("cgroup")) {
    // Joined first thing, before anything is allocated, so that everything
    // the process holds is charged to the group and its limit applies.
    std::string procs = vm["cgroup"].as<std::string>() + "/cgroup.procs";
    FILE* f = std::fopen(procs.c_str(), "w");
    if (f == nullptr || std::fprintf(f, "%d\n", static_cast<int>(::getpid())) < 0 ||
        std::fclose(f) != 0) {
      std::fprintf(stderr, "leaklab-scenario: cannot join cgroup via %s\n", procs.c_str());
      return false;
    }
  }
  return true;
}

// The longest a pressure process holds its memory: the harness stops it when
// the run ends, and a run that lost its harness must not leave it behind.
constexpr int kMaxHoldSeconds = 600;

// `leaklab run --pressure`: another process in the server's memory cgroup
// that writes every page of `bytes` and holds them, so the kernel must find
// that much in the group: by reclaiming LazyFree pages, or by the OOM killer.
int HoldMemory(long long bytes) {
  if (bytes <= 0) {
    std::fprintf(stderr, "leaklab-scenario: --hold-memory must be > 0\n");
    return kUsageError;
  }
  const auto size = static_cast<size_t>(bytes);
  void* region = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region == MAP_FAILED) {
    std::perror("leaklab-scenario: mmap for --hold-memory");
    return 1;
  }
  const auto page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  for (size_t offset = 0; offset < size; offset += page)
    static_cast<volatile char*>(region)[offset] = 1;
  std::printf("holding %lld bytes\n", bytes);
  std::fflush(stdout);
  std::fprintf(stderr, "leaklab-scenario: holding %lld bytes until stopped\n", bytes);
  for (int i = 0; i < kMaxHoldSeconds; ++i) ::sleep(1);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description desc("leaklab-scenario: serve one leak scenario over HTTP");
  leaklab::runtime::ServerOptions server;
  std::string scenario_name, variant;
  int port = 0;
  int64_t heap_profile_rate = leaklab::runtime::heap_profiler::kDefaultSampleRateBytes;
  desc.add_options()("help,h", "show this help")("list", "list scenarios and their variants")(
      "json", "with --list: print JSON")("scenario", po::value(&scenario_name),
                                         "scenario to serve")(
      "variant", po::value(&variant), "variant (default: the scenario's first)")(
      "address", po::value(&server.address)->default_value(server.address),
      "listen address (loopback by default)")("port", po::value(&port)->default_value(0),
                                              "listen port; 0 = pick a free one")(
      "threads", po::value(&server.threads)->default_value(server.threads), "I/O threads")(
      "parent-pid", po::value<int>(), "exit when this process (the harness) dies")(
      "cgroup", po::value<std::string>(),
      "join this cgroup (a folder with cgroup.procs) before serving")(
      "hold-memory", po::value<long long>(),
      "serve nothing: write and hold this many bytes until stopped (memory pressure)")(
      "heap-profile-rate", po::value(&heap_profile_rate)->default_value(heap_profile_rate),
      "mean bytes between heap profile samples (like Go's MemProfileRate); 0 = off");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "leaklab-scenario: " << e.what() << "\n" << desc;
    return kUsageError;
  }
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  if (vm.count("list")) {
    if (vm.count("json")) {
      std::cout << leaklab::scenarios::CatalogJson();
    } else {
      PrintList();
    }
    return 0;
  }
  if (vm.count("hold-memory")) {
    if (!JoinParentAndCgroup(vm)) return 1;
    return HoldMemory(vm["hold-memory"].as<long long>());
  }
  if (scenario_name.empty()) {
    std::cerr << "leaklab-scenario: --scenario is required (see --list)\n";
    return kUsageError;
  }
  const ScenarioInfo* info = leaklab::scenarios::FindScenario(scenario_name);
  if (info == nullptr) {
    std::cerr << "leaklab-scenario: unknown scenario '" << scenario_name << "' (see --list)\n";
    return kUsageError;
  }
  if (variant.empty()) variant = info->variants.front().name;
  bool known = false;
  for (const auto& v : info->variants) known = known || v.name == variant;
  if (!known) {
    std::cerr << "leaklab-scenario: scenario '" << scenario_name << "' has no variant '" << variant
              << "'; variants:";
    for (const auto& v : info->variants) std::cerr << " " << v.name;
    std::cerr << "\n";
    return kUsageError;
  }
  if (port < 0 || port > 65535 || server.threads < 1 || server.threads > 64) {
    std::cerr << "leaklab-scenario: --port must be 0..65535 and --threads 1..64\n";
    return kUsageError;
  }
  server.port = static_cast<uint16_t>(port);
  if (heap_profile_rate < 0) {
    std::cerr << "leaklab-scenario: --heap-profile-rate must be >= 0 (0 = off)\n";
    return kUsageError;
  }
  leaklab::runtime::heap_profiler::SetSampleRate(heap_profile_rate);

  if (!JoinParentAndCgroup(vm)) return 1;

  auto scenario = info->create(variant);
  leaklab::runtime::Router router(*scenario);
  leaklab::runtime::HttpServer http(
      server, [&router](const leaklab::runtime::Request& r) { return router.Handle(r); });
  // Before the port is announced: the harness's first sample then already
  // includes what taking profiles pages in once.
  leaklab::runtime::WarmUpProfiles();
  uint16_t bound = 0;
  try {
    bound = http.Listen();
  } catch (const std::exception& e) {
    std::cerr << "leaklab-scenario: " << e.what() << "\n";
    return 1;
  }
  std::printf("%u\n", static_cast<unsigned>(bound));
  std::fflush(stdout);
  std::fprintf(stderr, "leaklab-scenario: %s/%s listening on %s:%u\n", scenario_name.c_str(),
               variant.c_str(), server.address.c_str(), static_cast<unsigned>(bound));
  http.Run();
  std::fprintf(stderr, "leaklab-scenario: stopped\n");
  return 0;
}
