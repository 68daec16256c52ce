#include "wallet/earnings.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

#include "tests/test_files.hpp"
#include "tron/abi.hpp"
#include "wallet/ledger.hpp"

namespace {

using tron::U256;
using wallet::Ledger;
using wallet::PaymentState;

tron::Address addr(std::uint8_t b) {
  tron::Address::Raw raw{};
  raw[0] = 0x41;
  raw[20] = b;
  return tron::Address(raw);
}

// Functions rather than globals: nothing runs at static initialization.
tron::Token trx() {
  return tron::Token::parse("trx");
}
tron::Token btt10() {
  return tron::Token::parse("trc10:1002000");
}
tron::Token btt20() {
  return tron::Token::parse("trc20:" + addr(0x99).to_base58());
}

const std::string kTorrentA = std::string(40, 'a');
const std::string kTorrentB = std::string(40, 'b');
const std::string kPeer1 = "2d4254303030312d";
const std::string kPeer2 = "2d4254303030322d";

// 2^70 + 5: does not fit in 64 bits.
const U256 kBig = (U256(1) << 70) + 5;

std::string txid(int n) {
  std::string hex = tron::abi::to_decimal(U256(n));
  return std::string(64 - hex.size(), '0') + hex;
}

class EarningsTest : public ::testing::Test {
 protected:
  EarningsTest() : ledger_((dir_ / "ledger.db").string()) {}

  // A payment of the incentive layer (or a plain send when info_hash is empty), moved to
  // `state`; returns its id.
  std::int64_t pay(const tron::Token& token, U256 amount, const std::string& info_hash,
                   const std::string& peer, PaymentState state, const std::string& reason = "") {
    wallet::PaymentRequest r;
    r.debt_key = "debt:" + std::to_string(++debts_);
    r.token = token;
    r.from = addr(1);
    r.to = addr(2);
    r.amount = amount;
    if (!info_hash.empty()) r.info_hash = info_hash;
    if (!peer.empty()) r.peer = peer;
    auto id = ledger_.plan(r).payment.id;
    if (state == PaymentState::Planned) return id;
    if (state == PaymentState::Failed && reason == wallet::fail_reason::kRefused) {
      ledger_.mark_failed(id, reason, "over budget");
      return id;
    }
    ledger_.mark_signed(id, txid(1000 + static_cast<int>(id)), {1, 2, 3}, 5000);
    if (state == PaymentState::Signed) return id;
    ledger_.mark_broadcast(id);
    if (state == PaymentState::Broadcast) return id;
    if (state == PaymentState::Confirmed) {
      ledger_.mark_confirmed(id, 40 + id);
    } else {
      ledger_.mark_failed(id, reason, "not on chain");
    }
    return id;
  }

  void credit(int n, const tron::Token& token, U256 amount, const std::string& info_hash,
              const std::string& peer) {
    wallet::Credit c;
    c.txid = txid(n);
    c.token = token;
    c.from = addr(3);
    c.to = addr(1);
    c.amount = amount;
    c.block_number = 100 + n;
    if (!info_hash.empty()) c.info_hash = info_hash;
    if (!peer.empty()) c.peer = peer;
    c.credited_at = 1'700'000'000'000 + n;
    ASSERT_TRUE(ledger_.credit_once(c));
  }

  wallet::Earnings summary(std::optional<tron::Token> only = std::nullopt) {
    return wallet::summarize_earnings(ledger_.list(), ledger_.credits(), only);
  }

