#pragma once
// When each peer endpoint may be dialed again. An entry whose time has passed says nothing a
// missing one would not, so pruning drops those; over the cap, the entries that expire first
// go too (those still queued for a dial excepted).
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

namespace p2p {

class RedialTable {
 public:
  using Clock = std::chrono::steady_clock;
  using Endpoint = boost::asio::ip::tcp::endpoint;
  explicit RedialTable(std::size_t cap = 4000) : cap_(cap) {}

  // False when ep may not be dialed yet at `now`; else it may, and is not again before
  // now + wait.
  bool try_take(const Endpoint& ep, Clock::time_point now, Clock::duration wait) {
    auto [it, fresh] = at_.try_emplace(ep, now);
    if (!fresh && now < it->second) return false;
    it->second = now + wait;
    return true;
  }
  void set(const Endpoint& ep, Clock::time_point at) { at_[ep] = at; }
  // keep(ep): an endpoint that must stay (queued for a dial).
  void prune(Clock::time_point now, const std::function<bool(const Endpoint&)>& keep) {
    std::erase_if(at_, [&](const auto& kv) { return kv.second <= now && !keep(kv.first); });
    if (at_.size() <= cap_) return;
    std::vector<std::pair<Clock::time_point, Endpoint>> by_time;
    for (const auto& [ep, t] : at_) {
      if (!keep(ep)) by_time.emplace_back(t, ep);
    }
    std::size_t excess = std::min(at_.size() - cap_, by_time.size());
    std::nth_element(by_time.begin(), by_time.begin() + std::ptrdiff_t(excess), by_time.end());
    for (std::size_t i = 0; i < excess; ++i) at_.erase(by_time[i].second);
  }
  std::size_t size() const { return at_.size(); }
  std::size_t cap() const { return cap_; }

 private:
  std::size_t cap_;
  std::map<Endpoint, Clock::time_point> at_;
};

}  // namespace p2p
