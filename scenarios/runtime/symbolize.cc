#include "scenarios/runtime/symbolize.h"

#include <cxxabi.h>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace leaklab::runtime {

std::string Demangle(const char* mangled) {
  int status = 0;
  // __cxa_demangle returns a malloc'd buffer (free, not delete).
  char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  if (status != 0 || demangled == nullptr) return mangled;
  std::string out(demangled);
  std::free(demangled);
  return out;
}

ExecutableSymtab::ExecutableSymtab() {
  // Any function of this library is linked into the executable: its dladdr
  // base is the executable's load address.
  Dl_info self{};
  if (dladdr(reinterpret_cast<void*>(&Demangle), &self) == 0) return;
  const int fd = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st {};
  void* map = MAP_FAILED;
  if (::fstat(fd, &st) == 0 && st.st_size > static_cast<off_t>(sizeof(Elf64_Ehdr))) {
    map = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  }
  ::close(fd);
  if (map == MAP_FAILED) return;
  file_ = static_cast<const unsigned char*>(map);
  file_bytes_ = static_cast<size_t>(st.st_size);

  // ELF-64 object file format (System V gABI, "Sections"): 1. check the
  // header; 2. find SHT_SYMTAB and its sh_link string table; 3. check both
  // lie inside the file.
  const auto* ehdr = reinterpret_cast<const Elf64_Ehdr*>(file_);
  if (std::memcmp(ehdr->e_ident, ELFMAG, SELFMAG) != 0 || ehdr->e_ident[EI_CLASS] != ELFCLASS64 ||
      ehdr->e_shentsize != sizeof(Elf64_Shdr) || ehdr->e_shoff == 0 ||
      ehdr->e_shoff + uint64_t{ehdr->e_shnum} * sizeof(Elf64_Shdr) > file_bytes_) {
    return;
  }
  const auto* sections = reinterpret_cast<const Elf64_Shdr*>(file_ + ehdr->e_shoff);
  for (size_t i = 0; i < ehdr->e_shnum; ++i) {
    const Elf64_Shdr& sh = sections[i];
    if (sh.sh_type != SHT_SYMTAB || sh.sh_link >= ehdr->e_shnum) continue;
    const Elf64_Shdr& strtab = sections[sh.sh_link];
    if (sh.sh_offset + sh.sh_size > file_bytes_ || strtab.sh_offset + strtab.sh_size > file_bytes_)
      return;
    symbols_ = file_ + sh.sh_offset;
    symbol_count_ = sh.sh_size / sizeof(Elf64_Sym);
    names_ = reinterpret_cast<const char*>(file_ + strtab.sh_offset);
    names_bytes_ = strtab.sh_size;
    break;
  }
  // A position-independent executable's symbol values are offsets from its
  // load address; a fixed-address one's are addresses.
  load_bias_ = ehdr->e_type == ET_DYN ? reinterpret_cast<uintptr_t>(self.dli_fbase) : 0;
}

ExecutableSymtab::~ExecutableSymtab() {
  if (file_ != nullptr) ::munmap(const_cast<unsigned char*>(file_), file_bytes_);
}

const char* ExecutableSymtab::Find(uintptr_t pc) const {
  if (symbols_ == nullptr || pc < load_bias_) return nullptr;
  const uintptr_t value = pc - load_bias_;
  // A linear scan (tens of thousands of symbols): run once per distinct
  // address per profile, it avoids building a sorted copy on the heap.
  const auto* symbols = static_cast<const Elf64_Sym*>(symbols_);
  for (size_t i = 0; i < symbol_count_; ++i) {
    const Elf64_Sym& sym = symbols[i];
    if (ELF64_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF) continue;
    if (value < sym.st_value || value - sym.st_value >= sym.st_size) continue;
    if (sym.st_name >= names_bytes_) return nullptr;
    return names_ + sym.st_name;
  }
  return nullptr;
}

SymbolizedFrame Symbolize(uintptr_t pc, const ExecutableSymtab* symtab) {
  Dl_info info{};
  // dladdr returns no symbol name when the address lies in no exported
  // symbol's range (internal linkage, stripped); dli_saddr is then null too.
  if (dladdr(reinterpret_cast<void*>(pc), &info) != 0 && info.dli_sname != nullptr &&
      info.dli_saddr != nullptr) {
    return {Demangle(info.dli_sname), info.dli_sname, true};
  }
  if (symtab != nullptr) {
    if (const char* name = symtab->Find(pc)) return {Demangle(name), name, true};
  }
  char hex[32];
  std::snprintf(hex, sizeof hex, "0x%" PRIxPTR, pc);
  return {hex, hex, false};
}

}  // namespace leaklab::runtime
