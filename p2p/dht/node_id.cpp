#include "p2p/dht/node_id.hpp"

#include <algorithm>
#include <cstring>
#include <random>

namespace p2p::dht {

NodeId xor_distance(const NodeId& a, const NodeId& b) {
  NodeId d{};
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = a[i] ^ b[i];
  return d;
}

bool closer(const NodeId& target, const NodeId& a, const NodeId& b) {
  for (std::size_t i = 0; i < target.size(); ++i) {
    std::uint8_t da = a[i] ^ target[i], db = b[i] ^ target[i];
    if (da != db) return da < db;
  }
  return false;
}

int common_prefix_bits(const NodeId& a, const NodeId& b) {
  for (std::size_t i = 0; i < a.size(); ++i) {
    std::uint8_t x = a[i] ^ b[i];
    if (x == 0) continue;
    int bits = static_cast<int>(i) * 8;
    for (int bit = 7; bit >= 0 && !(x & (1u << bit)); --bit) ++bits;
    return bits;
  }
  return 160;
}

namespace {
std::mt19937_64& rng() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return gen;
}
}  // namespace

NodeId random_node_id() {
  NodeId id{};
  for (auto& b : id) b = static_cast<std::uint8_t>(rng()());
  return id;
}

NodeId random_id_with_prefix(const NodeId& base, int bits) {
  NodeId id = random_node_id();
  bits = std::clamp(bits, 0, 159);
  for (int i = 0; i < bits; ++i) {
    std::uint8_t mask = static_cast<std::uint8_t>(0x80u >> (i % 8));
    id[i / 8] = static_cast<std::uint8_t>((id[i / 8] & ~mask) | (base[i / 8] & mask));
  }
  std::uint8_t mask = static_cast<std::uint8_t>(0x80u >> (bits % 8));
  id[bits / 8] = static_cast<std::uint8_t>((id[bits / 8] & ~mask) | (~base[bits / 8] & mask));
  return id;
}

std::string_view as_bytes(const NodeId& id) {
  return {reinterpret_cast<const char*>(id.data()), id.size()};
}

bool node_id_from(std::string_view bytes, NodeId& out) {
  if (bytes.size() != out.size()) return false;
  std::memcpy(out.data(), bytes.data(), out.size());
  return true;
}

}  // namespace p2p::dht
