#pragma once
// PCP (RFC 6887) MAP requests and answers, without sockets. PCP is NAT-PMP's successor on the
// same gateway port (5351), version 2: a mapping carries a nonce that renewals and removal
// repeat, and the answer gives the external address with the port.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace p2p::pcp {

inline constexpr std::uint8_t kVersion = 2;
inline constexpr std::uint8_t kOpMap = 1;
inline constexpr std::size_t kMapSize = 60;  // header 24 + MAP 36, request and answer
enum class Protocol : std::uint8_t { tcp = 6, udp = 17 };
using Nonce = std::array<std::uint8_t, 12>;
using Address = std::array<std::uint8_t, 16>;  // IPv6, or IPv4-mapped (::ffff:a.b.c.d)

Address v4_mapped(const std::array<std::uint8_t, 4>& v4);

// Lifetime 0 removes the mapping of that nonce; external port 0: no suggestion.
std::string build_map_request(const Nonce& nonce, Protocol p, std::uint16_t internal_port,
                              std::uint16_t suggested_external_port, std::uint32_t lifetime,
                              const Address& client);

struct MapResponse {
  std::uint8_t version = 0;
  std::uint8_t result = 0;  // 0: success; RFC 6887 7.4 for the others
  std::uint32_t lifetime = 0;
  std::uint32_t epoch = 0;
  bool has_map = false;  // an error answer may carry the header alone
  Nonce nonce{};
  std::uint8_t protocol = 0;
  std::uint16_t internal_port = 0;
  std::uint16_t external_port = 0;
  Address external_address{};
  std::string external_ip() const;  // dotted IPv4 for a mapped address, else empty
};

// nullopt for anything that is not a PCP MAP answer (R bit set, opcode MAP).
std::optional<MapResponse> parse_map_response(std::string_view packet);

std::string result_text(std::uint8_t result);

}  // namespace p2p::pcp
