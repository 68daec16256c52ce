#pragma once
// KRPC messages of the BitTorrent DHT (BEP 5) over strict bencode: queries (ping, find_node,
// get_peers, announce_peer), their responses and errors. Parsing is bounded: the datagram's
// size, the nesting depth, the number of values and each field's length; anything else is
// refused with the KRPC error code an answer should carry.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "p2p/dht/node_id.hpp"

namespace p2p::dht {

constexpr std::size_t kMaxDatagram = 1500;
constexpr std::size_t kMaxTransactionId = 16;
constexpr std::size_t kMaxToken = 64;
constexpr std::size_t kMaxValues = 200;  // peers in one get_peers response
constexpr std::size_t kMaxNodes = 32;    // compact nodes in one response
constexpr std::size_t kCompactNodeSize = 26;

enum ErrorCode {
  kGenericError = 201,
  kServerError = 202,
  kProtocolError = 203,
  kMethodUnknown = 204
};

enum class Method { ping, find_node, get_peers, announce_peer };
const char* method_name(Method m);

struct NodeInfo {
  NodeId id{};
  UdpEndpoint ep;
  bool operator==(const NodeInfo&) const = default;
};

struct Message {
  enum class Type { query, response, error };
  Type type = Type::query;
  std::string tid;         // transaction id, echoed in the answer
  NodeId id{};             // sender's id (queries and responses)
  bool read_only = false;  // BEP 43 "ro"

  // Queries.
  Method method = Method::ping;
  NodeId target{};            // find_node target, get_peers/announce_peer info-hash
  std::string token;          // announce_peer (query), get_peers (response)
  std::uint16_t port = 0;     // announce_peer
  bool implied_port = false;  // announce_peer: use the datagram's source port

  // Responses.
  std::vector<NodeInfo> nodes;
  std::vector<boost::asio::ip::tcp::endpoint> values;
  bool has_token = false;

  // Errors.
  int error_code = 0;
  std::string error_message;
};

struct ParseResult {
  std::optional<Message> message;
  // When message is empty: the error to answer with (0: not KRPC at all, stay silent) and
  // the transaction id, if one could be read.
  int error_code = 0;
  std::string error_message;
  std::string tid;
  bool is_query = false;
};

ParseResult parse_message(std::span<const std::uint8_t> datagram);
std::string encode_message(const Message& m);

// 26 bytes per IPv4 node: id, address, port.
void append_compact_node(std::string& out, const NodeInfo& n);
std::vector<NodeInfo> read_compact_nodes(std::string_view bytes, std::size_t limit = kMaxNodes);

Message make_query(Method m, std::string tid, const NodeId& self);
Message make_response(const Message& query, const NodeId& self);
Message make_error(std::string tid, int code, std::string text);

}  // namespace p2p::dht
