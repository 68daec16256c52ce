// The btt_pay state machines on their own: no sockets, no chain, a fake clock.
#include <gtest/gtest.h>

#include "node/pay/buyer.hpp"
#include "node/pay/seller.hpp"
#include "tests/node/pay_test_parties.hpp"
#include "tron/tip191.hpp"

using namespace bttnode::pay;
using namespace pay_test;
using Clock = std::chrono::steady_clock;

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

Seller make_seller(Clock::time_point now) {
  return Seller(seller_settings(), kNonce, kInfoHash, kSeederId, kLeecherId, now);
}

Bind good_bind(const tron::PrivateKey& k) {
  return Bind{k.address(),
              tron::sign_message(k, bind_text(kChain, kInfoHash, kSeederId, kLeecherId, kNonce))};
}

template <typename T>
const T* find(const std::vector<Message>& msgs) {
  for (const auto& m : msgs) {
    if (const auto* x = std::get_if<T>(&m)) return x;
  }
  return nullptr;
}

// A bound seller with a bid at its price.
Seller paying_seller(Clock::time_point now) {
  Seller s = make_seller(now);
  s.start();
  EXPECT_TRUE(s.on_message(good_bind(key(2)), now).empty());
  auto a = s.on_message(Bid{1000}, now);
  EXPECT_TRUE(a.check_backing);
  s.on_backing(U256(1) << 100, 0, now);
  EXPECT_TRUE(s.billing());
  return s;
}

}  // namespace

TEST(PaySeller, StartsWithItsTerms) {
  auto now = Clock::now();
  Seller s = make_seller(now);
  auto a = s.start();
  ASSERT_EQ(a.send.size(), 1u);
  const auto* t = std::get_if<Terms>(&a.send[0]);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->price, 1000);
  EXPECT_EQ(t->nonce, kNonce);
  EXPECT_EQ(t->chain, kChain);
  EXPECT_EQ(s.rank(), 0);
}

TEST(PaySeller, ABindSignedByAnotherKeyIsRefusedAndBanned) {
  auto now = Clock::now();
  Seller s = make_seller(now);
  Bind forged = good_bind(key(3));
  forged.addr = key(2).address();  // claims an address it cannot sign for
  auto a = s.on_message(forged, now);
  const auto* r = find<Reject>(a.send);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, "bad_bind");
  EXPECT_TRUE(a.ban);
  EXPECT_FALSE(s.bound());
}

TEST(PaySeller, ABindForAnotherNonceIsRefused) {
  auto now = Clock::now();
  Seller s = make_seller(now);
  auto k = key(2);
  Bind other{k.address(), tron::sign_message(k, bind_text(kChain, kInfoHash, kSeederId, kLeecherId,
                                                          std::string(16, 'x')))};
  EXPECT_TRUE(s.on_message(other, now).ban);
}

TEST(PaySeller, BillsPaysAndRanksAPayer) {
  auto now = Clock::now();
  Seller s = paying_seller(now);
  EXPECT_GT(s.rank(), 0);
  s.on_payload_sent(kMiB, now);
  auto a = s.on_tick(now + std::chrono::seconds(2));
  const auto* inv = find<Invoice>(a.send);
  ASSERT_TRUE(inv);
  EXPECT_EQ(inv->bytes, kMiB);
  EXPECT_EQ(inv->owed, 1000);
  EXPECT_EQ(inv->paid, 0);
  tron::Hash32 txid{7};
  a = s.on_message(Settle{txid, 1000, false, {}}, now);
  ASSERT_EQ(a.verify.size(), 1u);
  // The same settlement again while it is checked: nothing new.
  EXPECT_TRUE(s.on_message(Settle{txid, 1000, false, {}}, now).verify.empty());
  a = s.on_verified(txid, {VerifyOutcome::Kind::Credited, "", 1000, false, ""}, now);
  const auto* rec = find<Receipt>(a.send);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->paid, 1000);
  EXPECT_EQ(s.paid(), 1000);
  EXPECT_EQ(s.unpaid_bytes(), 0);
}

