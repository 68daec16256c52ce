#include <algorithm>
#include <boost/asio/post.hpp>

#include "p2p/tracker/tracker.hpp"

namespace p2p {

struct TrackerTiers::State {
  AnnounceRequest req;
  AnnounceHandler handler;
  std::size_t tier = 0;
  std::size_t index = 0;
  AnnounceResult last;
  bool single = false;  // only the one tracker in `only`
  std::string only;
};

TrackerTiers::TrackerTiers(std::vector<std::vector<std::string>> tiers, TrackerClient& client,
                           std::uint64_t seed)
    : client_(client), alive_(std::make_shared<bool>(true)) {
  std::mt19937_64 rng(seed);
  for (auto& tier : tiers) {
    std::erase_if(tier, [](const std::string& u) { return u.empty(); });
    if (tier.empty()) continue;
    std::shuffle(tier.begin(), tier.end(), rng);  // BEP 12
    tiers_.push_back(std::move(tier));
  }
}

TrackerTiers::~TrackerTiers() {
  *alive_ = false;
}

bool TrackerTiers::empty() const {
  return tiers_.empty();
}

void TrackerTiers::announce(const AnnounceRequest& req, AnnounceHandler handler) {
  auto st = std::make_shared<State>();
  st->req = req;
  st->handler = std::move(handler);
  st->last.error = "no trackers";
  if (req.event == TrackerEvent::stopped && last_working_) {
    st->single = true;
    st->only = *last_working_;
  }
  if (tiers_.empty()) {
    boost::asio::post(client_.io(), [st] { st->handler(st->last); });
    return;
  }
  try_next(std::move(st));
}

void TrackerTiers::try_next(std::shared_ptr<State> st) {
  std::string url;
  if (st->single) {
    url = st->only;
  } else {
    if (st->tier >= tiers_.size()) {
      auto h = std::move(st->handler);
      h(st->last);
      return;
    }
    url = tiers_[st->tier][st->index];
  }
  std::string tracker_id;
  for (const auto& [u, id] : tracker_ids_) {
    if (u == url) tracker_id = id;
  }
  client_.announce(url, st->req, tracker_id,
                   [this, alive = alive_, st, url](const AnnounceResult& r) {
                     if (!*alive) {
                       st->handler(r);
                       return;
                     }
                     if (r.response) {
                       last_working_ = url;
                       if (!r.response->tracker_id.empty()) {
                         bool found = false;
                         for (auto& [u, id] : tracker_ids_) {
                           if (u == url) {
                             id = r.response->tracker_id;
                             found = true;
                           }
                         }
                         if (!found) tracker_ids_.emplace_back(url, r.response->tracker_id);
                       }
                       // BEP 12: a tracker that answers moves to the front of its tier.
                       if (!st->single && st->tier < tiers_.size()) {
                         auto& tier = tiers_[st->tier];
                         auto it = std::find(tier.begin(), tier.end(), url);
                         if (it != tier.end()) std::rotate(tier.begin(), it, it + 1);
                       }
                       auto h = std::move(st->handler);
                       h(r);
                       return;
                     }
                     st->last = r;
                     if (st->single || r.cancelled) {  // a cancelled client must not be asked again
                       auto h = std::move(st->handler);
                       h(r);
                       return;
                     }
                     if (++st->index >= tiers_[st->tier].size()) {
                       ++st->tier;
                       st->index = 0;
                     }
                     try_next(st);
                   });
}

}  // namespace p2p
