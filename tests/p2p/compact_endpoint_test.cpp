#include "p2p/wire/compact_endpoint.hpp"

#include <gtest/gtest.h>

namespace {

using boost::asio::ip::make_address;
using boost::asio::ip::tcp;

TEST(CompactEndpoint, RoundTripsBothFamiliesAndSkipsPortZero) {
  std::string v4, v6;
  p2p::append_compact_endpoint(v4, tcp::endpoint(make_address("10.1.2.3"), 6881));
  p2p::append_compact_endpoint(v4, tcp::endpoint(make_address("10.1.2.4"), 0));
  p2p::append_compact_endpoint(v4, tcp::endpoint(make_address("192.168.0.1"), 65535));
  p2p::append_compact_endpoint(v6, tcp::endpoint(make_address("2001:db8::1"), 51413));
  ASSERT_EQ(v4.size(), 3 * p2p::compact_entry_size(false));
  ASSERT_EQ(v6.size(), p2p::compact_entry_size(true));
  EXPECT_EQ(v4.substr(0, 6), std::string("\x0a\x01\x02\x03\x1a\xe1", 6));  // port in network order

  std::vector<tcp::endpoint> out;
  p2p::read_compact_endpoints(v4, false, out);
  p2p::read_compact_endpoints(v6, true, out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], tcp::endpoint(make_address("10.1.2.3"), 6881));
  EXPECT_EQ(out[1], tcp::endpoint(make_address("192.168.0.1"), 65535));
  EXPECT_EQ(out[2], tcp::endpoint(make_address("2001:db8::1"), 51413));
}

TEST(CompactEndpoint, StopsAtTheLimit) {
  std::string many;
  for (int i = 1; i <= 10; ++i) {
    p2p::append_compact_endpoint(many, tcp::endpoint(make_address("10.0.0.1"), std::uint16_t(i)));
  }
  std::vector<tcp::endpoint> out;
  p2p::read_compact_endpoints(many, false, out, 4);
  EXPECT_EQ(out.size(), 4u);
}

}  // namespace
