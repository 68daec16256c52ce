#pragma once
// BEP 10 extended handshake (extension message 0) as pure data: what a peer tells us about
// itself. Parsing bounds the input and never throws; the connection applies the result.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "p2p/wire/bencode.hpp"

namespace p2p::ext {

struct Handshake {
  // Extension name -> the peer's id for it; 0 means the peer disables that extension.
  std::map<std::string, std::uint8_t, std::less<>> ids;
  std::string client;               // "v", cut to 64 bytes
  std::uint16_t listen_port = 0;    // "p", 0 when absent or out of range
  int reqq = 0;                     // "reqq", 0 when absent, capped at kMaxReqq
  std::int64_t metadata_size = -1;  // "metadata_size", -1 when absent
  bencode::Value dict;              // the whole dictionary, for extension plugins
};

inline constexpr int kMaxReqq = 2000;
inline constexpr std::size_t kMaxHandshakeSize = 1 << 20;

// nullopt with `error` set when the body is not a bencoded dictionary within the limits.
std::optional<Handshake> parse_handshake(std::string_view body, std::string* error = nullptr);

}  // namespace p2p::ext
