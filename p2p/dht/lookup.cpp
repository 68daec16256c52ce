#include "p2p/dht/lookup.hpp"

#include <algorithm>

namespace p2p::dht {

Lookup::Lookup(const NodeId& target, const std::vector<NodeInfo>& seeds, std::size_t max_queries)
    : target_(target), max_queries_(max_queries) {
  for (const NodeInfo& s : seeds) add(s, s.id != NodeId{});
  sort();
}

void Lookup::sort() {
  std::stable_sort(candidates_.begin(), candidates_.end(),
                   [&](const Candidate& a, const Candidate& b) {
                     if (a.id_known != b.id_known) return a.id_known;
                     return closer(target_, a.node.id, b.node.id);
                   });
}

Lookup::Candidate* Lookup::find(const UdpEndpoint& ep) {
  for (Candidate& c : candidates_)
    if (c.node.ep == ep) return &c;
  return nullptr;
}

void Lookup::add(const NodeInfo& n, bool id_known) {
  if (!n.ep.address().is_v4() || n.ep.port() == 0 || find(n.ep)) return;
  if (id_known)
    for (const Candidate& c : candidates_)
      if (c.id_known && c.node.id == n.id) return;
  if (candidates_.size() >= kMaxCandidates) {
    // Full: a newcomer only takes the place of the farthest node not yet asked.
    auto last = std::find_if(candidates_.rbegin(), candidates_.rend(),
                             [](const Candidate& c) { return c.state == State::fresh; });
    if (last == candidates_.rend() || (last->id_known && !closer(target_, n.id, last->node.id)))
      return;
    candidates_.erase(std::next(last).base());
  }
  candidates_.push_back({n, id_known, State::fresh, {}});
}

std::vector<NodeInfo> Lookup::next() {
  std::vector<NodeInfo> out;
  std::size_t seen = 0;  // non-failed candidates passed, nearest first
  for (Candidate& c : candidates_) {
    if (in_flight_ >= kAlpha || sent_ >= max_queries_) break;
    if (c.state == State::failed) continue;
    if (c.id_known && seen >= kK) break;
    ++seen;
    if (c.state != State::fresh) continue;
    c.state = State::asked;
    ++in_flight_;
    ++sent_;
    out.push_back(c.node);
  }
  return out;
}

void Lookup::on_response(const UdpEndpoint& from, const Message& r) {
  Candidate* c = find(from);
  if (!c || c->state != State::asked) return;
  c->state = State::answered;
  --in_flight_;
  c->node.id = r.id;
  c->id_known = true;
  if (r.has_token) c->token = r.token;
  for (const auto& p : r.values) {
    if (peers_.size() >= kMaxPeers) break;
    if (std::find(peers_.begin(), peers_.end(), p) == peers_.end()) peers_.push_back(p);
  }
  for (const NodeInfo& n : r.nodes) add(n, true);
  sort();
}

void Lookup::on_failure(const UdpEndpoint& from) {
  Candidate* c = find(from);
  if (!c || c->state != State::asked) return;
  c->state = State::failed;
  --in_flight_;
}

bool Lookup::done() const {
  if (in_flight_ > 0) return false;
  if (sent_ >= max_queries_) return true;
  std::size_t seen = 0;
  for (const Candidate& c : candidates_) {
    if (c.state == State::failed) continue;
    if (c.id_known && seen >= kK) break;
    if (c.state == State::fresh) return false;
    ++seen;
  }
  return true;
}

std::vector<Lookup::Answered> Lookup::closest_answered() const {
  std::vector<Answered> out;
  for (const Candidate& c : candidates_) {
    if (out.size() >= kK) break;
    if (c.state == State::answered) out.push_back({c.node, c.token});
  }
  return out;
}

}  // namespace p2p::dht
