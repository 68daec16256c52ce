#pragma once
// Memory that blocks are read into from disk and then sent from as they are: the send queue
// holds the buffer (shared) until the socket has taken the bytes, then it goes back to its
// pool. Buffers of the pool's size are kept (up to a cap) and handed out again, so a busy
// upload neither allocates nor faults in fresh pages for every batch. Thread-safe: buffers
// are taken on a disk thread and given back on the network thread.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

namespace p2p {

class DiskBuffer;
using DiskBufferPtr = std::shared_ptr<const DiskBuffer>;

class DiskBufferPool {
 public:
  // Buffers of buffer_size bytes; at most max_free of them are kept while unused.
  DiskBufferPool(std::size_t buffer_size, std::size_t max_free)
      : state_(std::make_shared<State>(buffer_size, max_free)) {}

  // A buffer of at least n bytes (uninitialised).
  std::shared_ptr<DiskBuffer> take(std::size_t n) const;
  std::size_t buffer_size() const { return state_->size; }
  std::size_t free_buffers() const {
    std::lock_guard lock(state_->mu);
    return state_->free.size();
  }

 private:
  friend class DiskBuffer;
  struct State {
    State(std::size_t s, std::size_t m) : size(s), max_free(m) {}
    const std::size_t size;
    const std::size_t max_free;
    mutable std::mutex mu;
    std::vector<std::unique_ptr<std::uint8_t[]>> free;
  };
  std::shared_ptr<State> state_;
};

class DiskBuffer {
 public:
  DiskBuffer(std::unique_ptr<std::uint8_t[]> mem, std::size_t size,
             std::shared_ptr<DiskBufferPool::State> pool)
      : mem_(std::move(mem)), size_(size), pool_(std::move(pool)) {}
  ~DiskBuffer() {
    if (!pool_ || !mem_) return;
    std::lock_guard lock(pool_->mu);
    if (pool_->free.size() < pool_->max_free) pool_->free.push_back(std::move(mem_));
  }
  DiskBuffer(const DiskBuffer&) = delete;
  DiskBuffer& operator=(const DiskBuffer&) = delete;

  std::uint8_t* data() { return mem_.get(); }
  const std::uint8_t* data() const { return mem_.get(); }
  std::size_t size() const { return size_; }
  void set_size(std::size_t n) { size_ = n; }
  std::span<const std::uint8_t> bytes() const { return {mem_.get(), size_}; }

  // A buffer of its own holding a copy of `bytes` (tests, callers without a pool).
  static std::shared_ptr<DiskBuffer> copy_of(std::span<const std::uint8_t> bytes) {
    auto b = std::make_shared<DiskBuffer>(
        std::unique_ptr<std::uint8_t[]>(new std::uint8_t[std::max<std::size_t>(1, bytes.size())]),
        bytes.size(), nullptr);
    if (!bytes.empty()) std::memcpy(b->data(), bytes.data(), bytes.size());
    return b;
  }

 private:
  std::unique_ptr<std::uint8_t[]> mem_;
  std::size_t size_;
  std::shared_ptr<DiskBufferPool::State> pool_;  // null: not from a pool
};

inline std::shared_ptr<DiskBuffer> DiskBufferPool::take(std::size_t n) const {
  if (n > state_->size) {
    return std::make_shared<DiskBuffer>(std::unique_ptr<std::uint8_t[]>(new std::uint8_t[n]), n,
                                        nullptr);
  }
  std::unique_ptr<std::uint8_t[]> mem;
  {
    std::lock_guard lock(state_->mu);
    if (!state_->free.empty()) {
      mem = std::move(state_->free.back());
      state_->free.pop_back();
    }
  }
  if (!mem) mem.reset(new std::uint8_t[state_->size]);
  return std::make_shared<DiskBuffer>(std::move(mem), n, state_);
}

}  // namespace p2p
