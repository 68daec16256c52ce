#include "p2p/transport/mse_stream.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include <boost/asio/post.hpp>

#include "p2p/transport/abandon_guard.hpp"

namespace p2p {
namespace {

constexpr std::size_t kPlainPrefix = 20;  // 19, "BitTorrent protocol"
constexpr char kProtocol[] =
    "\x13"
    "BitTorrent protocol";

class MseCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "mse"; }
  std::string message(int ev) const override {
    switch (static_cast<MseError>(ev)) {
      case MseError::handshake_failed:
        return "encryption handshake failed";
      case MseError::plaintext_refused:
        return "plaintext peer refused: encryption required";
    }
    return "mse error";
  }
};

}  // namespace

const boost::system::error_category& mse_category() {
  static const MseCategory c;
  return c;
}

boost::system::error_code make_error_code(MseError e) {
  return {static_cast<int>(e), mse_category()};
}

MseStream::MseStream(boost::asio::any_io_executor ex, std::unique_ptr<Stream> inner,
                     mse::Handshake::Options options)
    : ex_(std::move(ex)),
      inner_(std::move(inner)),
      outgoing_(true),
      accept_plaintext_(false),
      options_(std::move(options)) {}

MseStream::MseStream(boost::asio::any_io_executor ex, std::unique_ptr<Stream> inner,
                     mse::Handshake::Options options, bool accept_plaintext)
    : ex_(std::move(ex)),
      inner_(std::move(inner)),
      outgoing_(false),
      accept_plaintext_(accept_plaintext),
      options_(std::move(options)) {}

void MseStream::async_connect(ConnectHandler done) {
  if (!outgoing_) return ensure_open(std::move(done));
  if (phase_ != Phase::idle) return ensure_open(std::move(done));
  phase_ = Phase::detecting;  // not yet handshaking: a refused connection stays refused
  waiting_.push_back(std::move(done));
  // Connecting counts as part of the handshake: a dial still pending when the io_context
  // goes lets go of the connection waiting in waiting_.
  inner_->async_connect([this, g = abandon_guard()](const boost::system::error_code& ec) {
    *g = true;
    if (ec) return finish(ec);
    start_handshake({});
  });
}

void MseStream::ensure_open(ConnectHandler then) {
  switch (phase_) {
    case Phase::open:
      return then({});
    case Phase::failed:
      return then(make_error_code(MseError::handshake_failed));
    case Phase::idle:
      waiting_.push_back(std::move(then));
      phase_ = Phase::detecting;
      return detect();
    case Phase::detecting:
    case Phase::handshaking:
      waiting_.push_back(std::move(then));
      return;
  }
}

void MseStream::detect() {
  // Enough bytes to tell a plain handshake from an MSE public key: the first byte, and all
  // twenty if it is 19.
  bool decided = !hs_in_.empty() && (hs_in_[0] != kProtocol[0] || hs_in_.size() >= kPlainPrefix);
  if (decided) {
    bool plain = std::memcmp(hs_in_.data(), kProtocol, kPlainPrefix) == 0;
    if (!plain) {
      std::vector<std::uint8_t> first;
      first.swap(hs_in_);
      return start_handshake(std::move(first));
    }
    if (!accept_plaintext_) {
      error_ = "plaintext peer, encryption required";
      return finish(make_error_code(MseError::plaintext_refused));
    }
    pending_.swap(hs_in_);
    method_ = 0;
    return finish({});
  }
  std::size_t have = hs_in_.size();
  hs_in_.resize(kPlainPrefix);
  inner_->async_read_some(
      std::span(hs_in_).subspan(have),
      [this, have, g = abandon_guard()](const boost::system::error_code& ec, std::size_t n) {
        *g = true;
        hs_in_.resize(have + (ec ? 0 : n));
        if (ec) return finish(ec);
        detect();
      });
}

void MseStream::start_handshake(std::vector<std::uint8_t> first) {
  phase_ = Phase::handshaking;
  hs_ = std::make_unique<mse::Handshake>(
      outgoing_ ? mse::Handshake::Role::initiator : mse::Handshake::Role::responder, options_);
  if (!first.empty()) hs_->on_bytes(first);
  drive();
}

