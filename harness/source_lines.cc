#include "harness/source_lines.h"

#include <elf.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <system_error>
#include <vector>

#include "common/atomic_file.h"

namespace leaklab::harness {
namespace fs = std::filesystem;

namespace {

// Addresses per addr2line command line: far below the kernel's argument
// limit (about 20 bytes each), and few runs for any real profile.
constexpr size_t kAddressesPerCall = 2'000;
// addr2line prints a few hundred bytes per address at most (with inlined
// frames and long C++ names); more than this means something else answered.
constexpr size_t kMaxAddr2lineOutputBytes = size_t{64} << 20;

std::string ShellQuoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string Hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// One addr2line run over `addresses`; empty when it could not run.
std::string RunAddr2line(const fs::path& binary, const std::vector<uint64_t>& addresses) {
  std::string command = "addr2line -a -i -f -C -e " + ShellQuoted(binary.string());
  for (uint64_t a : addresses) command += " " + Hex(a);
  command += " 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return {};
  std::string out;
  char buf[1 << 16];
  size_t n;
  bool too_much = false;
  // Read to the end even past the limit (discarding), so that addr2line is
  // never left blocked on a full pipe while pclose waits for it.
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) {
    if (out.size() + n > kMaxAddr2lineOutputBytes) too_much = true;
    if (!too_much) out.append(buf, n);
  }
  const int status = ::pclose(pipe);
  return status == 0 && !too_much ? out : std::string();
}

bool SameFile(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  return fs::equivalent(a, b, ec) && !ec;
}

// A profile of ours to give lines to: its mappings of `binary`.
struct Target {
  fs::path path;
  pprof::Profile profile;
  std::vector<bool> of_binary;  // per mapping
};

}  // namespace

std::map<uint64_t, SourceLine> ParseAddr2line(std::string_view output) {
  std::map<uint64_t, SourceLine> result;
  std::optional<uint64_t> address;
  SourceLine outermost;
  bool function_line = true;  // the next line names a function (else file:line)
  auto finish = [&] {
    if (address && outermost.line > 0) result[*address] = outermost;
    outermost = {};
  };
  size_t start = 0;
  while (start < output.size()) {
    size_t end = output.find('\n', start);
    if (end == std::string_view::npos) end = output.size();
    std::string_view line = output.substr(start, end - start);
    start = end + 1;
    if (line.starts_with("0x")) {
      finish();
      address = std::strtoull(std::string(line).c_str(), nullptr, 16);
      function_line = true;
      continue;
    }
    if (!address) continue;
    if (!function_line) {
      // "file:line", or "file:line (discriminator N)"; "??:0" and "file:?"
      // when unknown. Later frames are outer ones: the last one wins.
      const size_t colon = line.rfind(':');
      if (colon != std::string_view::npos) {
        const long long n = std::strtoll(std::string(line.substr(colon + 1)).c_str(), nullptr, 10);
        std::string_view file = line.substr(0, colon);
        if (n > 0 && file != "??") outermost = {std::string(file), n};
      }
    }
    function_line = !function_line;
  }
  finish();
  return result;
}

std::optional<uint64_t> LinkTimeAddress(const fs::path& elf, const pprof::Mapping& mapping,
                                        uint64_t address) {
  if (address < mapping.memory_start) return std::nullopt;
  std::ifstream in(elf, std::ios::binary);
  Elf64_Ehdr header{};
  if (!in.read(reinterpret_cast<char*>(&header), sizeof header) ||
      std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 || header.e_ident[EI_CLASS] != ELFCLASS64 ||
      header.e_phentsize != sizeof(Elf64_Phdr)) {
    return std::nullopt;
  }
  const uint64_t file_offset = mapping.file_offset + (address - mapping.memory_start);
  for (unsigned i = 0; i < header.e_phnum; ++i) {
    Elf64_Phdr ph{};
    in.seekg(static_cast<std::streamoff>(header.e_phoff + i * sizeof ph));
    if (!in.read(reinterpret_cast<char*>(&ph), sizeof ph)) return std::nullopt;
    if (ph.p_type == PT_LOAD && file_offset >= ph.p_offset &&
        file_offset < ph.p_offset + ph.p_filesz) {
      return file_offset - ph.p_offset + ph.p_vaddr;
    }
  }
  return std::nullopt;
}

