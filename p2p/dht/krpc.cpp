#include "p2p/dht/krpc.hpp"

#include <cstring>

#include "p2p/wire/bencode.hpp"
#include "p2p/wire/compact_endpoint.hpp"

namespace p2p::dht {

namespace b = p2p::bencode;

const char* method_name(Method m) {
  switch (m) {
    case Method::ping:
      return "ping";
    case Method::find_node:
      return "find_node";
    case Method::get_peers:
      return "get_peers";
    case Method::announce_peer:
      return "announce_peer";
  }
  return "ping";
}

void append_compact_node(std::string& out, const NodeInfo& n) {
  out.append(as_bytes(n.id));
  auto v4 = n.ep.address().to_v4().to_bytes();
  out.append(reinterpret_cast<const char*>(v4.data()), v4.size());
  out.push_back(static_cast<char>(n.ep.port() >> 8));
  out.push_back(static_cast<char>(n.ep.port() & 0xff));
}

std::vector<NodeInfo> read_compact_nodes(std::string_view bytes, std::size_t limit) {
  std::vector<NodeInfo> out;
  for (std::size_t off = 0; off + kCompactNodeSize <= bytes.size() && out.size() < limit;
       off += kCompactNodeSize) {
    NodeInfo n;
    std::memcpy(n.id.data(), bytes.data() + off, 20);
    boost::asio::ip::address_v4::bytes_type a;
    std::memcpy(a.data(), bytes.data() + off + 20, 4);
    auto p = static_cast<std::uint16_t>((std::uint8_t(bytes[off + 24]) << 8) |
                                        std::uint8_t(bytes[off + 25]));
    if (p == 0) continue;
    n.ep = UdpEndpoint(boost::asio::ip::address_v4(a), p);
    out.push_back(n);
  }
  return out;
}

namespace {

const b::Limits kLimits{/*max_depth=*/4, /*max_size=*/kMaxDatagram, /*max_items=*/512};

const std::string* get_string(const b::Value& d, std::string_view key) {
  const b::Value* v = d.find(key);
  return v && v->is_string() ? &v->as_string() : nullptr;
}

bool get_id(const b::Value& d, std::string_view key, NodeId& out) {
  const std::string* s = get_string(d, key);
  return s && node_id_from(*s, out);
}

struct Fail {
  int code;
  const char* text;
};

// Fills the query fields of m from the arguments dict; returns an error when they are wrong.
std::optional<Fail> read_query(const std::string& name, const b::Value& args, Message& m) {
  if (!get_id(args, "id", m.id)) return Fail{kProtocolError, "missing or bad id"};
  if (name == "ping") {
    m.method = Method::ping;
  } else if (name == "find_node") {
    m.method = Method::find_node;
    if (!get_id(args, "target", m.target)) return Fail{kProtocolError, "missing or bad target"};
  } else if (name == "get_peers") {
    m.method = Method::get_peers;
    if (!get_id(args, "info_hash", m.target)) return Fail{kProtocolError, "bad info_hash"};
  } else if (name == "announce_peer") {
    m.method = Method::announce_peer;
    if (!get_id(args, "info_hash", m.target)) return Fail{kProtocolError, "bad info_hash"};
    const std::string* token = get_string(args, "token");
    if (!token || token->size() > kMaxToken) return Fail{kProtocolError, "missing or bad token"};
    m.token = *token;
    if (const b::Value* ip = args.find("implied_port"); ip && ip->is_int())
      m.implied_port = ip->as_int() != 0;
    const b::Value* port = args.find("port");
    if (port && port->is_int() && port->as_int() > 0 && port->as_int() <= 65535)
      m.port = static_cast<std::uint16_t>(port->as_int());
    else if (!m.implied_port)
      return Fail{kProtocolError, "missing or bad port"};
  } else {
    return Fail{kMethodUnknown, "method unknown"};
  }
  return std::nullopt;
}

bool read_response(const b::Value& r, Message& m) {
  if (!get_id(r, "id", m.id)) return false;
  if (const std::string* nodes = get_string(r, "nodes")) {
    if (nodes->size() % kCompactNodeSize != 0) return false;
    m.nodes = read_compact_nodes(*nodes);
  }
  if (const b::Value* values = r.find("values")) {
    if (!values->is_list()) return false;
    for (const b::Value& v : values->as_list()) {
      if (m.values.size() >= kMaxValues) break;
      if (!v.is_string() || v.as_string().size() != compact_entry_size(false)) continue;
      read_compact_endpoints(v.as_string(), false, m.values);
    }
  }
  if (const std::string* token = get_string(r, "token")) {
    if (token->size() > kMaxToken) return false;
    m.token = *token;
    m.has_token = true;
  }
  return true;
}

}  // namespace

ParseResult parse_message(std::span<const std::uint8_t> datagram) {
  ParseResult res;
  if (datagram.empty() || datagram.size() > kMaxDatagram || datagram[0] != 'd') return res;
  b::Value doc;
  try {
    doc = b::decode({reinterpret_cast<const char*>(datagram.data()), datagram.size()}, kLimits);
  } catch (const b::DecodeError&) {
    return res;
  }
  const std::string* tid = get_string(doc, "t");
  const std::string* y = get_string(doc, "y");
  if (!tid || tid->size() > kMaxTransactionId) return res;
  res.tid = *tid;
  res.error_code = kProtocolError;
  if (!y || y->size() != 1) {
    res.error_message = "missing or bad y";
    return res;
  }
  Message m;
  m.tid = *tid;
  if (const b::Value* ro = doc.find("ro"); ro && ro->is_int()) m.read_only = ro->as_int() != 0;
  switch ((*y)[0]) {
    case 'q': {
      res.is_query = true;
      m.type = Message::Type::query;
      const std::string* q = get_string(doc, "q");
      const b::Value* a = doc.find("a");
      if (!q || !a || !a->is_dict()) {
        res.error_message = "missing q or a";
        return res;
      }
      if (auto fail = read_query(*q, *a, m)) {
        res.error_code = fail->code;
        res.error_message = fail->text;
        return res;
      }
      break;
    }
    case 'r': {
      m.type = Message::Type::response;
      const b::Value* r = doc.find("r");
      if (!r || !r->is_dict() || !read_response(*r, m)) {
        res.error_code = 0;  // an answer is never answered
        return res;
      }
      break;
    }
    case 'e': {
      m.type = Message::Type::error;
      const b::Value* e = doc.find("e");
      if (!e || !e->is_list() || e->as_list().size() < 2 || !e->as_list()[0].is_int() ||
          !e->as_list()[1].is_string()) {
        res.error_code = 0;
        return res;
      }
      m.error_code = static_cast<int>(e->as_list()[0].as_int());
      m.error_message = e->as_list()[1].as_string().substr(0, 200);
      break;
    }
    default:
      res.error_message = "unknown y";
      return res;
  }
  res.error_code = 0;
  res.message = std::move(m);
  return res;
}

std::string encode_message(const Message& m) {
  b::Dict doc;
  doc["t"] = m.tid;
  if (m.read_only) doc["ro"] = 1;
  switch (m.type) {
    case Message::Type::query: {
      doc["y"] = "q";
      doc["q"] = method_name(m.method);
      b::Dict a;
      a["id"] = std::string(as_bytes(m.id));
      if (m.method == Method::find_node) a["target"] = std::string(as_bytes(m.target));
      if (m.method == Method::get_peers || m.method == Method::announce_peer)
        a["info_hash"] = std::string(as_bytes(m.target));
      if (m.method == Method::announce_peer) {
        a["port"] = b::Integer{m.port};
        a["token"] = m.token;
        if (m.implied_port) a["implied_port"] = 1;
      }
      doc["a"] = std::move(a);
      break;
    }
    case Message::Type::response: {
      doc["y"] = "r";
      b::Dict r;
      r["id"] = std::string(as_bytes(m.id));
      if (!m.nodes.empty()) {
        std::string nodes;
        for (const NodeInfo& n : m.nodes)
          if (n.ep.address().is_v4()) append_compact_node(nodes, n);
        r["nodes"] = std::move(nodes);
      }
      if (!m.values.empty()) {
        b::List values;
        for (const auto& ep : m.values) {
          if (!ep.address().is_v4()) continue;
          std::string one;
          append_compact_endpoint(one, ep);
          values.emplace_back(std::move(one));
        }
        r["values"] = std::move(values);
      }
      if (m.has_token) r["token"] = m.token;
      doc["r"] = std::move(r);
      break;
    }
    case Message::Type::error:
      doc["y"] = "e";
      doc["e"] = b::List{b::Integer{m.error_code}, m.error_message};
      break;
  }
  return b::encode(doc);
}

Message make_query(Method method, std::string tid, const NodeId& self) {
  Message m;
  m.type = Message::Type::query;
  m.method = method;
  m.tid = std::move(tid);
  m.id = self;
  return m;
}

Message make_response(const Message& query, const NodeId& self) {
  Message m;
  m.type = Message::Type::response;
  m.tid = query.tid;
  m.id = self;
  return m;
}

Message make_error(std::string tid, int code, std::string text) {
  Message m;
  m.type = Message::Type::error;
  m.tid = std::move(tid);
  m.error_code = code;
  m.error_message = std::move(text);
  return m;
}

}  // namespace p2p::dht
