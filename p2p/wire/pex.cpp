#include "p2p/wire/pex.hpp"

#include "p2p/wire/bencode.hpp"
#include "p2p/wire/compact_endpoint.hpp"

namespace p2p::pex {

namespace {

using boost::asio::ip::tcp;

void append_compact(std::string& v4, std::string& v6, const tcp::endpoint& ep) {
  append_compact_endpoint(ep.address().is_v4() ? v4 : v6, ep);
}

bool read_compact(const bencode::Value* v, bool v6, std::vector<tcp::endpoint>& out) {
  if (!v) return true;
  if (!v->is_string()) return false;
  const auto& s = v->as_string();
  if (s.size() % compact_entry_size(v6) != 0) return false;
  read_compact_endpoints(s, v6, out, 500);
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
    auto flags = [&](const char* key, std::size_t from) {
      const bencode::Value* f = v.find(key);
      for (std::size_t i = from; i < m.added.size(); ++i) {
        std::size_t k = i - from;
        bool ok = f && f->is_string() && k < f->as_string().size();
        m.added_flags.push_back(ok ? std::uint8_t(f->as_string()[k]) : 0);
      }
    };
    if (!read_compact(v.find("added"), false, m.added)) return std::nullopt;
    flags("added.f", 0);
    std::size_t v4 = m.added.size();
    if (!read_compact(v.find("added6"), true, m.added)) return std::nullopt;
    flags("added6.f", v4);
    if (!read_compact(v.find("dropped"), false, m.dropped)) return std::nullopt;
    if (!read_compact(v.find("dropped6"), true, m.dropped)) return std::nullopt;
    return m;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace p2p::pex
