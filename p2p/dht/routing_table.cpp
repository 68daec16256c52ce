#include "p2p/dht/routing_table.hpp"

#include <algorithm>

namespace p2p::dht {

bool Node::good(Clock::time_point now) const {
  return !bad() && answered() && now - last_seen < kGoodTime;
}

RoutingTable::RoutingTable(const NodeId& self, std::size_t max_buckets)
    : self_(self), max_buckets_(std::clamp<std::size_t>(max_buckets, 1, 160)) {
  buckets_.emplace_back();
}

std::size_t RoutingTable::bucket_index(const NodeId& id) const {
  auto bits = static_cast<std::size_t>(common_prefix_bits(self_, id));
  return std::min(bits, buckets_.size() - 1);
}

Node* RoutingTable::find(const UdpEndpoint& ep, std::size_t* bucket) {
  for (std::size_t i = 0; i < buckets_.size(); ++i)
    for (Node& n : buckets_[i].nodes)
      if (n.info.ep == ep) {
        if (bucket) *bucket = i;
        return &n;
      }
  return nullptr;
}

namespace {
// The /24 of an IPv4 address; loopback is never grouped (a node's own tests run there).
std::optional<std::uint32_t> network_of(const UdpEndpoint& ep) {
  if (!ep.address().is_v4() || ep.address().is_loopback()) return std::nullopt;
  return ep.address().to_v4().to_uint() >> 8;
}
}  // namespace

bool RoutingTable::same_network_in(const Bucket& b, const UdpEndpoint& n, const Node* except) {
  auto net = network_of(n);
  if (!net) return false;
  for (const Node& x : b.nodes)
    if (&x != except && network_of(x.info.ep) == net) return true;
  return false;
}

bool RoutingTable::contains(const UdpEndpoint& ep) const {
  return const_cast<RoutingTable*>(this)->find(ep) != nullptr;
}

void RoutingTable::split_last() {
  std::size_t depth = buckets_.size() - 1;
  Bucket old = std::move(buckets_.back());
  buckets_.back() = Bucket{};
  buckets_.emplace_back();
  buckets_[depth].last_changed = buckets_[depth + 1].last_changed = old.last_changed;
  for (Node& n : old.nodes) buckets_[bucket_index(n.info.id)].nodes.push_back(n);
  for (Node& n : old.replacements) {
    Bucket& b = buckets_[bucket_index(n.info.id)];
    if (b.nodes.size() < kBucketSize && !same_network_in(b, n.info.ep))
      b.nodes.push_back(n);
    else
      b.replacements.push_back(n);
  }
}

bool RoutingTable::heard_from(const NodeInfo& n, bool answered, Clock::time_point now) {
  if (n.id == self_ || !n.ep.address().is_v4() || n.ep.port() == 0) return false;
  if (Node* known = find(n.ep)) {
    if (known->info.id != n.id) return false;
    known->last_seen = now;
    if (answered) known->last_answer = now;
    known->failures = 0;
    buckets_[bucket_index(n.id)].last_changed = now;
    return true;
  }
  Node fresh{n, answered ? now : Clock::time_point{}, now, 0};
  for (;;) {
    std::size_t i = bucket_index(n.id);
    Bucket& b = buckets_[i];
    for (const Node& other : b.nodes)
      if (other.info.id == n.id) return false;  // one id, one endpoint
    if (auto net = network_of(n.ep)) {
      auto same = std::find_if(b.nodes.begin(), b.nodes.end(),
                               [&](const Node& x) { return network_of(x.info.ep) == net; });
      if (same != b.nodes.end()) {
        // Its network has a node here already: it may only take that one's place once bad.
        if (!same->bad()) return false;
        *same = fresh;
        b.last_changed = now;
        return true;
      }
    }
    if (b.nodes.size() < kBucketSize) {
      b.nodes.push_back(fresh);
      b.last_changed = now;
      return true;
    }
    auto bad = std::find_if(b.nodes.begin(), b.nodes.end(), [](const Node& x) { return x.bad(); });
    if (bad != b.nodes.end()) {
      *bad = fresh;
      b.last_changed = now;
      return true;
    }
    if (i == buckets_.size() - 1 && buckets_.size() < max_buckets_) {
      split_last();
      continue;
    }
    // Full: remember it, newest last, dropping the oldest over K.
    auto& rep = b.replacements;
    rep.erase(std::remove_if(rep.begin(), rep.end(),
                             [&](const Node& x) { return x.info.ep == n.ep || x.info.id == n.id; }),
              rep.end());
    if (!answered) return false;  // only nodes that answered wait for a place
    if (rep.size() >= kBucketSize) rep.erase(rep.begin());
    rep.push_back(fresh);
    return false;
  }
}

void RoutingTable::failed(const UdpEndpoint& ep) {
  std::size_t bi = 0;
  Node* n = find(ep, &bi);
  if (!n) return;
  ++n->failures;
  if (!n->bad()) return;
  Bucket& b = buckets_[bi];
  // The newest replacement whose network is not in the bucket yet; if none, the bad node
  // stays until something better comes.
  for (auto r = b.replacements.rbegin(); r != b.replacements.rend(); ++r) {
    if (same_network_in(b, r->info.ep, n)) continue;
    *n = *r;
    b.replacements.erase(std::next(r).base());
    return;
  }
}

std::vector<NodeInfo> RoutingTable::closest(const NodeId& target, std::size_t count) const {
  std::vector<const Node*> all;
  for (const Bucket& b : buckets_)
    for (const Node& n : b.nodes)
      if (!n.bad()) all.push_back(&n);
  auto mid = all.begin() + static_cast<std::ptrdiff_t>(std::min(count, all.size()));
  std::partial_sort(all.begin(), mid, all.end(), [&](const Node* a, const Node* b) {
    return closer(target, a->info.id, b->info.id);
  });
  std::vector<NodeInfo> out;
  for (auto it = all.begin(); it != mid; ++it) out.push_back((*it)->info);
  return out;
}

std::vector<NodeInfo> RoutingTable::questionable(Clock::time_point now, std::size_t count) const {
  std::vector<const Node*> q;
  for (const Bucket& b : buckets_)
    for (const Node& n : b.nodes)
      if (!n.good(now)) q.push_back(&n);
  std::sort(q.begin(), q.end(),
            [](const Node* a, const Node* b) { return a->last_seen < b->last_seen; });
  std::vector<NodeInfo> out;
  for (std::size_t i = 0; i < q.size() && i < count; ++i) out.push_back(q[i]->info);
  return out;
}

std::vector<NodeId> RoutingTable::stale_buckets(Clock::time_point now) {
  std::vector<NodeId> out;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    if (now - buckets_[i].last_changed < kGoodTime) continue;
    buckets_[i].last_changed = now;
    out.push_back(random_id_with_prefix(self_, static_cast<int>(i)));
  }
  return out;
}

std::vector<NodeInfo> RoutingTable::good_nodes(Clock::time_point now) const {
  std::vector<NodeInfo> out;
  for (const Bucket& b : buckets_)
    for (const Node& n : b.nodes)
      if (n.good(now)) out.push_back(n.info);
  return out;
}

std::size_t RoutingTable::size() const {
  std::size_t s = 0;
  for (const Bucket& b : buckets_) s += b.nodes.size();
  return s;
}

std::size_t RoutingTable::num_replacements() const {
  std::size_t s = 0;
  for (const Bucket& b : buckets_) s += b.replacements.size();
  return s;
}

}  // namespace p2p::dht
