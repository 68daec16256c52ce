#pragma once
// Test helpers for hostile-peer tests: a temporary folder, a random single-file torrent, a
// seeder and a leecher session on loopback, and a raw peer that speaks the wire protocol
// over a blocking POSIX socket from its own thread (so it can misbehave as it likes).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "p2p/wire/bencode.hpp"
#include "p2p/metainfo/metainfo.hpp"
#include "p2p/session/session.hpp"
#include "torrent_events.hpp"
#include "p2p/metainfo/sha1.hpp"
#include "p2p/torrent/torrent.hpp"
#include "p2p/wire/wire_messages.hpp"

namespace hostile {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    path =
        fs::temp_directory_path() / ("bttnode-hostile-" + std::to_string(std::random_device{}()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

inline std::string random_bytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = char(rng());
  return s;
}

inline p2p::Metainfo make_info(const std::string& content, std::int64_t piece_len,
                               const std::string& name = "data.bin") {
  std::string pieces;
  for (std::size_t off = 0; off < content.size(); off += std::size_t(piece_len)) {
    auto d = p2p::sha1(std::string_view(content).substr(off, std::size_t(piece_len)));
    pieces.append(reinterpret_cast<const char*>(d.data()), d.size());
  }
  p2p::bencode::Dict info;
  info["length"] = p2p::bencode::Integer(content.size());
  info["name"] = name;
  info["piece length"] = p2p::bencode::Integer(piece_len);
  info["pieces"] = pieces;
  p2p::bencode::Dict top;
  top["info"] = p2p::bencode::Value(std::move(info));
  return p2p::parse_metainfo(p2p::bencode::encode(p2p::bencode::Value(std::move(top))));
}

inline std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

inline std::string hex(const p2p::PeerId& id) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (auto b : id) {
    s += d[b >> 4];
    s += d[b & 15];
  }
  return s;
}

// A peer that talks through a plain blocking socket.
class RawPeer {
 public:
  struct Msg {
    bool keep_alive = false;
    std::uint8_t id = 0;
    std::vector<std::uint8_t> body;  // after the id
  };

  RawPeer() {
    std::mt19937 rng(std::random_device{}());
    std::memcpy(peer_id.data(), "-XX0001-", 8);
    for (std::size_t i = 8; i < 20; ++i) peer_id[i] = std::uint8_t('a' + rng() % 26);
  }
  ~RawPeer() { close(); }