void MseStream::drive() {
  hs_out_ = hs_->take_output();
  if (!hs_out_.empty()) {
    // Write what the handshake has to say before reading more: each side speaks in turn.
    return inner_->async_write(
        std::span<const std::uint8_t>(hs_out_),
        [this, g = abandon_guard()](const boost::system::error_code& ec, std::size_t) {
          *g = true;
          if (ec) return finish(ec);
          drive();
        });
  }
  if (hs_->state() == mse::Handshake::State::failed) {
    error_ = hs_->error();
    return finish(make_error_code(MseError::handshake_failed));
  }
  if (hs_->state() == mse::Handshake::State::done) {
    method_ = hs_->method();
    enc_ = hs_->encryptor();
    dec_ = hs_->decryptor();
    pending_ = std::move(hs_->initial_payload());
    auto& rest = hs_->payload();
    if (method_ == mse::kRc4) dec_.apply(rest);
    pending_.insert(pending_.end(), rest.begin(), rest.end());
    hs_.reset();
    return finish({});
  }
  hs_in_.resize(1024);
  inner_->async_read_some(
      hs_in_, [this, g = abandon_guard()](const boost::system::error_code& ec, std::size_t n) {
        *g = true;
        if (ec) return finish(ec);
        hs_->on_bytes(std::span(hs_in_).first(n));
        drive();
      });
}

// The operations waiting for the handshake hold their connection, which holds this stream:
// when the io_context goes away with a handshake read or write that never ran, they are let
// go, or the three would keep each other alive.
std::shared_ptr<bool> MseStream::abandon_guard() {
  return make_abandon_guard(alive_, [this] {
    auto waiting = std::move(waiting_);
    waiting_.clear();
    // `waiting` may hold the last reference to this stream: nothing of it is used after.
  });
}

void MseStream::finish(const boost::system::error_code& result) {
  boost::system::error_code ec = result;
  if (ec && phase_ == Phase::handshaking && ec.category() != mse_category()) {
    // The connection was made: whatever ends it now is a failed handshake, which a caller
    // may answer differently from a refused connection.
    error_ = ec.message();
    ec = make_error_code(MseError::handshake_failed);
  }
  phase_ = ec ? Phase::failed : Phase::open;
  hs_in_ = {};
  hs_out_ = {};
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& w : waiting) w(ec);
}

void MseStream::async_read_some(std::span<std::uint8_t> buf, IoHandler done) {
  if (phase_ != Phase::open) {
    return ensure_open(
        [this, buf, done = std::move(done)](const boost::system::error_code& ec) mutable {
          if (ec) return done(ec, 0);
          async_read_some(buf, std::move(done));
        });
  }
  if (pending_at_ < pending_.size()) {
    std::size_t n = std::min(buf.size(), pending_.size() - pending_at_);
    std::memcpy(buf.data(), pending_.data() + pending_at_, n);
    pending_at_ += n;
    if (pending_at_ == pending_.size()) {
      pending_ = {};
      pending_at_ = 0;
    }
    boost::asio::post(ex_, [done = std::move(done), n] { done({}, n); });
    return;
  }
  if (method_ != mse::kRc4) return inner_->async_read_some(buf, std::move(done));
  inner_->async_read_some(
      buf, [this, buf, done = std::move(done)](const boost::system::error_code& ec, std::size_t n) {
        if (n > 0) dec_.apply(buf.first(n));
        done(ec, n);
      });
}

void MseStream::async_write(std::span<const std::uint8_t> buf, IoHandler done) {
  std::span<const std::span<const std::uint8_t>> one(&buf, 1);
  async_write(one, std::move(done));
}

void MseStream::async_write(std::span<const std::span<const std::uint8_t>> bufs, IoHandler done) {
  if (phase_ != Phase::open) {
    // The list need not outlive the call, the bytes do: keep the runs.
    std::vector<std::span<const std::uint8_t>> runs(bufs.begin(), bufs.end());
    return ensure_open([this, runs = std::move(runs),
                        done = std::move(done)](const boost::system::error_code& ec) mutable {
      if (ec) return done(ec, 0);
      async_write(runs, std::move(done));
    });
  }
  if (method_ != mse::kRc4) return inner_->async_write(bufs, std::move(done));
  std::size_t total = 0;
  for (const auto& b : bufs) total += b.size();
  wbuf_.resize(total);
  std::size_t at = 0;
  for (const auto& b : bufs) {
    enc_.apply(b, wbuf_.data() + at);
    at += b.size();
  }
  inner_->async_write(std::span<const std::uint8_t>(wbuf_), std::move(done));
}

}  // namespace p2p
