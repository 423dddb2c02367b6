#ifndef LEAKLAB_SCENARIOS_RUNTIME_SYMBOLIZE_H_
#define LEAKLAB_SCENARIOS_RUNTIME_SYMBOLIZE_H_

// Names code addresses of this process, so that the server's profiles read
// well in `go tool pprof` without the binary at hand.

#include <cstdint>
#include <string>

namespace leaklab::runtime {

struct SymbolizedFrame {
  std::string name;         // demangled, e.g. "ns::Leak(int)"; a hex address if unknown
  std::string system_name;  // as in the symbol table (mangled); same as name if unknown
  bool known = false;
};

// Names the function containing `pc`. Pass a return address minus 1, so that
// the call instruction is named, not the one after it (which may belong to
// the next function when the call is the last instruction).
//
// Uses dladdr(3), which sees only dynamic symbols: the executable must be
// linked with -rdynamic (ENABLE_EXPORTS) for its exported functions to be
// named. Functions with internal linkage (static, anonymous namespace: most
// scenario code) are found in the executable's own .symtab when `symtab` is
// given and the binary is not stripped.
class ExecutableSymtab;
SymbolizedFrame Symbolize(uintptr_t pc, const ExecutableSymtab* symtab = nullptr);

// The static symbol table (.symtab) of this process's executable, mapped from
// /proc/self/exe for the lifetime of the object (file pages, not heap: create
// one per profile and let it go). Empty when the binary is stripped.
class ExecutableSymtab {
 public:
  ExecutableSymtab();
  ~ExecutableSymtab();
  ExecutableSymtab(const ExecutableSymtab&) = delete;
  ExecutableSymtab& operator=(const ExecutableSymtab&) = delete;

  // The (mangled) name of the function symbol containing `pc`, or nullptr.
  const char* Find(uintptr_t pc) const;

 private:
  const unsigned char* file_ = nullptr;  // the whole executable, mmap'd
  size_t file_bytes_ = 0;
  const void* symbols_ = nullptr;  // Elf64_Sym[symbol_count_]
  size_t symbol_count_ = 0;
  const char* names_ = nullptr;  // the linked string table
  size_t names_bytes_ = 0;
  uintptr_t load_bias_ = 0;  // runtime address minus symbol value
};

// The Itanium C++ ABI demangling of `mangled`, or `mangled` itself when it is
// not a mangled name (e.g. a C function).
std::string Demangle(const char* mangled);

}  // namespace leaklab::runtime

#endif  // LEAKLAB_SCENARIOS_RUNTIME_SYMBOLIZE_H_
