#include <gtest/gtest.h>

#include "p2p/dht/krpc.hpp"
#include "p2p/dht/lookup.hpp"
#include "p2p/dht/peer_store.hpp"
#include "p2p/dht/rate_limit.hpp"
#include "p2p/dht/routing_table.hpp"
#include "p2p/dht/tokens.hpp"

namespace {

using namespace p2p::dht;
using boost::asio::ip::make_address;
using boost::asio::ip::tcp;

std::span<const std::uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

NodeId id_of(std::uint8_t first, std::uint8_t last = 0) {
  NodeId id{};
  id[0] = first;
  id[19] = last;
  return id;
}

// Each n on a /24 of its own (a bucket takes one node per /24).
UdpEndpoint ep(int n) {
  return UdpEndpoint(
      make_address("10." + std::to_string(n / 250) + "." + std::to_string(n % 250) + ".1"),
      static_cast<std::uint16_t>(6881 + n));
}

TEST(Krpc, QueriesRoundTrip) {
  Message q = make_query(Method::announce_peer, std::string("\x00\xff", 2), id_of(1));
  q.target = id_of(2);
  q.port = 51413;
  q.token = "tok";
  q.implied_port = true;
  std::string wire = encode_message(q);
  ParseResult r = parse_message(bytes(wire));
  ASSERT_TRUE(r.message);
  EXPECT_EQ(r.message->type, Message::Type::query);
  EXPECT_EQ(r.message->method, Method::announce_peer);
  EXPECT_EQ(r.message->tid, std::string("\x00\xff", 2));
  EXPECT_EQ(r.message->id, id_of(1));
  EXPECT_EQ(r.message->target, id_of(2));
  EXPECT_EQ(r.message->port, 51413);
  EXPECT_EQ(r.message->token, "tok");
  EXPECT_TRUE(r.message->implied_port);

  for (Method m : {Method::ping, Method::find_node, Method::get_peers}) {
    Message x = make_query(m, "aa", id_of(3));
    x.target = id_of(4);
    ParseResult p = parse_message(bytes(encode_message(x)));
    ASSERT_TRUE(p.message);
    EXPECT_EQ(p.message->method, m);
    if (m != Method::ping) {
      EXPECT_EQ(p.message->target, id_of(4));
    }
  }
}

TEST(Krpc, ExactBytesOfPing) {
  NodeId id{};
  for (std::size_t i = 0; i < 20; ++i) id[i] = static_cast<std::uint8_t>('a' + i);
  EXPECT_EQ(encode_message(make_query(Method::ping, "aa", id)),
            "d1:ad2:id20:abcdefghijklmnopqrste1:q4:ping1:t2:aa1:y1:qe");
}

TEST(Krpc, ResponsesCarryCompactNodesValuesAndToken) {
  Message q = make_query(Method::get_peers, "xy", id_of(1));
  Message r = make_response(q, id_of(9));
  r.nodes = {{id_of(5), UdpEndpoint(make_address("1.2.3.4"), 6881)},
             {id_of(6), UdpEndpoint(make_address("5.6.7.8"), 1)}};
  r.values = {tcp::endpoint(make_address("9.9.9.9"), 80)};
  r.token = "secret";
  r.has_token = true;
  std::string wire = encode_message(r);
  EXPECT_NE(wire.find("5:nodes52:"), std::string::npos);  // 2 x 26 bytes
  EXPECT_NE(wire.find("6:valuesl6:"), std::string::npos);
  ParseResult p = parse_message(bytes(wire));
  ASSERT_TRUE(p.message);
  EXPECT_EQ(p.message->type, Message::Type::response);
  EXPECT_EQ(p.message->nodes, r.nodes);
  EXPECT_EQ(p.message->values, r.values);
  EXPECT_TRUE(p.message->has_token);
  EXPECT_EQ(p.message->token, "secret");
}

TEST(Krpc, ErrorsRoundTrip) {
  ParseResult p = parse_message(bytes(encode_message(make_error("zz", 203, "bad token"))));
  ASSERT_TRUE(p.message);
  EXPECT_EQ(p.message->type, Message::Type::error);
  EXPECT_EQ(p.message->error_code, 203);
  EXPECT_EQ(p.message->error_message, "bad token");
}

TEST(Krpc, MalformedQueriesGetTheRightErrorCode) {
  // find_node without target: protocol error, with the transaction id to answer.
  ParseResult p =
      parse_message(bytes("d1:ad2:id20:abcdefghijklmnopqrste1:q9:find_node1:t2:aa1:y1:qe"));
  EXPECT_FALSE(p.message);
  EXPECT_EQ(p.error_code, kProtocolError);
  EXPECT_EQ(p.tid, "aa");
  EXPECT_TRUE(p.is_query);
  // Unknown method.
  p = parse_message(bytes("d1:ad2:id20:abcdefghijklmnopqrste1:q4:vote1:t2:aa1:y1:qe"));
  EXPECT_EQ(p.error_code, kMethodUnknown);
  // Short id.
  p = parse_message(bytes("d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe"));
  EXPECT_EQ(p.error_code, kProtocolError);
  // announce_peer without a port and without implied_port.
  p = parse_message(
      bytes("d1:ad2:id20:abcdefghijklmnopqrst9:info_hash20:abcdefghijklmnopqrst5:token1:xe"
            "1:q13:announce_peer1:t2:aa1:y1:qe"));
  EXPECT_EQ(p.error_code, kProtocolError);
  // No transaction id, not bencode, too long a transaction id, too big: silence.
  EXPECT_EQ(parse_message(bytes("d1:y1:qe")).error_code, 0);
  EXPECT_EQ(parse_message(bytes("d1:y1:q")).error_code, 0);
  EXPECT_EQ(parse_message(bytes("d1:t17:aaaaaaaaaaaaaaaaa1:y1:qe")).error_code, 0);
  EXPECT_EQ(parse_message(bytes("d1:t2:aa1:y1:q4:junk" + std::to_string(kMaxDatagram) + ":" +
                                std::string(kMaxDatagram, 'x') + "e"))
                .error_code,
            0);
  // Nested too deep.
  EXPECT_EQ(parse_message(bytes("d1:ad1:xlllleeeee1:t2:aa1:y1:qe")).error_code, 0);
  // A response with a nodes string that is not a whole number of entries is dropped.
  EXPECT_FALSE(
      parse_message(bytes("d1:rd2:id20:abcdefghijklmnopqrst5:nodes3:abce1:t2:aa1:y1:re")).message);
}

TEST(Krpc, ValuesSkipV6AndBadEntries) {
  std::string values;
  for (int i = 0; i < 150; ++i) values += std::string("6:\x01\x02\x03\x04\x00\x50", 8);
  values += "18:" + std::string(18, '\x01') + "3:abc";
  std::string wire = "d1:rd2:id20:abcdefghijklmnopqrst6:valuesl" + values + "ee1:t2:aa1:y1:re";
  ASSERT_LE(wire.size(), kMaxDatagram);
  ParseResult p = parse_message(bytes(wire));
  ASSERT_TRUE(p.message);
  EXPECT_EQ(p.message->values.size(), 150u);
  EXPECT_EQ(p.message->values[0], tcp::endpoint(make_address("1.2.3.4"), 80));
}

TEST(RoutingTable, SplitsOnlyOurOwnRangeAndCapsBuckets) {
  auto now = Clock::now();
  RoutingTable t(id_of(0x00));
  // 20 nodes far from us (first bit 1): one bucket of 8, the rest in its replacement cache.
  for (int i = 0; i < 20; ++i) t.heard_from({id_of(0x80, std::uint8_t(i)), ep(i)}, true, now);
  EXPECT_EQ(t.size(), 8u);
  // Nodes near us split the bucket that holds our id.
  for (int i = 0; i < 8; ++i) t.heard_from({id_of(0x01, std::uint8_t(i)), ep(100 + i)}, true, now);
  EXPECT_EQ(t.size(), 16u);
  EXPECT_GT(t.num_buckets(), 1u);
  EXPECT_LE(t.num_replacements(), 8u * t.num_buckets());
  // The far bucket never split: still 8 of the 0x80 nodes.
  auto far = t.closest(id_of(0x80), 100);
  EXPECT_EQ(
      std::count_if(far.begin(), far.end(), [](const NodeInfo& n) { return n.id[0] == 0x80; }), 8);
}

TEST(RoutingTable, TotalIsBoundedUnderAFlood) {
  auto now = Clock::now();
  RoutingTable t(random_node_id());
  for (int i = 0; i < 5000; ++i) t.heard_from({random_node_id(), ep(i)}, true, now);
  EXPECT_LE(t.size(), 160u * kBucketSize);
  EXPECT_LE(t.num_replacements(), 160u * kBucketSize);
}

TEST(RoutingTable, BadNodesAreReplacedFromTheCache) {
  auto now = Clock::now();
  RoutingTable t(id_of(0x00), 1);  // one bucket, never split
  for (int i = 0; i < 8; ++i) t.heard_from({id_of(0x80, std::uint8_t(i)), ep(i)}, true, now);
  EXPECT_FALSE(t.heard_from({id_of(0x90), ep(50)}, true, now));  // cached
  EXPECT_EQ(t.num_replacements(), 1u);
  t.failed(ep(3));
  EXPECT_TRUE(t.contains(ep(3)));  // one failure: questionable
  t.failed(ep(3));
  EXPECT_FALSE(t.contains(ep(3)));
  EXPECT_TRUE(t.contains(ep(50)));
  EXPECT_EQ(t.size(), 8u);
}

TEST(RoutingTable, OneNodePerNetworkInABucket) {
  auto now = Clock::now();
  RoutingTable t(id_of(0x00), 1);  // one bucket, never split
  // One host, or one /24, with many ids of its choosing: one of them gets in.
  for (int i = 0; i < 20; ++i) {
    t.heard_from({id_of(0x80, std::uint8_t(i)),
                  UdpEndpoint(make_address("203.0.113." + std::to_string(i + 1)),
                              static_cast<std::uint16_t>(7000 + i))},
                 true, now);
  }
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.num_replacements(), 0u);
  // Other networks still find room.
  for (int i = 0; i < 7; ++i)
    EXPECT_TRUE(t.heard_from({id_of(0x90, std::uint8_t(i)), ep(i)}, true, now));
  EXPECT_EQ(t.size(), 8u);
  // The network's node may be replaced by another of that network once it has gone bad.
  UdpEndpoint first(make_address("203.0.113.1"), 7000);
  UdpEndpoint other(make_address("203.0.113.99"), 7099);
  EXPECT_FALSE(t.heard_from({id_of(0xa0), other}, true, now));
  t.failed(first);
  t.failed(first);
  EXPECT_TRUE(t.heard_from({id_of(0xa0), other}, true, now));
  EXPECT_FALSE(t.contains(first));
  // Loopback is not grouped: a node's nodes on one machine all fit.
  RoutingTable local(id_of(0x00), 1);
  for (int i = 0; i < 8; ++i) {
    EXPECT_TRUE(local.heard_from(
        {id_of(0x80, std::uint8_t(i)),
         UdpEndpoint(make_address("127.0.0.1"), static_cast<std::uint16_t>(7000 + i))},
        true, now));
  }
}