SourceLineResult AddSourceLines(const fs::path& profiles_dir, const fs::path& binary) {
  SourceLineResult result;
  std::error_code ec;
  if (!fs::is_regular_file(binary, ec)) {
    result.error = "no executable at " + binary.string();
    return result;
  }
  // 1. Our profiles and, per location of the binary, its link-time address.
  std::vector<Target> targets;
  std::set<uint64_t> wanted;
  std::map<std::pair<size_t, size_t>, uint64_t> link_address;  // (target, location)
  for (const auto& entry : fs::directory_iterator(profiles_dir, ec)) {
    if (!entry.path().string().ends_with(".pb.gz")) continue;
    Target t{entry.path(), {}, {}};
    try {
      t.profile = pprof::ReadProfileFile(entry.path());
    } catch (const std::exception&) {
      continue;  // not ours to mend; the analysis reports it
    }
    for (const pprof::Mapping& m : t.profile.mappings)
      t.of_binary.push_back(SameFile(m.filename, binary));
    const size_t ti = targets.size();
    for (size_t li = 0; li < t.profile.locations.size(); ++li) {
      const pprof::Location& loc = t.profile.locations[li];
      if (!loc.mapping_index || !t.of_binary[pprof::PositionOf(*loc.mapping_index)]) continue;
      const pprof::Mapping& m = t.profile.mappings[pprof::PositionOf(*loc.mapping_index)];
      if (auto a = LinkTimeAddress(binary, m, loc.address)) {
        link_address[{ti, li}] = *a;
        wanted.insert(*a);
      }
    }
    targets.push_back(std::move(t));
  }
  if (wanted.empty()) return result;
  // 2. addr2line, a few thousand addresses at a time.
  std::map<uint64_t, SourceLine> lines;
  std::vector<uint64_t> batch;
  for (auto it = wanted.begin(); it != wanted.end();) {
    batch.clear();
    while (it != wanted.end() && batch.size() < kAddressesPerCall) batch.push_back(*it++);
    const std::string out = RunAddr2line(binary, batch);
    if (out.empty()) {
      result.error =
          "addr2line (binutils) failed, or answered more than it could, on " + binary.string();
      return result;
    }
    lines.merge(ParseAddr2line(out));
  }
  // 3. Each profile rewritten whole with its lines.
  for (size_t ti = 0; ti < targets.size(); ++ti) {
    Target& t = targets[ti];
    size_t located = 0;
    for (size_t li = 0; li < t.profile.locations.size(); ++li) {
      auto a = link_address.find({ti, li});
      if (a == link_address.end()) continue;
      auto found = lines.find(a->second);
      pprof::Location& loc = t.profile.locations[li];
      if (found == lines.end() || loc.lines.empty()) continue;
      loc.lines.back().line = found->second.line;
      pprof::Function& f = t.profile.functions[pprof::PositionOf(loc.lines.back().function_index)];
      if (f.filename.empty()) f.filename = found->second.file;
      ++located;
    }
    if (located == 0) continue;
    for (size_t mi = 0; mi < t.profile.mappings.size(); ++mi) {
      if (!t.of_binary[mi]) continue;
      t.profile.mappings[mi].has_filenames = true;
      t.profile.mappings[mi].has_line_numbers = true;
    }
    WriteFileAtomically(t.path, pprof::EncodeProfile(t.profile));
    ++result.profiles;
    result.locations += located;
  }
  return result;
}

}  // namespace leaklab::harness
