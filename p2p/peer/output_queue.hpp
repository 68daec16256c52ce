#pragma once
// The bytes queued for one peer, in order: small messages copied into one growable buffer,
// and blocks read from disk held where they were read (a shared DiskBuffer), never copied.
// buffers() lists the runs for one gather write (message header, block, next header, ...).
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "p2p/peer/send_buffer.hpp"
#include "p2p/storage/disk_buffer.hpp"

namespace p2p {

class OutputQueue {
 public:
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Of the buffer for small messages.
  std::size_t capacity() const { return small_.capacity(); }

  void append(const void* p, std::size_t n) {
    if (n == 0) return;
    if (segs_.empty() || segs_.back().owner) {
      segs_.push_back({nullptr, small_.size(), n, nullptr});
    } else {
      segs_.back().len += n;
    }
    small_.append(p, n);
    size_ += n;
  }
  // `bytes` lie in `owner`, which the queue holds until they are written.
  void append_shared(DiskBufferPtr owner, std::span<const std::uint8_t> bytes) {
    if (bytes.empty()) return;
    segs_.push_back({bytes.data(), 0, bytes.size(), std::move(owner)});
    size_ += bytes.size();
  }

  // The queued bytes as runs in order; valid until the queue changes.
  std::span<const std::span<const std::uint8_t>> buffers() {
    iov_.clear();
    for (const auto& s : segs_) {
      iov_.emplace_back(s.owner ? s.data : small_.data() + s.off, s.len);
    }
    return iov_;
  }

  // Drops every byte (the disk buffers go back to their pool); the storage is kept.
  void clear() {
    small_.clear();
    segs_.clear();
    size_ = 0;
  }
  // Also frees the storage.
  void release() {
    clear();
    small_.release();
    std::vector<Seg>().swap(segs_);
    std::vector<std::span<const std::uint8_t>>().swap(iov_);
  }
  void swap(OutputQueue& o) {
    small_.swap(o.small_);
    segs_.swap(o.segs_);
    iov_.swap(o.iov_);
    std::swap(size_, o.size_);
  }

 private:
  struct Seg {
    const std::uint8_t* data;  // with an owner
    std::size_t off;           // without: bytes [off, off + len) of small_
    std::size_t len;
    DiskBufferPtr owner;
  };
  SendBuffer small_;
  std::vector<Seg> segs_;
  std::vector<std::span<const std::uint8_t>> iov_;
  std::size_t size_ = 0;
};

}  // namespace p2p
