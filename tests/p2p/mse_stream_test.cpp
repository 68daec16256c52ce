#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "p2p/transport/mse_stream.hpp"
#include "p2p/transport/tcp_stream.hpp"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
namespace mse = p2p::mse;

p2p::InfoHash ih() {
  p2p::InfoHash h;
  h.fill(0x42);
  return h;
}

mse::Handshake::Options dialer(std::uint32_t methods) {
  mse::Handshake::Options o;
  o.methods = methods;
  o.info_hash = ih();
  return o;
}

mse::Handshake::Options listener(std::uint32_t methods, bool knows = true) {
  mse::Handshake::Options o;
  o.methods = methods;
  o.find_torrent = [knows](const p2p::Sha1Digest& req2) -> std::optional<p2p::InfoHash> {
    if (knows && mse::req2_hash(ih()) == req2) return ih();
    return std::nullopt;
  };
  return o;
}

struct Loopback {
  asio::io_context io;
  tcp::acceptor acc{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::unique_ptr<p2p::Stream> accepted;
  std::unique_ptr<p2p::TcpStream> dial() {
    auto s = std::make_unique<p2p::TcpStream>(io, p2p::PeerAddress(acc.local_endpoint()), 0);
    acc.async_accept([this](const boost::system::error_code& ec, tcp::socket sock) {
      ASSERT_FALSE(ec);
      accepted = std::make_unique<p2p::TcpStream>(std::move(sock), 0);
    });
    return s;
  }
  void run_until(const std::function<bool()>& pred) {
    for (int i = 0; i < 20000 && !pred(); ++i) {
      if (io.stopped()) io.restart();
      io.run_one_for(std::chrono::milliseconds(1));
    }
  }
};

// Reads until `want` bytes arrived or an error.
void read_all(p2p::Stream& s, std::vector<std::uint8_t>& into, std::size_t want,
              boost::system::error_code& err) {
  auto buf = std::make_shared<std::vector<std::uint8_t>>(16384);
  s.async_read_some(
      *buf, [&s, &into, want, &err, buf](const boost::system::error_code& ec, std::size_t n) {
        into.insert(into.end(), buf->begin(), buf->begin() + static_cast<std::ptrdiff_t>(n));
        if (ec) {
          err = ec;
          return;
        }
        if (into.size() < want) read_all(s, into, want, err);
      });
}

std::vector<std::uint8_t> pattern(std::size_t n, std::uint8_t seed) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i * 31 + seed + i / 251);
  return v;
}

void round_trip(std::uint32_t offered, std::uint32_t accepted_methods, std::uint32_t expect) {
  Loopback lb;
  p2p::MseStream out(lb.io.get_executor(), lb.dial(), dialer(offered));
  boost::system::error_code connect_ec = asio::error::would_block;
  out.async_connect([&](const boost::system::error_code& ec) { connect_ec = ec; });
  lb.run_until([&] { return lb.accepted != nullptr; });
  ASSERT_TRUE(lb.accepted);
  p2p::MseStream in(lb.io.get_executor(), std::move(lb.accepted), listener(accepted_methods), true);

  // Both directions at once, the dialer with a gather write of two runs.
  auto a1 = pattern(300000, 1), a2 = pattern(5000, 2), b = pattern(200000, 3);
  std::vector<std::uint8_t> got_in, got_out;
  boost::system::error_code err_in, err_out;
  read_all(in, got_in, a1.size() + a2.size(), err_in);
  bool wrote_in = false, wrote_out = false;
  in.async_write(std::span<const std::uint8_t>(b),
                 [&](const boost::system::error_code& ec, std::size_t) {
                   EXPECT_FALSE(ec);
                   wrote_in = true;
                 });
  lb.run_until([&] { return connect_ec != asio::error::would_block; });
  ASSERT_FALSE(connect_ec) << connect_ec.message() << " " << out.error();
  std::span<const std::uint8_t> runs[] = {a1, a2};
  out.async_write(runs, [&](const boost::system::error_code& ec, std::size_t) {
    EXPECT_FALSE(ec);
    wrote_out = true;
  });
  read_all(out, got_out, b.size(), err_out);
  lb.run_until([&] {
    return wrote_in && wrote_out && got_in.size() >= a1.size() + a2.size() &&
           got_out.size() >= b.size();
  });
  EXPECT_FALSE(err_in);
  EXPECT_FALSE(err_out);
  auto want = a1;
  want.insert(want.end(), a2.begin(), a2.end());
  EXPECT_EQ(got_in, want);
  EXPECT_EQ(got_out, b);
  EXPECT_EQ(out.method(), expect);
  EXPECT_EQ(in.method(), expect);
}

