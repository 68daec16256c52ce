#pragma once
// Compact peer addresses, as trackers (BEP 23, and "peers6" of BEP 7), UDP trackers (BEP 15)
// and peer exchange (BEP 11) send them: 4 or 16 address bytes, then the port in two bytes,
// all in network order.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

namespace p2p {

constexpr std::size_t compact_entry_size(bool v6) {
  return v6 ? 18 : 6;
}

// Appends the endpoints of `bytes`, whose length the caller has checked is a whole number of
// entries, to `out`, skipping port 0 (not a peer), until `out` holds `limit`.
void read_compact_endpoints(std::string_view bytes, bool v6,
                            std::vector<boost::asio::ip::tcp::endpoint>& out,
                            std::size_t limit = std::numeric_limits<std::size_t>::max());

// Appends one endpoint in its compact form (6 bytes for IPv4, 18 for IPv6).
void append_compact_endpoint(std::string& out, const boost::asio::ip::tcp::endpoint& ep);

}  // namespace p2p
