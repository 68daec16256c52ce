// The seeder's settlement queue across peers (caps and order), and what both sides of btt_pay
// do when the seeder has no room to check a settlement (`busy`): no sockets, no chain.
#include <gtest/gtest.h>

#include <string>

#include "node/pay/buyer.hpp"
#include "node/pay/seller.hpp"
#include "node/pay/verify_queue.hpp"
#include "tests/node/pay_test_parties.hpp"
#include "tron/tip191.hpp"

using namespace bttnode::pay;
using namespace pay_test;
using Clock = std::chrono::steady_clock;

TEST(PayVerifyQueue, NewPayersShareOnlyPartOfTheCap) {
  VerifyQueue<std::string> q({8, 5});
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(q.admit(false));
  EXPECT_FALSE(q.admit(false));  // the flood of unknown payers stops here...
  EXPECT_TRUE(q.admit(true));    // ...leaving room for payers with a record
  EXPECT_TRUE(q.admit(true));
  EXPECT_TRUE(q.admit(true));
  EXPECT_FALSE(q.admit(true));  // the cap for the whole process
  EXPECT_EQ(q.admitted(), 8);
  EXPECT_EQ(q.admitted_unknown(), 5);
  q.finish(false);               // 7 in all, 4 unknown
  EXPECT_TRUE(q.admit(true));    // 8 in all
  EXPECT_FALSE(q.admit(false));  // under the unknown share, but not under the total
  q.finish(true);
  EXPECT_TRUE(q.admit(false));  // 8 in all, 5 unknown
  EXPECT_FALSE(q.admit(false));
  EXPECT_EQ(q.admitted(), 8);
  EXPECT_EQ(q.admitted_unknown(), 5);
}

TEST(PayVerifyQueue, PayersWithARecordFirstThenFirstLooksThenOldest) {
  VerifyQueue<std::string> q({100, 100});
  q.push("unknown-recheck", false, true);
  q.push("unknown-1", false, false);
  q.push("unknown-2", false, false);
  q.push("known-recheck", true, true);
  q.push("known-1", true, false);
  q.push("unknown-3", false, false);
  q.push("known-2", true, false);
  std::vector<std::string> order;
  while (auto j = q.pop()) order.push_back(*j);
  EXPECT_EQ(order, (std::vector<std::string>{"known-1", "known-2", "known-recheck", "unknown-1",
                                             "unknown-2", "unknown-3", "unknown-recheck"}));
}

TEST(PayVerifyQueue, AnHonestPayerIsNotBehindAFloodOfNewAddresses) {
  VerifyQueue<int> q({64, 48});
  int admitted = 0, refused = 0;
  for (int i = 0; i < 2000; ++i) {
    if (q.admit(false)) {
      q.push(i, false, false);
      ++admitted;
    } else {
      ++refused;
    }
  }
  EXPECT_EQ(admitted, 48);
  EXPECT_EQ(refused, 2000 - 48);
  ASSERT_TRUE(q.admit(true));
  q.push(-1, true, false);
  EXPECT_EQ(q.pop(), -1);  // next, ahead of the 48 waiting
  EXPECT_EQ(q.waiting(), 48u);
  EXPECT_EQ(q.clear(), 48u);
  EXPECT_FALSE(q.pop());
}

namespace {

const std::string kNonce(16, '\x05');

SellerSettings seller_settings() {
  SellerSettings s;
  s.addr = key(1).address();
  s.chain = kChain;
  s.token = tron::Token::parse("trx");
  s.price = 1000;
  s.credit = 2 * kMiB;
  s.min_settle = 1000;
  return s;
}

Seller paying_seller(Clock::time_point now) {
  Seller s(seller_settings(), kNonce, kInfoHash, kSeederId, kLeecherId, now);
  s.start();
  auto k = key(2);
  s.on_message(Bind{k.address(), tron::sign_message(k, bind_text(kChain, kInfoHash, kSeederId,
                                                                 kLeecherId, kNonce))},
               now);
  s.on_message(Bid{1000}, now);
  s.on_backing(U256(1) << 100, 0, now);
  EXPECT_TRUE(s.billing());
  return s;
}

template <typename T>
const T* find(const std::vector<Message>& msgs) {
  for (const auto& m : msgs) {
    if (const auto* x = std::get_if<T>(&m)) return x;
  }
  return nullptr;
}

}  // namespace

