#include "p2p/tracker/tracker.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/hex.hpp"
#include "p2p/tracker/tracker_client_impl.hpp"
#include "p2p/tracker/tracker_http.hpp"
#include "p2p/tracker/tracker_udp.hpp"
#include "p2p/transport/udp_socket.hpp"

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

p2p::AnnounceRequest sample_request() {
  p2p::AnnounceRequest r;
  for (int i = 0; i < 20; ++i) r.info_hash[i] = static_cast<std::uint8_t>(i * 13);
  std::string id = "-BN0010-abcdefghijkl";
  std::copy(id.begin(), id.end(), r.peer_id.begin());
  r.port = 6881;
  r.uploaded = 1;
  r.downloaded = 2;
  r.left = 3;
  r.event = p2p::TrackerEvent::started;
  r.numwant = 30;
  r.key = 0xDEADBEEF;
  return r;
}

std::string be_str(const std::string& s) {
  return std::to_string(s.size()) + ":" + s;
}

// Runs the io_context until the handler fired (or the deadline passed).
p2p::AnnounceResult run_announce(asio::io_context& io,
                                 const std::function<void(p2p::AnnounceHandler)>& start,
                                 std::chrono::seconds deadline = 60s) {
  std::optional<p2p::AnnounceResult> out;
  start([&](const p2p::AnnounceResult& r) { out = r; });
  io.restart();
  auto until = std::chrono::steady_clock::now() + deadline;
  while (!out && std::chrono::steady_clock::now() < until) io.run_one_for(100ms);
  if (!out) {
    p2p::AnnounceResult r;
    r.error = "test deadline passed";
    return r;
  }
  return *out;
}

