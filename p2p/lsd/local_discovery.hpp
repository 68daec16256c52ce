#pragma once
// Local service discovery (BEP 14): BT-SEARCH announces to the multicast groups
// 239.192.152.143:6771 and [ff15::efc0:988f]:6771, each torrent at most once per interval,
// paced so that thousands of torrents do not burst; announces heard from others (not ours:
// the cookie tells) are handed to the owner as (info-hash, peer endpoint). Runs on the
// caller's io_context; a group that cannot be joined (no route, no IPv6) is left out.
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "p2p/lsd/lsd_message.hpp"

namespace p2p {

struct LocalDiscoverySettings {
  std::uint16_t port = lsd::kPort;  // the group's port (tests pick another)
  bool ipv6 = true;
  std::chrono::milliseconds interval{5 * 60 * 1000};  // per torrent
  std::chrono::milliseconds scan_interval{2000};      // new torrents are announced this soon
  int max_sends_per_second = 50;
  int max_receives_per_second = 100;  // announces handled; more are dropped
};

class LocalDiscovery {
 public:
  // The torrents to announce now (non-private, running).
  using Torrents = std::function<std::vector<InfoHash>()>;
  using PeerFound = std::function<void(const InfoHash&, const boost::asio::ip::tcp::endpoint&)>;

  LocalDiscovery(boost::asio::io_context& io, LocalDiscoverySettings settings,
                 std::uint16_t listen_port, Torrents torrents, PeerFound found);
  ~LocalDiscovery();
  LocalDiscovery(const LocalDiscovery&) = delete;
  LocalDiscovery& operator=(const LocalDiscovery&) = delete;

  // Opens the sockets and starts announcing. False (with why()) when no group could be joined.
  bool start();
  void stop();
  const std::string& why() const { return why_; }
  const std::string& cookie() const { return cookie_; }

  std::uint64_t sent() const { return sent_; }
  std::uint64_t received() const { return received_; }
  std::uint64_t ignored() const { return ignored_; }  // ours, malformed or over the rate

 private:
  struct Group;
  void open(bool v6);
  void receive(Group& g);
  void on_datagram(Group& g, std::size_t n);
  void scan();
  void pace();

  boost::asio::io_context& io_;
  LocalDiscoverySettings settings_;
  std::uint16_t listen_port_;
  Torrents torrents_;
  PeerFound found_;
  std::string cookie_;
  std::string why_;
  std::vector<std::unique_ptr<Group>> groups_;
  boost::asio::steady_timer scan_timer_, send_timer_;
  std::map<InfoHash, std::chrono::steady_clock::time_point> last_announce_;
  std::deque<InfoHash> queue_;
  std::set<InfoHash> queued_;
  std::chrono::steady_clock::time_point window_start_{};
  int received_in_window_ = 0;
  std::uint64_t sent_ = 0, received_ = 0, ignored_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace p2p
