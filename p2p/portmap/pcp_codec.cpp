#include "p2p/portmap/pcp_codec.hpp"

#include <algorithm>

#include "p2p/portmap/be_bytes.hpp"

namespace p2p::pcp {

namespace {

using namespace portmap_bytes;

template <std::size_t N>
void put(std::string& out, const std::array<std::uint8_t, N>& a) {
  out.append(reinterpret_cast<const char*>(a.data()), N);
}

}  // namespace

Address v4_mapped(const std::array<std::uint8_t, 4>& v4) {
  Address a{};
  a[10] = a[11] = 0xff;
  std::copy(v4.begin(), v4.end(), a.begin() + 12);
  return a;
}

std::string build_map_request(const Nonce& nonce, Protocol p, std::uint16_t internal_port,
                              std::uint16_t suggested_external_port, std::uint32_t lifetime,
                              const Address& client) {
  std::string out;
  out += static_cast<char>(kVersion);
  out += static_cast<char>(kOpMap);  // R bit clear: a request
  put16(out, 0);                     // reserved
  put32(out, lifetime);
  put(out, client);
  put(out, nonce);
  out += static_cast<char>(p);
  out.append(3, '\0');  // reserved
  put16(out, internal_port);
  put16(out, suggested_external_port);
  put(out, Address{});  // no suggested external address
  return out;
}

std::string MapResponse::external_ip() const {
  static constexpr std::array<std::uint8_t, 12> prefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (!std::equal(prefix.begin(), prefix.end(), external_address.begin())) return "";
  return std::to_string(external_address[12]) + "." + std::to_string(external_address[13]) + "." +
         std::to_string(external_address[14]) + "." + std::to_string(external_address[15]);
}

std::optional<MapResponse> parse_map_response(std::string_view packet) {
  const auto* p = reinterpret_cast<const unsigned char*>(packet.data());
  if (packet.size() < 24 || packet.size() > 1100 || p[0] != kVersion || p[1] != (0x80 | kOpMap)) {
    return std::nullopt;
  }
  MapResponse r;
  r.version = p[0];
  r.result = p[3];
  r.lifetime = get32(p + 4);
  r.epoch = get32(p + 8);
  if (packet.size() < kMapSize) {
    if (r.result == 0) return std::nullopt;  // a success must say what was mapped
    return r;
  }
  r.has_map = true;
  std::copy_n(p + 24, 12, r.nonce.begin());
  r.protocol = p[36];
  r.internal_port = get16(p + 40);
  r.external_port = get16(p + 42);
  std::copy_n(p + 44, 16, r.external_address.begin());
  return r;
}

std::string result_text(std::uint8_t result) {
  static constexpr const char* names[] = {"success",
                                          "unsupported version",
                                          "not authorized",
                                          "malformed request",
                                          "unsupported opcode",
                                          "unsupported option",
                                          "malformed option",
                                          "network failure",
                                          "out of resources",
                                          "unsupported protocol",
                                          "user quota exceeded",
                                          "cannot provide the external address or port",
                                          "address mismatch",
                                          "excessive remote peers"};
  if (result < std::size(names)) return names[result];
  return "result code " + std::to_string(result);
}

}  // namespace p2p::pcp
