#pragma once
// BEP 11 peer exchange (ut_pex) message codec: compact IPv4 and IPv6 peer lists of peers
// added and dropped since the last message. Never used on private torrents.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

namespace p2p::pex {

struct Message {
  std::vector<boost::asio::ip::tcp::endpoint> added;
  std::vector<std::uint8_t> added_flags;  // one per added peer (0 when not given)
  std::vector<boost::asio::ip::tcp::endpoint> dropped;
};

inline constexpr std::uint8_t kFlagSeed = 0x02;  // added.f: the peer is a seed

inline constexpr std::size_t kMaxPeersPerMessage = 50;

std::string encode(const Message& m);
// nullopt on a malformed message; lists are capped at a few hundred peers.
std::optional<Message> parse(std::string_view body);

}  // namespace p2p::pex
