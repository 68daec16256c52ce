#include "p2p/lsd/local_discovery.hpp"

#include <random>

#include <boost/asio/ip/multicast.hpp>
#include <boost/asio/ip/v6_only.hpp>

#include "base/hex.hpp"
#include "base/log.hpp"

namespace p2p {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using Clock = std::chrono::steady_clock;

struct LocalDiscovery::Group {
  explicit Group(asio::io_context& io) : socket(io) {}
  udp::socket socket;
  udp::endpoint group;
  std::string host;  // the Host header
  udp::endpoint from;
  std::array<char, lsd::kMaxMessage + 1> buf{};
};

LocalDiscovery::LocalDiscovery(asio::io_context& io, LocalDiscoverySettings settings,
                               std::uint16_t listen_port, Torrents torrents, PeerFound found)
    : io_(io),
      settings_(settings),
      listen_port_(listen_port),
      torrents_(std::move(torrents)),
      found_(std::move(found)),
      scan_timer_(io),
      send_timer_(io) {
  std::random_device rd;
  std::array<std::uint8_t, 8> c{};
  for (auto& b : c) b = static_cast<std::uint8_t>(rd());
  cookie_ = base::to_hex(c);
}

LocalDiscovery::~LocalDiscovery() {
  stop();
}

void LocalDiscovery::open(bool v6) {
  auto g = std::make_unique<Group>(io_);
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(v6 ? lsd::kGroupV6 : lsd::kGroupV4);
  g->group = udp::endpoint(addr, settings_.port);
  g->host = v6 ? "[" + std::string(lsd::kGroupV6) + "]:" + std::to_string(settings_.port)
               : std::string(lsd::kGroupV4) + ":" + std::to_string(settings_.port);
  auto& s = g->socket;
  s.open(v6 ? udp::v6() : udp::v4(), ec);
  if (!ec) s.set_option(udp::socket::reuse_address(true), ec);
  if (!ec && v6) s.set_option(asio::ip::v6_only(true), ec);
  if (!ec) s.bind(udp::endpoint(v6 ? udp::v6() : udp::v4(), settings_.port), ec);
  if (!ec) s.set_option(asio::ip::multicast::join_group(addr), ec);
  if (!ec) s.set_option(asio::ip::multicast::enable_loopback(true), ec);
  if (!ec) s.set_option(asio::ip::multicast::hops(1), ec);  // the local network only
  if (ec) {
    why_ += std::string(why_.empty() ? "" : "; ") + (v6 ? "IPv6" : "IPv4") + ": " + ec.message();
    return;
  }
  receive(*g);
  groups_.push_back(std::move(g));
}

bool LocalDiscovery::start() {
  open(false);
  if (settings_.ipv6) open(true);
  if (groups_.empty()) {
    base::log::get("lsd")->warn("local discovery is off: {}", why_);
    return false;
  }
  scan();
  return true;
}

void LocalDiscovery::stop() {
  *alive_ = false;
  alive_ = std::make_shared<bool>(true);
  scan_timer_.cancel();
  send_timer_.cancel();
  for (auto& g : groups_) {
    boost::system::error_code ec;
    g->socket.close(ec);
  }
  groups_.clear();
}

void LocalDiscovery::receive(Group& g) {
  g.socket.async_receive_from(
      asio::buffer(g.buf), g.from,
      [this, &g, alive = alive_](const boost::system::error_code& ec, std::size_t n) {
        if (!*alive || ec == asio::error::operation_aborted) return;
        if (!ec) on_datagram(g, n);
        receive(g);
      });
}

void LocalDiscovery::on_datagram(Group& g, std::size_t n) {
  auto now = Clock::now();
  if (now - window_start_ >= std::chrono::seconds(1)) {
    window_start_ = now;
    received_in_window_ = 0;
  }
  if (++received_in_window_ > settings_.max_receives_per_second || n > lsd::kMaxMessage) {
    ++ignored_;
    return;
  }
  auto a = lsd::parse_announce(std::string_view(g.buf.data(), n));
  if (!a || a->cookie == cookie_) {
    ++ignored_;
    return;
  }
  ++received_;
  boost::asio::ip::tcp::endpoint peer(g.from.address(), a->port);
  for (const auto& ih : a->info_hashes) found_(ih, peer);
}

void LocalDiscovery::scan() {
  auto now = Clock::now();
  for (const auto& ih : torrents_()) {
    auto it = last_announce_.find(ih);
    if (it != last_announce_.end() && now - it->second < settings_.interval) continue;
    if (queued_.insert(ih).second) queue_.push_back(ih);
  }
  // Forget torrents not announced for two intervals (removed ones).
  std::erase_if(last_announce_,
                [&](const auto& e) { return now - e.second >= 2 * settings_.interval; });
  if (!queue_.empty()) pace();
  scan_timer_.expires_after(settings_.scan_interval);
  scan_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (!ec && *alive) scan();
  });
}

// One announce per torrent (some clients read only the first Infohash line), at most
// max_sends_per_second.
void LocalDiscovery::pace() {
  if (send_timer_.expiry() > Clock::now()) return;  // already pacing
  if (queue_.empty()) return;
  InfoHash ih = queue_.front();
  queue_.pop_front();
  queued_.erase(ih);
  last_announce_[ih] = Clock::now();
  lsd::Announce a;
  a.port = listen_port_;
  a.info_hashes.push_back(ih);
  a.cookie = cookie_;
  for (auto& g : groups_) {
    auto msg = std::make_shared<std::string>(lsd::build_announce(g->host, a));
    g->socket.async_send_to(asio::buffer(*msg), g->group,
                            [msg](const boost::system::error_code&, std::size_t) {});
    ++sent_;
  }
  if (queue_.empty()) return;
  send_timer_.expires_after(
      std::chrono::milliseconds(1000 / std::max(1, settings_.max_sends_per_second)));
  send_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (!ec && *alive) pace();
  });
}

}  // namespace p2p