TEST(PaySeller, HigherBidsRankHigher) {
  auto now = Clock::now();
  Seller a = paying_seller(now);
  Seller b = paying_seller(now);
  b.on_message(Bid{5000}, now);
  EXPECT_EQ(b.rank(), 0);  // until its balance is seen to back the new bid
  b.on_backing(U256(1) << 100, 0, now);
  EXPECT_GT(b.rank(), a.rank());
}

TEST(PaySeller, ABidBelowThePriceIsServedAsAnyone) {
  auto now = Clock::now();
  Seller s = make_seller(now);
  s.on_message(good_bind(key(2)), now);
  auto a = s.on_message(Bid{10}, now);
  const auto* r = find<Reject>(a.send);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, "price");
  EXPECT_FALSE(s.billing());
  EXPECT_EQ(s.rank(), 0);
  s.on_payload_sent(10 * kMiB, now);
  EXPECT_EQ(s.billed_bytes(), 0);
}

TEST(PaySeller, OverCreditChokedThenUnchokedWhenPaid) {
  auto now = Clock::now();
  Seller s = paying_seller(now);
  auto a = s.on_payload_sent(2 * kMiB + 1, now);
  ASSERT_TRUE(a.choke);
  EXPECT_TRUE(*a.choke);
  EXPECT_TRUE(find<Invoice>(a.send));
  EXPECT_EQ(s.rank(), 0);
  tron::Hash32 txid{9};
  s.on_message(Settle{txid, 2001, false, {}}, now);
  a = s.on_verified(txid, {VerifyOutcome::Kind::Credited, "", 2001, false, ""}, now);
  ASSERT_TRUE(a.choke);
  EXPECT_FALSE(*a.choke);
  EXPECT_GT(s.rank(), 0);
}

TEST(PaySeller, APeerThatStopsPayingIsBannedAfterTheGrace) {
  auto now = Clock::now();
  Seller s = paying_seller(now);
  EXPECT_TRUE(s.on_payload_sent(2 * kMiB + 100, now).choke);
  EXPECT_FALSE(s.on_tick(now + std::chrono::seconds(10)).ban);
  auto a = s.on_tick(now + s.settings().settle_grace + std::chrono::seconds(1));
  EXPECT_TRUE(a.ban);
  EXPECT_TRUE(s.banned());
}

TEST(PaySeller, UnpaidBeyondTheToleranceIsBannedAtOnce) {
  auto now = Clock::now();
  Seller s = paying_seller(now);
  s.on_payload_sent(2 * kMiB + 1, now);       // choked
  auto a = s.on_payload_sent(2 * kMiB, now);  // in flight past the tolerance
  EXPECT_TRUE(a.ban);
}

TEST(PaySeller, ARefusedSettlementIsRejectedAndBanned) {
  auto now = Clock::now();
  Seller s = paying_seller(now);
  tron::Hash32 txid{3};
  s.on_message(Settle{txid, 1000, false, {}}, now);
  auto a =
      s.on_verified(txid, {VerifyOutcome::Kind::Refused, "wrong_recipient", 0, false, ""}, now);
  const auto* r = find<Reject>(a.send);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, "wrong_recipient");
  ASSERT_TRUE(r->txid);
  EXPECT_EQ(*r->txid, txid);
  EXPECT_TRUE(a.ban);
  EXPECT_EQ(s.paid(), 0);
}

TEST(PaySeller, AnUnconfirmedSettlementIsCheckedAgain) {
  auto now = Clock::now();
  Seller s = paying_seller(now);
  tron::Hash32 txid{4};
  s.on_message(Settle{txid, 1000, false, {}}, now);
  // The node does not hold it (or is down): nothing to tell the peer yet.
  EXPECT_TRUE(s.on_verified(txid, {VerifyOutcome::Kind::Retry, "", 0, false, ""}, now).empty());
  EXPECT_TRUE(s.on_tick(now + std::chrono::milliseconds(500)).verify.empty());
  auto a = s.on_tick(now + std::chrono::seconds(3));
  ASSERT_EQ(a.verify.size(), 1u);
  EXPECT_EQ(a.verify[0].txid, txid);
}

