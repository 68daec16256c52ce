#pragma once
// The buffer a downloaded piece is assembled in. It starts on a page boundary so that the
// disk can take it unbuffered (O_DIRECT) as it is, without a copy into aligned memory.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>

namespace p2p {

struct PieceBufferFree {
  void operator()(std::uint8_t* p) const { std::free(p); }
};
using PieceBuffer = std::unique_ptr<std::uint8_t[], PieceBufferFree>;

// Not zero-filled: every byte is written by a block before the piece is hashed.
inline PieceBuffer make_piece_buffer(std::size_t size) {
  constexpr std::size_t kPage = 4096;
  std::size_t rounded = (size + kPage - 1) / kPage * kPage;  // aligned_alloc wants a multiple
  void* p = std::aligned_alloc(kPage, rounded == 0 ? kPage : rounded);
  if (!p) throw std::bad_alloc();
  return PieceBuffer(static_cast<std::uint8_t*>(p));
}

}  // namespace p2p
