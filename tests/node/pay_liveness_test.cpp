// Liveness of btt_pay for every terms: a Seller and a Buyer joined by a simulated link and a
// simulated chain (blocks at an interval, confirmations), with pieces, an upload limit and a
// clock. An honest payer always completes and is never banned; a seeder refuses at start the
// terms that cannot work; a payer whose payments all fail costs the seeder no more than the
// spec's bound.
#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <functional>
#include <random>

#include "node/pay/buyer.hpp"
#include "node/pay/seller.hpp"
#include "tests/node/pay_test_parties.hpp"
#include "tron/tip191.hpp"

using namespace bttnode::pay;
using namespace pay_test;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {


struct Terms_ {
  U256 price = 1000;
  std::int64_t credit = 0;  // 0: the default (raised to pieces)
  U256 min_settle = 0;
  std::int64_t piece = 256 * 1024;
  std::int64_t rate = 16 * kMiB;  // seeder's upload limit, bytes/s
  std::int64_t block_ms = 3000;
  std::int64_t conf = 1;
  std::int64_t size = 64 * kMiB;
  std::int64_t version = 2;
  bool payments_fail = false;  // every settlement is double-spent: refused when final
  std::string text() const {
    return "price " + price.str() + " credit " + std::to_string(credit) + " min_settle " +
           min_settle.str() + " piece " + std::to_string(piece) + " rate " + std::to_string(rate) +
           " block " + std::to_string(block_ms) + " conf " + std::to_string(conf) + " size " +
           std::to_string(size) + " v" + std::to_string(version) +
           (payments_fail ? " failing" : "");
  }
};

struct Outcome {
  bool refused_at_start = false;
  std::string refusal;
  bool completed = false;
  bool banned = false;
  std::string ban;
  double seconds = 0;
  int settlements = 0;
  std::int64_t served = 0;
  std::int64_t lost_bytes = 0;   // served beyond what final credits paid for
  std::int64_t bound_bytes = 0;  // the spec's bound, its largest value during the run
  std::int64_t max_prov_limit = 0;
};

// Runs one download. Time moves in steps of 10 ms.
Outcome simulate(const Terms_& t) {
  Outcome out;
  SellerSettings ss;
  ss.addr = key(1).address();
  ss.chain = kChain;
  ss.token = tron::Token::parse("trx");
  ss.price = t.price;
  if (t.credit > 0) {
    ss.credit = t.credit;
    ss.credit_explicit = true;
  }
  ss.min_settle = t.min_settle;
  ss.confirmations = t.conf;
  ss.settle_latency = milliseconds(t.block_ms * t.conf + 1000);
  if (auto why = unworkable_terms(settings_for_torrent(ss, t.piece), t.piece)) {
    out.refused_at_start = true;
    out.refusal = *why;
    return out;
  }
  ss = settings_for_torrent(ss, t.piece);
  const std::string nonce(16, '\x07');
  auto start = Clock::time_point{} + std::chrono::hours(1);
  auto now = start;
  Seller seller(ss, nonce, kInfoHash, kSeederId, kLeecherId, now, t.version);

  BuyerSettings bs;
  auto payer_key = key(2);
  bs.addr = payer_key.address();
  bs.chain = kChain;
  bs.token = ss.token;
  bs.max_price = t.price;
  bs.torrent_size = t.size;
  Buyer buyer(
      bs, std::make_shared<Budget>(), kInfoHash, kLeecherId, kSeederId,
      [&](const std::string& text) { return tron::sign_message(payer_key, text); }, t.version);

  // Messages in flight each way, delivered after 5 ms.
  std::deque<std::pair<Clock::time_point, std::string>> to_buyer, to_seller;
  // Chain events for the seeder: (time, txid, kind) with kind 0 provisional, 1 final.
  struct ChainEvent {
    Clock::time_point at;
    tron::Hash32 txid;
    int kind;
    U256 amount;
  };
  std::vector<ChainEvent> chain;
  std::optional<Clock::time_point> backing_at;
  bool choked = false;
  std::int64_t sent = 0, received = 0, verified = 0;
  std::int64_t after_choke = 0;  // bytes already queued when a choke comes still go out
  std::int64_t settled_number = 0;
  U256 finally_paid = 0;
  bool finishing = false;
  const std::int64_t version = t.version;

  auto link = milliseconds(5);
  auto seller_do = [&](SellerActions a) {
    for (auto& m : a.send) to_buyer.emplace_back(now + link, encode(m, version));
    if (a.choke) {
      if (*a.choke && !choked) after_choke = 128 * 1024;
      choked = *a.choke;
    }
    if (a.check_backing) backing_at = now + milliseconds(20);
    for (auto& s : a.verify) {
      if (!s.tx.empty()) chain.push_back({now + milliseconds(20), s.txid, 0, s.amount});
      // In the next block after it reaches the node, with `conf` confirmations.
      auto since = now - start;
      auto ms = std::chrono::duration_cast<milliseconds>(since).count();
      std::int64_t next_block = (ms / t.block_ms + 1) * t.block_ms;
      auto final_at = start + milliseconds(next_block + (t.conf - 1) * t.block_ms + 250);
      chain.push_back({std::max(final_at, now + milliseconds(250)), s.txid, 1, s.amount});
    }
    if (a.ban) {
      out.banned = true;
      out.ban = *a.ban;
    }
  };
  std::function<void(BuyerActions)> buyer_do = [&](BuyerActions a) {
    for (auto& m : a.send) to_seller.emplace_back(now + link, encode(m, version));
    if (a.pay) {
      ++out.settlements;
      // Signed and broadcast in 10 ms; the txid is the order number.
      tron::Hash32 txid{};
      ++settled_number;
      std::memcpy(txid.data(), &settled_number, sizeof settled_number);
      auto order = *a.pay;
      // Deliver on the next step (the caller's work) as a settle with a stand-in tx.
      buyer_do(buyer.on_payment(order, txid, version >= 2 ? std::string(200, 't') : ""));
    }
  };

  seller_do(seller.start());
  const auto limit = start +
                     std::chrono::seconds(20 + 6 * t.size / std::max<std::int64_t>(t.rate, 1)) +
                     milliseconds(20 * t.block_ms * t.conf);
  auto last_tick = now;
  while (now < limit && !out.banned) {
    now += milliseconds(10);
    // Messages.
    while (!to_seller.empty() && to_seller.front().first <= now) {
      auto m = decode(to_seller.front().second);
      to_seller.pop_front();
      seller_do(seller.on_message(m, now));
    }
    while (!to_buyer.empty() && to_buyer.front().first <= now) {
      auto m = decode(to_buyer.front().second);
      to_buyer.pop_front();
      buyer_do(buyer.on_message(m, verified));
    }
    // The chain.
    if (backing_at && *backing_at <= now) {
      backing_at.reset();
      seller_do(seller.on_backing(U256(1) << 200, 0, now));
    }
    for (std::size_t i = 0; i < chain.size();) {
      if (chain[i].at > now) {
        ++i;
        continue;
      }
      auto ev = chain[i];
      chain.erase(chain.begin() + std::ptrdiff_t(i));
      if (ev.kind == 0) {
        seller_do(seller.on_provisional(ev.txid, true, "", "", now));
      } else {
        VerifyOutcome o;
        if (t.payments_fail) {
          o.kind = VerifyOutcome::Kind::Refused;
          o.reason = "failed_tx";
        } else {
          o.kind = VerifyOutcome::Kind::Credited;
          o.credited = ev.amount;
          finally_paid += ev.amount;
        }
        seller_do(seller.on_verified(ev.txid, o, now));
      }
    }
    // Payload: the seeder sends what its limit allows while unchoked (and what was queued).
    std::int64_t step = t.rate / 100;
    if (choked) {
      step = std::min(step, after_choke);
      after_choke -= step;
    }
    step = std::min(step, t.size - sent);
    if (step > 0) {
      sent += step;
      received += step;
      seller_do(seller.on_payload_sent(step, now));
    }
    verified = received == t.size ? t.size : received / t.piece * t.piece;
    out.bound_bytes = std::max(out.bound_bytes, seller.worst_case_loss_bytes());
    out.max_prov_limit = std::max(out.max_prov_limit, seller.provisional_limit());
    if (now - last_tick >= milliseconds(250)) {
      last_tick = now;
      seller_do(seller.on_tick(now));
      buyer_do(buyer.on_tick(verified));
    }
    if (verified == t.size && !finishing) {
      finishing = true;
      out.seconds = std::chrono::duration<double>(now - start).count();
      buyer_do(buyer.finish(verified));
    }
    if (finishing && buyer.settled(verified) && chain.empty() && to_seller.empty() &&
        to_buyer.empty()) {
      out.completed = true;
      break;
    }
  }
  out.served = sent;
  std::int64_t paid_bytes = bytes_paid_for(finally_paid, t.price);
  out.lost_bytes = std::max<std::int64_t>(0, sent - paid_bytes);
  if (!out.completed && !out.banned && finishing) out.completed = buyer.settled(verified);
  return out;
}

std::string describe(const Terms_& t, const Outcome& o) {
  return t.text() + ": " + (o.banned ? "banned (" + o.ban + ")" : "") +
         (o.completed ? " completed" : " not completed") + " in " + std::to_string(o.seconds) +
         " s with " + std::to_string(o.settlements) + " settlements";
}

}  // namespace