TEST(PaySeller, AnUnconfirmedSettlementIsToldOnceAndNotBanned) {
  auto now = Clock::now();
  Seller s = paying_seller(now);
  tron::Hash32 txid{8};
  s.on_message(Settle{txid, 1000, false, {}}, now);
  VerifyOutcome wait{VerifyOutcome::Kind::Retry, "", 0, false, "2 of 5 confirmations"};
  auto a = s.on_verified(txid, wait, now);
  const auto* r = find<Reject>(a.send);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, "unconfirmed");
  EXPECT_EQ(r->msg, "2 of 5 confirmations");
  EXPECT_FALSE(a.ban);
  a = s.on_tick(now + std::chrono::seconds(3));
  ASSERT_EQ(a.verify.size(), 1u);
  EXPECT_TRUE(s.on_verified(txid, wait, now + std::chrono::seconds(3)).send.empty());
  a = s.on_tick(now + std::chrono::seconds(6));
  a = s.on_verified(txid, {VerifyOutcome::Kind::Credited, "", 1000, false, ""}, now);
  EXPECT_TRUE(find<Receipt>(a.send));
  EXPECT_EQ(s.paid(), 1000);
  EXPECT_FALSE(s.banned());
}

TEST(PaySeller, APriorSettlementIsCreditedOutsideTheSession) {
  auto now = Clock::now();
  Seller s = paying_seller(now);
  tron::Hash32 txid{5};
  s.on_message(Settle{txid, 500, true, {}}, now);
  auto a = s.on_verified(txid, {VerifyOutcome::Kind::Credited, "", 500, false, ""}, now);
  EXPECT_TRUE(find<Receipt>(a.send));
  EXPECT_EQ(s.paid(), 0);
  // A refused prior settlement is answered but not banned.
  tron::Hash32 other{6};
  s.on_message(Settle{other, 500, true, {}}, now);
  a = s.on_verified(other, {VerifyOutcome::Kind::Refused, "replayed_tx", 0, false, ""}, now);
  EXPECT_TRUE(find<Reject>(a.send));
  EXPECT_FALSE(a.ban);
}

TEST(PaySeller, UnpaidBytesOfAnEarlierSessionCountAgainstTheCredit) {
  auto now = Clock::now();
  Seller first = paying_seller(now);
  first.on_payload_sent(kMiB + 4096, now);
  EXPECT_EQ(first.carry_out(), kMiB + 4096);

  // Same payer again: 1 MiB of credit is left, not 2.
  Seller second = paying_seller(now);
  auto a = second.carry_in(first.carry_out(), now);
  EXPECT_FALSE(a.choke);
  EXPECT_GT(second.rank(), 0);
  a = second.on_payload_sent(kMiB, now);
  ASSERT_TRUE(a.choke);
  EXPECT_TRUE(*a.choke);
  const auto* inv = find<Invoice>(a.send);
  ASSERT_TRUE(inv);
  EXPECT_EQ(inv->bytes, kMiB);           // this session's bytes
  EXPECT_EQ(inv->carried, kMiB + 4096);  // and what the last one left
  EXPECT_EQ(second.carry_out(), 2 * kMiB + 4096);

  // A third session that starts past the tolerance is banned at its bind.
  Seller third = paying_seller(now);
  a = third.carry_in(3 * kMiB + 1, now);
  EXPECT_TRUE(a.ban);
  EXPECT_TRUE(third.banned());
}

TEST(PaySeller, APriorSettlementPaysTheCarriedBytesNotTheSessions) {
  auto now = Clock::now();
  Seller s = paying_seller(now);
  EXPECT_TRUE(s.carry_in(2 * kMiB + 1, now).choke);  // over credit from the start
  tron::Hash32 txid{7};
  s.on_message(Settle{txid, 2001, true, {}}, now);
  auto a = s.on_verified(txid, {VerifyOutcome::Kind::Credited, "", 2001, false, ""}, now);
  ASSERT_TRUE(a.choke);
  EXPECT_FALSE(*a.choke);
  EXPECT_EQ(s.paid(), 0);  // the receipt's `paid` stays this session's
  EXPECT_EQ(s.carry_out(), 0);
  // A payment of this session does not pay for earlier ones.
  Seller t = paying_seller(now);
  t.carry_in(kMiB, now);
  t.on_message(Settle{txid, 1000, false, {}}, now);
  t.on_verified(txid, {VerifyOutcome::Kind::Credited, "", 1000, false, ""}, now);
  EXPECT_EQ(t.carry_out(), kMiB);
}

