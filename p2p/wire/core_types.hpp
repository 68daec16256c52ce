#pragma once
// Small vocabulary types shared across the engine: strong index types (a piece index is not a
// file index is not a byte count), SHA-1 digests, info-hashes and peer ids.
#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>

namespace p2p {

// An integer index that does not mix with other indices or with byte counts.
template <class Tag, class Rep>
class StrongIndex {
 public:
  using rep = Rep;
  constexpr StrongIndex() = default;
  constexpr explicit StrongIndex(Rep v) : v_(v) {}
  constexpr Rep get() const { return v_; }
  constexpr explicit operator Rep() const { return v_; }
  constexpr auto operator<=>(const StrongIndex&) const = default;
  constexpr StrongIndex& operator++() {
    ++v_;
    return *this;
  }
  constexpr StrongIndex operator++(int) {
    StrongIndex old = *this;
    ++v_;
    return old;
  }
  constexpr StrongIndex& operator--() {
    --v_;
    return *this;
  }

 private:
  Rep v_ = 0;
};

using PieceIndex = StrongIndex<struct PieceIndexTag, std::int32_t>;
using FileIndex = StrongIndex<struct FileIndexTag, std::int32_t>;

// Byte counts and byte offsets are plain signed 64-bit integers (torrents above 4 GiB are
// common); offsets inside a piece are 32-bit.
using ByteCount = std::int64_t;

using Sha1Digest = std::array<std::uint8_t, 20>;
using InfoHash = Sha1Digest;  // v1 info-hash: SHA-1 of the bencoded info dictionary
using PeerId = std::array<std::uint8_t, 20>;

// The standard block size requested from peers (BEP 3 practice: 16 KiB).
inline constexpr std::int32_t kBlockSize = 16 * 1024;

}  // namespace p2p

template <class Tag, class Rep>
struct std::hash<p2p::StrongIndex<Tag, Rep>> {
  std::size_t operator()(const p2p::StrongIndex<Tag, Rep>& i) const noexcept {
    return std::hash<Rep>{}(i.get());
  }
};