TEST(PaySellerBusy, ANewSettlementWithNoRoomIsBusyAndTheGraceStartsAgain) {
  auto now = Clock::now();
  Seller s = paying_seller(now);
  // Over its credit: choked, its settle grace running.
  auto a = s.on_payload_sent(2 * kMiB + 256 * 1024, now);
  ASSERT_TRUE(a.choke && *a.choke);
  tron::Hash32 txid{7};
  auto later = now + s.settings().settle_grace - std::chrono::milliseconds(100);
  ASSERT_EQ(s.on_message(Settle{txid, 3000, false, {}}, later).verify.size(), 1u);
  a = s.on_busy(txid, later);
  const auto* r = find<Reject>(a.send);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, "busy");
  EXPECT_FALSE(a.ban);
  // Not banned at the end of the first grace: the busy seeder gave it a new one.
  EXPECT_FALSE(s.on_tick(now + s.settings().settle_grace + std::chrono::milliseconds(100)).ban);
  EXPECT_FALSE(s.banned());
  // Sent again, it is checked.
  EXPECT_EQ(s.on_message(Settle{txid, 3000, false, {}}, later).verify.size(), 1u);
}

TEST(PaySellerBusy, ASettlementSeenRealBeforeWaitsSilently) {
  auto now = Clock::now();
  Seller s = paying_seller(now);
  tron::Hash32 txid{9};
  s.on_message(Settle{txid, 1000, false, {}}, now);
  s.on_verified(txid, {VerifyOutcome::Kind::Retry, "", 0, false, "1 of 2 confirmations"}, now);
  auto a = s.on_tick(now + std::chrono::seconds(3));
  ASSERT_EQ(a.verify.size(), 1u);
  EXPECT_TRUE(s.on_busy(txid, now + std::chrono::seconds(3)).send.empty());
  a = s.on_tick(now + std::chrono::seconds(6));
  ASSERT_EQ(a.verify.size(), 1u);
  EXPECT_EQ(a.verify[0].txid, txid);
}

namespace {

Buyer make_buyer() {
  BuyerSettings b;
  b.addr = key(2).address();
  b.chain = kChain;
  b.token = tron::Token::parse("trx");
  b.max_price = 2000;
  auto k = key(2);
  return Buyer(b, nullptr, kInfoHash, kLeecherId, kSeederId,
               [k](const std::string& text) { return tron::sign_message(k, text); });
}

Terms seller_terms() {
  Terms t;
  t.addr = key(1).address();
  t.chain = kChain;
  t.token = tron::Token::parse("trx");
  t.price = 1000;
  t.credit = 2 * kMiB;
  t.min_settle = 1000;
  t.nonce = kNonce;
  return t;
}

}  // namespace

TEST(PayBuyerBusy, SendsTheSameSettlementAgainAfterBusy) {
  Buyer b = make_buyer();
  b.on_message(seller_terms(), 0);
  auto a = b.on_message(Invoice{1, 3 * kMiB, 3000, 0}, 3 * kMiB);
  ASSERT_TRUE(a.pay);
  tron::Hash32 txid{5};
  a = b.on_payment(*a.pay, txid);
  ASSERT_TRUE(find<Settle>(a.send));
  a = b.on_message(Reject{"busy", txid, "many settlements"}, 3 * kMiB);
  EXPECT_TRUE(a.send.empty());
  a = b.on_tick(3 * kMiB);
  const auto* again = find<Settle>(a.send);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->txid, txid);
  EXPECT_EQ(again->amount, 3000);
  EXPECT_FALSE(a.pay);                                   // the same debt, not a second payment
  EXPECT_FALSE(find<Settle>(b.on_tick(3 * kMiB).send));  // once per busy
  // Receipted: nothing left to send or settle.
  b.on_message(Receipt{txid, 3000, 3000}, 3 * kMiB);
  EXPECT_TRUE(b.settled(3 * kMiB));
  EXPECT_FALSE(find<Settle>(b.on_message(Reject{"busy", txid, ""}, 3 * kMiB).send));
  EXPECT_FALSE(find<Settle>(b.on_tick(3 * kMiB).send));
}
