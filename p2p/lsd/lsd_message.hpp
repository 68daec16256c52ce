#pragma once
// Local service discovery messages (BEP 14), without sockets: the BT-SEARCH announce sent to
// the multicast group, built and parsed. Parsing is bounded and fuzzed.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "p2p/wire/core_types.hpp"

namespace p2p::lsd {

inline constexpr std::uint16_t kPort = 6771;
inline constexpr const char* kGroupV4 = "239.192.152.143";
inline constexpr const char* kGroupV6 = "ff15::efc0:988f";
// A datagram longer than this is not read; an announce names at most kMaxHashes torrents.
inline constexpr std::size_t kMaxMessage = 1400;
inline constexpr std::size_t kMaxHashes = 20;

struct Announce {
  std::uint16_t port = 0;  // the sender's BitTorrent listen port
  std::vector<InfoHash> info_hashes;
  std::string cookie;  // opaque; lets a sender recognise its own announces
};

// "BT-SEARCH * HTTP/1.1" with Host (`host` is "239.192.152.143:6771" or "[ff15::efc0:988f]:6771"),
// Port, one Infohash line per hash (at most kMaxHashes are written) and the cookie when not
// empty.
std::string build_announce(const std::string& host, const Announce& a);

// nullopt for anything that is not a well-formed announce: another request line, no or a bad
// Port, no valid Infohash, a message over kMaxMessage. Infohash lines past kMaxHashes and
// ones that are not 40 hex digits are skipped.
std::optional<Announce> parse_announce(std::string_view message);

}  // namespace p2p::lsd
