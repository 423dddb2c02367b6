#ifndef LEAKLAB_SCENARIOS_RUNTIME_SCRATCH_ARENA_H_
#define LEAKLAB_SCENARIOS_RUNTIME_SCRATCH_ARENA_H_

// Memory for work the runtime does beside the scenario, such as building a
// profile, that must leave no trace in the server's memory. Building a profile
// on the ordinary heap left glibc holding a little more free memory after
// every capture (fragmentation, high-water marks): RSS crept up by about 4 KB/s
// with captures every 2 s, while heap in use stayed flat. Trimming the heap
// afterwards (malloc_trim) would be worse: it would also release memory the
// scenario keeps on purpose, such as the lazy-release scenario's.
//
// A scratch arena is a private anonymous mapping served by bumping a pointer;
// destroying it unmaps everything at once, so RSS returns to where it was.

#include <cstddef>
#include <functional>
#include <string>

namespace leaklab::runtime {

class ScratchArena {
 public:
  // Address space reserved, not memory: pages cost RSS only once written,
  // and only until the arena is destroyed. Allocations beyond it fall back to
  // the ordinary heap.
  static constexpr std::size_t kReserveBytes = std::size_t{1} << 30;

  ScratchArena() noexcept;
  ~ScratchArena();
  ScratchArena(const ScratchArena&) = delete;
  ScratchArena& operator=(const ScratchArena&) = delete;

  // `size` bytes aligned to `alignment` (a power of two), or nullptr when the
  // reservation is used up or could not be made.
  void* Allocate(std::size_t size, std::size_t alignment) noexcept;
  bool Contains(const void* p) const noexcept { return p >= begin_ && p < end_; }
  std::size_t used_bytes() const noexcept { return static_cast<std::size_t>(next_ - begin_); }

 private:
  char* begin_ = nullptr;
  char* next_ = nullptr;
  char* end_ = nullptr;
};

namespace internal {
// The arena this thread's operator new serves from, or nullptr. Read by the
// allocation hook (alloc_hook.cc) on every new and delete.
extern constinit thread_local ScratchArena* t_scratch_arena;
}  // namespace internal

// While alive, operator new on this thread takes memory from `arena`, and
// operator delete of the arena's memory does nothing (the arena is freed as a
// whole). nullptr pauses an enclosing scope. Needs the allocation hook: in a
// binary without it the scope changes nothing. Nothing allocated inside may
// outlive the arena, and no other thread may free it.
class ScratchScope {
 public:
  explicit ScratchScope(ScratchArena* arena) noexcept : saved_(internal::t_scratch_arena) {
    internal::t_scratch_arena = arena;
  }
  ~ScratchScope() { internal::t_scratch_arena = saved_; }
  ScratchScope(const ScratchScope&) = delete;
  ScratchScope& operator=(const ScratchScope&) = delete;

 private:
  ScratchArena* saved_;
};

// Runs `build` with all its operator new allocations in a fresh scratch arena
// and returns its result copied onto the ordinary heap. An exception from
// `build` comes out as std::runtime_error with the same message (the original
// object may hold arena memory).
std::string BuildOffHeap(const std::function<std::string()>& build);

}  // namespace leaklab::runtime

#endif  // LEAKLAB_SCENARIOS_RUNTIME_SCRATCH_ARENA_H_
