#pragma once
// Peers that announced themselves to us (announce_peer), per info-hash, for get_peers. Bounded:
// at most kMaxPerTorrent peers per info-hash (the oldest goes), kMaxTorrents info-hashes and
// kMaxTotal peers in all (a new info-hash is refused when full); entries expire after kLifetime.
#include <chrono>
#include <cstddef>
#include <map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "p2p/wire/core_types.hpp"

namespace p2p::dht {

class PeerStore {
 public:
  using Clock = std::chrono::steady_clock;
  using Endpoint = boost::asio::ip::tcp::endpoint;
  static constexpr std::chrono::minutes kLifetime{30};

  explicit PeerStore(std::size_t max_per_torrent = 100, std::size_t max_torrents = 2000,
                     std::size_t max_total = 20000)
      : max_per_torrent_(max_per_torrent), max_torrents_(max_torrents), max_total_(max_total) {}

  // False when refused by the caps.
  bool add(const InfoHash& ih, const Endpoint& ep, Clock::time_point now);
  // Up to `max` live peers of ih, newest first.
  std::vector<Endpoint> get(const InfoHash& ih, std::size_t max, Clock::time_point now) const;
  void expire(Clock::time_point now);
  std::size_t size() const { return total_; }
  std::size_t num_torrents() const { return peers_.size(); }

 private:
  struct Entry {
    Endpoint ep;
    Clock::time_point added;
  };
  std::size_t max_per_torrent_, max_torrents_, max_total_;
  std::map<InfoHash, std::vector<Entry>> peers_;  // oldest first
  std::size_t total_ = 0;
};

}  // namespace p2p::dht
