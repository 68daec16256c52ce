// The session's one UDP port: handlers see datagrams in order until one takes them, sends
// that the socket cannot take at once wait in a bounded queue, and the session binds it on
// the TCP listen port.
#include "p2p/transport/udp_socket.hpp"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "p2p/session/session.hpp"

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Endpoint = p2p::UdpSocket::Endpoint;

Endpoint loopback(std::uint16_t port) {
  return Endpoint(asio::ip::make_address("127.0.0.1"), port);
}

std::span<const std::uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

template <class Pred>
void run_until(asio::io_context& io, Pred done) {
  auto until = std::chrono::steady_clock::now() + 3s;
  while (!done() && std::chrono::steady_clock::now() < until) io.run_for(5ms);
}

TEST(UdpSocket, HandlersAreOfferedEachDatagramInOrderUntilOneTakesIt) {
  asio::io_context io;
  p2p::UdpSocket a(io, 0, false), b(io, 0, false);
  std::vector<std::string> first, second, third;
  a.add_handler([&](const Endpoint&, std::span<const std::uint8_t> d) {
    first.emplace_back(d.begin(), d.end());
    return false;
  });
  int second_id = a.add_handler([&](const Endpoint& from, std::span<const std::uint8_t> d) {
    EXPECT_EQ(from.port(), b.port());
    second.emplace_back(d.begin(), d.end());
    return d.size() > 0 && d[0] == 'd';  // takes what looks like a dictionary
  });
  a.add_handler([&](const Endpoint&, std::span<const std::uint8_t> d) {
    third.emplace_back(d.begin(), d.end());
    return true;
  });
  EXPECT_TRUE(b.send_to(loopback(a.port()), bytes("d1:ai1ee")));
  EXPECT_TRUE(b.send_to(loopback(a.port()), bytes("\x01rest")));
  run_until(io, [&] { return first.size() == 2; });
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(second.size(), 2u);
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third[0], "\x01rest");

  // Once removed, a handler sees nothing more.
  a.remove_handler(second_id);
  EXPECT_TRUE(b.send_to(loopback(a.port()), bytes("d1:bi2ee")));
  run_until(io, [&] { return first.size() == 3; });
  EXPECT_EQ(second.size(), 2u);
  EXPECT_EQ(third.size(), 2u);
  EXPECT_EQ(a.unclaimed(), 0u);
}

TEST(UdpSocket, NobodysDatagramIsCountedAndDropped) {
  asio::io_context io;
  p2p::UdpSocket a(io, 0, false), b(io, 0, false);
  b.send_to(loopback(a.port()), bytes("junk"));
  run_until(io, [&] { return a.unclaimed() == 1; });
  EXPECT_EQ(a.unclaimed(), 1u);
}

TEST(UdpSocket, ABurstLargerThanTheSocketBufferIsQueuedNotLost) {
  asio::io_context io;
  p2p::UdpSocket a(io, 0, false), b(io, 0, false);
  std::size_t got = 0;
  a.add_handler([&](const Endpoint&, std::span<const std::uint8_t>) {
    ++got;
    return true;
  });
  // 3,000 datagrams of 1,400 bytes sent without running the loop: what the kernel does not
  // take at once waits in the queue, which is below its bounds.
  std::string payload(1400, 'x');
  std::size_t accepted = 0;
  for (int i = 0; i < 3000; ++i) accepted += b.send_to(loopback(a.port()), bytes(payload));
  EXPECT_EQ(accepted, 3000u);
  run_until(io, [&] { return got + a.unclaimed() >= 3000 || b.dropped_sends() > 0; });
  EXPECT_EQ(b.dropped_sends(), 0u);
  // The receiver's kernel buffer may still drop some under load; most arrive.
  EXPECT_GT(got, 1000u);
}

TEST(UdpSocket, SendsToAFamilyWithoutASocketAreRefused) {
  asio::io_context io;
  p2p::UdpSocket a(io, 0, false);
  EXPECT_FALSE(a.send_to(Endpoint(asio::ip::make_address("::1"), 9), bytes("x")));
  EXPECT_EQ(a.dropped_sends(), 1u);
  a.close();
  EXPECT_FALSE(a.send_to(loopback(9), bytes("x")));
}

TEST(UdpSocket, TheSessionBindsItOnTheTcpListenPort) {
  asio::io_context io;
  p2p::SessionSettings settings;
  settings.listen_ipv6 = false;
  p2p::Session session(io, settings);
  EXPECT_EQ(session.udp(), nullptr);
  session.listen();
  ASSERT_NE(session.udp(), nullptr);
  EXPECT_EQ(session.udp()->port(), session.listen_port());
}

}  // namespace
