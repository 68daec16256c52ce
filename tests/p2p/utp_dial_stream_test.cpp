// The uTP/TCP race of an outgoing stream, over scripted streams, and a session that dials a
// peer which takes TCP only while its UDP port stays silent.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include <unistd.h>

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "p2p/session/session.hpp"
#include "p2p/torrent/torrent.hpp"
#include "p2p/transport/utp_dial_stream.hpp"
#include "swarm_torrent.hpp"

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Bytes = std::vector<std::uint8_t>;
using boost::system::error_code;

// What became of one scripted stream.
struct Record {
  bool dialed = false;
  bool closed = false;
  Bytes written;
};

// Connects after `after` with `result`, or never when `after` is negative.
class ScriptedStream final : public p2p::Stream {
 public:
  ScriptedStream(asio::io_context& io, std::shared_ptr<Record> rec, bool utp,
                 std::chrono::milliseconds after, error_code result)
      : io_(io), rec_(std::move(rec)), utp_(utp), after_(after), result_(result), timer_(io) {}

  void async_connect(ConnectHandler done) override {
    rec_->dialed = true;
    done_ = std::move(done);
    if (after_ < 0ms) return;
    timer_.expires_after(after_);
    timer_.async_wait([this](const error_code& ec) {
      if (ec || !done_) return;
      open_ = !result_;
      take()(result_);
    });
  }
  void async_read_some(std::span<std::uint8_t>, IoHandler done) override {
    read_ = std::move(done);
  }
  void async_write(std::span<const std::uint8_t> buf, IoHandler done) override {
    std::span<const std::uint8_t> one[] = {buf};
    async_write(one, std::move(done));
  }
  void async_write(std::span<const std::span<const std::uint8_t>> bufs, IoHandler done) override {
    std::size_t n = 0;
    for (auto b : bufs) {
      rec_->written.insert(rec_->written.end(), b.begin(), b.end());
      n += b.size();
    }
    asio::post(io_, [done = std::move(done), n] { done({}, n); });
  }
  void close() override {
    rec_->closed = true;
    open_ = false;
    timer_.cancel();
    if (done_) asio::post(io_, [d = take()] { d(asio::error::operation_aborted); });
    if (read_) {
      auto r = std::move(read_);
      read_ = nullptr;
      asio::post(io_, [r] { r(asio::error::operation_aborted, 0); });
    }
  }
  bool is_open() const override { return open_; }
  const p2p::PeerAddress& remote() const override { return remote_; }
  bool is_utp() const override { return utp_; }

 private:
  ConnectHandler take() {
    auto d = std::move(done_);
    done_ = nullptr;
    return d;
  }
  asio::io_context& io_;
  std::shared_ptr<Record> rec_;
  bool utp_;
  std::chrono::milliseconds after_;
  error_code result_;
  asio::steady_timer timer_;
  ConnectHandler done_;
  IoHandler read_;
  bool open_ = false;
  p2p::PeerAddress remote_{asio::ip::make_address("127.0.0.1"), 6881};
};

struct Race {
  asio::io_context io;
  std::shared_ptr<Record> utp = std::make_shared<Record>(), tcp = std::make_shared<Record>();
  std::unique_ptr<p2p::UtpDialStream> s;
  std::optional<error_code> result;
  std::chrono::milliseconds took{};

  // Negative `after`: that dial is never answered.
  Race(std::chrono::milliseconds utp_after, error_code utp_ec, std::chrono::milliseconds tcp_after,
       error_code tcp_ec, std::chrono::milliseconds timeout, std::chrono::milliseconds head_start) {
    s = std::make_unique<p2p::UtpDialStream>(
        io.get_executor(),
        [=, this] { return std::make_unique<ScriptedStream>(io, utp, true, utp_after, utp_ec); },
        [=, this] { return std::make_unique<ScriptedStream>(io, tcp, false, tcp_after, tcp_ec); },
        timeout, head_start);
  }
  void connect() {
    auto start = std::chrono::steady_clock::now();
    s->async_connect([&](const error_code& ec) {
      result = ec;
      took = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start);
    });
    while (!result && io.run_one_for(3s)) {
    }
    poll();  // the loser's handlers
  }
  void poll() {
    io.restart();
    io.poll();
  }
};

const error_code kRefused = asio::error::connection_refused;

TEST(UtpDialStream, TcpWinsWhenUtpIsSilentPastTheHeadStart) {
  Race r(-1ms, {}, 5ms, {}, 2500ms, 40ms);
  r.connect();
  ASSERT_TRUE(r.result);
  EXPECT_FALSE(*r.result);
  EXPECT_LT(r.took, 1000ms);
  EXPECT_GE(r.took, 40ms);
  EXPECT_FALSE(r.s->is_utp());
  EXPECT_TRUE(r.utp->closed);  // never two live connections
  EXPECT_FALSE(r.tcp->closed);
  Bytes hello = {1, 2, 3};
  bool wrote = false;
  r.s->async_write(hello, [&](const error_code& ec, std::size_t) { wrote = !ec; });
  r.poll();
  EXPECT_TRUE(wrote);
  EXPECT_EQ(r.tcp->written, hello);
  EXPECT_TRUE(r.utp->written.empty());
}