TEST(RoutingTable, ABadNodeIsReplacedOnlyByAReplacementOfAnotherNetwork) {
  auto now = Clock::now();
  RoutingTable t(id_of(0x00), 1);
  for (int i = 0; i < 8; ++i) t.heard_from({id_of(0x80, std::uint8_t(i)), ep(i)}, true, now);
  // A replacement from node 2's network waits behind one from a new network.
  UdpEndpoint near2(make_address("10.0.2.77"), 9000);
  EXPECT_FALSE(t.heard_from({id_of(0x91), ep(40)}, true, now));
  EXPECT_FALSE(t.heard_from({id_of(0x92), near2}, true, now));
  t.failed(ep(3));
  t.failed(ep(3));
  // Node 3 went bad: its place goes to ep(40), not to near2 (its network is in the bucket).
  EXPECT_TRUE(t.contains(ep(40)));
  EXPECT_FALSE(t.contains(near2));
}

TEST(RoutingTable, GoodQuestionableAndClosest) {
  auto now = Clock::now();
  RoutingTable t(id_of(0x00));
  t.heard_from({id_of(0x10), ep(1)}, true, now);
  t.heard_from({id_of(0x20), ep(2)}, false, now);  // queried us, never answered
  EXPECT_EQ(t.good_nodes(now).size(), 1u);
  EXPECT_EQ(t.questionable(now, 10).size(), 1u);
  EXPECT_EQ(t.good_nodes(now + std::chrono::minutes(16)).size(), 0u);
  EXPECT_EQ(t.questionable(now + std::chrono::minutes(16), 10).size(), 2u);
  auto c = t.closest(id_of(0x21), 1);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].id, id_of(0x20));
  // Another id on a known endpoint is refused; our own id too.
  EXPECT_FALSE(t.heard_from({id_of(0x30), ep(1)}, true, now));
  EXPECT_FALSE(t.heard_from({id_of(0x00), ep(9)}, true, now));
}

