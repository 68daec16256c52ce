#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "hostile_helpers.hpp"
#include "p2p/transport/utp_stream.hpp"

namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using Bytes = std::vector<std::uint8_t>;

// Two managers whose datagrams reach each other through the io_context, as over loopback.
struct Twins {
  asio::io_context io;
  udp::endpoint ea{asio::ip::make_address("127.0.0.1"), 1111};
  udp::endpoint eb{asio::ip::make_address("127.0.0.1"), 2222};
  std::unique_ptr<p2p::UtpManager> a, b;
  std::size_t dropped = 0;
  explicit Twins(p2p::UtpSettings s = {}) {
    a = std::make_unique<p2p::UtpManager>(
        io, [this](const udp::endpoint& to, auto d) { return carry(*b, to, eb, ea, d); }, s);
    b = std::make_unique<p2p::UtpManager>(
        io, [this](const udp::endpoint& to, auto d) { return carry(*a, to, ea, eb, d); }, s);
  }
  bool carry(p2p::UtpManager& m, const udp::endpoint& to, const udp::endpoint& want,
             const udp::endpoint& from, std::span<const std::uint8_t> d) {
    if (to != want) {
      ++dropped;
      return false;
    }
    asio::post(io, [&m, from, v = Bytes(d.begin(), d.end())] { m.on_datagram(from, v); });
    return true;
  }
  p2p::PeerAddress addr_b() const { return {eb.address(), eb.port()}; }
};

TEST(UtpStream, ConnectsWritesAndReadsToEof) {
  Twins t;
  std::unique_ptr<p2p::UtpStream> accepted;
  t.b->set_accept([&](std::unique_ptr<p2p::UtpStream> s) { accepted = std::move(s); });
  auto out = t.a->dial(t.addr_b());
  ASSERT_TRUE(out);
  Bytes data(3 << 20);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = std::uint8_t(i * 7 + i / 1000);
  Bytes got;
  std::uint8_t buf[40000];
  boost::system::error_code read_end, connect_ec = asio::error::would_block;
  std::function<void()> read_more = [&] {
    accepted->async_read_some(buf, [&](const boost::system::error_code& ec, std::size_t n) {
      got.insert(got.end(), buf, buf + n);
      if (ec) {
        read_end = ec;
        return;
      }
      read_more();
    });
  };
  std::size_t written = 0;
  out->async_connect([&](const boost::system::error_code& ec) {
    connect_ec = ec;
    ASSERT_FALSE(ec);
    ASSERT_TRUE(accepted);
    read_more();
    // A gather write of three runs, then the stream is closed: the FIN follows the data.
    std::span<const std::uint8_t> runs[] = {
        {data.data(), 10},
        {data.data() + 10, 1 << 20},
        {data.data() + 10 + (1 << 20), data.size() - 10 - (1 << 20)}};
    out->async_write(runs, [&](const boost::system::error_code& ec, std::size_t n) {
      EXPECT_FALSE(ec);
      written = n;
      out->close();
    });
  });
  asio::steady_timer guard(t.io, std::chrono::seconds(20));
  guard.async_wait([&](auto) { t.io.stop(); });
  while (!t.io.stopped() && read_end == boost::system::error_code()) t.io.run_one();
  EXPECT_FALSE(connect_ec);
  EXPECT_EQ(written, data.size());
  EXPECT_EQ(read_end, asio::error::eof);
  EXPECT_TRUE(got == data);
  EXPECT_EQ(accepted->remote().port(), 1111);
}

TEST(UtpStream, SynWithoutListenerIsReset) {
  Twins t;  // b accepts nothing
  auto out = t.a->dial(t.addr_b());
  boost::system::error_code ec;
  bool done = false;
  out->async_connect([&](const boost::system::error_code& e) {
    ec = e;
    done = true;
  });
  while (!done && t.io.run_one_for(std::chrono::seconds(5))) {
  }
  EXPECT_TRUE(done);
  EXPECT_EQ(ec, asio::error::connection_refused);
  // Timer rounds later, the open stream still tells why.
  t.io.restart();
  t.io.run_for(std::chrono::milliseconds(40));
  EXPECT_FALSE(out->is_open());
  std::uint8_t b[16];
  done = false;
  out->async_read_some(b, [&](const boost::system::error_code& e, std::size_t) {
    ec = e;
    done = true;
  });
  t.io.restart();
  t.io.run_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(done);
  EXPECT_EQ(ec, asio::error::connection_refused);
  out.reset();
  t.io.restart();
  t.io.run_for(std::chrono::milliseconds(30));
  EXPECT_EQ(t.a->sockets(), 0u);
}