TEST(UtpDialStream, UtpAnsweringWithinTheHeadStartDialsNoTcp) {
  Race r(5ms, {}, 5ms, {}, 2500ms, 200ms);
  r.connect();
  ASSERT_TRUE(r.result);
  EXPECT_FALSE(*r.result);
  EXPECT_TRUE(r.s->is_utp());
  EXPECT_FALSE(r.tcp->dialed);
}

TEST(UtpDialStream, UtpWinsTheRaceAndTcpIsClosed) {
  Race r(60ms, {}, -1ms, {}, 2500ms, 20ms);
  r.connect();
  ASSERT_TRUE(r.result);
  EXPECT_FALSE(*r.result);
  EXPECT_TRUE(r.s->is_utp());
  EXPECT_TRUE(r.tcp->dialed);
  EXPECT_TRUE(r.tcp->closed);
  Bytes hello = {9};
  r.s->async_write(hello, [](const error_code&, std::size_t) {});
  r.poll();
  EXPECT_EQ(r.utp->written, hello);
  EXPECT_TRUE(r.tcp->written.empty());
}

TEST(UtpDialStream, RefusedTcpLeavesTheRaceToUtp) {
  Race r(80ms, {}, 1ms, kRefused, 2500ms, 20ms);
  r.connect();
  ASSERT_TRUE(r.result);
  EXPECT_FALSE(*r.result);
  EXPECT_TRUE(r.s->is_utp());
}

TEST(UtpDialStream, BothFailingReportsTheError) {
  Race r(60ms, kRefused, 1ms, kRefused, 2500ms, 20ms);
  r.connect();
  ASSERT_TRUE(r.result);
  EXPECT_EQ(*r.result, kRefused);
  EXPECT_LT(r.took, 1000ms);
}

TEST(UtpDialStream, UtpResetDialsTcpAtOnce) {
  Race r(1ms, kRefused, 1ms, {}, 2500ms, 500ms);
  r.connect();
  ASSERT_TRUE(r.result);
  EXPECT_FALSE(*r.result);
  EXPECT_LT(r.took, 300ms);
  EXPECT_FALSE(r.s->is_utp());
}

TEST(UtpDialStream, WithoutARaceTcpFollowsTheTimeout) {
  Race r(-1ms, {}, 1ms, {}, 60ms, 60ms);
  r.connect();
  ASSERT_TRUE(r.result);
  EXPECT_FALSE(*r.result);
  EXPECT_GE(r.took, 60ms);
  EXPECT_TRUE(r.utp->closed);
  EXPECT_FALSE(r.s->is_utp());
}

TEST(UtpDialStream, CloseDuringTheRaceEndsBoth) {
  Race r(-1ms, {}, -1ms, {}, 2500ms, 10ms);
  asio::steady_timer t(r.io, 40ms);
  t.async_wait([&](const error_code&) { r.s->close(); });
  r.connect();
  ASSERT_TRUE(r.result);
  EXPECT_TRUE(*r.result);
  EXPECT_TRUE(r.utp->closed);
  EXPECT_TRUE(r.tcp->dialed);
  EXPECT_TRUE(r.tcp->closed);
}

// A peer on TCP only whose UDP port takes datagrams and never answers (as a firewall that
// drops them does): the session must not wait out the uTP timeout before it is connected.
TEST(UtpDialStream, SessionReachesATcpOnlyPeerWellBeforeTheUtpTimeout) {
  auto dir =
      std::filesystem::temp_directory_path() / ("bttnode-dialrace-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  setenv("BTTNODE_STATE_DIR", (dir / "state").c_str(), 1);
  std::string content;
  p2p::Metainfo meta = test_support::make_swarm_torrent(dir, 70000, 16384, &content, 5);
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  std::uint16_t port = acceptor.local_endpoint().port();
  boost::system::error_code bind_ec;
  asio::ip::udp::socket silent(io);
  silent.open(asio::ip::udp::v4());
  silent.bind({asio::ip::make_address("127.0.0.1"), port}, bind_ec);
  if (bind_ec) GTEST_SKIP() << "UDP port " << port << " is taken";

  p2p::SessionSettings ss;
  ss.listen_ipv6 = false;
  ss.enable_utp = true;
  ASSERT_EQ(ss.utp_connect_timeout, 2500ms);
  p2p::Session session(io, ss);
  session.listen();
  asio::ip::tcp::socket peer(io);
  std::optional<std::chrono::steady_clock::duration> took;
  auto start = std::chrono::steady_clock::now();
  acceptor.async_accept(peer, [&](const error_code& ec) {
    if (!ec) took = std::chrono::steady_clock::now() - start;
  });
  p2p::AddTorrentParams p;
  p.metainfo = meta;
  p.save_path = dir / "out";
  p.resume_file = dir / "leech.resume";
  p.peers = {asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port)};
  auto t = session.add_torrent(p);
  auto deadline = start + 3s;
  while (!took && std::chrono::steady_clock::now() < deadline) io.run_for(10ms);
  ASSERT_TRUE(took) << "no TCP connection within 3 s";
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*took);
  RecordProperty("connect_ms", int(ms.count()));
  EXPECT_LT(ms, 1500ms);
  t->pause();
  peer.close();
  io.run_for(50ms);
  std::error_code rm;
  std::filesystem::remove_all(dir, rm);
}

}  // namespace
