// A peer we dial that dials us too, with another peer id on each connection (libtorrent gives
// every connection its own): the two are one peer by its listen port, and one connection goes.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "hostile_helpers.hpp"

using namespace hostile;

namespace {

// A listening socket on loopback that accepts one connection.
struct RawListener {
  int fd = -1;
  std::uint16_t port = 0;
  RawListener() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd, 4);
    socklen_t n = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
    port = ntohs(a.sin_port);
  }
  ~RawListener() { ::close(fd); }
  int accept(std::chrono::milliseconds timeout) {
    pollfd pf{fd, POLLIN, 0};
    if (::poll(&pf, 1, int(timeout.count())) <= 0) return -1;
    return ::accept(fd, nullptr, nullptr);
  }
};

// Reads the session's handshake, then sends ours: the order of a peer that was dialed.
bool answer_handshake(int fd, const p2p::InfoHash& ih, const p2p::PeerId& id) {
  std::uint8_t buf[p2p::wire::kHandshakeSize];
  std::size_t got = 0;
  while (got < sizeof buf) {
    pollfd pf{fd, POLLIN, 0};
    if (::poll(&pf, 1, 10000) <= 0) return false;
    ssize_t k = ::recv(fd, buf + got, sizeof buf - got, 0);
    if (k <= 0) return false;
    got += std::size_t(k);
  }
  p2p::wire::Handshake hs;
  hs.info_hash = ih;
  hs.peer_id = id;
  hs.set_fast(true);
  hs.set_extensions(true);
  p2p::wire::write_handshake(hs, buf);
  return ::send(fd, buf, sizeof buf, MSG_NOSIGNAL) == ssize_t(sizeof buf);
}

p2p::wire::Bytes ext_handshake(std::uint16_t listen_port) {
  p2p::bencode::Dict d;
  d["m"] = p2p::bencode::Value(p2p::bencode::Dict{});
  d["p"] = p2p::bencode::Integer(listen_port);
  auto body = p2p::bencode::encode(p2p::bencode::Value(std::move(d)));
  p2p::wire::Bytes out;
  p2p::wire::put_extended(out, 0,
                          std::span<const std::uint8_t>(
                              reinterpret_cast<const std::uint8_t*>(body.data()), body.size()));
  return out;
}

}  // namespace

TEST(DuplicatePeer, DialedAndDialingPeerKeepsOneConnectionByTheListenPortRule) {
  p2p::SessionSettings ls;
  ls.encryption = "allow";  // the raw peer speaks plaintext
  Pair pr(256 * 1024, 16 * 1024, ls);
  RawListener listener;
  p2p::AddTorrentParams lp;
  lp.metainfo = pr.meta;
  lp.save_path = pr.dir.path / "out";
  lp.resume_file = pr.dir.path / "leech.resume";
  lp.peers = {
      boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), listener.port)};
  pr.leech_t = pr.leecher->add_torrent(lp);
  const std::uint16_t session_port = pr.leecher->listen_port();
  const auto ih = pr.meta.info_hash;

  std::atomic<bool> ready{false}, outgoing_closed{false}, incoming_closed{false};
  std::atomic<bool> finished{false};
  std::thread peer([&] {
    // The session dials our listener: its outgoing connection.
    RawPeer dialed;
    int fd = listener.accept(std::chrono::seconds(10));
    if (fd < 0) return finished.store(true);
    dialed.peer_id[19] ^= 1;  // another id on each connection
    if (!answer_handshake(fd, ih, dialed.peer_id)) return finished.store(true);
    // We dial the session too: its incoming connection, which says it listens on our port.
    RawPeer dialing;
    if (!dialing.connect(session_port) || !dialing.handshake(ih, true, true)) {
      ::close(fd);
      return finished.store(true);
    }
    dialing.send(ext_handshake(listener.port));
    ready = true;
    // Reads both sockets until `limit`, noting which one the session closed; `until_one`: stop
    // at the first close.
    auto watch = [&](std::chrono::milliseconds limit, bool until_one) {
      auto until = std::chrono::steady_clock::now() + limit;
      char buf[4096];
      while (std::chrono::steady_clock::now() < until &&
             !(until_one && (outgoing_closed || incoming_closed))) {
        pollfd pf[2] = {{fd, POLLIN, 0}, {dialing.fd(), POLLIN, 0}};
        if (::poll(pf, 2, 50) <= 0) continue;
        if ((pf[0].revents & (POLLIN | POLLHUP)) && ::recv(fd, buf, sizeof buf, 0) <= 0) {
          outgoing_closed = true;
        }
        if ((pf[1].revents & (POLLIN | POLLHUP)) && ::recv(dialing.fd(), buf, sizeof buf, 0) <= 0) {
          incoming_closed = true;
        }
      }
    };
    watch(std::chrono::seconds(5), true);
    watch(std::chrono::milliseconds(500), false);  // the other one stays open a while longer
    ::close(fd);
    finished = true;
  });
  pr.run_until([&] { return finished.load(); }, std::chrono::seconds(20));
  peer.join();
  ASSERT_TRUE(ready.load());
  EXPECT_NE(outgoing_closed.load(), incoming_closed.load()) << "exactly one connection closes";
  // The peer with the lower listen port keeps the connection it made.
  if (session_port < listener.port) {
    EXPECT_TRUE(incoming_closed.load());
  } else {
    EXPECT_TRUE(outgoing_closed.load());
  }
  EXPECT_GE(pr.leecher->counters().closed(p2p::CloseReason::Duplicate), 1u);
}
