#include "p2p/wire/compact_endpoint.hpp"

#include <algorithm>

namespace p2p {

namespace ip = boost::asio::ip;

void read_compact_endpoints(std::string_view bytes, bool v6, std::vector<ip::tcp::endpoint>& out,
                            std::size_t limit) {
  const std::size_t unit = compact_entry_size(v6);
  const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
  for (std::size_t i = 0; i + unit <= bytes.size() && out.size() < limit; i += unit) {
    auto port = static_cast<std::uint16_t>(p[i + unit - 2] << 8 | p[i + unit - 1]);
    if (port == 0) continue;
    if (v6) {
      ip::address_v6::bytes_type b;
      std::copy_n(p + i, b.size(), b.begin());
      out.emplace_back(ip::address_v6(b), port);
    } else {
      ip::address_v4::bytes_type b;
      std::copy_n(p + i, b.size(), b.begin());
      out.emplace_back(ip::address_v4(b), port);
    }
  }
}

void append_compact_endpoint(std::string& out, const ip::tcp::endpoint& ep) {
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

}  // namespace p2p