// Random terms a user might pick. Every one either works (complete, no ban) or is refused at
// start with a reason.
TEST(PayLiveness, AnHonestPayerCompletesUnderEveryTerms) {
  std::mt19937_64 rng(20261201);
  auto pick = [&](auto... v) {
    std::vector<std::common_type_t<decltype(v)...>> options{v...};
    return options[rng() % options.size()];
  };
  int refused = 0, worked = 0;
  for (int i = 0; i < 160; ++i) {
    Terms_ t;
    t.price = pick(U256(1), U256(1000), U256(1'000'000), U256(1) << 70);
    t.credit = pick(std::int64_t(0), std::int64_t(0), kMiB, 4 * kMiB, 16 * kMiB);
    t.piece = pick(16 * 1024, 256 * 1024, kMiB, 4 * kMiB, 16 * kMiB);
    std::int64_t settle_mib = pick(0, 0, 1, 4, 16);
    t.min_settle = settle_mib == 0 ? U256(0) : owed(settle_mib * kMiB, t.price);
    t.rate = pick(kMiB, 4 * kMiB, 16 * kMiB, 100 * kMiB);
    t.block_ms = pick(300, 3000, 3000);
    t.conf = pick(1, 1, 2, 19);
    t.size = std::min<std::int64_t>(pick(24 * kMiB, 96 * kMiB), 40 * t.piece);
    t.version = pick(1, 2, 2);
    Outcome o = simulate(t);
    if (o.refused_at_start) {
      EXPECT_FALSE(o.refusal.empty());
      ++refused;
      continue;
    }
    ++worked;
    EXPECT_FALSE(o.banned) << describe(t, o);
    EXPECT_TRUE(o.completed) << describe(t, o);
  }
  EXPECT_GT(worked, 60);
  EXPECT_GT(refused, 0);  // some picks are unworkable and must be refused, not run
}

