#ifndef LEAKLAB_HARNESS_SOURCE_LINES_H_
#define LEAKLAB_HARNESS_SOURCE_LINES_H_

// Source files and line numbers for the server's profiles, so that
// `go tool pprof -list FUNC` shows the code beside the samples.
//
// The server names its frames from the symbol table only: reading DWARF line
// tables in the server would page them into the process it measures. The
// harness adds the lines afterwards, once the run is over, with binutils'
// addr2line on the executable the profiles' first mapping names. Function
// names are left as the server wrote them; each location gets the file and
// line, in that function, of the call it stands for (the outermost frame of
// what addr2line reports, inlined calls folded into their caller's line).

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "analyzers/pprof/profile.h"

namespace leaklab::harness {

struct SourceLine {
  std::string file;  // as the debug information names it (absolute for our builds)
  int64_t line = 0;
};

// addr2line's output for `addr2line -a -i -f -C -e BINARY ADDRESS...`: per
// address a line "0x...", then pairs of lines (function, file:line), the
// innermost inlined frame first. Returns each address's outermost frame;
// addresses with no line ("??:0", "file:?") are left out.
std::map<uint64_t, SourceLine> ParseAddr2line(std::string_view output);

// The link-time address (what addr2line takes) of a runtime `address` in
// `mapping`, from the ELF program headers of the mapping's file; nullopt
// when the file is not an ELF64 object or no loadable segment covers it.
std::optional<uint64_t> LinkTimeAddress(const std::filesystem::path& elf,
                                        const pprof::Mapping& mapping, uint64_t address);

struct SourceLineResult {
  size_t profiles = 0;   // profiles rewritten
  size_t locations = 0;  // locations given a line
  std::string error;     // why nothing was done (no addr2line, no binary), or ""
};

// Adds lines to every *.pb.gz in `profiles_dir` whose first mapping is the
// executable `binary`, rewriting each file whole (temp file and rename).
// Profiles it cannot read or whose executable is another are left as they
// are. Runs addr2line once for all of them.
SourceLineResult AddSourceLines(const std::filesystem::path& profiles_dir,
                                const std::filesystem::path& binary);

}  // namespace leaklab::harness

#endif  // LEAKLAB_HARNESS_SOURCE_LINES_H_