std::uint16_t free_port() {
  // A port free for both TCP and UDP on loopback.
  for (int i = 0; i < 50; ++i) {
    asio::io_context io;
    asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    auto port = a.local_endpoint().port();
    boost::system::error_code ec;
    asio::ip::udp::socket u(io);
    u.open(asio::ip::udp::v4());
    u.bind(asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    if (!ec) return port;
  }
  throw std::runtime_error("no free port");
}

// Debian's opentracker in whitelist mode on loopback.
class Opentracker {
 public:
  explicit Opentracker(const std::vector<p2p::InfoHash>& whitelist) : port_(free_port()) {
    std::string tmpl = (fs::temp_directory_path() / "bttnode-ot-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    // It drops privileges: every file it reads must be world-readable.
    fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
    {
      std::ofstream wl(dir_ / "whitelist");
      for (const auto& h : whitelist) wl << base::to_hex(h) << "\n";
      std::ofstream conf(dir_ / "opentracker.conf");
      conf << "listen.tcp_udp 127.0.0.1:" << port_ << "\n"
           << "access.whitelist " << (dir_ / "whitelist").string() << "\n";
    }
    fs::permissions(dir_ / "whitelist", fs::perms::owner_read | fs::perms::owner_write |
                                            fs::perms::group_read | fs::perms::others_read);
    fs::permissions(dir_ / "opentracker.conf", fs::perms::owner_read | fs::perms::owner_write |
                                                   fs::perms::group_read | fs::perms::others_read);
    std::string conf = (dir_ / "opentracker.conf").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      if (::chdir(dir_.c_str()) != 0) ::_exit(127);
      std::freopen((dir_ / "log").c_str(), "w", stdout);
      std::freopen((dir_ / "log").c_str(), "w", stderr);
      ::execlp("opentracker", "opentracker", "-f", conf.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~Opentracker() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int st = 0;
      for (int i = 0; i < 50 && ::waitpid(pid_, &st, WNOHANG) == 0; ++i)
        std::this_thread::sleep_for(100ms);
      if (::waitpid(pid_, &st, WNOHANG) == 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &st, 0);
      }
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string http_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/announce"; }
  std::string udp_url() const { return "udp://127.0.0.1:" + std::to_string(port_); }

  // Polls until the tracker accepts an announce for `ih` (it loads the whitelist after the
  // port opens).
  bool wait_ready(const p2p::InfoHash& ih) {
    asio::io_context io;
    p2p::TrackerSettings s;
    s.http_timeout = 2000ms;
    p2p::TrackerClient client(io, s);
    auto req = sample_request();
    req.info_hash = ih;
    req.event = p2p::TrackerEvent::stopped;
    for (int i = 0; i < 100; ++i) {
      auto r = run_announce(
          io, [&](p2p::AnnounceHandler h) { client.announce(http_url(), req, "", h); }, 5s);
      if (r.response) return true;
      std::this_thread::sleep_for(200ms);
    }
    return false;
  }

 private:
  std::uint16_t port_;
  fs::path dir_;
  pid_t pid_ = -1;
};

p2p::InfoHash hash_of(std::uint8_t b) {
  p2p::InfoHash h;
  h.fill(b);
  return h;
}

}  // namespace

TEST(TrackerHttp, BuildsAnnounceUrl) {
  auto req = sample_request();
  std::string url =
      p2p::build_http_announce_url("http://t.example/announce?passkey=abc", req, "tid 1");
  EXPECT_TRUE(url.starts_with("http://t.example/announce?passkey=abc&info_hash="));
  // Every byte of the binary info-hash percent-encoded unless unreserved.
  std::string expect_hash;
  for (auto b : req.info_hash) {
    std::string one(1, static_cast<char>(b));
    expect_hash += p2p::url_encode(one);
  }
  EXPECT_NE(url.find("info_hash=" + expect_hash + "&"), std::string::npos) << url;
  EXPECT_NE(url.find("&peer_id=-BN0010-abcdefghijkl&"), std::string::npos);
  EXPECT_NE(
      url.find("&port=6881&uploaded=1&downloaded=2&left=3&compact=1&event=started&numwant=30"),
      std::string::npos)
      << url;
  EXPECT_NE(url.find("&key=DEADBEEF"), std::string::npos);
  EXPECT_NE(url.find("&trackerid=tid%201"), std::string::npos);
  req.event = p2p::TrackerEvent::none;
  EXPECT_EQ(p2p::build_http_announce_url("http://x/a", req, "").find("event="), std::string::npos);
  EXPECT_EQ(p2p::url_encode(std::string("\x00\xff a~", 5)), "%00%FF%20a~");
}

TEST(TrackerHttp, ParsesCompactPeersAndFields) {
  std::string peers("\x7f\x00\x00\x01\x1a\xe1\x0a\x00\x00\x02\x00\x50", 12);
  std::string peers6(16, '\0');
  peers6[15] = 1;
  peers6 += std::string("\x1a\xe2", 2);
  std::string body = "d8:completei5e10:incompletei7e8:intervali900e12:min intervali60e5:peers" +
                     be_str(peers) + "6:peers6" + be_str(peers6) + "10:tracker id" + be_str("xyz") +
                     "15:warning message" + be_str("be careful") + "e";
  auto r = p2p::parse_http_announce_response(body);
  ASSERT_EQ(r.peers.size(), 3u);
  EXPECT_EQ(r.peers[0].endpoint.address().to_string(), "127.0.0.1");
  EXPECT_EQ(r.peers[0].endpoint.port(), 6881);
  EXPECT_EQ(r.peers[1].endpoint.address().to_string(), "10.0.0.2");
  EXPECT_EQ(r.peers[1].endpoint.port(), 80);
  EXPECT_EQ(r.peers[2].endpoint.address().to_string(), "::1");
  EXPECT_EQ(r.peers[2].endpoint.port(), 6882);
  EXPECT_EQ(r.interval, 900s);
  EXPECT_EQ(r.min_interval, 60s);
  EXPECT_EQ(r.complete, 5);
  EXPECT_EQ(r.incomplete, 7);
  EXPECT_EQ(r.tracker_id, "xyz");
  EXPECT_EQ(r.warning_message, "be careful");
}

TEST(TrackerHttp, ParsesDictionaryPeers) {
  std::string body = "d8:intervali60e5:peersld2:ip8:10.1.2.37:peer id" +
                     be_str("ABCDEFGHIJKLMNOPQRST") +
                     "4:porti51413eed2:ip7:fe80::14:porti1eed2:ip11:example.com4:porti2eeee";
  auto r = p2p::parse_http_announce_response(body);
  ASSERT_EQ(r.peers.size(), 2u);  // the host name is skipped
  EXPECT_EQ(r.peers[0].endpoint.address().to_string(), "10.1.2.3");
  EXPECT_EQ(r.peers[0].endpoint.port(), 51413);
  ASSERT_TRUE(r.peers[0].peer_id);
  EXPECT_EQ((*r.peers[0].peer_id)[0], 'A');
  EXPECT_TRUE(r.peers[1].endpoint.address().is_v6());
  EXPECT_FALSE(r.peers[1].peer_id);
}

TEST(TrackerHttp, FailureReasonAndMalformedBodies) {
  try {
    p2p::parse_http_announce_response("d14:failure reason12:not allowed!e");
    FAIL();
  } catch (const p2p::TrackerResponseError& e) {
    EXPECT_TRUE(e.is_failure_reason());
    EXPECT_EQ(std::string(e.what()), "not allowed!");
  }
  for (std::string bad :
       {std::string("<html>"), std::string("li1ee"), std::string("d5:peers5:abcdee"),
        std::string("d5:peersi3ee"), std::string("d8:intervali-5ee"),
        std::string("d8:interval3:abce"), std::string("d6:peers67:abcdefge")}) {
    try {
      p2p::parse_http_announce_response(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const p2p::TrackerResponseError& e) {
      EXPECT_FALSE(e.is_failure_reason()) << bad;
    }
  }
}

TEST(TrackerUdp, BuildsPackets) {
  std::string c = p2p::udp_tracker::build_connect(0x01020304);
  ASSERT_EQ(c.size(), 16u);
  EXPECT_EQ(c, std::string("\x00\x00\x04\x17\x27\x10\x19\x80\x00\x00\x00\x00\x01\x02\x03\x04", 16));
  auto req = sample_request();
  std::string a = p2p::udp_tracker::build_announce(0x1122334455667788ull, 7, req);
  ASSERT_EQ(a.size(), 98u);
  EXPECT_EQ(a.substr(0, 8), std::string("\x11\x22\x33\x44\x55\x66\x77\x88", 8));
  EXPECT_EQ(a.substr(8, 4), std::string("\x00\x00\x00\x01", 4));  // announce
  EXPECT_EQ(a.substr(16, 20), std::string(reinterpret_cast<const char*>(req.info_hash.data()), 20));
  EXPECT_EQ(a.substr(80, 4), std::string("\x00\x00\x00\x02", 4));  // started
  EXPECT_EQ(a.substr(88, 4), std::string("\xde\xad\xbe\xef", 4));  // key
  EXPECT_EQ(a.substr(92, 4), std::string("\x00\x00\x00\x1e", 4));  // numwant 30
  EXPECT_EQ(a.substr(96, 2), std::string("\x1a\xe1", 2));          // port 6881
}

TEST(TrackerUdp, ParsesReplies) {
  namespace u = p2p::udp_tracker;
  auto conn = u::parse_reply(std::string("\0\0\0\0\0\0\0\x09\xaa\xbb\xcc\xdd\x11\x22\x33\x44", 16));
  EXPECT_FALSE(conn.error);
  EXPECT_EQ(conn.transaction_id, 9u);
  EXPECT_EQ(conn.connection_id, 0xaabbccdd11223344ull);

  std::string ann("\0\0\0\x01\0\0\0\x05\0\0\x07\x08\0\0\0\x02\0\0\0\x03\x7f\0\0\x01\x1a\xe1", 26);
  auto a = u::parse_reply(ann);
  ASSERT_TRUE(a.announce);
  EXPECT_EQ(a.announce->interval, 1800s);
  EXPECT_EQ(a.announce->incomplete, 2);
  EXPECT_EQ(a.announce->complete, 3);
  ASSERT_EQ(a.announce->peers.size(), 1u);
  EXPECT_EQ(a.announce->peers[0].endpoint.port(), 6881);
  // The same bytes over IPv6 are malformed (peers are 18 bytes).
  EXPECT_TRUE(u::parse_reply(ann, true).malformed);

  auto err = u::parse_reply(std::string("\0\0\0\x03\0\0\0\x05no such torrent", 23));
  ASSERT_TRUE(err.error);
  EXPECT_EQ(*err.error, "no such torrent");
  EXPECT_FALSE(err.malformed);
  EXPECT_TRUE(u::parse_reply("abc").malformed);
  EXPECT_TRUE(u::parse_reply(std::string("\0\0\0\0\0\0\0\x09\xaa", 9)).malformed);
  EXPECT_TRUE(u::parse_reply(std::string("\0\0\0\x09\0\0\0\x09", 8)).malformed);
}

TEST(TrackerUrl, Parses) {
  auto u = p2p::parse_tracker_url("http://tracker.example/announce?x=1");
  EXPECT_EQ(u.host, "tracker.example");
  EXPECT_EQ(u.port, 80);
  EXPECT_EQ(u.target(), "/announce?x=1");
  auto v = p2p::parse_tracker_url("udp://[::1]:6969/announce");
  EXPECT_EQ(v.host, "::1");
  EXPECT_EQ(v.port, 6969);
  EXPECT_THROW(p2p::parse_tracker_url("udp://host"), std::invalid_argument);
  EXPECT_THROW(p2p::parse_tracker_url("nonsense"), std::invalid_argument);
  EXPECT_THROW(p2p::parse_tracker_url("http://h:99999/"), std::invalid_argument);
}

// A scripted UDP tracker on loopback: drops the first `drop` packets, counts connects.
struct ScriptedUdpTracker {
  asio::ip::udp::socket sock;
  int drop = 0;
  int connects = 0;
  int announces = 0;
  bool fail_announce = false;
  std::array<char, 2048> buf{};
  asio::ip::udp::endpoint from;

  explicit ScriptedUdpTracker(asio::io_context& io)
      : sock(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    receive();
  }
  std::string url() const {
    return "udp://127.0.0.1:" + std::to_string(sock.local_endpoint().port());
  }
  void receive() {
    sock.async_receive_from(asio::buffer(buf), from,
                            [this](boost::system::error_code ec, std::size_t n) {
                              if (ec) return;
                              on_packet(std::string(buf.data(), n));
                              receive();
                            });
  }
  void on_packet(const std::string& p) {
    if (drop > 0) {
      --drop;
      return;
    }
    std::string reply;
    auto txid = p.substr(12, 4);
    if (p.size() == 16) {
      ++connects;
      reply =
          std::string("\0\0\0\0", 4) + txid + std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    } else if (p.size() == 98) {
      ++announces;
      if (p.substr(0, 8) != std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8)) {
        reply = std::string("\0\0\0\x03", 4) + txid + "bad connection id";
      } else if (fail_announce) {
        reply = std::string("\0\0\0\x03", 4) + txid + "torrent not registered";
      } else {
        reply = std::string("\0\0\0\x01", 4) + txid +
                std::string("\0\0\x03\x84\0\0\0\0\0\0\0\x01", 12) +
                std::string("\x0a\x00\x00\x09\x1f\x90", 6);
      }
    }
    sock.send_to(asio::buffer(reply), from);
  }
};

TEST(TrackerClientUdp, RetransmitsAndReusesConnectionId) {
  asio::io_context io;
  ScriptedUdpTracker tracker(io);
  tracker.drop = 2;  // the first connect and its first retransmission are lost
  p2p::TrackerSettings s;
  s.udp_base_timeout = 100ms;
  p2p::TrackerClient client(io, s);
  auto start = std::chrono::steady_clock::now();
  auto r = run_announce(
      io, [&](p2p::AnnounceHandler h) { client.announce(tracker.url(), sample_request(), "", h); });
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r.response) << r.error;
  EXPECT_GE(took, 300ms);  // 100 ms then 200 ms before the third try
  EXPECT_EQ(r.response->interval, 900s);
  ASSERT_EQ(r.response->peers.size(), 1u);
  EXPECT_EQ(r.response->peers[0].endpoint.address().to_string(), "10.0.0.9");
  EXPECT_EQ(r.response->peers[0].endpoint.port(), 8080);
  EXPECT_EQ(tracker.connects, 1);

  // Within a minute the connection id is reused: no second connect.
  auto r2 = run_announce(
      io, [&](p2p::AnnounceHandler h) { client.announce(tracker.url(), sample_request(), "", h); });
  ASSERT_TRUE(r2.response) << r2.error;
  EXPECT_EQ(tracker.connects, 1);
  EXPECT_EQ(tracker.announces, 2);

  tracker.fail_announce = true;
  auto r3 = run_announce(
      io, [&](p2p::AnnounceHandler h) { client.announce(tracker.url(), sample_request(), "", h); });
  EXPECT_FALSE(r3.response);
  EXPECT_TRUE(r3.tracker_failure);
}

TEST(TrackerClientUdp, AnnouncesThroughTheSharedSocket) {
  asio::io_context io;
  ScriptedUdpTracker tracker(io);
  tracker.drop = 1;  // the first connect is lost: the retransmission goes the same way
  p2p::UdpSocket udp(io, 0, false);
  // A handler added before the tracker's is offered replies first and lets them pass.
  int offered = 0;
  udp.add_handler([&](const p2p::UdpSocket::Endpoint&, std::span<const std::uint8_t>) {
    ++offered;
    return false;
  });
  p2p::TrackerSettings s;
  s.udp_base_timeout = 100ms;
  p2p::TrackerClient client(io, s);
  client.attach_udp(udp);
  auto r = run_announce(
      io, [&](p2p::AnnounceHandler h) { client.announce(tracker.url(), sample_request(), "", h); });
  ASSERT_TRUE(r.response) << r.error;
  ASSERT_EQ(r.response->peers.size(), 1u);
  EXPECT_EQ(tracker.connects, 1);
  EXPECT_EQ(tracker.announces, 1);
  // The tracker heard it from the shared port, and both replies were the tracker client's.
  EXPECT_EQ(tracker.from.port(), udp.port());
  EXPECT_EQ(offered, 2);
  EXPECT_EQ(udp.unclaimed(), 0u);

  // A late or forged reply (no announce waits on its transaction) is left to others.
  asio::ip::udp::socket stray(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::string fake = std::string("\0\0\0\x01", 4) + "abcd" + std::string(12, '\0');
  stray.send_to(asio::buffer(fake),
                asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), udp.port()));
  auto until = std::chrono::steady_clock::now() + 2s;
  while (udp.unclaimed() == 0 && std::chrono::steady_clock::now() < until) io.run_for(10ms);
  EXPECT_EQ(udp.unclaimed(), 1u);
}

