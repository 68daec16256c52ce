// Dht nodes on loopback, each on a UDP socket of its own: bootstrap, announce and get_peers
// between them, and the state file.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include <boost/asio/io_context.hpp>

#include "p2p/dht/dht.hpp"
#include "p2p/transport/udp_socket.hpp"

namespace {

using namespace p2p::dht;
using boost::asio::ip::make_address;
using boost::asio::ip::tcp;

bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
               std::chrono::milliseconds limit = std::chrono::milliseconds(3000)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.run_for(std::chrono::milliseconds(5));
    io.restart();
  }
  return true;
}

std::string at(const p2p::UdpSocket& s) {
  return "127.0.0.1:" + std::to_string(s.port());
}

TEST(DhtNode, BootstrapAnnounceAndGetPeers) {
  boost::asio::io_context io;
  p2p::UdpSocket ua(io, 0, false), ub(io, 0, false), uc(io, 0, false);
  Dht b(io, ub, {});
  b.start();
  DhtSettings to_b;
  to_b.bootstrap = {at(ub)};
  Dht a(io, ua, to_b);
  Dht c(io, uc, to_b);
  a.start();
  c.start();
  ASSERT_TRUE(run_until(io, [&] { return a.num_nodes() >= 1 && c.num_nodes() >= 1; }));
  // b heard their queries and keeps them (questionable until they answer b).
  EXPECT_GE(b.num_nodes(), 1u);

  p2p::InfoHash ih{};
  ih[0] = 0x42;
  bool a_done = false;
  a.get_peers(ih, 5555, [&](const Dht::Peers& peers) {
    EXPECT_TRUE(peers.empty());
    a_done = true;
  });
  ASSERT_TRUE(
      run_until(io, [&] { return a_done && b.num_stored_peers() + c.num_stored_peers() > 0; }));

  Dht::Peers found;
  bool c_done = false;
  c.get_peers(ih, 0, [&](const Dht::Peers& peers) {
    found = peers;
    c_done = true;
  });
  ASSERT_TRUE(run_until(io, [&] { return c_done; }));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0], tcp::endpoint(make_address("127.0.0.1"), 5555));
  a.stop();
  b.stop();
  c.stop();
}

TEST(DhtNode, StateFileKeepsTheIdAndNodes) {
  auto dir = std::filesystem::temp_directory_path() / ("dht-state-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto file = dir / "dht.dat";
  boost::asio::io_context io;
  p2p::UdpSocket ua(io, 0, false), ub(io, 0, false);
  Dht b(io, ub, {});
  b.start();
  NodeId first{};
  {
    DhtSettings s;
    s.bootstrap = {at(ub)};
    s.state_file = file;
    Dht a(io, ua, s);
    a.start();
    ASSERT_TRUE(run_until(io, [&] { return a.num_nodes() >= 1; }));
    first = a.id();
    a.stop();
  }
  ASSERT_TRUE(std::filesystem::exists(file));
  DhtSettings s;
  s.state_file = file;  // no bootstrap: the saved node is all it has
  Dht again(io, ua, s);
  EXPECT_EQ(again.id(), first);
  again.start();
  EXPECT_TRUE(run_until(io, [&] { return again.num_nodes() >= 1; }));
  again.stop();
  b.stop();
  std::filesystem::remove_all(dir);
}

TEST(DhtNode, DropsWhatIsNotKrpcAndAnswersAFloodOnlyUpToTheLimit) {
  boost::asio::io_context io;
  p2p::UdpSocket ua(io, 0, false);
  DhtSettings s;
  s.answers_per_ip = 5;  // bursts of 20
  Dht a(io, ua, s);
  a.start();
  EXPECT_FALSE(a.on_datagram(p2p::dht::UdpEndpoint(make_address("127.0.0.1"), 9),
                             {reinterpret_cast<const std::uint8_t*>("hello"), 5}));
  boost::asio::ip::udp::socket raw(io, {boost::asio::ip::udp::v4(), 0});
  std::string ping = "d1:ad2:id20:abcdefghijklmnopqrste1:q4:ping1:t2:aa1:y1:qe";
  boost::asio::ip::udp::endpoint to(make_address("127.0.0.1"), ua.port());
  for (int i = 0; i < 100; ++i) raw.send_to(boost::asio::buffer(ping), to);
  run_until(
      io, [] { return false; }, std::chrono::milliseconds(300));
  int answers = 0;
  raw.non_blocking(true);
  char buf[2048];
  boost::system::error_code ec;
  while (raw.receive(boost::asio::buffer(buf), 0, ec) > 0 && !ec) ++answers;
  EXPECT_GE(answers, 15);
  EXPECT_LE(answers, 25);
  a.stop();
}

}  // namespace
