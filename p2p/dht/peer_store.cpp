#include "p2p/dht/peer_store.hpp"

#include <algorithm>

namespace p2p::dht {

bool PeerStore::add(const InfoHash& ih, const Endpoint& ep, Clock::time_point now) {
  auto it = peers_.find(ih);
  if (it == peers_.end()) {
    if (peers_.size() >= max_torrents_ || total_ >= max_total_) return false;
    it = peers_.emplace(ih, std::vector<Entry>{}).first;
  }
  auto& list = it->second;
  auto same = std::find_if(list.begin(), list.end(), [&](const Entry& e) { return e.ep == ep; });
  if (same != list.end()) {
    list.erase(same);
    --total_;
  } else if (list.size() >= max_per_torrent_) {
    list.erase(list.begin());
    --total_;
  } else if (total_ >= max_total_) {
    if (list.empty()) peers_.erase(it);
    return false;
  }
  list.push_back({ep, now});
  ++total_;
  return true;
}

std::vector<PeerStore::Endpoint> PeerStore::get(const InfoHash& ih, std::size_t max,
                                                Clock::time_point now) const {
  std::vector<Endpoint> out;
  auto it = peers_.find(ih);
  if (it == peers_.end()) return out;
  for (auto e = it->second.rbegin(); e != it->second.rend() && out.size() < max; ++e)
    if (now - e->added < kLifetime) out.push_back(e->ep);
  return out;
}

void PeerStore::expire(Clock::time_point now) {
  for (auto it = peers_.begin(); it != peers_.end();) {
    auto& list = it->second;
    auto keep = std::find_if(list.begin(), list.end(),
                             [&](const Entry& e) { return now - e.added < kLifetime; });
    total_ -= static_cast<std::size_t>(keep - list.begin());
    list.erase(list.begin(), keep);
    it = list.empty() ? peers_.erase(it) : std::next(it);
  }
}

}  // namespace p2p::dht