TEST(PaySeller, NothingIsCarriedWithoutABind) {
  auto now = Clock::now();
  Seller s = make_seller(now);
  s.start();
  EXPECT_TRUE(s.carry_in(kMiB, now).empty());
  EXPECT_EQ(s.carry_out(), 0);
}

TEST(PaySeller, HoldsAPeerChokedUntilItAnswersTheTerms) {
  auto now = Clock::now();
  // A payer: released by its bid, so that every byte it gets is billed.
  Seller s = make_seller(now);
  auto a = s.start();
  ASSERT_TRUE(a.choke);
  EXPECT_TRUE(*a.choke);
  EXPECT_FALSE(s.on_message(good_bind(key(2)), now).choke);
  a = s.on_message(Bid{1000}, now);
  ASSERT_TRUE(a.choke);
  EXPECT_FALSE(*a.choke);

  // A peer that declines: released at once, as an ordinary peer.
  Seller d = make_seller(now);
  d.start();
  a = d.on_message(Reject{reason::kPrice, std::nullopt, ""}, now);
  ASSERT_TRUE(a.choke);
  EXPECT_FALSE(*a.choke);

  // A peer that never answers: released after the wait.
  Seller q = make_seller(now);
  q.start();
  EXPECT_FALSE(q.on_tick(now + std::chrono::seconds(1)).choke);
  a = q.on_tick(now + Seller::kAnswerWait);
  ASSERT_TRUE(a.choke);
  EXPECT_FALSE(*a.choke);
  EXPECT_FALSE(q.on_tick(now + 2 * Seller::kAnswerWait).choke);

  // A payer that binds carrying a debt over its credit stays choked.
  Seller c = make_seller(now);
  c.start();
  c.on_message(good_bind(key(2)), now);
  c.carry_in(3 * kMiB, now);
  a = c.on_message(Bid{1000}, now);
  EXPECT_TRUE(!a.choke || *a.choke);
}

TEST(PaySeller, SettleBeforeBindIsRefused) {
  auto now = Clock::now();
  Seller s = make_seller(now);
  auto a = s.on_message(Settle{tron::Hash32{1}, 5, false, {}}, now);
  EXPECT_TRUE(find<Reject>(a.send));
  EXPECT_TRUE(a.verify.empty());
}

// ---- Buyer

namespace {

BuyerSettings buyer_settings() {
  BuyerSettings b;
  b.addr = key(2).address();
  b.chain = kChain;
  b.token = tron::Token::parse("trx");
  b.max_price = 2000;
  return b;
}

Terms seller_terms(U256 price = 1000) {
  Terms t;
  t.addr = key(1).address();
  t.chain = kChain;
  t.token = tron::Token::parse("trx");
  t.price = price;
  t.credit = 2 * kMiB;
  t.min_settle = 1000;
  t.nonce = kNonce;
  return t;
}

Buyer make_buyer(std::shared_ptr<Budget> budget = nullptr) {
  auto k = key(2);
  return Buyer(buyer_settings(), std::move(budget), kInfoHash, kLeecherId, kSeederId,
               [k](const std::string& text) { return tron::sign_message(k, text); });
}

}  // namespace

TEST(PayBuyer, AcceptsFairTermsWithABindTheSellerAccepts) {
  Buyer b = make_buyer();
  auto a = b.on_message(seller_terms(), 0);
  const auto* bind = find<Bind>(a.send);
  ASSERT_TRUE(bind);
  const auto* bid = find<Bid>(a.send);
  ASSERT_TRUE(bid);
  EXPECT_EQ(bid->price, 1000);
  // The real seller accepts that bind.
  auto now = Clock::now();
  Seller s = make_seller(now);
  EXPECT_FALSE(s.on_message(*bind, now).ban);
  EXPECT_TRUE(s.bound());
}

