#pragma once
// A growable byte buffer whose tail can be handed out uninitialized, so a block can be read
// from disk straight into the bytes that go to the socket (no zero-fill, no extra copy).
// It starts empty and grows to what is queued (doubling), so an idle connection's few small
// messages cost little; release() gives the memory back once it is drained.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>

namespace p2p {

class SendBuffer {
 public:
  std::uint8_t* data() { return buf_.get(); }
  const std::uint8_t* data() const { return buf_.get(); }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return cap_; }
  bool empty() const { return size_ == 0; }
  void clear() { size_ = 0; }
  // Frees the storage (the buffer stays usable and grows again on demand).
  void release() {
    buf_.reset();
    size_ = cap_ = 0;
  }

  // Reserves n more bytes at the end and returns them; the caller fills them.
  std::uint8_t* grow(std::size_t n) {
    if (size_ + n > cap_) {
      std::size_t cap = std::max<std::size_t>(cap_ * 2, size_ + n);
      cap = std::max<std::size_t>(cap, kMinCapacity);
      std::unique_ptr<std::uint8_t[]> next(new std::uint8_t[cap]);
      if (size_) std::memcpy(next.get(), buf_.get(), size_);
      buf_ = std::move(next);
      cap_ = cap;
    }
    std::uint8_t* p = buf_.get() + size_;
    size_ += n;
    return p;
  }
  void shrink_by(std::size_t n) { size_ = n > size_ ? 0 : size_ - n; }
  void append(const void* p, std::size_t n) {
    if (n) std::memcpy(grow(n), p, n);
  }
  void swap(SendBuffer& o) {
    std::swap(buf_, o.buf_);
    std::swap(size_, o.size_);
    std::swap(cap_, o.cap_);
  }

  // Enough for the handshake and the usual first messages in one allocation.
  static constexpr std::size_t kMinCapacity = 512;

 private:
  std::unique_ptr<std::uint8_t[]> buf_;
  std::size_t size_ = 0;
  std::size_t cap_ = 0;
};

}  // namespace p2p