  // The usual mix: two torrents with two peers, three tokens, every payment state.
  void fill() {
    credit(1, btt10(), 1000, kTorrentA, kPeer1);
    credit(2, btt10(), 500, kTorrentA, kPeer1);
    credit(3, btt10(), 250, kTorrentA, kPeer2);
    credit(4, btt20(), kBig, kTorrentB, kPeer1);
    credit(5, btt20(), kBig, kTorrentB, kPeer1);
    credit(6, trx(), 7, "", "");  // not tied to a torrent
    pay(btt10(), 300, kTorrentA, kPeer2, PaymentState::Confirmed);
    pay(btt10(), 20, kTorrentA, kPeer2, PaymentState::Planned);
    pay(btt10(), 30, kTorrentA, kPeer2, PaymentState::Signed);
    pay(btt10(), 40, kTorrentA, kPeer2, PaymentState::Broadcast);
    pay(btt10(), 50, kTorrentA, kPeer2, PaymentState::Failed, wallet::fail_reason::kExpired);
    pay(btt10(), 60, kTorrentA, kPeer2, PaymentState::Failed, wallet::fail_reason::kRefused);
    pay(btt20(), kBig, kTorrentB, kPeer2, PaymentState::Confirmed);
    pay(btt20(), kBig, kTorrentB, kPeer2, PaymentState::Broadcast);
    pay(trx(), 1'000'000, "", "", PaymentState::Confirmed);  // a plain wallet send
  }