TEST(MseStream, Rc4BothWaysOverLoopback) {
  round_trip(mse::kRc4 | mse::kPlaintext, mse::kRc4 | mse::kPlaintext, mse::kRc4);
}

TEST(MseStream, PlaintextMethodBothWaysOverLoopback) {
  round_trip(mse::kRc4 | mse::kPlaintext, mse::kPlaintext, mse::kPlaintext);
}

TEST(MseStream, PlainBitTorrentPeerPassesThroughWhenAllowed) {
  for (bool allow : {true, false}) {
    Loopback lb;
    auto raw = lb.dial();
    bool connected = false;
    raw->async_connect([&](const boost::system::error_code& ec) { connected = !ec; });
    lb.run_until([&] { return connected && lb.accepted; });
    ASSERT_TRUE(connected);
    p2p::MseStream in(lb.io.get_executor(), std::move(lb.accepted), listener(mse::kRc4), allow);
    std::string hello =
        "\x13"
        "BitTorrent protocol and more";
    std::vector<std::uint8_t> hb(hello.begin(), hello.end());
    raw->async_write(std::span<const std::uint8_t>(hb),
                     [](const boost::system::error_code&, std::size_t) {});
    std::vector<std::uint8_t> got;
    boost::system::error_code err;
    read_all(in, got, hb.size(), err);
    lb.run_until([&] { return got.size() >= hb.size() || err; });
    if (allow) {
      EXPECT_FALSE(err);
      EXPECT_EQ(got, hb);
      EXPECT_EQ(in.method(), 0u);
    } else {
      EXPECT_EQ(err, p2p::make_error_code(p2p::MseError::plaintext_refused));
      EXPECT_TRUE(got.empty());
    }
  }
}

TEST(MseStream, UnknownTorrentFailsTheDialAsAHandshakeFailure) {
  Loopback lb;
  p2p::MseStream out(lb.io.get_executor(), lb.dial(), dialer(mse::kRc4));
  boost::system::error_code connect_ec = asio::error::would_block;
  out.async_connect([&](const boost::system::error_code& ec) { connect_ec = ec; });
  lb.run_until([&] { return lb.accepted != nullptr; });
  ASSERT_TRUE(lb.accepted);
  p2p::MseStream in(lb.io.get_executor(), std::move(lb.accepted), listener(mse::kRc4, false),
                    false);
  std::vector<std::uint8_t> got;
  boost::system::error_code err;
  read_all(in, got, 1, err);
  lb.run_until([&] { return bool(err); });
  EXPECT_EQ(err, p2p::make_error_code(p2p::MseError::handshake_failed));
  EXPECT_EQ(in.error(), "unknown torrent");
  in.close();  // as the connection owning it would
  lb.run_until([&] { return connect_ec != asio::error::would_block; });
  EXPECT_EQ(connect_ec, p2p::make_error_code(p2p::MseError::handshake_failed));
}

TEST(MseStream, RefusedConnectionIsNotAHandshakeFailure) {
  asio::io_context io;
  tcp::endpoint ep;
  {
    tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    ep = a.local_endpoint();
  }
  p2p::MseStream out(io.get_executor(),
                     std::make_unique<p2p::TcpStream>(io, p2p::PeerAddress(ep), 0),
                     dialer(mse::kRc4));
  boost::system::error_code connect_ec = asio::error::would_block;
  out.async_connect([&](const boost::system::error_code& ec) { connect_ec = ec; });
  for (int i = 0; i < 5000 && connect_ec == asio::error::would_block; ++i)
    io.run_one_for(std::chrono::milliseconds(1));
  EXPECT_EQ(connect_ec, asio::error::connection_refused);
}

}  // namespace
