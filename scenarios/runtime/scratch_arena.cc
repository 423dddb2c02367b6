#include "scenarios/runtime/scratch_arena.h"

#include <sys/mman.h>

#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>

namespace leaklab::runtime {
namespace internal {
constinit thread_local ScratchArena* t_scratch_arena = nullptr;
}  // namespace internal

ScratchArena::ScratchArena() noexcept {
  // MAP_NORESERVE: no commit charge for the reservation; only written pages count.
  void* p = ::mmap(nullptr, kReserveBytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return;
  begin_ = next_ = static_cast<char*>(p);
  end_ = begin_ + kReserveBytes;
}

ScratchArena::~ScratchArena() {
  if (begin_ != nullptr) ::munmap(begin_, kReserveBytes);
}

void* ScratchArena::Allocate(std::size_t size, std::size_t alignment) noexcept {
  if (begin_ == nullptr) return nullptr;
  const auto at = reinterpret_cast<std::uintptr_t>(next_);
  const std::uintptr_t aligned = (at + alignment - 1) & ~(std::uintptr_t{alignment} - 1);
  const std::size_t room = static_cast<std::size_t>(end_ - next_);
  const std::size_t skip = aligned - at;
  // operator new(0) must still return a distinct pointer.
  const std::size_t bytes = size == 0 ? 1 : size;
  if (skip > room || bytes > room - skip) return nullptr;
  next_ += skip + bytes;
  return reinterpret_cast<void*>(aligned);
}

std::string BuildOffHeap(const std::function<std::string()>& build) {
  ScratchArena arena;
  std::string result;
  std::optional<std::string> error;
  {
    ScratchScope scope(&arena);
    try {
      const std::string built = build();
      ScratchScope pause(nullptr);
      result.assign(built);
    } catch (const std::exception& e) {
      ScratchScope pause(nullptr);
      error.emplace(e.what());
    }
    // `built` and the exception are destroyed here, with the scope active.
  }
  if (error) throw std::runtime_error(*error);
  return result;
}

}  // namespace leaklab::runtime
