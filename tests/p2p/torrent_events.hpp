#pragma once
// Test helpers over a session's events: run the io_context until a torrent reaches a state,
// hear of one torrent's events.
#include <chrono>
#include <functional>
#include <initializer_list>
#include <string>
#include <variant>

#include <boost/asio/io_context.hpp>

#include "p2p/session/events.hpp"
#include "p2p/session/session.hpp"
#include "p2p/torrent/torrent.hpp"

namespace testing_events {

inline bool run_until_state(boost::asio::io_context& io, const p2p::Torrent& t,
                            std::initializer_list<p2p::TorrentState> states,
                            std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  auto in = [&] {
    for (auto s : states) {
      if (t.state() == s) return true;
    }
    return false;
  };
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!in() && std::chrono::steady_clock::now() < deadline) {
    io.run_for(std::chrono::milliseconds(5));
  }
  return in();
}

// Calls f for every event of the torrent ih.
template <class E>
[[nodiscard]] p2p::EventBus::Subscription on_event(p2p::Session& s, const p2p::InfoHash& ih,
                                                   std::function<void(const E&)> f) {
  return s.events().subscribe([ih, f = std::move(f)](const p2p::Event& e) {
    if (const auto* ev = std::get_if<E>(&e); ev && ev->info_hash == ih) f(*ev);
  });
}

}  // namespace testing_events
