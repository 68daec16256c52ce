#include "p2p/portmap/natpmp_codec.hpp"

#include <algorithm>

#include "p2p/portmap/be_bytes.hpp"

namespace p2p::natpmp {

using namespace portmap_bytes;

std::string build_external_address_request() {
  return std::string("\0\0", 2);
}

std::string build_mapping_request(Protocol p, std::uint16_t internal_port,
                                  std::uint16_t external_port, std::uint32_t lifetime_seconds) {
  std::string out;
  out += '\0';  // version
  out += static_cast<char>(p);
  put16(out, 0);  // reserved
  put16(out, internal_port);
  put16(out, external_port);
  put32(out, lifetime_seconds);
  return out;
}

std::optional<Response> parse_response(std::string_view packet) {
  const auto* p = reinterpret_cast<const unsigned char*>(packet.data());
  if (packet.size() < 8 || p[0] != 0 || p[1] < 128) return std::nullopt;
  Response r;
  r.opcode = p[1];
  r.result = get16(p + 2);
  r.epoch = get32(p + 4);
  switch (r.opcode) {
    case 128:
      if (packet.size() < 12) return r.result != 0 ? std::optional(r) : std::nullopt;
      std::copy_n(p + 8, 4, r.external_address.begin());
      return r;
    case 129:
    case 130:
      if (packet.size() < 16) return r.result != 0 ? std::optional(r) : std::nullopt;
      r.internal_port = get16(p + 8);
      r.external_port = get16(p + 10);
      r.lifetime = get32(p + 12);
      return r;
    default:
      return std::nullopt;
  }
}

std::string result_text(std::uint16_t result) {
  switch (result) {
    case 0:
      return "success";
    case 1:
      return "unsupported version";
    case 2:
      return "not authorized or refused";
    case 3:
      return "network failure";
    case 4:
      return "out of resources";
    case 5:
      return "unsupported opcode";
    default:
      return "result code " + std::to_string(result);
  }
}

}  // namespace p2p::natpmp
