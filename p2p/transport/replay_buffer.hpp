#pragma once
// The bytes written on a dialled stream before the peer sent any, kept so that they can be
// written again over a second connection when the first one ends in silence. Bounded: past
// the limit nothing more is kept and a redial is no longer possible.
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "p2p/transport/stream.hpp"

namespace p2p {

class ReplayBuffer {
 public:
  static constexpr std::size_t kLimit = 64 * 1024;

  // Keeps a copy of `bufs` and writes them to `to`. While a redial is possible, a failed
  // write reports success: the read that follows decides whether to redial.
  void write(Stream& to, std::span<const std::span<const std::uint8_t>> bufs,
             Stream::IoHandler done) {
    for (const auto& b : bufs) {
      if (bytes_.size() + b.size() > kLimit) overflow_ = true;
      if (!overflow_) bytes_.insert(bytes_.end(), b.begin(), b.end());
    }
    bool may_redial = !overflow_;
    to.async_write(bufs, [may_redial, done = std::move(done)](const boost::system::error_code& ec,
                                                              std::size_t n) {
      if (ec && may_redial) return done({}, n);
      done(ec, n);
    });
  }
  bool overflowed() const { return overflow_; }
  std::span<const std::uint8_t> bytes() const { return bytes_; }
  // The peer answered, or the bytes went over the redial: nothing is kept any more.
  void clear() { bytes_ = {}; }

 private:
  std::vector<std::uint8_t> bytes_;
  bool overflow_ = false;
};

}  // namespace p2p
