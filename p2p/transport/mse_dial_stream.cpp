#include "p2p/transport/mse_dial_stream.hpp"

#include <boost/asio/error.hpp>

namespace p2p {

std::optional<EncryptionMode> parse_encryption_mode(std::string_view text) {
  if (text == "allow") return EncryptionMode::allow;
  if (text == "prefer") return EncryptionMode::prefer;
  if (text == "require") return EncryptionMode::require;
  return std::nullopt;
}

mse::Handshake::Options mse_options(EncryptionMode mode) {
  mse::Handshake::Options o;
  // With `require`, not even the plaintext method: nothing after the handshake is in clear.
  o.methods = mode == EncryptionMode::require ? mse::kRc4 : mse::kRc4 | mse::kPlaintext;
  o.prefer_rc4 = mode != EncryptionMode::allow;
  return o;
}

MseDialStream::MseDialStream(boost::asio::any_io_executor ex, Dial dial, EncryptionMode mode,
                             const InfoHash& ih)
    : ex_(std::move(ex)), dial_(std::move(dial)), mode_(mode), ih_(ih) {
  if (mode_ == EncryptionMode::allow) {
    current_ = dial_();
  } else {
    auto o = mse_options(mode_);
    o.info_hash = ih_;
    auto s = std::make_unique<MseStream>(ex_, dial_(), std::move(o));
    mse_ = s.get();
    current_ = std::move(s);
  }
}

void MseDialStream::async_connect(ConnectHandler done) {
  current_->async_connect(
      [this, done = std::move(done)](const boost::system::error_code& ec) mutable {
        bool handshake_failed = ec == make_error_code(MseError::handshake_failed);
        if (!handshake_failed || mode_ == EncryptionMode::require || redialed_ || closed_)
          return done(ec);
        redialed_ = true;
        current_->close();
        retired_ = std::move(current_);  // its handler is the one running now
        current_ = dial_();
        mse_ = nullptr;
        current_->async_connect(std::move(done));
      });
}

void MseDialStream::async_write(std::span<const std::uint8_t> buf, IoHandler done) {
  std::span<const std::uint8_t> one[] = {buf};
  async_write(one, std::move(done));
}

void MseDialStream::async_write(std::span<const std::span<const std::uint8_t>> bufs,
                                IoHandler done) {
  if (mode_ != EncryptionMode::allow || redialed_ || heard_)
    return current_->async_write(bufs, std::move(done));
  replay_.write(*current_, bufs, std::move(done));
}

void MseDialStream::async_read_some(std::span<std::uint8_t> buf, IoHandler done) {
  if (mode_ != EncryptionMode::allow || redialed_ || heard_)
    return current_->async_read_some(buf, std::move(done));
  current_->async_read_some(buf, [this, buf, done = std::move(done)](
                                     const boost::system::error_code& ec, std::size_t n) mutable {
    if (n > 0 || !ec) {
      heard_ = true;
      replay_.clear();
      return done(ec, n);
    }
    if (closed_ || replay_.overflowed() || ec == boost::asio::error::operation_aborted)
      return done(ec, n);
    redialed_ = true;
    current_->close();
    retired_ = std::move(current_);
    auto o = mse_options(EncryptionMode::prefer);
    o.info_hash = ih_;
    auto s = std::make_unique<MseStream>(ex_, dial_(), std::move(o));
    mse_ = s.get();
    current_ = std::move(s);
    current_->async_connect(
        [this, buf, ec, done = std::move(done)](const boost::system::error_code& cec) mutable {
          if (cec || closed_) return done(ec, 0);
          current_->async_write(replay_.bytes(),
                                [this, buf, ec, done = std::move(done)](
                                    const boost::system::error_code& wec, std::size_t) mutable {
                                  if (wec || closed_) return done(ec, 0);
                                  replay_.clear();
                                  current_->async_read_some(buf, std::move(done));
                                });
        });
  });
}

void MseDialStream::close() {
  closed_ = true;
  current_->close();
}

std::uint32_t MseDialStream::method() const {
  return mse_ ? mse_->method() : 0;
}

}  // namespace p2p