// The cases: 4 MiB pieces under an upload limit, and a minimum settlement close to
// the credit.
TEST(PayLiveness, FourMiBPiecesUnderAnUploadLimit) {
  Terms_ t;
  t.piece = 4 * kMiB;
  t.rate = 4 * kMiB;
  t.size = 96 * kMiB;
  Outcome o = simulate(t);
  EXPECT_FALSE(o.banned) << describe(t, o);
  EXPECT_TRUE(o.completed) << describe(t, o);
  // Paced by the limit, not by the chain: 96 MiB at 4 MiB/s is 24 s.
  EXPECT_LT(o.seconds, 30) << describe(t, o);
}

TEST(PayLiveness, AMinimumSettlementTheCreditCannotHoldIsRefusedAtStart) {
  Terms_ t;
  t.price = 1000;
  t.min_settle = 4000;
  t.credit = 4 * kMiB;
  Outcome o = simulate(t);
  ASSERT_TRUE(o.refused_at_start);
  EXPECT_NE(o.refusal.find("--credit"), std::string::npos) << o.refusal;
  // Without an explicit credit the default is raised and the same minimum works.
  t.credit = 0;
  t.piece = 4 * kMiB;
  o = simulate(t);
  EXPECT_FALSE(o.refused_at_start) << o.refusal;
  EXPECT_TRUE(o.completed) << describe(t, o);
}

// Chain latency does not throttle: at 3 s blocks a payer gets the seeder's whole rate.
TEST(PayLiveness, ThreeSecondBlocksDoNotThrottleAPayer) {
  for (std::int64_t rate : {4 * kMiB, 16 * kMiB, 100 * kMiB}) {
    Terms_ t;
    t.rate = rate;
    t.size = 96 * kMiB;
    Outcome o = simulate(t);
    ASSERT_TRUE(o.completed) << describe(t, o);
    double ideal = double(t.size) / double(rate);
    EXPECT_LT(o.seconds, ideal * 1.15 + 0.5) << describe(t, o);
  }
}

// Settlements grow with the record: a dozen at most for a GiB.
TEST(PayLiveness, AGibSettlesInADozenTransactions) {
  Terms_ t;
  t.size = 1024 * kMiB;
  t.rate = 100 * kMiB;
  t.piece = kMiB;
  Outcome o = simulate(t);
  ASSERT_TRUE(o.completed) << describe(t, o);
  EXPECT_LE(o.settlements, 12) << describe(t, o);
  EXPECT_GE(o.settlements, 3) << describe(t, o);
}

// A payer whose every payment is double-spent after its provisional credit: the seeder bans it
// and loses no more than the bound of the spec.
TEST(PayLiveness, DoubleSpendLosesNoMoreThanTheBound) {
  for (std::int64_t rate : {4 * kMiB, 16 * kMiB, 100 * kMiB}) {
    Terms_ t;
    t.rate = rate;
    t.size = 512 * kMiB;
    t.payments_fail = true;
    Outcome o = simulate(t);
    EXPECT_TRUE(o.banned) << describe(t, o);
    EXPECT_LE(o.lost_bytes, o.bound_bytes) << describe(t, o);
    // With no record: (1 + 0.5) * min(M, c + 2V) + V, V at most 2 * rate * latency.
    std::int64_t c = 4 * kMiB, v = o.max_prov_limit;
    std::int64_t formula =
        std::int64_t(1.5 * double(std::min<std::int64_t>(1024 * kMiB, c + 2 * v))) + v;
    EXPECT_LE(o.lost_bytes, formula) << describe(t, o);
    // V follows twice the measured rate times the latency (4 s), measured over 100 ms steps.
    EXPECT_LE(v, std::max<std::int64_t>(c, 2 * rate * 4) * 5 / 4) << describe(t, o);
  }
}
