#pragma once
// The transfer accounts of a torrent's peers, keyed by "ip:port": those connected now and at
// most `max_past` of those gone, the oldest gone dropped first. Entries stay at one address
// while their peer is connected (a connection keeps a pointer to its counters).
#include <cstddef>
#include <list>
#include <map>
#include <string>

#include "p2p/torrent/accounting.hpp"

namespace p2p {

class PeerHistory {
 public:
  explicit PeerHistory(std::size_t max_past = 1000) : max_past_(max_past) {}

  // A connection with this key starts counting; its counters are kept if it was seen before.
  TransferCounters& open(const std::string& key) {
    ++live_[key];
    return accounts_[key];
  }
  // A connection that opened this key is gone.
  void close(const std::string& key) {
    auto it = live_.find(key);
    if (it == live_.end()) return;
    if (--it->second > 0) return;
    live_.erase(it);
    gone_.push_back(key);
    while (gone_.size() > max_past_) {
      std::string oldest = std::move(gone_.front());
      gone_.pop_front();
      // Back again since it left: the entry belongs to the live connection now.
      if (!live_.count(oldest)) accounts_.erase(oldest);
    }
  }
  // The counters of a key, live or past (nullptr when unknown or dropped).
  TransferCounters* find(const std::string& key) {
    auto it = accounts_.find(key);
    return it == accounts_.end() ? nullptr : &it->second;
  }
  const std::map<std::string, TransferCounters>& accounts() const { return accounts_; }
  std::size_t num_live() const { return live_.size(); }

 private:
  std::size_t max_past_;
  std::map<std::string, TransferCounters> accounts_;
  std::map<std::string, int> live_;  // key -> open connections
  std::list<std::string> gone_;      // keys in the order their last connection closed
};

}  // namespace p2p