  bool connect(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool send(const void* p, std::size_t n) {
    const char* c = static_cast<const char*>(p);
    while (n) {
      ssize_t k = ::send(fd_, c, n, MSG_NOSIGNAL);
      if (k <= 0) return false;
      c += k;
      n -= std::size_t(k);
    }
    return true;
  }
  bool send(const p2p::wire::Bytes& b) { return send(b.data(), b.size()); }
  // Reads exactly n bytes; false on close or when nothing came for `timeout`.
  bool recv(void* p, std::size_t n, std::chrono::milliseconds timeout) {
    char* c = static_cast<char*>(p);
    while (n) {
      pollfd pf{fd_, POLLIN, 0};
      if (::poll(&pf, 1, int(timeout.count())) <= 0) return false;
      ssize_t k = ::recv(fd_, c, n, 0);
      if (k <= 0) return false;
      c += k;
      n -= std::size_t(k);
    }
    return true;
  }
  // Sends our handshake and reads the other side's.
  bool handshake(const p2p::InfoHash& ih, bool fast, bool ext) {
    p2p::wire::Handshake hs;
    hs.info_hash = ih;
    hs.peer_id = peer_id;
    hs.set_fast(fast);
    hs.set_extensions(ext);
    std::uint8_t buf[p2p::wire::kHandshakeSize];
    p2p::wire::write_handshake(hs, buf);
    if (!send(buf, sizeof buf)) return false;
    return recv(buf, sizeof buf, std::chrono::seconds(10));
  }
  std::optional<Msg> read(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::uint8_t len[4];
    if (!recv(len, 4, timeout)) return std::nullopt;
    std::uint32_t n = (std::uint32_t(len[0]) << 24) | (std::uint32_t(len[1]) << 16) |
                      (std::uint32_t(len[2]) << 8) | len[3];
    Msg m;
    if (n == 0) {
      m.keep_alive = true;
      return m;
    }
    if (n > (4u << 20)) return std::nullopt;
    std::vector<std::uint8_t> body(n);
    if (!recv(body.data(), n, timeout)) return std::nullopt;
    m.id = body[0];
    m.body.assign(body.begin() + 1, body.end());
    return m;
  }
  // True once the other side closed the connection (within `timeout`).
  bool wait_closed(std::chrono::milliseconds timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    while (std::chrono::steady_clock::now() < until) {
      pollfd pf{fd_, POLLIN, 0};
      if (::poll(&pf, 1, 100) <= 0) continue;
      ssize_t k = ::recv(fd_, buf, sizeof buf, 0);
      if (k <= 0) return true;
    }
    return false;
  }
  int fd() const { return fd_; }

  p2p::PeerId peer_id{};

 private:
  int fd_ = -1;
};

inline std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
         p[3];
}

// A seeder session and a leecher session on loopback, the seeder holding `content`.
struct Pair {
  TempDir dir;
  std::string content;
  p2p::Metainfo meta;
  boost::asio::io_context io;
  std::unique_ptr<p2p::Session> seeder, leecher;
  std::shared_ptr<p2p::Torrent> seed_t, leech_t;
  bool done = false;
  p2p::EventBus::Subscription finished_;

  Pair(std::size_t size, std::int64_t piece_len, p2p::SessionSettings ls = {},
       p2p::SessionSettings ss = {}) {
    content = random_bytes(size, 7);
    meta = make_info(content, piece_len);
    fs::create_directories(dir.path / "src");
    std::ofstream(dir.path / "src" / "data.bin", std::ios::binary) << content;
    setenv("BTTNODE_STATE_DIR", (dir.path / "state").c_str(), 1);
    ss.listen_ipv6 = false;
    seeder = std::make_unique<p2p::Session>(io, ss);
    seeder->listen();
    ls.listen_ipv6 = false;
    leecher = std::make_unique<p2p::Session>(io, ls);
    leecher->listen();
  }

  void add_seed() {
    p2p::AddTorrentParams sp;
    sp.metainfo = meta;
    sp.save_path = dir.path / "src";
    sp.seed_only = true;
    sp.resume_file = dir.path / "seed.resume";
    seed_t = seeder->add_torrent(sp);
    testing_events::run_until_state(io, *seed_t,
                                    {p2p::TorrentState::Seeding, p2p::TorrentState::Downloading,
                                     p2p::TorrentState::Error});
  }

  std::string seed_key() const { return "127.0.0.1:" + std::to_string(seeder->listen_port()); }

  void add_leech(bool dial_seed = true) {
    p2p::AddTorrentParams lp;
    lp.metainfo = meta;
    lp.save_path = dir.path / "out";
    lp.resume_file = dir.path / "leech.resume";
    if (dial_seed) {
      lp.peers = {boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                                                 seeder->listen_port())};
    }
    leech_t = leecher->add_torrent(lp);
    finished_ = testing_events::on_event<p2p::event::TorrentFinished>(
        *leecher, leech_t->info_hash(), [this](const auto&) { done = true; });
    // Checked and taking peers (raw peers that dial it now are not turned away).
    testing_events::run_until_state(io, *leech_t,
                                    {p2p::TorrentState::Downloading, p2p::TorrentState::Seeding,
                                     p2p::TorrentState::Error});
  }

  template <class Pred>
  bool run_until(Pred pred, std::chrono::seconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred() && std::chrono::steady_clock::now() < deadline) {
      io.run_for(std::chrono::milliseconds(20));
    }
    return pred();
  }
};

}  // namespace hostile
