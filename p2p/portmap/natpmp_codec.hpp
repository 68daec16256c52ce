#pragma once
// NAT-PMP (RFC 6886) packets, without sockets: the external address and port mapping
// requests a client sends to its gateway on UDP port 5351, and the gateway's answers.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace p2p::natpmp {

inline constexpr std::uint16_t kPort = 5351;
enum class Protocol : std::uint8_t { udp = 1, tcp = 2 };  // the request opcodes

// Opcode 0: what is my external address.
std::string build_external_address_request();
// Opcodes 1 (UDP) and 2 (TCP). Lifetime 0 with external port 0 removes the mapping.
std::string build_mapping_request(Protocol p, std::uint16_t internal_port,
                                  std::uint16_t external_port, std::uint32_t lifetime_seconds);

struct Response {
  std::uint8_t opcode = 0;   // the request's opcode + 128
  std::uint16_t result = 0;  // 0: success (RFC 6886 3.5 for the others)
  std::uint32_t epoch = 0;   // seconds since the gateway's mappings were reset
  std::array<std::uint8_t, 4> external_address{};  // opcode 128
  std::uint16_t internal_port = 0;                 // opcodes 129, 130
  std::uint16_t external_port = 0;
  std::uint32_t lifetime = 0;
};

// nullopt for anything that is not a well-formed version 0 answer.
std::optional<Response> parse_response(std::string_view packet);

// A readable name for a result code.
std::string result_text(std::uint16_t result);

}  // namespace p2p::natpmp