TEST(PayBuyer, RefusesTermsAboveItsMaximumOnAnotherChainOrToken) {
  {
    Buyer b = make_buyer();
    auto a = b.on_message(seller_terms(2001), 0);
    ASSERT_TRUE(find<Reject>(a.send));
    EXPECT_EQ(find<Reject>(a.send)->reason, "price");
    EXPECT_FALSE(find<Bind>(a.send));
    EXPECT_FALSE(b.active());
  }
  {
    Buyer b = make_buyer();
    Terms t = seller_terms();
    t.chain = std::string(64, 'e');
    auto a = b.on_message(t, 0);
    EXPECT_EQ(find<Reject>(a.send)->reason, "wrong_chain");
    EXPECT_FALSE(b.active());
  }
  {
    Buyer b = make_buyer();
    Terms t = seller_terms();
    t.token = tron::Token::parse("trc10:1002000");
    EXPECT_FALSE(find<Bind>(b.on_message(t, 0).send));
  }
}

TEST(PayBuyer, PaysTheSmallerOfTheInvoiceAndItsOwnCount) {
  Buyer b = make_buyer();
  b.on_message(seller_terms(), 0);
  // The seller claims 5 MiB, we verified 3 MiB: we owe 3000.
  auto a = b.on_message(Invoice{1, 5 * kMiB, 5000, 0}, 3 * kMiB);
  ASSERT_TRUE(a.pay);
  EXPECT_EQ(a.pay->amount, 3000);
  PayOrder first = *a.pay;
  // Nothing more while that payment is in flight.
  EXPECT_FALSE(b.on_message(Invoice{2, 6 * kMiB, 6000, 0}, 4 * kMiB).pay);
  EXPECT_FALSE(b.on_tick(4 * kMiB).pay);
  a = b.on_payment(first, tron::Hash32{1});
  const auto* settle = find<Settle>(a.send);
  ASSERT_TRUE(settle);
  EXPECT_EQ(settle->amount, 3000);
  EXPECT_EQ(b.paid(), 3000);
  // Then the rest, up to its own count.
  a = b.on_tick(4 * kMiB);
  ASSERT_TRUE(a.pay);
  EXPECT_EQ(a.pay->amount, 1000);
}

TEST(PayBuyer, KnowsWhenTheSellersInvoiceTrailsItsOwnCount) {
  Buyer b = make_buyer();
  b.on_message(seller_terms(), 0);
  EXPECT_TRUE(b.invoice_behind(kMiB));  // bytes verified, no invoice yet
  auto a = b.on_message(Invoice{1, kMiB, 1000, 0}, kMiB);
  ASSERT_TRUE(a.pay);
  b.on_payment(*a.pay, tron::Hash32{1});
  b.on_message(Receipt{tron::Hash32{1}, 1000, 1000, false, 0}, kMiB);
  EXPECT_TRUE(b.settled(kMiB));
  EXPECT_FALSE(b.invoice_behind(kMiB));
  // One more MiB arrives: nothing is due by the old invoice, so settled, but the invoice trails.
  EXPECT_TRUE(b.settled(2 * kMiB));
  EXPECT_TRUE(b.invoice_behind(2 * kMiB));
  // A buyer that declined the terms waits for nothing.
  Buyer d = make_buyer();
  d.on_message(seller_terms(5000), 0);
  EXPECT_FALSE(d.invoice_behind(kMiB));
}

TEST(PayBuyer, PaysNothingForBytesItDidNotVerify) {
  Buyer b = make_buyer();
  b.on_message(seller_terms(), kMiB);  // verified before the bind: not billed
  EXPECT_FALSE(b.on_message(Invoice{1, 10 * kMiB, 10000, 0}, kMiB).pay);
  EXPECT_EQ(b.due(kMiB), 0);
  // A seeder that stops serving: the count stays, so nothing more is ever due.
  EXPECT_FALSE(b.on_tick(kMiB).pay);
  EXPECT_FALSE(b.finish(kMiB).pay);
}

TEST(PayBuyer, WaitsForTheMinimumUntilTheEnd) {
  Buyer b = make_buyer();
  b.on_message(seller_terms(), 0);
  EXPECT_FALSE(b.on_message(Invoice{1, kMiB / 2, 500, 0}, kMiB / 2).pay);  // 500 < 1000
  auto a = b.finish(kMiB / 2);
  ASSERT_TRUE(a.pay);
  EXPECT_EQ(a.pay->amount, 500);
}