  test_support::TempDir dir_;
  Ledger ledger_;
  int debts_ = 0;
};

const wallet::TorrentEarnings& torrent(const wallet::Earnings& e,
                                       const std::optional<std::string>& info_hash) {
  for (const auto& t : e.torrents) {
    if (t.info_hash == info_hash) return t;
  }
  throw std::runtime_error("no such torrent in the summary");
}

const wallet::PeerEarnings& peer(const wallet::TorrentEarnings& t,
                                 const std::optional<std::string>& id) {
  for (const auto& p : t.peers) {
    if (p.peer == id) return p;
  }
  throw std::runtime_error("no such peer in the summary");
}

TEST_F(EarningsTest, EmptyLedgerHasNothing) {
  auto e = summary();
  EXPECT_TRUE(e.totals.empty());
  EXPECT_TRUE(e.torrents.empty());
  auto j = wallet::to_json(e);
  EXPECT_TRUE(j["totals"].is_object());
  EXPECT_TRUE(j["totals"].empty());
  EXPECT_TRUE(j["torrents"].is_array());
  EXPECT_TRUE(j["torrents"].empty());
  EXPECT_NE(wallet::to_text(e).find("no payments or credits"), std::string::npos);
}

TEST_F(EarningsTest, TotalsPerToken) {
  fill();
  auto e = summary();
  ASSERT_EQ(e.totals.size(), 3u);

  const auto& b10 = e.totals.at("trc10:1002000");
  EXPECT_EQ(b10.earned, 1750);
  EXPECT_EQ(b10.credits, 3u);
  EXPECT_EQ(b10.spent, 300);
  EXPECT_EQ(b10.confirmed, 1u);
  EXPECT_EQ(b10.pending, 90);  // planned 20 + signed 30 + broadcast 40
  EXPECT_EQ(b10.failed, 2u);   // expired and refused, neither counted as spent
  ASSERT_EQ(b10.pending_by_state.size(), 3u);
  EXPECT_EQ(b10.pending_by_state.at(PaymentState::Planned).amount, 20);
  EXPECT_EQ(b10.pending_by_state.at(PaymentState::Signed).amount, 30);
  EXPECT_EQ(b10.pending_by_state.at(PaymentState::Broadcast).amount, 40);
  EXPECT_EQ(b10.pending_by_state.at(PaymentState::Broadcast).count, 1u);

  const auto& b20 = e.totals.at(btt20().to_string());
  EXPECT_EQ(b20.earned, 2 * kBig);
  EXPECT_GT(b20.earned, U256(std::numeric_limits<std::uint64_t>::max()));
  EXPECT_EQ(b20.spent, kBig);
  EXPECT_EQ(b20.pending, kBig);
  EXPECT_EQ(b20.failed, 0u);

  const auto& trx = e.totals.at("trx");
  EXPECT_EQ(trx.earned, 7);
  EXPECT_EQ(trx.spent, 1'000'000);
  EXPECT_EQ(trx.pending, 0);
  EXPECT_TRUE(trx.pending_by_state.empty());
}

TEST_F(EarningsTest, PerTorrentAndPeer) {
  fill();
  auto e = summary();
  ASSERT_EQ(e.torrents.size(), 3u);
  // By info hash, the entries without a torrent last.
  EXPECT_EQ(e.torrents[0].info_hash, kTorrentA);
  EXPECT_EQ(e.torrents[1].info_hash, kTorrentB);
  EXPECT_EQ(e.torrents[2].info_hash, std::nullopt);

  const auto& a = torrent(e, kTorrentA);
  EXPECT_EQ(a.sums.size(), 1u);
  EXPECT_EQ(a.sums.at("trc10:1002000").earned, 1750);
  ASSERT_EQ(a.peers.size(), 2u);
  const auto& a1 = peer(a, kPeer1);
  EXPECT_EQ(a1.sums.at("trc10:1002000").earned, 1500);
  EXPECT_EQ(a1.sums.at("trc10:1002000").spent, 0);
  ASSERT_EQ(a1.credits.size(), 2u);
  EXPECT_EQ(a1.credits[0].txid, txid(1));
  EXPECT_EQ(a1.credits[1].txid, txid(2));
  EXPECT_TRUE(a1.payments.empty());
  const auto& a2 = peer(a, kPeer2);
  EXPECT_EQ(a2.sums.at("trc10:1002000").earned, 250);
  EXPECT_EQ(a2.sums.at("trc10:1002000").spent, 300);
  EXPECT_EQ(a2.sums.at("trc10:1002000").pending, 90);
  EXPECT_EQ(a2.sums.at("trc10:1002000").failed, 2u);
  ASSERT_EQ(a2.payments.size(), 6u);  // every attempt is listed, failed ones too
  EXPECT_EQ(a2.payments[0].state, PaymentState::Confirmed);
  EXPECT_EQ(a2.payments[5].state, PaymentState::Failed);
  EXPECT_FALSE(a2.payments[5].txid.has_value());  // refused before signing

  const auto& b = torrent(e, kTorrentB);
  EXPECT_EQ(peer(b, kPeer1).sums.at(btt20().to_string()).earned, 2 * kBig);
  EXPECT_EQ(peer(b, kPeer2).sums.at(btt20().to_string()).spent, kBig);
  EXPECT_EQ(peer(b, kPeer2).sums.at(btt20().to_string()).pending, kBig);

  const auto& other = torrent(e, std::nullopt);
  ASSERT_EQ(other.peers.size(), 1u);
  EXPECT_EQ(other.peers[0].peer, std::nullopt);
  EXPECT_EQ(other.sums.at("trx").earned, 7);
  EXPECT_EQ(other.sums.at("trx").spent, 1'000'000);
  EXPECT_EQ(other.peers[0].credits.size(), 1u);
  EXPECT_EQ(other.peers[0].payments.size(), 1u);
}

TEST_F(EarningsTest, RetriedDebtCountsOnlyTheConfirmedAttempt) {
  wallet::PaymentRequest r;
  r.debt_key = "btt_pay:" + kTorrentA + ":" + kPeer1 + ":1";
  r.token = btt10();
  r.from = addr(1);
  r.to = addr(2);
  r.amount = 123;
  r.info_hash = kTorrentA;
  r.peer = kPeer1;
  auto first = ledger_.plan(r).payment.id;
  ledger_.mark_signed(first, txid(1), {1}, 10);
  ledger_.mark_failed(first, wallet::fail_reason::kExpired, "expired");
  auto second = ledger_.plan(r).payment.id;
  ledger_.mark_signed(second, txid(2), {2}, 20);
  ledger_.mark_confirmed(second, 9);

  auto e = summary();
  const auto& s = e.totals.at("trc10:1002000");
  EXPECT_EQ(s.spent, 123);
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(s.pending, 0);
  const auto& p = peer(torrent(e, kTorrentA), kPeer1);
  ASSERT_EQ(p.payments.size(), 2u);
  EXPECT_EQ(p.payments[0].attempt, 1);
  EXPECT_EQ(p.payments[1].attempt, 2);
  EXPECT_EQ(p.payments[1].txid, txid(2));
}

TEST_F(EarningsTest, TokenFilterKeepsOnlyThatToken) {
  fill();
  auto e = summary(btt20());
  ASSERT_EQ(e.totals.size(), 1u);
  EXPECT_EQ(e.totals.count(btt20().to_string()), 1u);
  ASSERT_EQ(e.torrents.size(), 1u);
  EXPECT_EQ(e.torrents[0].info_hash, kTorrentB);
  // A TRC-20 token given as hex is the same token.
  auto hex = summary(tron::Token::parse("trc20:" + addr(0x99).to_hex()));
  EXPECT_EQ(hex.totals.at(btt20().to_string()).earned, 2 * kBig);
}

TEST_F(EarningsTest, UpperCaseHexGroupsWithLowerCase) {
  credit(1, btt10(), 10, kTorrentA, kPeer1);
  std::string upper_torrent(40, 'A');
  credit(2, btt10(), 20, upper_torrent, "2D4254303030312D");
  auto e = summary();
  ASSERT_EQ(e.torrents.size(), 1u);
  ASSERT_EQ(e.torrents[0].peers.size(), 1u);
  EXPECT_EQ(e.torrents[0].peers[0].sums.at("trc10:1002000").earned, 30);
}

TEST_F(EarningsTest, JsonShapeAndDecimalStrings) {
  fill();
  auto j = wallet::to_json(summary());
  // Survives a round trip through text.
  j = nlohmann::json::parse(j.dump());

  const std::string big2 = tron::abi::to_decimal(2 * kBig);
  EXPECT_EQ(big2, "2361183241434822606858");  // 2 * (2^70 + 5)
  const auto& t20 = j["totals"][btt20().to_string()];
  EXPECT_EQ(t20["earned"], big2);
  EXPECT_EQ(t20["spent"], tron::abi::to_decimal(kBig));
  EXPECT_EQ(t20["pending"], tron::abi::to_decimal(kBig));
  EXPECT_EQ(t20["pending_by_state"]["broadcast"]["count"], 1);

  const auto& t10 = j["totals"]["trc10:1002000"];
  EXPECT_EQ(t10["earned"], "1750");
  EXPECT_EQ(t10["spent"], "300");
  EXPECT_EQ(t10["pending"], "90");
  EXPECT_EQ(t10["failed"], 2);
  EXPECT_EQ(t10["pending_by_state"]["planned"]["amount"], "20");
  EXPECT_EQ(t10["pending_by_state"]["signed"]["amount"], "30");
  EXPECT_FALSE(t10["pending_by_state"].contains("failed"));

  ASSERT_EQ(j["torrents"].size(), 3u);
  const auto& a = j["torrents"][0];
  EXPECT_EQ(a["info_hash"], kTorrentA);
  EXPECT_EQ(a["totals"]["trc10:1002000"]["earned"], "1750");
  ASSERT_EQ(a["peers"].size(), 2u);
  const auto& a1 = a["peers"][0];
  EXPECT_EQ(a1["peer"], kPeer1);
  ASSERT_EQ(a1["credits"].size(), 2u);
  const auto& c = a1["credits"][0];
  EXPECT_EQ(c["txid"], txid(1));
  EXPECT_EQ(c["amount"], "1000");
  EXPECT_EQ(c["token"], "trc10:1002000");
  EXPECT_EQ(c["from"], addr(3).to_base58());
  EXPECT_EQ(c["block"], 101);
  EXPECT_EQ(c["time_ms"], 1'700'000'000'001);
  EXPECT_EQ(c["time"], "2023-11-14T22:13:20Z");

  const auto& a2 = a["peers"][1];
  ASSERT_EQ(a2["payments"].size(), 6u);
  const auto& confirmed = a2["payments"][0];
  EXPECT_EQ(confirmed["state"], "confirmed");
  EXPECT_EQ(confirmed["amount"], "300");
  EXPECT_EQ(confirmed["to"], addr(2).to_base58());
  EXPECT_TRUE(confirmed["txid"].is_string());
  EXPECT_TRUE(confirmed["block"].is_number());
  EXPECT_EQ(confirmed["debt_key"], "debt:1");
  const auto& refused = a2["payments"][5];
  EXPECT_EQ(refused["state"], "failed");
  EXPECT_EQ(refused["fail_reason"], "refused");
  EXPECT_TRUE(refused["txid"].is_null());

  const auto& other = j["torrents"][2];
  EXPECT_TRUE(other["info_hash"].is_null());
  EXPECT_TRUE(other["peers"][0]["peer"].is_null());
  EXPECT_EQ(other["totals"]["trx"]["spent"], "1000000");
}

TEST_F(EarningsTest, TextIsAligned) {
  fill();
  const std::string text = wallet::to_text(summary());
  EXPECT_NE(text.find("torrent " + kTorrentA + "\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nother\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  peer " + kPeer2 + "\n"), std::string::npos) << text;
  EXPECT_NE(text.find("1 planned (20), 1 signed (30), 1 broadcast (40)"), std::string::npos)
      << text;
  EXPECT_NE(text.find(tron::abi::to_decimal(2 * kBig)), std::string::npos) << text;
  EXPECT_NE(text.find("failed:expired"), std::string::npos) << text;

  // The first table: header and rows end their amount columns at the same place.
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  ASSERT_EQ(line, "totals (token base units; fees in TRX)");
  std::getline(in, line);
  const std::string header = line;
  EXPECT_EQ(header.rfind("  token", 0), 0u) << header;
  const auto earned_end = header.find("earned") + 6;
  for (int i = 0; i < 3; ++i) {
    std::getline(in, line);
    ASSERT_GE(line.size(), earned_end) << line;
    EXPECT_NE(line[earned_end - 1], ' ') << line;
    EXPECT_EQ(line.size(), header.size()) << line << "\n" << header;
  }
}

TEST_F(EarningsTest, FeesBesideSpentPerTokenAndTorrent) {
  auto confirmed = pay(btt20(), 10, kTorrentA, kPeer1, PaymentState::Signed);
  ledger_.mark_confirmed(confirmed, 50, 3'000'000);
  // Reverted in its block: nothing spent, but its fee was burned.
  auto reverted = pay(btt20(), 20, kTorrentA, kPeer1, PaymentState::Signed);
  ledger_.mark_failed(reverted, wallet::fail_reason::kReverted, "REVERT", 51, 700'000);
  auto other = pay(btt10(), 30, kTorrentB, kPeer2, PaymentState::Signed);
  ledger_.mark_confirmed(other, 52, 0);
  // One from before fees were recorded, and one refused before it was signed.
  pay(btt10(), 40, kTorrentB, kPeer2, PaymentState::Confirmed);
  pay(btt10(), 50, kTorrentB, kPeer2, PaymentState::Failed, wallet::fail_reason::kRefused);

  auto e = summary();
  const auto& b20 = e.totals.at(btt20().to_string());
  EXPECT_EQ(b20.spent, 10);
  EXPECT_EQ(b20.fees, 3'700'000);
  EXPECT_EQ(b20.fees_unknown, 0u);
  const auto& b10 = e.totals.at(btt10().to_string());
  EXPECT_EQ(b10.spent, 70);
  EXPECT_EQ(b10.fees, 0);
  EXPECT_EQ(b10.fees_unknown, 1u);
  EXPECT_EQ(torrent(e, kTorrentA).sums.at(btt20().to_string()).fees, 3'700'000);
  EXPECT_EQ(peer(torrent(e, kTorrentB), kPeer2).sums.at(btt10().to_string()).fees_unknown, 1u);

  auto j = wallet::to_json(e);
  EXPECT_EQ(j["totals"][btt20().to_string()]["fees_sun"], "3700000");
  EXPECT_EQ(j["totals"][btt20().to_string()]["fees_trx"], "3.7");
  EXPECT_EQ(j["totals"][btt10().to_string()]["fees_unknown"], 1);

  const std::string text = wallet::to_text(e);
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  std::getline(in, line);
  EXPECT_NE(line.find("fees TRX"), std::string::npos) << text;
  EXPECT_NE(text.find(" 3.7 "), std::string::npos) << text;
  EXPECT_NE(text.find(" 0+? "), std::string::npos) << text;
  EXPECT_NE(text.find(" 700000 "), std::string::npos) << text;  // the reverted one's fee
}

TEST(FormatUtcMs, KnownTimes) {
  EXPECT_EQ(wallet::format_utc_ms(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(wallet::format_utc_ms(1'700'000'000'999), "2023-11-14T22:13:20Z");
}

}  // namespace
