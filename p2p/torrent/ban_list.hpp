#pragma once
// Bans and strikes of a torrent, both forgotten after a while: a ban lasts its duration (a
// peer that misbehaved an hour ago may have been fixed, or the address reassigned), strikes
// expire some time after the last one. Times are passed in, so tests need no waiting.
#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace p2p {

class BanList {
 public:
  using Clock = std::chrono::steady_clock;
  explicit BanList(Clock::duration duration = std::chrono::hours(1)) : duration_(duration) {}

  // True when newly banned (false: it already was, its ban is renewed).
  bool ban(const std::string& key, Clock::time_point now) {
    auto [it, fresh] = until_.insert_or_assign(key, now + duration_);
    (void)it;
    return fresh;
  }
  bool banned(const std::string& key, Clock::time_point now) const {
    auto it = until_.find(key);
    return it != until_.end() && now < it->second;
  }
  void expire(Clock::time_point now) {
    std::erase_if(until_, [now](const auto& kv) { return kv.second <= now; });
  }
  std::vector<std::string> keys() const {
    std::vector<std::string> out;
    for (const auto& [k, t] : until_) out.push_back(k);
    return out;
  }
  std::size_t size() const { return until_.size(); }

 private:
  Clock::duration duration_;
  std::map<std::string, Clock::time_point> until_;
};

class Strikes {
 public:
  using Clock = std::chrono::steady_clock;
  explicit Strikes(Clock::duration memory = std::chrono::hours(1)) : memory_(memory) {}

  // Adds points to key and returns its total.
  int add(const std::string& key, int points, Clock::time_point now) {
    auto& e = entries_[key];
    if (e.points > 0 && now - e.last >= memory_) e.points = 0;
    e.points += points;
    e.last = now;
    return e.points;
  }
  int get(const std::string& key) const {
    auto it = entries_.find(key);
    return it == entries_.end() ? 0 : it->second.points;
  }
  void expire(Clock::time_point now) {
    std::erase_if(entries_, [&](const auto& kv) { return now - kv.second.last >= memory_; });
  }
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    int points = 0;
    Clock::time_point last;
  };
  Clock::duration memory_;
  std::map<std::string, Entry> entries_;
};

}  // namespace p2p
