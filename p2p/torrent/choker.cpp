#include "p2p/torrent/choker.hpp"

#include <algorithm>
#include <cmath>

namespace p2p {

ChokeDecision Choker::rechoke(const std::vector<ChokerPeer>& peers, bool seeding,
                              std::chrono::steady_clock::time_point now,
                              bool rotate_optimistic) {
  ChokeDecision d;
  std::vector<const ChokerPeer*> ranked;
  for (const auto& p : peers) {
    // A snubbed peer gets no regular slot while we download (it does not reciprocate).
    if (p.interested && !(p.snubbed && !seeding)) ranked.push_back(&p);
  }
  std::stable_sort(ranked.begin(), ranked.end(), [&](const ChokerPeer* a, const ChokerPeer* b) {
    if (a->rank != b->rank) return a->rank > b->rank;
    double ra = seeding ? a->upload_rate : a->download_rate;
    double rb = seeding ? b->upload_rate : b->download_rate;
    return ra > rb;
  });
  std::size_t slots = std::size_t(std::max(0, settings_.unchoke_slots));
  // Favoured peers (rank > 0) may fill all but the reserved slots; the reserved ones go to
  // the best of the others, and whatever they leave goes back to the favoured.
  std::size_t reserved = std::size_t(std::floor(double(slots) * std::clamp(settings_.unranked_share, 0.0, 1.0)));
  std::vector<const ChokerPeer*> favoured, others;
  for (auto* p : ranked) (p->rank > 0 ? favoured : others).push_back(p);
  std::size_t take_others = std::min(others.size(), reserved);
  std::size_t take_favoured = std::min(favoured.size(), slots - std::min(slots, take_others));
  take_others = std::min(others.size(), slots - take_favoured);
  std::vector<std::uint64_t> regular;
  for (std::size_t i = 0; i < take_favoured; ++i) regular.push_back(favoured[i]->id);
  for (std::size_t i = 0; i < take_others; ++i) regular.push_back(others[i]->id);

  auto is_regular = [&](std::uint64_t id) {
    return std::find(regular.begin(), regular.end(), id) != regular.end();
  };
  std::optional<std::uint64_t> current;
  for (const auto& p : peers) {
    if (p.optimistic && p.interested && !is_regular(p.id)) current = p.id;
  }
  if (rotate_optimistic || !current) {
    std::vector<std::pair<const ChokerPeer*, int>> pool;
    int total = 0;
    // The optimistic slot is for peers the ranking hook does not favour, while there are any.
    bool any_unranked = std::any_of(peers.begin(), peers.end(), [&](const ChokerPeer& p) {
      return p.interested && p.rank <= 0 && !is_regular(p.id);
    });
    for (const auto& p : peers) {
      if (!p.interested || is_regular(p.id)) continue;
      if (any_unranked && p.rank > 0) continue;
      if (rotate_optimistic && current && p.id == *current && peers.size() > 1) continue;
      int weight = (now - p.connected_at < settings_.new_peer_age) ? 3 : 1;
      pool.emplace_back(&p, weight);
      total += weight;
    }
    if (total > 0) {
      std::uniform_int_distribution<int> dist(0, total - 1);
      int x = dist(rng_);
      for (auto& [p, w] : pool) {
        if (x < w) {
          current = p->id;
          break;
        }
        x -= w;
      }
    } else if (rotate_optimistic) {
      // Nobody else wants it: keep the current one if still eligible.
    }
  }
  d.unchoke = regular;
  if (current && !is_regular(*current)) {
    d.optimistic = current;
    d.unchoke.push_back(*current);
  }
  return d;
}

}  // namespace p2p
