#pragma once
// The choker as a pure function of the peers' state and a clock. BEP 3 style: every 10 s
// the regular slots go to the interested peers that rank best; every 30 s one optimistic
// slot rotates to a random choked, interested peer, with peers that connected recently
// three times as likely to get it. While leeching, peers rank by how fast they upload to
// us (reciprocation); while seeding, by how fast we upload to them. An extension's ranking
// hook (rank) comes before the rate: a higher rank wins regardless of rate. The engine owns
// slot counting and the optimistic slot; a policy only ranks.
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "base/small_rng.hpp"

namespace p2p {

struct ChokerSettings {
  int unchoke_slots = 8;  // regular slots, not counting the optimistic one
  // Share of the regular slots kept for peers of rank 0 or less (those the ranking hook does
  // not favour, e.g. peers that do not pay), rounded down, when such peers are interested.
  double unranked_share = 0.25;
  std::chrono::seconds rechoke_interval{10};
  std::chrono::seconds optimistic_interval{30};
  std::chrono::seconds new_peer_age{180};  // "new" for optimistic-unchoke weighting
};

struct ChokerPeer {
  std::uint64_t id = 0;  // the caller's key for the peer
  bool interested = false;
  bool snubbed = false;
  std::chrono::steady_clock::time_point connected_at{};
  double download_rate = 0;  // bytes/s received from the peer
  double upload_rate = 0;    // bytes/s sent to the peer
  std::int64_t rank = 0;     // from the ranking hook; 0 when there is none
  bool optimistic = false;   // currently holds the optimistic slot
};

struct ChokeDecision {
  std::vector<std::uint64_t> unchoke;  // every peer to have unchoked after this round
  std::optional<std::uint64_t> optimistic;
};

class Choker {
 public:
  explicit Choker(ChokerSettings s = {}, std::uint64_t seed = std::random_device{}())
      : settings_(s), rng_(seed) {}

  const ChokerSettings& settings() const { return settings_; }
  void set_slots(int n) { settings_.unchoke_slots = n; }

  // One rechoke round at `now`. rotate_optimistic: pick a new optimistic peer (the caller
  // does it every optimistic_interval, or when the current one left).
  ChokeDecision rechoke(const std::vector<ChokerPeer>& peers, bool seeding,
                        std::chrono::steady_clock::time_point now, bool rotate_optimistic);

 private:
  ChokerSettings settings_;
  base::SmallRng rng_;
};

}  // namespace p2p
