#pragma once
// The routing table of BEP 5: buckets of K nodes by XOR distance from our id. Only the bucket
// holding our own id splits, so the table stays small (at most 160 buckets of K nodes plus K
// replacements each). A node is good while it answered within 15 minutes (or queried us after
// having answered once), bad after kMaxFailures unanswered queries in a row, questionable
// otherwise. A full bucket keeps newcomers in its replacement cache until a node goes bad.
// A bucket holds one node per IPv4 /24 (loopback aside), so that one host or one small network
// cannot fill the table with ids of its choosing and steer our lookups.
#include <chrono>
#include <cstddef>
#include <optional>
#include <vector>

#include "p2p/dht/krpc.hpp"
#include "p2p/dht/node_id.hpp"

namespace p2p::dht {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kBucketSize = 8;
constexpr int kMaxFailures = 2;
constexpr std::chrono::minutes kGoodTime{15};

struct Node {
  NodeInfo info;
  Clock::time_point last_answer{};  // last response from it; epoch: never
  Clock::time_point last_seen{};    // last response or query
  int failures = 0;
  bool answered() const { return last_answer != Clock::time_point{}; }
  bool good(Clock::time_point now) const;
  bool bad() const { return failures >= kMaxFailures; }
};

class RoutingTable {
 public:
  explicit RoutingTable(const NodeId& self, std::size_t max_buckets = 160);

  const NodeId& self() const { return self_; }
  // We heard from `n`: a response (answered) or a query. Returns true if it is in the table
  // (new or known). A node claiming a known endpoint with another id replaces nothing.
  bool heard_from(const NodeInfo& n, bool answered, Clock::time_point now);
  // A query to ep went unanswered.
  void failed(const UdpEndpoint& ep);
  // Up to `count` non-bad nodes closest to target, nearest first.
  std::vector<NodeInfo> closest(const NodeId& target, std::size_t count) const;
  // Nodes not heard from within kGoodTime, oldest first, to ping (at most `count`).
  std::vector<NodeInfo> questionable(Clock::time_point now, std::size_t count) const;
  // Targets for buckets unchanged for kGoodTime (one random id inside each).
  std::vector<NodeId> stale_buckets(Clock::time_point now);
  std::vector<NodeInfo> good_nodes(Clock::time_point now) const;
  bool contains(const UdpEndpoint& ep) const;

  std::size_t size() const;  // nodes in buckets, replacements not counted
  std::size_t num_replacements() const;
  std::size_t num_buckets() const { return buckets_.size(); }

 private:
  struct Bucket {
    std::vector<Node> nodes;
    std::vector<Node> replacements;
    Clock::time_point last_changed{};
  };
  std::size_t bucket_index(const NodeId& id) const;
  void split_last();
  Node* find(const UdpEndpoint& ep, std::size_t* bucket = nullptr);
  // Whether b already holds a node from n's network (other than `except`).
  static bool same_network_in(const Bucket& b, const UdpEndpoint& n, const Node* except = nullptr);

  NodeId self_;
  std::size_t max_buckets_;
  std::vector<Bucket> buckets_;  // bucket i: ids sharing exactly i leading bits with self_,
                                 // the last one: at least that many
};

}  // namespace p2p::dht
