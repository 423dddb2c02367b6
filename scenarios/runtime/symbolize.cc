#include "scenarios/runtime/symbolize.h"

#include <cxxabi.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <climits>
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

// An object file mapped read-only from disk, with its function symbols sorted
// by address. The layout facts used here are those of the System V gABI,
// "Object Files" (ELF header, section header table, symbol table, notes).
struct ProcessSymbolizer::ObjectFile {
  struct Symbol {
    uint64_t value;  // link-time address
    uint64_t size;
    const char* name;  // into the mapped string table
  };

  const unsigned char* file = nullptr;
  size_t bytes = 0;
  std::vector<Symbol> symbols;

  explicit ObjectFile(const char* path) {
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st {};
    void* map = MAP_FAILED;
    if (::fstat(fd, &st) == 0 && st.st_size > static_cast<off_t>(sizeof(Elf64_Ehdr))) {
      map = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    }
    ::close(fd);
    if (map == MAP_FAILED) return;
    file = static_cast<const unsigned char*>(map);
    bytes = static_cast<size_t>(st.st_size);
    LoadSymbols();
  }
  ~ObjectFile() {
    if (file != nullptr) ::munmap(const_cast<unsigned char*>(file), bytes);
  }
  ObjectFile(const ObjectFile&) = delete;
  ObjectFile& operator=(const ObjectFile&) = delete;

  const Elf64_Ehdr* Header() const {
    if (file == nullptr) return nullptr;
    const auto* ehdr = reinterpret_cast<const Elf64_Ehdr*>(file);
    if (std::memcmp(ehdr->e_ident, ELFMAG, SELFMAG) != 0 || ehdr->e_ident[EI_CLASS] != ELFCLASS64) {
      return nullptr;
    }
    return ehdr;
  }

  bool InFile(uint64_t offset, uint64_t size) const {
    return offset <= bytes && size <= bytes - offset;
  }

  // 1. Take .symtab (all functions), or .dynsym when the file is stripped;
  // 2. keep defined functions of non-zero size, whose names lie in the
  // linked string table; 3. sort by address.
  void LoadSymbols() {
    const Elf64_Ehdr* ehdr = Header();
    if (ehdr == nullptr || ehdr->e_shentsize != sizeof(Elf64_Shdr) || ehdr->e_shoff == 0 ||
        !InFile(ehdr->e_shoff, uint64_t{ehdr->e_shnum} * sizeof(Elf64_Shdr))) {
      return;
    }
    const auto* sections = reinterpret_cast<const Elf64_Shdr*>(file + ehdr->e_shoff);
    const Elf64_Shdr* table = nullptr;
    for (uint32_t wanted : {uint32_t{SHT_SYMTAB}, uint32_t{SHT_DYNSYM}}) {
      for (size_t i = 0; i < ehdr->e_shnum && table == nullptr; ++i) {
        if (sections[i].sh_type == wanted && sections[i].sh_link < ehdr->e_shnum)
          table = &sections[i];
      }
      if (table != nullptr) break;
    }
    if (table == nullptr) return;
    const Elf64_Shdr& strings = sections[table->sh_link];
    if (!InFile(table->sh_offset, table->sh_size) || !InFile(strings.sh_offset, strings.sh_size) ||
        strings.sh_size == 0) {
      return;
    }
    const auto* syms = reinterpret_cast<const Elf64_Sym*>(file + table->sh_offset);
    const size_t count = table->sh_size / sizeof(Elf64_Sym);
    const auto* names = reinterpret_cast<const char*>(file + strings.sh_offset);
    // The table must end in a NUL for every name to be a C string.
    if (names[strings.sh_size - 1] != '\0') return;
    symbols.reserve(count / 2);
    for (size_t i = 0; i < count; ++i) {
      const Elf64_Sym& s = syms[i];
      const unsigned type = ELF64_ST_TYPE(s.st_info);
      if ((type != STT_FUNC && type != STT_GNU_IFUNC) || s.st_shndx == SHN_UNDEF ||
          s.st_size == 0 || s.st_name >= strings.sh_size) {
        continue;
      }
      symbols.push_back({s.st_value, s.st_size, names + s.st_name});
    }
    std::sort(symbols.begin(), symbols.end(),
              [](const Symbol& a, const Symbol& b) { return a.value < b.value; });
  }

  // The function symbol containing link-time address `value`, or nullptr.
  const char* Find(uint64_t value) const {
    auto it = std::upper_bound(symbols.begin(), symbols.end(), value,
                               [](uint64_t v, const Symbol& s) { return v < s.value; });
    // Aliases share a start address and may differ in size: look back over
    // the few symbols that start at or before `value`.
    for (int steps = 0; it != symbols.begin() && steps < 8; ++steps) {
      --it;
      if (value - it->value < it->size) return it->name;
    }
    return nullptr;
  }

