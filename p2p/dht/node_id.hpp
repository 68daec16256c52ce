#pragma once
// DHT node ids (BEP 5): 160-bit values compared by XOR distance.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/asio/ip/udp.hpp>

namespace p2p::dht {

using NodeId = std::array<std::uint8_t, 20>;
using UdpEndpoint = boost::asio::ip::udp::endpoint;

NodeId xor_distance(const NodeId& a, const NodeId& b);
// True when a is closer to target than b.
bool closer(const NodeId& target, const NodeId& a, const NodeId& b);
// Leading bits a and b share (160 when equal).
int common_prefix_bits(const NodeId& a, const NodeId& b);
NodeId random_node_id();
// A random id sharing exactly `bits` leading bits with `base` (bits < 160), for bucket refresh.
NodeId random_id_with_prefix(const NodeId& base, int bits);
std::string_view as_bytes(const NodeId& id);
bool node_id_from(std::string_view bytes, NodeId& out);  // false unless exactly 20 bytes

}  // namespace p2p::dht
