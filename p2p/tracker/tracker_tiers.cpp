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
    for (const auto& url : tier) {
      TrackerStatus st;
      st.url = url;
      st.tier = int(tiers_.size());
      st.scrapable = scrape_url_of(url).has_value();
      status_.push_back(std::move(st));
    }
    tiers_.push_back(std::move(tier));
  }
}

TrackerStatus* TrackerTiers::status_of(const std::string& url) {
  for (auto& st : status_) {
    if (st.url == url) return &st;
  }
  return nullptr;
}

std::vector<TrackerStatus> TrackerTiers::status() const {
  return status_;
}

void TrackerTiers::note_announce(const std::string& url, const AnnounceResult& r) {
  TrackerStatus* st = status_of(url);
  if (!st || r.cancelled) return;
  st->last_announce = std::chrono::system_clock::now();
  st->last_announce_ok = r.response.has_value();
  if (!r.response) {
    st->last_announce_message = r.error;
    return;
  }
  st->last_announce_message = r.response->warning_message;
  st->last_peer_count = int(r.response->peers.size());
  if (r.response->complete) st->seeders = r.response->complete;
  if (r.response->incomplete) st->leechers = r.response->incomplete;
}

void TrackerTiers::scrape(const InfoHash& info_hash, std::function<void()> done) {
  std::string url;
  if (last_working_) {
    url = *last_working_;
  } else if (!tiers_.empty()) {
    url = tiers_.front().front();
  }
  if (url.empty()) {
    if (done) boost::asio::post(client_.io(), std::move(done));
    return;
  }
  client_.scrape(url, info_hash, [this, alive = alive_, done](const ScrapeResult& r) {
    if (*alive && !r.cancelled) {
      if (TrackerStatus* st = status_of(r.url)) {
        st->last_scrape = std::chrono::system_clock::now();
        st->last_scrape_ok = r.info.has_value();
        st->last_scrape_message = r.error;
        if (r.info) {
          st->seeders = r.info->complete;
          st->leechers = r.info->incomplete;
          st->downloaded = r.info->downloaded;
        }
      }
    }
    if (done) done();
  });
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
                     note_announce(url, r);
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
