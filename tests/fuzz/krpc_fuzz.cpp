// libFuzzer target: KRPC datagrams of the DHT (BEP 5). A message that parses must respect the
// bounds, survive a round trip through the encoder, and be safe to feed to the routing table
// and a lookup the way the node would.
#include <cstdlib>
#include <span>

#include "p2p/dht/krpc.hpp"
#include "p2p/dht/lookup.hpp"
#include "p2p/dht/routing_table.hpp"

using namespace p2p::dht;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ParseResult p = parse_message(std::span<const std::uint8_t>(data, size));
  if (!p.message) {
    if (p.error_code != 0 && p.error_code != kProtocolError && p.error_code != kMethodUnknown)
      std::abort();
    if (p.tid.size() > kMaxTransactionId) std::abort();
    return 0;
  }
  const Message& m = *p.message;
  if (m.tid.size() > kMaxTransactionId || m.token.size() > kMaxToken) std::abort();
  if (m.values.size() > kMaxValues || m.nodes.size() > kMaxNodes) std::abort();
  std::string wire = encode_message(m);
  ParseResult back = parse_message(std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t*>(wire.data()), wire.size()));
  if (wire.size() <= kMaxDatagram) {
    if (!back.message) std::abort();
    if (back.message->tid != m.tid || back.message->type != m.type) std::abort();
    if (m.type == Message::Type::response &&
        (back.message->nodes != m.nodes || back.message->values != m.values))
      std::abort();
  }
  auto now = Clock::now();
  NodeId self{};
  RoutingTable table(self);
  UdpEndpoint from(boost::asio::ip::make_address_v4("10.0.0.1"), 6881);
  table.heard_from({m.id, from}, m.type == Message::Type::response, now);
  for (const NodeInfo& n : m.nodes) table.heard_from(n, false, now);
  if (table.size() > 160 * kBucketSize) std::abort();
  Lookup lookup(m.target, {{m.id, from}});
  for (const NodeInfo& n : lookup.next()) lookup.on_response(n.ep, m);
  (void)lookup.done();
  return 0;
}