TEST(Tokens, RotateAndAcceptThePreviousSecret) {
  auto now = std::chrono::steady_clock::now();
  TokenManager tm(now);
  auto a = make_address("10.0.0.1"), b = make_address("10.0.0.2");
  std::string tok = tm.make(a);
  EXPECT_TRUE(tm.valid(tok, a));
  EXPECT_FALSE(tm.valid(tok, b));
  EXPECT_FALSE(tm.valid("forged!!", a));
  tm.tick(now + std::chrono::minutes(5));
  EXPECT_TRUE(tm.valid(tok, a));
  EXPECT_NE(tm.make(a), tok);
  tm.tick(now + std::chrono::minutes(10));
  EXPECT_FALSE(tm.valid(tok, a));
}

TEST(PeerStore, CapsAndExpiry) {
  auto now = std::chrono::steady_clock::now();
  PeerStore s(3, 2, 5);
  p2p::InfoHash h1{}, h2{}, h3{};
  h1[0] = 1, h2[0] = 2, h3[0] = 3;
  for (int i = 0; i < 5; ++i)
    s.add(h1, tcp::endpoint(make_address("10.0.0.1"), std::uint16_t(1000 + i)), now);
  EXPECT_EQ(s.get(h1, 10, now).size(), 3u);  // per info-hash cap, oldest gone
  EXPECT_EQ(s.get(h1, 10, now)[0].port(), 1004);
  EXPECT_TRUE(s.add(h2, tcp::endpoint(make_address("10.0.0.2"), 1), now));
  EXPECT_FALSE(s.add(h3, tcp::endpoint(make_address("10.0.0.3"), 1), now));  // torrents cap
  EXPECT_TRUE(s.add(h2, tcp::endpoint(make_address("10.0.0.2"), 2), now));
  EXPECT_FALSE(s.add(h2, tcp::endpoint(make_address("10.0.0.2"), 3), now));  // total cap
  EXPECT_EQ(s.size(), 5u);
  EXPECT_TRUE(s.get(h1, 10, now + std::chrono::minutes(31)).empty());
  s.expire(now + std::chrono::minutes(31));
  EXPECT_EQ(s.size(), 0u);
  EXPECT_EQ(s.num_torrents(), 0u);
}

