// The session's side of the DHT: the node on the shared UDP socket, and the periodic
// get_peers and announce of each torrent that is not private.
#include <sstream>

#include "p2p/dht/dht.hpp"
#include "p2p/session/session.hpp"
#include "p2p/torrent/torrent.hpp"
#include "p2p/transport/udp_socket.hpp"

namespace p2p {

namespace {
constexpr std::chrono::minutes kDhtAnnounceInterval{15};
constexpr std::chrono::seconds kDhtMaxRetry{120};

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    auto b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}
}  // namespace

void Session::start_dht() {
  if (!udp()) return;
  dht::DhtSettings ds;
  ds.bootstrap = split_list(settings_.dht_bootstrap);
  ds.state_file = settings_.dht_state_file;
  if (!ds.state_file.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(ds.state_file.parent_path(), ec);
  }
  dht_ = std::make_unique<dht::Dht>(io_, *udp(), std::move(ds));
  dht_->start();
}

std::uint16_t Session::dht_port() const {
  return dht_ ? port_ : 0;
}

void Session::dht_add_node(const boost::asio::ip::address& ip, std::uint16_t port) {
  if (dht_) dht_->add_node(dht::UdpEndpoint(ip, port));
}

void Session::dht_announce_due(std::chrono::steady_clock::time_point now) {
  if (!dht_ || now - last_dht_check_ < std::chrono::seconds(1)) return;
  last_dht_check_ = now;
  for (auto it = dht_announces_.begin(); it != dht_announces_.end();)
    it = torrents_.count(it->first) ? std::next(it) : dht_announces_.erase(it);
  if (dht_->num_nodes() == 0) return;  // nothing to ask yet: wait for the bootstrap
  for (const auto& t : order_) {
    if (t->is_private()) continue;
    auto st = t->state();
    if (st != TorrentState::Downloading && st != TorrentState::Seeding &&
        st != TorrentState::FetchingMetadata)
      continue;
    DhtAnnounce& a = dht_announces_[t->info_hash()];
    if (a.in_flight || now < a.next) continue;
    a.in_flight = true;
    std::weak_ptr<Torrent> weak = t;
    std::weak_ptr<int> alive = alive_;
    InfoHash ih = t->info_hash();
    dht_->get_peers(ih, port_, [this, weak, alive, ih](const dht::Dht::Peers& peers) {
      if (alive.expired()) return;
      if (auto tor = weak.lock())
        for (const auto& ep : peers) tor->connect_to(ep);
      auto it = dht_announces_.find(ih);
      if (it == dht_announces_.end()) return;
      DhtAnnounce& a = it->second;
      a.in_flight = false;
      auto now = std::chrono::steady_clock::now();
      if (!peers.empty()) {
        a.next = now + kDhtAnnounceInterval;
        a.retry = std::chrono::seconds(5);
      } else {
        // Nobody yet (a young table, a new torrent): ask again soon, less often each time.
        a.next = now + a.retry;
        a.retry = std::min(a.retry * 2, kDhtMaxRetry);
      }
    });
  }
}

}  // namespace p2p
