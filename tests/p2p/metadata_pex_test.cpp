#include <gtest/gtest.h>

#include "p2p/wire/metadata_exchange.hpp"
#include "p2p/wire/pex.hpp"
#include "p2p/metainfo/sha1.hpp"

using namespace p2p;

TEST(Metadata, MessagesRoundTrip) {
  auto r = metadata::parse(metadata::encode_request(3));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type, metadata::MsgType::request);
  EXPECT_EQ(r->piece, 3);
  auto d = metadata::parse(metadata::encode_data(1, 20000, "xyz"));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->type, metadata::MsgType::data);
  EXPECT_EQ(d->total_size, 20000);
  EXPECT_EQ(d->data, "xyz");
  EXPECT_FALSE(metadata::parse("garbage"));
  EXPECT_FALSE(metadata::parse("d8:msg_typei7e5:piecei0ee"));
  EXPECT_FALSE(metadata::parse("d8:msg_typei0e5:piecei-1ee"));
}

TEST(Metadata, AssemblerChecksHash) {
  std::string info(40000, 'i');
  for (std::size_t i = 0; i < info.size(); ++i) info[i] = char(i * 7);
  metadata::Assembler a(sha1(std::string_view(info)));
  EXPECT_FALSE(a.set_size(0));
  EXPECT_FALSE(a.set_size(metadata::kMaxMetadataSize + 1));
  ASSERT_TRUE(a.set_size(40000));
  EXPECT_FALSE(a.set_size(40001));
  auto now = std::chrono::steady_clock::now();
  std::vector<std::int64_t> asked;
  while (auto p = a.next_request(now)) asked.push_back(*p);
  EXPECT_EQ(asked, (std::vector<std::int64_t>{0, 1, 2}));
  EXPECT_FALSE(a.on_data(0, 40000, metadata::slice(info, 0).substr(1)));  // wrong length
  EXPECT_FALSE(a.on_data(0, 40000, metadata::slice(info, 0)));
  EXPECT_FALSE(a.on_data(1, 40000, metadata::slice(info, 1)));
  std::string bad(metadata::slice(info, 2));
  bad[0] ^= 1;
  EXPECT_TRUE(a.on_data(2, 40000, bad));
  EXPECT_FALSE(a.finish());  // hash mismatch resets
  for (int i = 0; i < 3; ++i) a.on_data(i, 40000, metadata::slice(info, i));
  auto got = a.finish();
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, info);
}

TEST(Pex, RoundTripV4AndV6) {
  using boost::asio::ip::make_address;
  using boost::asio::ip::tcp;
  pex::Message m;
  m.added = {tcp::endpoint(make_address("10.1.2.3"), 6881),
             tcp::endpoint(make_address("2001:db8::1"), 51413)};
  m.dropped = {tcp::endpoint(make_address("192.0.2.9"), 1234)};
  auto back = pex::parse(pex::encode(m));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->added, m.added);
  EXPECT_EQ(back->dropped, m.dropped);
  EXPECT_FALSE(pex::parse("d5:added5:abcdee"));  // not a multiple of 6
  EXPECT_FALSE(pex::parse("not bencode"));
}
