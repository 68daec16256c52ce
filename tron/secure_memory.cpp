#include "tron/secure_memory.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <bitset>
#include <cstring>
#include <mutex>
#include <vector>

#include <openssl/crypto.h>

namespace tron::secure {

namespace {

constexpr std::size_t kSlot = 64;  // a key or a short password per slot
constexpr std::size_t kPage = 4096;
constexpr std::size_t kSlotsPerPage = kPage / kSlot;

struct Region {
  std::uint8_t* base = nullptr;
  std::size_t size = 0;  // bytes mapped
  bool locked = false;
  std::bitset<kSlotsPerPage> used;  // pool pages only
  bool pool = false;
};

Region map_region(std::size_t size) {
  std::size_t rounded = (size + kPage - 1) / kPage * kPage;
  void* p = ::mmap(nullptr, rounded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  Region r;
  r.base = static_cast<std::uint8_t*>(p);
  r.size = rounded;
  r.locked = ::mlock(p, rounded) == 0;
#ifdef MADV_DONTDUMP
  ::madvise(p, rounded, MADV_DONTDUMP);
#endif
  return r;
}

struct Pool {
  std::mutex mutex;
  std::vector<Region> regions;  // pool pages and large single allocations

  Region* find(const void* p) {
    auto* b = static_cast<const std::uint8_t*>(p);
    for (Region& r : regions) {
      if (b >= r.base && b < r.base + r.size) return &r;
    }
    return nullptr;
  }
};

Pool& pool() {
  static Pool* p = new Pool;  // never destroyed: secrets may be freed during exit
  return *p;
}

}  // namespace

void wipe(void* p, std::size_t size) noexcept {
  if (p != nullptr && size > 0) OPENSSL_cleanse(p, size);
}

void* allocate(std::size_t size) {
  if (size == 0) size = 1;
  Pool& pl = pool();
  std::lock_guard lock(pl.mutex);
  if (size <= kSlot) {
    for (Region& r : pl.regions) {
      if (!r.pool || r.used.all()) continue;
      for (std::size_t i = 0; i < kSlotsPerPage; ++i) {
        if (!r.used[i]) {
          r.used[i] = true;
          return r.base + i * kSlot;
        }
      }
    }
    Region r = map_region(kPage);
    r.pool = true;
    r.used[0] = true;
    pl.regions.push_back(r);
    return r.base;
  }
  Region r = map_region(size);
  pl.regions.push_back(r);
  return r.base;
}

void release(void* p, std::size_t size) noexcept {
  if (p == nullptr) return;
  Pool& pl = pool();
  std::lock_guard lock(pl.mutex);
  Region* r = pl.find(p);
  if (r == nullptr) return;
  if (r->pool) {
    std::size_t slot = static_cast<std::size_t>(static_cast<std::uint8_t*>(p) - r->base) / kSlot;
    wipe(r->base + slot * kSlot, kSlot);
    r->used[slot] = false;
    return;
  }
  (void)size;
  wipe(r->base, r->size);
  if (r->locked) ::munlock(r->base, r->size);
  ::munmap(r->base, r->size);
  *r = pl.regions.back();
  pl.regions.pop_back();
}

bool is_locked(const void* p) {
  Pool& pl = pool();
  std::lock_guard lock(pl.mutex);
  Region* r = pl.find(p);
  return r != nullptr && r->locked;
}

}  // namespace tron::secure