TEST(UtpStream, SocketLimitRefusesMore) {
  p2p::UtpSettings s;
  s.max_sockets = 2;
  Twins t(s);
  std::vector<std::unique_ptr<p2p::UtpStream>> acc;
  t.b->set_accept([&](std::unique_ptr<p2p::UtpStream> st) { acc.push_back(std::move(st)); });
  auto x = t.a->dial(t.addr_b());
  auto y = t.a->dial(t.addr_b());
  EXPECT_TRUE(x && y);
  EXPECT_FALSE(t.a->dial(t.addr_b()));
  EXPECT_EQ(t.a->sockets(), 2u);
}

TEST(UtpStream, LeavesOtherDatagramsAlone) {
  Twins t;
  Bytes dht = {'d', '1', ':', 'a', 'e'};
  EXPECT_FALSE(t.a->on_datagram(t.eb, dht));
  Bytes junk(20, 0x41);  // version 1, type 4, but a SYN with nobody accepting: reset
  EXPECT_TRUE(t.a->on_datagram(t.eb, junk));
}

}  // namespace

namespace {

// As a peer connection does: the stream's own pending connect holds the stream.
TEST(UtpStream, ManagerGoneWithADialPendingFreesItsSocket) {
  Twins t;  // b takes no connection: with a dropped SYN the dial stays pending
  auto eq = udp::endpoint(asio::ip::make_address("127.0.0.1"), 3333);  // nobody there
  const std::size_t before = p2p::UtpManager::live_sockets();
  auto holder =
      std::make_shared<std::unique_ptr<p2p::UtpStream>>(t.a->dial({eq.address(), eq.port()}));
  ASSERT_TRUE(*holder);
  bool called = false;
  (*holder)->async_connect([holder, &called](const boost::system::error_code&) { called = true; });
  std::weak_ptr<std::unique_ptr<p2p::UtpStream>> watch = holder;
  holder.reset();
  t.io.run_for(std::chrono::milliseconds(30));
  EXPECT_EQ(p2p::UtpManager::live_sockets(), before + 1);
  EXPECT_FALSE(called);
  t.a.reset();
  EXPECT_EQ(p2p::UtpManager::live_sockets(), before) << "freed with its manager";
  t.io.restart();
  t.io.run_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(called);  // told the dial was aborted
  EXPECT_TRUE(watch.expired());
}

// A session with uTP dials a UDP port that is bound but never read: the SYN gets no answer
// and the dial is still pending when the session goes. Every uTP socket must be freed.
TEST(UtpStream, SessionGoneWithADialPendingFreesItsSocket) {
  asio::io_context quiet_io;
  udp::socket quiet(quiet_io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const std::size_t before = p2p::UtpManager::live_sockets();
  const std::size_t streams = p2p::UtpStream::live();
  {
    p2p::SessionSettings ls;
    ls.enable_utp = true;
    ls.utp_connect_timeout = std::chrono::seconds(30);  // no TCP fallback during the test
    hostile::Pair pr(16384, 16384, ls);
    pr.add_leech(false);
    ASSERT_NE(pr.leecher->utp(), nullptr);
    pr.leech_t->connect_to(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                                   quiet.local_endpoint().port()));
    ASSERT_TRUE(
        pr.run_until([&] { return pr.leecher->utp()->sockets() > 0; }, std::chrono::seconds(5)));
    pr.io.run_for(std::chrono::milliseconds(20));
    EXPECT_GT(p2p::UtpManager::live_sockets(), before);
    pr.finished_ = {};
    pr.leech_t.reset();
    pr.leecher.reset();
    EXPECT_EQ(p2p::UtpManager::live_sockets(), before) << "freed with the session";
  }
  EXPECT_EQ(p2p::UtpManager::live_sockets(), before);
  // The io_context is gone too: the dialing connection and its stream were let go.
  EXPECT_EQ(p2p::UtpStream::live(), streams);
}

}  // namespace
