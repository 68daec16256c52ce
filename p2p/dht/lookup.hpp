#pragma once
// An iterative lookup (BEP 5, Kademlia): ask the kAlpha closest not-yet-asked nodes at once,
// learn closer nodes from the answers, and stop when the K closest known nodes have all
// answered or failed. No I/O: the caller sends the queries next() names and reports answers
// and timeouts. Bounded: at most kMaxCandidates nodes are remembered, at most max_queries are
// sent and at most kMaxPeers peers are kept.
#include <cstddef>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "p2p/dht/krpc.hpp"

namespace p2p::dht {

class Lookup {
 public:
  static constexpr std::size_t kAlpha = 3;
  static constexpr std::size_t kK = 8;
  static constexpr std::size_t kMaxCandidates = 128;
  static constexpr std::size_t kMaxPeers = 1000;

  // Seeds with an all-zero id are endpoints whose id is unknown (bootstrap routers).
  Lookup(const NodeId& target, const std::vector<NodeInfo>& seeds, std::size_t max_queries = 64);

  const NodeId& target() const { return target_; }
  // The nodes to query now; they count as in flight until answered or failed.
  std::vector<NodeInfo> next();
  void on_response(const UdpEndpoint& from, const Message& r);
  void on_failure(const UdpEndpoint& from);
  bool done() const;

  struct Answered {
    NodeInfo node;
    std::string token;
  };
  // The K closest nodes that answered, nearest first, with the token they gave (get_peers).
  std::vector<Answered> closest_answered() const;
  const std::vector<boost::asio::ip::tcp::endpoint>& peers() const { return peers_; }
  std::size_t queries_sent() const { return sent_; }
  std::size_t in_flight() const { return in_flight_; }

 private:
  enum class State { fresh, asked, answered, failed };
  struct Candidate {
    NodeInfo node;
    bool id_known;
    State state = State::fresh;
    std::string token;
  };
  void add(const NodeInfo& n, bool id_known);
  Candidate* find(const UdpEndpoint& ep);
  void sort();

  NodeId target_;
  std::size_t max_queries_;
  std::vector<Candidate> candidates_;  // nearest first (unknown ids last)
  std::vector<boost::asio::ip::tcp::endpoint> peers_;
  std::size_t sent_ = 0, in_flight_ = 0;
};

}  // namespace p2p::dht
