#pragma once
// A byte stream to one peer, below the peer protocol: TCP today; uTP, or a filter such as
// stream encryption wrapping another Stream, fit under the same interface. Handlers run on
// the io_context the stream was made on. At most one read and one write are in flight.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

#include <boost/system/error_code.hpp>

#include "p2p/wire/peer_address.hpp"

namespace p2p {

class Stream {
 public:
  using IoHandler = std::function<void(const boost::system::error_code&, std::size_t)>;
  using ConnectHandler = std::function<void(const boost::system::error_code&)>;

  virtual ~Stream() = default;
  // Opens an outgoing stream to remote(); a stream that is already open completes at once.
  virtual void async_connect(ConnectHandler done) = 0;
  // Reads at least one byte (up to buf.size()) into buf, which must stay valid until done.
  virtual void async_read_some(std::span<std::uint8_t> buf, IoHandler done) = 0;
  // Writes all of buf, which must stay valid until done.
  virtual void async_write(std::span<const std::uint8_t> buf, IoHandler done) = 0;
  // Writes all of the runs in order (a gather write); the bytes must stay valid until done,
  // the list itself need not.
  virtual void async_write(std::span<const std::span<const std::uint8_t>> bufs, IoHandler done) = 0;
  // Pending operations complete with an error; idempotent.
  virtual void close() = 0;
  virtual bool is_open() const = 0;
  virtual const PeerAddress& remote() const = 0;
  // What carries the bytes, for the status: uTP rather than TCP, RC4 stream encryption.
  virtual bool is_utp() const { return false; }
  virtual bool is_encrypted() const { return false; }
};

}  // namespace p2p
