#pragma once
// Pure parts of the UDP tracker protocol, BEP 15 (no sockets): packet building and parsing.
// Fuzzed.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "p2p/tracker/tracker.hpp"

namespace p2p::udp_tracker {

inline constexpr std::uint64_t kProtocolId = 0x41727101980ull;
enum Action : std::uint32_t { kConnect = 0, kAnnounce = 1, kScrape = 2, kError = 3 };

std::string build_connect(std::uint32_t transaction_id);
std::string build_announce(std::uint64_t connection_id, std::uint32_t transaction_id,
                           const AnnounceRequest& req);
// A scrape of one torrent (action 2).
std::string build_scrape(std::uint64_t connection_id, std::uint32_t transaction_id,
                         const InfoHash& info_hash);

// A parsed reply. `error` is set for an error action (the tracker's message) and for a
// malformed packet; action/transaction_id are valid whenever the packet has 8 bytes.
struct Reply {
  std::uint32_t action = 0;
  std::uint32_t transaction_id = 0;
  std::uint64_t connection_id = 0;           // connect replies
  std::optional<AnnounceResponse> announce;  // announce replies
  std::optional<ScrapeInfo> scrape;          // scrape replies: the first torrent's counts
  std::optional<std::string> error;
  bool malformed = false;
};

// ipv6: the reply came over IPv6, so peers are 18 bytes each (BEP 15).
Reply parse_reply(std::string_view packet, bool ipv6 = false);

}  // namespace p2p::udp_tracker