TEST(TrackerClientUdp, GivesUpAfterTheLastAttempt) {
  asio::io_context io;
  ScriptedUdpTracker tracker(io);
  tracker.drop = 1000;
  p2p::TrackerSettings s;
  s.udp_base_timeout = 20ms;
  s.udp_max_attempts = 3;
  p2p::TrackerClient client(io, s);
  auto r = run_announce(
      io, [&](p2p::AnnounceHandler h) { client.announce(tracker.url(), sample_request(), "", h); });
  EXPECT_FALSE(r.response);
  EXPECT_NE(r.error.find("no reply"), std::string::npos) << r.error;
}

TEST(TrackerClientHttp, TimesOutOnASilentServer) {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io,
                                   asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  asio::ip::tcp::socket held(io);
  acceptor.async_accept(held, [](boost::system::error_code) {});
  p2p::TrackerSettings s;
  s.http_timeout = 300ms;
  p2p::TrackerClient client(io, s);
  std::string url =
      "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/announce";
  auto r = run_announce(
      io, [&](p2p::AnnounceHandler h) { client.announce(url, sample_request(), "", h); });
  EXPECT_FALSE(r.response);
  EXPECT_NE(r.error.find("timed out"), std::string::npos) << r.error;
}

TEST(TrackerClient, RejectsUnsupportedUrlsAndCancels) {
  asio::io_context io;
  p2p::TrackerClient client(io);
  auto r = run_announce(io, [&](p2p::AnnounceHandler h) {
    client.announce("wss://x.example:443/a", sample_request(), "", h);
  });
  EXPECT_NE(r.error.find("unsupported"), std::string::npos);
  // A cancelled announce completes once, with an error.
  int calls = 0;
  std::string err;
  client.announce("udp://127.0.0.1:9", sample_request(), "", [&](const p2p::AnnounceResult& res) {
    ++calls;
    err = res.error;
  });
  client.cancel_all();
  io.restart();
  io.run_for(200ms);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(err, "cancelled");

  // Tiers stop at a cancelled announce instead of trying the next tracker.
  p2p::TrackerTiers tiers({{"udp://127.0.0.1:9"}, {"udp://127.0.0.1:11"}}, client);
  calls = 0;
  bool cancelled = false;
  tiers.announce(sample_request(), [&](const p2p::AnnounceResult& res) {
    ++calls;
    cancelled = res.cancelled;
  });
  io.restart();
  io.run_for(100ms);
  client.cancel_all();
  io.run_for(100ms);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(cancelled);
}