TEST(PayBuyer, NeverGoesBeyondItsBudget) {
  auto budget = std::make_shared<Budget>(Budget{U256(1500)});
  Buyer b = make_buyer(budget);
  b.on_message(seller_terms(), 0);
  auto a = b.on_message(Invoice{1, kMiB, 1000, 0}, kMiB);
  ASSERT_TRUE(a.pay);
  b.on_payment(*a.pay, tron::Hash32{1});
  EXPECT_EQ(*budget->remaining, 500);
  a = b.on_message(Invoice{2, 2 * kMiB, 2000, 1000}, 2 * kMiB);
  EXPECT_FALSE(a.pay);  // 1000 due, 500 left
  const auto* bid = find<Bid>(a.send);
  ASSERT_TRUE(bid);
  EXPECT_EQ(bid->price, 0);  // it tells the seeder it stops paying
}

TEST(PayBuyer, BuyersOfTheNodeShareOneDailyBudgetCountingPaymentsInFlight) {
  std::int64_t now = 1796083200000 + 3600'000;  // 2026-12-01T01:00Z
  auto daily = std::make_shared<DailyBudget>(tron::Token::parse("trx"), U256(1500), U256(0),
                                             [&] { return now; });
  auto k = key(2);
  auto signer = [k](const std::string& text) { return tron::sign_message(k, text); };
  Buyer a(buyer_settings(), nullptr, kInfoHash, kLeecherId, kSeederId, signer, kVersion, daily);
  Buyer b(buyer_settings(), nullptr, std::string(40, 'b'), kLeecherId, kSeederId, signer, kVersion,
          daily);
  a.on_message(seller_terms(), 0);
  b.on_message(seller_terms(), 0);
  auto pa = a.on_message(Invoice{1, kMiB, 1000, 0}, kMiB);
  ASSERT_TRUE(pa.pay);
  EXPECT_EQ(daily->left_today(), 500);  // in flight, not yet sent: already counted
  // The other torrent's 1000 would go past the day's 1500: it stops paying.
  auto pb = b.on_message(Invoice{1, kMiB, 1000, 0}, kMiB);
  EXPECT_FALSE(pb.pay);
  const auto* bid = find<Bid>(pb.send);
  ASSERT_TRUE(bid);
  EXPECT_EQ(bid->price, 0);
  ASSERT_TRUE(pb.note);
  EXPECT_NE(pb.note->find("daily budget reached"), std::string::npos) << *pb.note;
  EXPECT_FALSE(b.on_tick(kMiB).pay);
  EXPECT_EQ(daily->left_today(), 500);
  // A refused payment gives its share of the day back.
  a.on_payment_refused(*pa.pay, "balance too low");
  EXPECT_EQ(daily->left_today(), 1500);
  pb = b.on_tick(kMiB);
  ASSERT_TRUE(pb.pay);
  EXPECT_EQ(pb.pay->amount, 1000);
  b.on_payment(*pb.pay, tron::Hash32{2});
  b.on_message(Receipt{tron::Hash32{2}, 1000, 1000, false, 0}, kMiB);
  EXPECT_FALSE(b.on_message(Invoice{2, 2 * kMiB, 2000, 0}, 2 * kMiB).pay);  // 500 left
  // The next UTC day has the whole budget again.
  now += DailyBudget::kDayMs;
  auto next = b.on_tick(2 * kMiB);
  ASSERT_TRUE(next.pay);
  EXPECT_EQ(next.pay->amount, 1000);
  EXPECT_EQ(daily->left_today(), 500);
}

TEST(PayBuyer, ARefusedPaymentStopsPaymentsToThatSeeder) {
  Buyer b = make_buyer();
  b.on_message(seller_terms(), 0);
  auto a = b.on_message(Invoice{1, kMiB, 1000, 0}, kMiB);
  ASSERT_TRUE(a.pay);
  a = b.on_payment_refused(*a.pay, "balance too low");
  EXPECT_TRUE(find<Bid>(a.send));
  EXPECT_FALSE(b.active());
  EXPECT_FALSE(b.on_tick(5 * kMiB).pay);
}

