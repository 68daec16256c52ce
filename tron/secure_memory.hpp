#pragma once
// Memory for secrets (private keys, passwords): kept out of swap (mlock) and out of core dumps
// (MADV_DONTDUMP), and wiped when given back. Small slots come from shared locked pages, so a
// process with many keys stays within RLIMIT_MEMLOCK. When the OS refuses to lock (a low
// RLIMIT_MEMLOCK), the memory is still excluded from dumps and still wiped.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>
#include <string>

namespace tron::secure {

// At least `size` bytes, zeroed. Throws std::bad_alloc.
void* allocate(std::size_t size);
// Wipes `size` bytes at p and gives the memory back. p may be null.
void release(void* p, std::size_t size) noexcept;
// Whether the page that holds p is locked in RAM.
bool is_locked(const void* p);
// Wipes memory in a way the compiler cannot skip.
void wipe(void* p, std::size_t size) noexcept;

template <class T>
struct LockedAllocator {
  using value_type = T;
  LockedAllocator() = default;
  template <class U>
  LockedAllocator(const LockedAllocator<U>&) {}
  T* allocate(std::size_t n) {
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_alloc();
    return static_cast<T*>(secure::allocate(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept { secure::release(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const LockedAllocator<U>&) const {
    return true;
  }
};

}  // namespace tron::secure

namespace tron {
// A password or other secret text. Its heap buffer is locked and wiped on release; short
// values live inside the object (small-string buffer), which callers wipe with wipe().
using SecretString = std::basic_string<char, std::char_traits<char>, secure::LockedAllocator<char>>;
inline void wipe(SecretString& s) {
  secure::wipe(s.data(), s.capacity());
  s.clear();
}
}  // namespace tron