TEST(Opentracker, HttpAndUdpAnnounce) {
  p2p::InfoHash ih = hash_of(0x42);
  Opentracker ot({ih});
  ASSERT_TRUE(ot.wait_ready(ih)) << "opentracker never accepted the whitelisted hash";

  asio::io_context io;
  p2p::TrackerSettings s;
  s.http_timeout = 10s;
  s.udp_base_timeout = 1s;
  p2p::TrackerClient client(io, s);

  // Peer A announces over HTTP, peer B over UDP: each learns of the other.
  auto a = sample_request();
  a.info_hash = ih;
  a.port = 40001;
  a.left = 0;
  auto ra =
      run_announce(io, [&](p2p::AnnounceHandler h) { client.announce(ot.http_url(), a, "", h); });
  ASSERT_TRUE(ra.response) << ra.error;
  EXPECT_GT(ra.response->interval.count(), 0);

  auto b = sample_request();
  b.info_hash = ih;
  b.peer_id[19] = 'Z';
  b.port = 40002;
  b.left = 1000;
  auto rb =
      run_announce(io, [&](p2p::AnnounceHandler h) { client.announce(ot.udp_url(), b, "", h); });
  ASSERT_TRUE(rb.response) << rb.error;
  bool saw_a = false;
  for (const auto& p : rb.response->peers) saw_a |= p.endpoint.port() == 40001;
  EXPECT_TRUE(saw_a) << "UDP announce did not return the HTTP peer";
  EXPECT_GE(rb.response->complete.value_or(0), 1);

  a.event = p2p::TrackerEvent::none;
  auto ra2 =
      run_announce(io, [&](p2p::AnnounceHandler h) { client.announce(ot.http_url(), a, "", h); });
  ASSERT_TRUE(ra2.response) << ra2.error;
  bool saw_b = false;
  for (const auto& p : ra2.response->peers) saw_b |= p.endpoint.port() == 40002;
  EXPECT_TRUE(saw_b) << "HTTP announce did not return the UDP peer";

  // B completes, then stops: the tracker then counts no leechers.
  b.event = p2p::TrackerEvent::completed;
  b.left = 0;
  auto rc =
      run_announce(io, [&](p2p::AnnounceHandler h) { client.announce(ot.udp_url(), b, "", h); });
  ASSERT_TRUE(rc.response) << rc.error;
  b.event = p2p::TrackerEvent::stopped;
  auto rs =
      run_announce(io, [&](p2p::AnnounceHandler h) { client.announce(ot.udp_url(), b, "", h); });
  ASSERT_TRUE(rs.response) << rs.error;
  auto rq =
      run_announce(io, [&](p2p::AnnounceHandler h) { client.announce(ot.http_url(), a, "", h); });
  ASSERT_TRUE(rq.response) << rq.error;
  EXPECT_EQ(rq.response->incomplete.value_or(-1), 0);

  // A hash outside the whitelist is refused with the tracker's reason.
  auto other = a;
  other.info_hash = hash_of(0x43);
  auto rf = run_announce(
      io, [&](p2p::AnnounceHandler h) { client.announce(ot.http_url(), other, "", h); });
  EXPECT_FALSE(rf.response);
  EXPECT_TRUE(rf.tracker_failure);
  EXPECT_NE(rf.error.find("not authorized"), std::string::npos) << rf.error;
}

