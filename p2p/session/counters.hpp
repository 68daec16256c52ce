#pragma once
// Named counters of a session and of each torrent, only ever increasing (rates are derived
// by whoever reads them twice).
#include <array>
#include <cstdint>

#include "p2p/session/events.hpp"

namespace p2p {

constexpr std::size_t kNumCloseReasons = std::size_t(CloseReason::Extension) + 1;

struct Counters {
  std::uint64_t bytes_up = 0;    // payload
  std::uint64_t bytes_down = 0;  // payload
  std::uint64_t connections_opened = 0;
  std::array<std::uint64_t, kNumCloseReasons> connections_closed{};  // by CloseReason
  // Of those, connections closed before a torrent took them (unknown info-hash, refused,
  // handshake never done): they are in connections_closed but in no torrent's counters.
  std::uint64_t connections_closed_unattached = 0;
  std::uint64_t pieces_passed = 0;
  std::uint64_t hash_failures = 0;
  std::uint64_t checks_started = 0;
  std::uint64_t checks_done = 0;
  std::uint64_t pieces_checked = 0;  // hashed by checks
  std::uint64_t bans = 0;

  std::uint64_t closed(CloseReason r) const { return connections_closed[std::size_t(r)]; }
  std::uint64_t closed_total() const {
    std::uint64_t n = 0;
    for (auto c : connections_closed) n += c;
    return n;
  }
};

}  // namespace p2p
