#ifndef LEAKLAB_SCENARIOS_RUNTIME_SYMBOLIZE_H_
#define LEAKLAB_SCENARIOS_RUNTIME_SYMBOLIZE_H_

// Names code addresses of this process, so that the server's profiles read
// well in `go tool pprof` without the binary at hand.
//
// Names come from the symbol tables of the object files on disk (the
// executable and each shared library), mapped only while one profile is being
// built. Looking them up in the loaded images instead (dladdr(3)) would page
// more of their symbol tables into the server at every capture, and the
// analyzers would see that RSS growth as a leak: a measurement must not
// disturb what it measures.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace leaklab::runtime {

struct SymbolizedFrame {
  std::string name;         // demangled, e.g. "ns::Leak(int)"; a hex address if unknown
  std::string system_name;  // as in the symbol table (mangled); same as name if unknown
  bool known = false;
  int object = -1;  // index into ProcessSymbolizer::objects(), -1 if in none
};

// An executable segment of an ELF object loaded into this process: what a
// pprof Mapping describes.
struct LoadedSegment {
  std::string path;     // the object's file; /proc/self/exe for the executable
  uintptr_t start = 0;  // runtime addresses [start, limit)
  uintptr_t limit = 0;
  uint64_t file_offset = 0;   // of `start` in the file
  uintptr_t load_bias = 0;    // runtime address minus link-time address
  bool main_program = false;  // the executable, not a shared library
};

// One per profile: lists the loaded objects at construction, maps each
// object's file on first use, and unmaps them all when destroyed.
class ProcessSymbolizer {
 public:
  ProcessSymbolizer();
  ~ProcessSymbolizer();
  ProcessSymbolizer(const ProcessSymbolizer&) = delete;
  ProcessSymbolizer& operator=(const ProcessSymbolizer&) = delete;

  // Names the function containing `pc`. Pass a return address minus 1, so
  // that the call instruction is named, not the one after it (which may belong
  // to the next function when the call is the last instruction). Uses the
  // object's .symtab (every function, internal linkage included) or, in a
  // stripped file, its .dynsym (exported functions only).
  SymbolizedFrame Symbolize(uintptr_t pc);

  const std::vector<LoadedSegment>& segments() const { return segments_; }

  // The GNU build ID of segment `index`'s file as lowercase hex (as Go writes
  // it into Mapping.build_id), or "" when it has none.
  std::string BuildId(int index);

 private:
  struct ObjectFile;
  ObjectFile* FileOf(int index);

  std::vector<LoadedSegment> segments_;
  std::vector<std::unique_ptr<ObjectFile>> files_;  // parallel to segments_, opened lazily
};

// The Itanium C++ ABI demangling of `mangled`, or `mangled` itself when it is
// not a mangled name (e.g. a C function).
std::string Demangle(const char* mangled);

}  // namespace leaklab::runtime

#endif  // LEAKLAB_SCENARIOS_RUNTIME_SYMBOLIZE_H_