TEST(Opentracker, TiersSkipDeadTrackersAndPromoteTheWorkingOne) {
  p2p::InfoHash ih = hash_of(0x44);
  Opentracker ot({ih});
  ASSERT_TRUE(ot.wait_ready(ih));
  asio::io_context io;
  p2p::TrackerSettings s;
  s.udp_base_timeout = 50ms;
  s.udp_max_attempts = 2;
  s.http_timeout = 5s;
  p2p::TrackerClient client(io, s);
  // A closed TCP port and a silent UDP port in the first tier, the real tracker in the second
  // tier beside another dead one.
  std::string dead_http = "http://127.0.0.1:" + std::to_string(free_port()) + "/announce";
  std::string dead_udp = "udp://127.0.0.1:" + std::to_string(free_port());
  p2p::TrackerTiers tiers({{dead_http, dead_udp}, {dead_udp + "/x", ot.udp_url()}}, client, 7);
  auto req = sample_request();
  req.info_hash = ih;
  auto r = run_announce(io, [&](p2p::AnnounceHandler h) { tiers.announce(req, h); });
  ASSERT_TRUE(r.response) << r.error;
  EXPECT_EQ(r.url, ot.udp_url());
  EXPECT_EQ(tiers.tiers()[1][0], ot.udp_url());  // moved to the front of its tier

  // All dead: the last error comes back.
  p2p::TrackerTiers none({{dead_http}}, client);
  auto rn = run_announce(io, [&](p2p::AnnounceHandler h) { none.announce(req, h); });
  EXPECT_FALSE(rn.response);
  EXPECT_FALSE(rn.error.empty());
  EXPECT_EQ(rn.url, dead_http);
}

