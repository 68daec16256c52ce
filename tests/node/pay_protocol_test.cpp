#include <gtest/gtest.h>

#include <limits>

#include "node/pay/protocol.hpp"
#include "tron/tip191.hpp"

using namespace bttnode::pay;

namespace {

tron::PrivateKey test_key() {
  return tron::PrivateKey::from_hex(
      "0000000000000000000000000000000000000000000000000000000000000001");
}

Terms sample_terms() {
  Terms t;
  t.addr = test_key().address();
  t.chain = std::string(64, 'a');
  t.token = tron::Token::parse("trc10:1002000");
  t.price = 1000;
  t.credit = 4 << 20;
  t.min_settle = 1000;
  t.confirmations = 2;
  t.nonce = std::string(16, '\x07');
  return t;
}

}  // namespace

TEST(PayOwed, RoundsDownPerMiB) {
  EXPECT_EQ(owed(0, 1000), 0);
  EXPECT_EQ(owed(kMiB, 1000), 1000);
  EXPECT_EQ(owed(kMiB - 1, 1000), 999);  // 999.999... rounds down
  EXPECT_EQ(owed(kMiB / 2, 3), 1);
  EXPECT_EQ(owed(-5, 1000), 0);
  // 128-bit intermediate: a TRC-20 price with 18 decimals over a TiB.
  U256 price("1000000000000000000");
  EXPECT_EQ(owed(std::int64_t(1) << 40, price), price * (1 << 20));
}

TEST(PayOwed, BytesCoveredInvertsOwed) {
  for (std::int64_t bytes : {1LL, 1000LL, 1048576LL, 5000000LL, 123456789LL}) {
    for (U256 price : {U256(1), U256(7), U256(1000), U256(999999)}) {
      U256 amount = owed(bytes, price);
      std::int64_t covered = bytes_covered(amount, price);
      EXPECT_LE(covered, bytes);
      EXPECT_GE(owed(covered, price), amount);
    }
  }
}

TEST(PayOwed, BytesPaidForRoundsDownAndSaturates) {
  EXPECT_EQ(bytes_paid_for(1000, 1000), kMiB);
  EXPECT_EQ(bytes_paid_for(999, 1000), 1047527);  // floor(999 * 2^20 / 1000)
  EXPECT_EQ(bytes_paid_for(0, 7), 0);
  EXPECT_EQ(bytes_paid_for(5, 0), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(bytes_paid_for(U256(1) << 200, 1), std::numeric_limits<std::int64_t>::max());
  for (std::int64_t bytes : {1LL, 1048576LL, 123456789LL}) {
    for (U256 price : {U256(1), U256(7), U256(999999)}) {
      // What the owed amount pays for never exceeds the bytes it was owed for.
      EXPECT_LE(bytes_paid_for(owed(bytes, price), price), bytes);
    }
  }
}

TEST(PayProtocol, EveryMessageRoundTrips) {
  std::vector<Message> all = {
      sample_terms(),
      Bind{test_key().address(), tron::sign_message(test_key(), "x")},
      Bid{U256("123456789012345678901234567890")},  // beyond 64 bits: sent as a string
      Invoice{3, 5 << 20, 5000, 2000},
      Invoice{4, 6 << 20, 6000, 6000, 1 << 20},  // with bytes carried from an earlier session
      Settle{tron::Hash32{1, 2, 3}, 77, false, {}},
      Settle{tron::Hash32{9}, 5, true, {}},
      Receipt{tron::Hash32{4}, 77, 2077, false, 0},
      Reject{"unknown_tx", tron::Hash32{5}, "not found"},
      Reject{"price", std::nullopt, ""},
  };
  for (const auto& m : all) {
    std::string body = encode(m);
    Message back = decode(body);
    EXPECT_EQ(back, m) << type_name(m);
  }
}

TEST(PayProtocol, VersionTwoFieldsRoundTripAndVersionOneLeavesThemOut) {
  Settle s;
  s.txid = tron::Hash32{5};
  s.amount = 10;
  s.tx = std::string(300, 'x');
  std::int64_t v = 0;
  EXPECT_EQ(std::get<Settle>(decode(encode(s), &v)), s);
  EXPECT_EQ(v, 2);
  auto v1 = std::get<Settle>(decode(encode(s, 1), &v));
  EXPECT_EQ(v, 1);
  EXPECT_TRUE(v1.tx.empty());
  Receipt r{tron::Hash32{6}, 0, 5, true, 3 * kMiB};
  EXPECT_EQ(std::get<Receipt>(decode(encode(r))), r);
  EXPECT_FALSE(std::get<Receipt>(decode(encode(r, 1))).provisional);
  Invoice i;
  i.seq = 2;
  i.bytes = 7;
  i.window = 9 * kMiB;
  i.pending = U256(1) << 100;
  EXPECT_EQ(std::get<Invoice>(decode(encode(i))), i);
  // A tx longer than a real one is refused.
  s.tx = std::string(kMaxSettleTx + 1, 'x');
  EXPECT_THROW(decode(encode(s)), ProtocolError);
  EXPECT_EQ(session_version(0), 1);
  EXPECT_EQ(session_version(1), 1);
  EXPECT_EQ(session_version(2), 2);
  EXPECT_EQ(session_version(7), kVersion);
}

TEST(PayProtocol, RefusesMalformedMessages) {
  // Keys sorted, so that each is refused for the fault it names, not for its bencode.
  const std::string bad[] = {
      "",
      "i1e",
      "d1:t5:terms1:vi1ee",                                   // fields missing
      "d5:pricei1e1:t3:bid1:vi3ee",                           // version 3
      "d5:pricei-1e1:t3:bid1:vi1ee",                          // negative
      "d5:price3:01x1:t3:bid1:vi1ee",                         // not decimal
      "d5:price2:011:t3:bid1:vi1ee",                          // leading zero
      "d6:amounti1e1:t6:settle4:txid3:abc1:vi1ee",            // short txid
      "d4:addr3:xyz3:sig2:ab1:t4:bind1:vi1ee",                // bad address
      "d1:t4:nope1:vi1ee",                                    // unknown type
      "d5:price79:" + std::string(79, '1') + "1:t3:bid1:vi1ee",  // beyond 256 bits
      "d5:bytesi1e7:carriedi-1e4:owedi1e4:paidi0e3:seqi1e1:t7:invoice1:vi1ee",  // negative
  };
  for (const auto& b : bad) {
    try {
      decode(b);
      ADD_FAILURE() << "accepted " << b;
    } catch (const ProtocolError& e) {
      EXPECT_EQ(std::string(e.what()).find("not sorted"), std::string::npos) << b;
    }
  }
  // The same invoice with a valid `carried` is accepted.
  auto ok = decode("d5:bytesi1e7:carriedi5e4:owedi1e4:paidi0e3:seqi1e1:t7:invoice1:vi1ee");
  ASSERT_TRUE(std::holds_alternative<Invoice>(ok));
  EXPECT_EQ(std::get<Invoice>(ok).carried, 5);
}

TEST(PayProtocol, BindTextIsTheSpecsLayout) {
  std::string text = bind_text("ab12", std::string(40, '1'), std::string(40, '2'),
                               std::string(40, '3'), std::string(16, '\xff'));
  EXPECT_EQ(text,
            "btt_pay bind v1\nchain:ab12\ninfo_hash:" + std::string(40, '1') +
                "\nseeder:" + std::string(40, '2') + "\nleecher:" + std::string(40, '3') +
                "\nnonce:" + std::string(32, 'f'));
}
