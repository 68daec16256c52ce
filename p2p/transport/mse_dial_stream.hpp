#pragma once
// An outgoing stream that dials with or without stream encryption as the encryption mode
// says, and when the encrypted handshake fails on a connection that was made (not a refused
// one) and the mode allows plaintext, dials once more in plaintext. With `allow` it is the
// other way round: a plaintext connection that the peer ends before sending a byte (as a peer
// that requires encryption does on our handshake) is dialled again with encryption, and what
// was written so far is written again. The inner stream is whichever attempt succeeded.
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "p2p/transport/mse_stream.hpp"
#include "p2p/transport/replay_buffer.hpp"

namespace p2p {

enum class EncryptionMode { allow, prefer, require };
// "allow", "prefer", "require"; nullopt for anything else.
std::optional<EncryptionMode> parse_encryption_mode(std::string_view text);

// The handshake options a mode gives: methods offered or accepted, and the responder's choice.
mse::Handshake::Options mse_options(EncryptionMode mode);

class MseDialStream final : public Stream {
 public:
  using Dial = std::function<std::unique_ptr<Stream>()>;  // a fresh, unopened stream
  MseDialStream(boost::asio::any_io_executor ex, Dial dial, EncryptionMode mode,
                const InfoHash& ih);

  void async_connect(ConnectHandler done) override;
  void async_read_some(std::span<std::uint8_t> buf, IoHandler done) override;
  void async_write(std::span<const std::uint8_t> buf, IoHandler done) override;
  void async_write(std::span<const std::span<const std::uint8_t>> bufs, IoHandler done) override;
  void close() override;
  bool is_open() const override { return current_->is_open(); }
  const PeerAddress& remote() const override { return current_->remote(); }
  bool is_utp() const override { return current_->is_utp(); }
  bool is_encrypted() const override { return current_->is_encrypted(); }

  // The method of the open stream: mse::kRc4, mse::kPlaintext, or 0 for plain BitTorrent.
  std::uint32_t method() const;
  bool redialed() const { return redialed_; }

 private:
  boost::asio::any_io_executor ex_;
  Dial dial_;
  EncryptionMode mode_;
  InfoHash ih_;
  std::unique_ptr<Stream> current_;
  std::unique_ptr<Stream> retired_;
  MseStream* mse_ = nullptr;  // current_, when it is encrypted
  bool redialed_ = false;
  bool closed_ = false;
  // allow: the bytes written before the peer sent any, to replay over an encrypted redial.
  bool heard_ = false;
  ReplayBuffer replay_;
};

}  // namespace p2p
