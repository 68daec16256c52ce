#include "p2p/pex.hpp"

#include "p2p/bencode.hpp"

namespace p2p::pex {

namespace {

using boost::asio::ip::tcp;

void append_compact(std::string& v4, std::string& v6, const tcp::endpoint& ep) {
  std::string& out = ep.address().is_v4() ? v4 : v6;
  if (ep.address().is_v4()) {
    auto b = ep.address().to_v4().to_bytes();
    out.append(reinterpret_cast<const char*>(b.data()), b.size());
  } else {
    auto b = ep.address().to_v6().to_bytes();
    out.append(reinterpret_cast<const char*>(b.data()), b.size());
  }
  out.push_back(char(ep.port() >> 8));
  out.push_back(char(ep.port() & 0xff));
}

bool read_compact(const bencode::Value* v, std::size_t addr_len,
                  std::vector<tcp::endpoint>& out) {
  if (!v) return true;
  if (!v->is_string()) return false;
  const auto& s = v->as_string();
  std::size_t step = addr_len + 2;
  if (s.size() % step != 0) return false;
  for (std::size_t i = 0; i + step <= s.size() && out.size() < 500; i += step) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data() + i);
    unsigned short port = static_cast<unsigned short>((p[addr_len] << 8) | p[addr_len + 1]);
    if (port == 0) continue;
    if (addr_len == 4) {
      boost::asio::ip::address_v4::bytes_type b;
      std::copy(p, p + 4, b.begin());
      out.emplace_back(boost::asio::ip::address_v4(b), port);
    } else {
      boost::asio::ip::address_v6::bytes_type b;
      std::copy(p, p + 16, b.begin());
      out.emplace_back(boost::asio::ip::address_v6(b), port);
    }
  }
  return true;
}

}  // namespace

std::string encode(const Message& m) {
  std::string a4, a6, d4, d6;
  for (std::size_t i = 0; i < m.added.size() && i < kMaxPeersPerMessage; ++i) {
    append_compact(a4, a6, m.added[i]);
  }
  for (std::size_t i = 0; i < m.dropped.size() && i < kMaxPeersPerMessage; ++i) {
    append_compact(d4, d6, m.dropped[i]);
  }
  bencode::Dict d;
  d["added"] = a4;
  d["added.f"] = std::string(a4.size() / 6, '\0');
  d["added6"] = a6;
  d["added6.f"] = std::string(a6.size() / 18, '\0');
  d["dropped"] = d4;
  d["dropped6"] = d6;
  return bencode::encode(bencode::Value(std::move(d)));
}

std::optional<Message> parse(std::string_view body) {
  try {
    bencode::Limits lim;
    lim.max_depth = 4;
    lim.max_size = 64 * 1024;
    auto v = bencode::decode(body, lim);
    if (!v.is_dict()) return std::nullopt;
    Message m;
    if (!read_compact(v.find("added"), 4, m.added)) return std::nullopt;
    if (!read_compact(v.find("added6"), 16, m.added)) return std::nullopt;
    if (!read_compact(v.find("dropped"), 4, m.dropped)) return std::nullopt;
    if (!read_compact(v.find("dropped6"), 16, m.dropped)) return std::nullopt;
    return m;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace p2p::pex
