#pragma once
// Stream encryption as a filter over another Stream: the MSE handshake first, then RC4 (or
// plaintext, if that was the method chosen) in both directions. An outgoing stream runs the
// handshake inside async_connect; an accepted one runs it on the first read and can also
// recognise a plain BitTorrent handshake and pass it through, when plaintext is allowed.
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "p2p/transport/mse_handshake.hpp"
#include "p2p/transport/stream.hpp"

namespace p2p {

// The error a stream completes with when the peer's MSE handshake (or its absence) fails,
// as distinct from a connection that could not be made.
const boost::system::error_category& mse_category();
enum class MseError { handshake_failed = 1, plaintext_refused };
boost::system::error_code make_error_code(MseError e);

class MseStream final : public Stream {
 public:
  // Outgoing: `options` names the torrent and the methods offered.
  MseStream(boost::asio::any_io_executor ex, std::unique_ptr<Stream> inner,
            mse::Handshake::Options options);
  // Accepted: the responder's options; plaintext peers pass through if `accept_plaintext`.
  MseStream(boost::asio::any_io_executor ex, std::unique_ptr<Stream> inner,
            mse::Handshake::Options options, bool accept_plaintext);

  void async_connect(ConnectHandler done) override;
  void async_read_some(std::span<std::uint8_t> buf, IoHandler done) override;
  void async_write(std::span<const std::uint8_t> buf, IoHandler done) override;
  void async_write(std::span<const std::span<const std::uint8_t>> bufs, IoHandler done) override;
  void close() override { inner_->close(); }
  bool is_open() const override { return inner_->is_open(); }
  const PeerAddress& remote() const override { return inner_->remote(); }
  bool is_utp() const override { return inner_->is_utp(); }
  bool is_encrypted() const override { return method_ == mse::kRc4; }

  bool handshake_done() const { return phase_ == Phase::open; }
  // After the handshake: mse::kRc4 or mse::kPlaintext, or 0 for a plain BitTorrent peer.
  std::uint32_t method() const { return method_; }
  const std::string& error() const { return error_; }

 private:
  enum class Phase { idle, detecting, handshaking, open, failed };
  void detect();
  void start_handshake(std::vector<std::uint8_t> first);
  void drive();
  void finish(const boost::system::error_code& ec);
  void ensure_open(ConnectHandler then);
  std::shared_ptr<bool> abandon_guard();
  void write_encrypted(IoHandler done);

  boost::asio::any_io_executor ex_;
  std::unique_ptr<Stream> inner_;
  bool outgoing_;
  bool accept_plaintext_;
  mse::Handshake::Options options_;
  std::unique_ptr<mse::Handshake> hs_;
  Phase phase_ = Phase::idle;
  std::uint32_t method_ = 0;
  std::string error_;
  mse::Rc4 enc_, dec_;
  std::vector<std::uint8_t> hs_in_;    // the handshake's read buffer
  std::vector<std::uint8_t> hs_out_;   // the handshake bytes being written
  std::vector<std::uint8_t> pending_;  // decrypted bytes received before the first read
  std::size_t pending_at_ = 0;
  std::vector<std::uint8_t> wbuf_;       // the encrypted bytes being written
  std::vector<ConnectHandler> waiting_;  // operations that wait for the handshake
  // Last, so gone first: an abandon guard outliving this stream then leaves it alone.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace p2p

template <>
struct boost::system::is_error_code_enum<p2p::MseError> : std::true_type {};