TEST(Opentracker, ScrapesOverHttpAndUdp) {
  p2p::InfoHash ih = hash_of(0x45);
  Opentracker ot({ih});
  ASSERT_TRUE(ot.wait_ready(ih));
  asio::io_context io;
  p2p::TrackerSettings s;
  s.http_timeout = 5s;
  s.udp_base_timeout = 1s;
  p2p::TrackerClient client(io, s);
  // A seeder, and a leecher that completes: 2 seeders, 0 leechers, 1 download.
  auto seed = sample_request();
  seed.info_hash = ih;
  seed.port = 40011;
  seed.left = 0;
  ASSERT_TRUE(run_announce(io, [&](p2p::AnnounceHandler h) {
                client.announce(ot.http_url(), seed, "", h);
              }).response);
  auto leech = seed;
  leech.peer_id[19] = 'L';
  leech.port = 40012;
  leech.left = 100;
  ASSERT_TRUE(run_announce(io, [&](p2p::AnnounceHandler h) {
                client.announce(ot.http_url(), leech, "", h);
              }).response);
  auto run_scrape = [&](const std::string& url) {
    std::optional<p2p::ScrapeResult> out;
    client.scrape(url, ih, [&](const p2p::ScrapeResult& r) { out = r; });
    io.restart();
    auto until = std::chrono::steady_clock::now() + 10s;
    while (!out && std::chrono::steady_clock::now() < until) io.run_one_for(100ms);
    return out.value_or(p2p::ScrapeResult{url, std::nullopt, "test deadline passed", false});
  };
  for (const auto& url : {ot.http_url(), ot.udp_url()}) {
    auto r = run_scrape(url);
    ASSERT_TRUE(r.info) << url << ": " << r.error;
    EXPECT_EQ(r.info->complete, 1) << url;
    EXPECT_EQ(r.info->incomplete, 1) << url;
    EXPECT_EQ(r.info->downloaded, 0) << url;
  }
  leech.event = p2p::TrackerEvent::completed;
  leech.left = 0;
  ASSERT_TRUE(run_announce(io, [&](p2p::AnnounceHandler h) {
                client.announce(ot.udp_url(), leech, "", h);
              }).response);
  for (const auto& url : {ot.http_url(), ot.udp_url()}) {
    auto r = run_scrape(url);
    ASSERT_TRUE(r.info) << url << ": " << r.error;
    EXPECT_EQ(r.info->complete, 2) << url;
    EXPECT_EQ(r.info->incomplete, 0) << url;
    EXPECT_EQ(r.info->downloaded, 1) << url;
  }
  // No scrape URL, and a torrent the tracker refuses.
  auto none = run_scrape("http://127.0.0.1:1/tracker");
  EXPECT_FALSE(none.info);
  EXPECT_NE(none.error.find("no scrape URL"), std::string::npos) << none.error;

  // TrackerTiers keeps the counts per tracker.
  p2p::TrackerTiers tiers({{ot.http_url()}}, client);
  bool done = false;
  tiers.scrape(ih, [&] { done = true; });
  io.restart();
  auto until = std::chrono::steady_clock::now() + 10s;
  while (!done && std::chrono::steady_clock::now() < until) io.run_one_for(100ms);
  auto st = tiers.status();
  ASSERT_EQ(st.size(), 1u);
  EXPECT_TRUE(st[0].last_scrape_ok) << st[0].last_scrape_message;
  EXPECT_EQ(st[0].seeders.value_or(-1), 2);
  EXPECT_EQ(st[0].downloaded.value_or(-1), 1);
  EXPECT_TRUE(st[0].scrapable);
}