  // The NT_GNU_BUILD_ID note (gABI "Note Section"; the type is a GNU
  // extension, elf.h) in the file's PT_NOTE segments, as hex.
  std::string BuildId() const {
    const Elf64_Ehdr* ehdr = Header();
    if (ehdr == nullptr || ehdr->e_phentsize != sizeof(Elf64_Phdr) ||
        !InFile(ehdr->e_phoff, uint64_t{ehdr->e_phnum} * sizeof(Elf64_Phdr))) {
      return {};
    }
    const auto* phdrs = reinterpret_cast<const Elf64_Phdr*>(file + ehdr->e_phoff);
    for (size_t i = 0; i < ehdr->e_phnum; ++i) {
      const Elf64_Phdr& ph = phdrs[i];
      if (ph.p_type != PT_NOTE || !InFile(ph.p_offset, ph.p_filesz)) continue;
      // Name and descriptor are padded to the segment's alignment (4, or 8
      // for segments that say so).
      const uint64_t align = ph.p_align == 8 ? 8 : 4;
      auto pad = [align](uint64_t n) { return (n + align - 1) / align * align; };
      uint64_t off = 0;
      while (off + sizeof(Elf64_Nhdr) <= ph.p_filesz) {
        const auto* note = reinterpret_cast<const Elf64_Nhdr*>(file + ph.p_offset + off);
        const uint64_t name_at = off + sizeof(Elf64_Nhdr);
        const uint64_t desc_at = name_at + pad(note->n_namesz);
        if (desc_at > ph.p_filesz || note->n_descsz > ph.p_filesz - desc_at) break;
        const char* name = reinterpret_cast<const char*>(file + ph.p_offset + name_at);
        if (note->n_type == NT_GNU_BUILD_ID && note->n_namesz == 4 &&
            std::memcmp(name, "GNU", 4) == 0) {
          std::string hex;
          const unsigned char* desc = file + ph.p_offset + desc_at;
          for (uint32_t b = 0; b < note->n_descsz; ++b) {
            char two[3];
            std::snprintf(two, sizeof two, "%02x", desc[b]);
            hex += two;
          }
          return hex;
        }
        off = desc_at + pad(note->n_descsz);
      }
    }
    return {};
  }
};

namespace {

struct ListContext {
  std::vector<LoadedSegment>* segments;
  std::string executable;
};

int AddObject(dl_phdr_info* info, size_t, void* data) {
  auto* context = static_cast<ListContext*>(data);
  const bool main_program = info->dlpi_name == nullptr || info->dlpi_name[0] == '\0';
  // The vDSO is listed by the kernel's name for it; it has no file.
  if (!main_program && info->dlpi_name[0] != '/') return 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || (ph.p_flags & PF_X) == 0) continue;
    LoadedSegment segment;
    segment.path = main_program ? context->executable : std::string(info->dlpi_name);
    segment.start = info->dlpi_addr + ph.p_vaddr;
    segment.limit = segment.start + ph.p_memsz;
    segment.file_offset = ph.p_offset;
    segment.load_bias = info->dlpi_addr;
    segment.main_program = main_program;
    context->segments->push_back(std::move(segment));
  }
  return 0;
}

}  // namespace

ProcessSymbolizer::ProcessSymbolizer() {
  char path[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  ListContext context{&segments_,
                      n > 0 ? std::string(path, static_cast<size_t>(n)) : "/proc/self/exe"};
  dl_iterate_phdr(&AddObject, &context);
  files_.resize(segments_.size());
}

ProcessSymbolizer::~ProcessSymbolizer() = default;

ProcessSymbolizer::ObjectFile* ProcessSymbolizer::FileOf(int index) {
  auto& slot = files_[static_cast<size_t>(index)];
  if (slot == nullptr) {
    const LoadedSegment& segment = segments_[static_cast<size_t>(index)];
    // The executable is opened through /proc/self/exe: its path may have been
    // replaced on disk (a rebuild) while this process runs.
    slot = std::make_unique<ObjectFile>(segment.main_program ? "/proc/self/exe"
                                                             : segment.path.c_str());
  }
  return slot.get();
}

SymbolizedFrame ProcessSymbolizer::Symbolize(uintptr_t pc) {
  int index = -1;
  for (size_t i = 0; i < segments_.size(); ++i) {
    if (pc >= segments_[i].start && pc < segments_[i].limit) {
      index = static_cast<int>(i);
      break;
    }
  }
  if (index >= 0) {
    const LoadedSegment& segment = segments_[static_cast<size_t>(index)];
    if (const char* name = FileOf(index)->Find(pc - segment.load_bias)) {
      return {Demangle(name), name, true, index};
    }
  }
  char hex[32];
  std::snprintf(hex, sizeof hex, "0x%" PRIxPTR, pc);
  return {hex, hex, false, index};
}

std::string ProcessSymbolizer::BuildId(int index) { return FileOf(index)->BuildId(); }

}  // namespace leaklab::runtime