TEST(PaySeller, SettlementsBeyondWhatItChecksAtOnceAreBusyNotBanned) {
  auto now = Clock::now();
  Seller s = paying_seller(now);
  s.on_payload_sent(kMiB, now);
  for (int i = 0; i < s.settings().max_verifying; ++i) {
    tron::Hash32 txid{std::uint8_t(i + 1)};
    EXPECT_EQ(s.on_message(Settle{txid, 1000, false, {}}, now).verify.size(), 1u);
  }
  auto a = s.on_message(Settle{tron::Hash32{99}, 1000, false, {}}, now);
  EXPECT_TRUE(a.verify.empty());
  const auto* r = find<Reject>(a.send);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, "busy");
  EXPECT_FALSE(a.ban);
}

TEST(PaySeller, AProvisionalCreditCountsAsPaidAndTheWindowGrows) {
  auto now = Clock::now();
  Seller s = paying_seller(now);  // credit 2 MiB, price 1000
  EXPECT_EQ(s.window(), 2 * kMiB);
  s.on_payload_sent(kMiB, now);
  Settle st{tron::Hash32{3}, 1000, false, std::string(100, 't')};
  auto a = s.on_message(st, now);
  ASSERT_EQ(a.verify.size(), 1u);
  EXPECT_FALSE(a.verify[0].tx.empty());  // the balance backs it: checked for provisional credit
  a = s.on_provisional(st.txid, true, "", "", now);
  const auto* rec = find<Receipt>(a.send);
  ASSERT_TRUE(rec);
  EXPECT_TRUE(rec->provisional);
  EXPECT_EQ(s.unpaid_bytes(), 0);
  EXPECT_EQ(s.pending(), 1000);
  EXPECT_EQ(s.window(), 2 * kMiB + 2 * kMiB);  // credit + 2 x (record + provisional)
  // Final: the record takes over what was provisional.
  a = s.on_verified(st.txid, {VerifyOutcome::Kind::Credited, "", 1000, false, ""}, now);
  rec = find<Receipt>(a.send);
  ASSERT_TRUE(rec);
  EXPECT_FALSE(rec->provisional);
  EXPECT_EQ(s.pending(), 0);
  EXPECT_EQ(s.record_bytes(), kMiB);
  EXPECT_EQ(s.window(), 4 * kMiB);
}

TEST(PaySeller, AProvisionalSettlementThatFailsIsABan) {
  auto now = Clock::now();
  Seller s = paying_seller(now);
  s.on_payload_sent(kMiB, now);
  Settle st{tron::Hash32{4}, 1000, false, std::string(100, 't')};
  s.on_message(st, now);
  s.on_provisional(st.txid, true, "", "", now);
  auto a = s.on_verified(st.txid, {VerifyOutcome::Kind::Refused, "failed_tx", 0, false, ""}, now);
  EXPECT_TRUE(a.ban);
  EXPECT_EQ(s.pending(), 0);
}

TEST(PaySeller, AnUnfundedPayerIsAnOrdinaryPeer) {
  auto now = Clock::now();
  Seller s = make_seller(now);
  s.start();
  s.on_message(good_bind(key(2)), now);
  auto a = s.on_message(Bid{U256(10) * U256(1'000'000'000'000'000'000ull)}, now);
  ASSERT_TRUE(a.check_backing);
  a = s.on_backing(500, 0, now);  // not even the first credit at its bid
  const auto* r = find<Reject>(a.send);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, "unfunded");
  EXPECT_FALSE(s.billing());
  EXPECT_EQ(s.rank(), 0);
  // Not billed, so never choked or banned for what it downloads as an ordinary peer.
  a = s.on_payload_sent(64 * kMiB, now);
  EXPECT_FALSE(a.ban);
  EXPECT_FALSE(a.choke.value_or(false));
}

TEST(PaySeller, ARecordFromEarlierSessionsWidensTheWindow) {
  auto now = Clock::now();
  Seller s = make_seller(now);
  s.start();
  s.on_message(good_bind(key(2)), now);
  s.on_message(Bid{1000}, now);
  s.on_backing(U256(1) << 100, 100 * kMiB, now);
  EXPECT_EQ(s.window(), std::min<std::int64_t>(s.settings().max_credit, 2 * kMiB + 200 * kMiB));
  EXPECT_GT(s.rank(), 0);
}
