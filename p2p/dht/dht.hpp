#pragma once
// The DHT node (BEP 5) on the session's shared UDP socket: answers queries (rate limited per
// IP), runs lookups for get_peers and announces, keeps its routing table fresh and saves it
// (our id and the good nodes) to a state file. Single-threaded, on the session's io_context.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "p2p/dht/krpc.hpp"
#include "p2p/dht/lookup.hpp"
#include "p2p/dht/peer_store.hpp"
#include "p2p/dht/rate_limit.hpp"
#include "p2p/dht/routing_table.hpp"
#include "p2p/dht/tokens.hpp"
#include "p2p/wire/core_types.hpp"

namespace p2p {
class UdpSocket;
}

namespace p2p::dht {

struct DhtSettings {
  std::vector<std::string> bootstrap;  // "host:port"
  std::filesystem::path state_file;    // empty: nothing saved
  std::chrono::milliseconds query_timeout{2000};
  double answers_per_ip = 50;  // answers per second to one IP, bursts of 4x
};

class Dht {
 public:
  using Peers = std::vector<boost::asio::ip::tcp::endpoint>;
  using PeersFound = std::function<void(const Peers&)>;

  Dht(boost::asio::io_context& io, UdpSocket& udp, DhtSettings settings);
  ~Dht();
  Dht(const Dht&) = delete;
  Dht& operator=(const Dht&) = delete;

  // Loads the state file, takes the DHT's datagrams and bootstraps.
  void start();
  // Saves the state file and lets go of the socket.
  void stop();

  // A node heard of (the peer wire port message): pinged, and added if it answers.
  void add_node(const UdpEndpoint& ep);
  // A get_peers lookup for ih; found is called once at its end with the peers (maybe none).
  // With a port, announce_peer goes to the closest nodes that gave a token.
  void get_peers(const InfoHash& ih, std::uint16_t announce_port, PeersFound found);

  const NodeId& id() const { return table_.self(); }
  std::size_t num_nodes() const { return table_.size(); }
  std::size_t num_lookups() const { return lookups_.size(); }
  std::size_t num_stored_peers() const { return store_.size(); }
  // For the socket's dispatcher: takes datagrams that start with 'd' and parse as KRPC.
  bool on_datagram(const UdpEndpoint& from, std::span<const std::uint8_t> data);

 private:
  using Reply = std::function<void(const Message* r)>;  // null: timed out or error
  struct Pending {
    UdpEndpoint to;
    Clock::time_point deadline;
    Reply reply;
  };
  struct Search {
    Lookup lookup;
    InfoHash ih{};
    bool peers_wanted = false;
    std::uint16_t announce_port = 0;
    PeersFound found;
  };

  void answer(const UdpEndpoint& from, const Message& q);
  void send(const UdpEndpoint& to, const Message& m);
  void query(const UdpEndpoint& to, Message q, Reply reply);
  void start_search(const NodeId& target, bool peers_wanted, std::uint16_t announce_port,
                    PeersFound found, const std::vector<NodeInfo>& extra_seeds = {});
  void step(std::uint64_t search_id);
  void finish(std::uint64_t search_id);
  void bootstrap();
  void tick();
  void save();
  std::string next_tid();

  boost::asio::io_context& io_;
  UdpSocket& udp_;
  DhtSettings settings_;
  std::vector<NodeInfo> saved_nodes_;  // from the state file, tried at start
  RoutingTable table_;
  TokenManager tokens_;
  PeerStore store_;
  RateLimiter limiter_;
  std::map<std::string, Pending> pending_;
  std::map<std::uint64_t, std::unique_ptr<Search>> lookups_;
  std::uint64_t next_search_ = 1;
  std::uint16_t next_tid_ = 0;
  int handler_ = -1;
  bool running_ = false;
  boost::asio::steady_timer timer_;
  Clock::time_point last_save_{}, last_bootstrap_{}, last_refresh_{};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

static constexpr std::size_t kMaxPending = 512;
static constexpr std::size_t kMaxLookups = 64;

}  // namespace p2p::dht