TEST(RateLimiter, BurstThenRateAndBoundedHosts) {
  auto now = std::chrono::steady_clock::now();
  RateLimiter rl(10, 20, 3);
  auto a = make_address("10.0.0.1");
  int allowed = 0;
  for (int i = 0; i < 100; ++i) allowed += rl.allow(a, now);
  EXPECT_EQ(allowed, 20);
  EXPECT_TRUE(rl.allow(make_address("10.0.0.2"), now));  // others are not punished
  allowed = 0;
  for (int i = 0; i < 100; ++i) allowed += rl.allow(a, now + std::chrono::seconds(1));
  EXPECT_EQ(allowed, 10);
  rl.allow(make_address("10.0.0.3"), now);
  EXPECT_FALSE(rl.allow(make_address("10.0.0.4"), now));  // map full of busy hosts
  EXPECT_LE(rl.size(), 3u);
  EXPECT_TRUE(rl.allow(make_address("10.0.0.4"), now + std::chrono::seconds(10)));
}

TEST(Lookup, ConvergesOnTheClosestAndCollectsPeers) {
  // 64 nodes; each knows the 8 nearest to the target among those with a larger index.
  NodeId target = id_of(0x00);
  std::vector<NodeInfo> all;
  for (int i = 0; i < 64; ++i) all.push_back({id_of(std::uint8_t(255 - i * 4)), ep(i)});
  Lookup l(target, {all[0], all[1]});
  int rounds = 0;
  while (!l.done() && rounds++ < 1000) {
    auto ask = l.next();
    ASSERT_LE(l.in_flight(), Lookup::kAlpha);
    for (const NodeInfo& n : ask) {
      std::size_t i = std::size_t(std::find(all.begin(), all.end(), n) - all.begin());
      if (i % 7 == 3) {
        l.on_failure(n.ep);
        continue;
      }
      Message r;
      r.type = Message::Type::response;
      r.id = n.id;
      for (std::size_t j = i + 1; j < all.size() && j <= i + 8; ++j) r.nodes.push_back(all[j]);
      r.token = "t" + std::to_string(i);
      r.has_token = true;
      if (i == 60) r.values = {tcp::endpoint(make_address("7.7.7.7"), 7)};
      l.on_response(n.ep, r);
    }
  }
  EXPECT_TRUE(l.done());
  EXPECT_LE(l.queries_sent(), 64u);
  auto best = l.closest_answered();
  ASSERT_FALSE(best.empty());
  EXPECT_EQ(best[0].node.id, all[63].id);
  EXPECT_EQ(best[0].token, "t63");
  ASSERT_EQ(l.peers().size(), 1u);
}

TEST(Lookup, QueriesAreBounded) {
  std::vector<NodeInfo> seeds;
  for (int i = 0; i < 10; ++i) seeds.push_back({random_node_id(), ep(i)});
  NodeId target = random_node_id();
  Lookup l(target, seeds, 20);
  int next_ep = 100, depth = 1;
  while (!l.done()) {
    for (const NodeInfo& n : l.next()) {
      Message r;
      r.type = Message::Type::response;
      r.id = n.id;
      // Always closer nodes: only the query bound ends this lookup.
      for (int k = 0; k < 8; ++k)
        r.nodes.push_back({random_id_with_prefix(target, std::min(depth++, 159)), ep(next_ep++)});
      l.on_response(n.ep, r);
    }
  }
  EXPECT_EQ(l.queries_sent(), 20u);
}

TEST(NodeIds, PrefixHelpers) {
  NodeId a = id_of(0xf0);
  EXPECT_EQ(common_prefix_bits(a, a), 160);
  EXPECT_EQ(common_prefix_bits(a, id_of(0x70)), 0);
  for (int bits : {0, 5, 17, 159})
    EXPECT_EQ(common_prefix_bits(a, random_id_with_prefix(a, bits)), bits);
}

}  // namespace
