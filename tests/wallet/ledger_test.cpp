#include "wallet/ledger.hpp"

#include <algorithm>

#include <gtest/gtest.h>

#include "tests/test_files.hpp"
#include "wallet/sqlite.hpp"

namespace {

using wallet::Ledger;
using wallet::LedgerError;
using wallet::PaymentState;

tron::Address addr(std::uint8_t b) {
  tron::Address::Raw raw{};
  raw[0] = 0x41;
  raw[20] = b;
  return tron::Address(raw);
}

wallet::PaymentRequest request(const std::string& debt, std::uint64_t amount = 1000) {
  wallet::PaymentRequest r;
  r.debt_key = debt;
  r.token = tron::Token::parse("trc10:1002000");
  r.from = addr(1);
  r.to = addr(2);
  r.amount = amount;
  r.info_hash = std::string(40, 'a');
  r.peer = "2d4254303030312d";
  return r;
}

const tron::Bytes kSigned = {1, 2, 3, 4};
std::string txid(char c) {
  return std::string(64, c);
}

class LedgerTest : public ::testing::Test {
 protected:
  std::string path() const { return (dir_ / "ledger.db").string(); }
  test_support::TempDir dir_;
};

TEST_F(LedgerTest, PlanIsOncePerDebt) {
  Ledger l(path());
  auto a = l.plan(request("btt_pay:x:1"));
  EXPECT_TRUE(a.created);
  EXPECT_EQ(a.payment.state, PaymentState::Planned);
  EXPECT_EQ(a.payment.attempt, 1);
  EXPECT_EQ(a.payment.info_hash, std::string(40, 'a'));
  auto b = l.plan(request("btt_pay:x:1"));
  EXPECT_FALSE(b.created);
  EXPECT_EQ(b.payment.id, a.payment.id);
  // The same debt with other terms is a caller bug, refused loudly.
  EXPECT_THROW(l.plan(request("btt_pay:x:1", 999)), LedgerError);
  EXPECT_EQ(l.list().size(), 1u);
}

TEST_F(LedgerTest, StatesMoveOnlyForward) {
  Ledger l(path());
  auto id = l.plan(request("d")).payment.id;
  EXPECT_THROW(l.mark_broadcast(id), LedgerError);     // not signed yet
  EXPECT_THROW(l.mark_confirmed(id, 5), LedgerError);  // not signed yet
  l.mark_signed(id, txid('a'), kSigned, 1234);
  EXPECT_THROW(l.mark_signed(id, txid('b'), kSigned, 1234), LedgerError);  // signed once only
  l.mark_broadcast(id);
  l.mark_broadcast(id);  // a re-broadcast is counted, state unchanged
  auto p = *l.get(id);
  EXPECT_EQ(p.state, PaymentState::Broadcast);
  EXPECT_EQ(p.broadcasts, 2);
  EXPECT_EQ(p.signed_tx, kSigned);
  EXPECT_EQ(p.txid, txid('a'));
  EXPECT_EQ(p.expiration, 1234);
  l.mark_confirmed(id, 77);
  EXPECT_THROW(l.mark_failed(id, "expired", "x"), LedgerError);  // final stays final
  EXPECT_THROW(l.mark_broadcast(id), LedgerError);
  p = *l.get(id);
  EXPECT_EQ(p.state, PaymentState::Confirmed);
  EXPECT_EQ(p.block_number, 77);
  EXPECT_TRUE(p.final_at.has_value());
  EXPECT_EQ(l.by_txid(txid('a'))->id, id);
}

TEST_F(LedgerTest, NewAttemptOnlyAfterFailure) {
  Ledger l(path());
  auto first = l.plan(request("d")).payment;
  l.mark_signed(first.id, txid('a'), kSigned, 1);
  EXPECT_FALSE(l.plan(request("d")).created);
  l.mark_failed(first.id, wallet::fail_reason::kExpired, "gone");
  auto second = l.plan(request("d"));
  EXPECT_TRUE(second.created);
  EXPECT_EQ(second.payment.attempt, 2);
  l.mark_signed(second.payment.id, txid('b'), kSigned, 2);
  l.mark_confirmed(second.payment.id, 9);
  // Confirmed: the debt is settled for good.
  auto third = l.plan(request("d"));
  EXPECT_FALSE(third.created);
  EXPECT_EQ(third.payment.id, second.payment.id);
  auto all = l.attempts("d");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].fail_reason, wallet::fail_reason::kExpired);
  EXPECT_EQ(all[1].state, PaymentState::Confirmed);
}

TEST_F(LedgerTest, SchemaRefusesTwoLiveAttemptsEvenBehindTheApi) {
  {
    Ledger l(path());
    l.plan(request("d"));
  }
  wallet::Db db(path());
  EXPECT_THROW(db.exec("INSERT INTO payments(debt_key, attempt, state, token, from_addr, "
                       "to_addr, amount, fee_limit, created_at, updated_at) VALUES('d', 2, "
                       "'planned', 'trx', 'a', 'b', '1', 0, 0, 0)"),
               wallet::DbError);
  // And no state beyond planned without the signed bytes.
  EXPECT_THROW(db.exec("UPDATE payments SET state = 'broadcast'"), wallet::DbError);
}

TEST_F(LedgerTest, DuplicateTxidRefused) {
  Ledger l(path());
  auto a = l.plan(request("d1")).payment.id;
  auto b = l.plan(request("d2")).payment.id;
  l.mark_signed(a, txid('a'), kSigned, 1);
  EXPECT_ANY_THROW(l.mark_signed(b, txid('a'), kSigned, 1));
  EXPECT_EQ(l.get(b)->state, PaymentState::Planned);
}

TEST_F(LedgerTest, SurvivesReopen) {
  std::int64_t id;
  {
    Ledger l(path());
    id = l.plan(request("d")).payment.id;
    l.mark_signed(id, txid('c'), kSigned, 99);
  }
  Ledger l(path());
  auto pending = l.pending();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].id, id);
  EXPECT_EQ(pending[0].state, PaymentState::Signed);
  EXPECT_EQ(pending[0].signed_tx, kSigned);
  EXPECT_EQ(pending[0].token.to_string(), "trc10:1002000");
  EXPECT_EQ(pending[0].to, addr(2));
}

TEST_F(LedgerTest, CreditOnceRefusesReplay) {
  Ledger l(path());
  wallet::Credit c;
  c.txid = txid('e');
  c.token = tron::Token::parse("trx");
  c.from = addr(3);
  c.to = addr(1);
  c.amount = 500;
  c.block_number = 12;
  EXPECT_TRUE(l.credit_once(c));
  EXPECT_FALSE(l.credit_once(c));
  c.amount = 999999;  // a replay with other figures is still a replay
  EXPECT_FALSE(l.credit_once(c));
  c.txid = txid('f');
  c.amount = 250;
  EXPECT_TRUE(l.credit_once(c));
  EXPECT_EQ(l.credits().size(), 2u);
  EXPECT_EQ(l.credit(txid('e'))->amount, 500);
  EXPECT_EQ(l.total_earned(tron::Token::parse("trx")), 750);
  EXPECT_EQ(l.total_earned(tron::Token::parse("trc10:1002000")), 0);
}

TEST_F(LedgerTest, ZeroAmountRefused) {
  Ledger l(path());
  EXPECT_THROW(l.plan(request("z", 0)), LedgerError);
}

TEST_F(LedgerTest, Totals) {
  Ledger l(path());
  auto r = request("a");
  r.token = tron::Token::parse("trc20:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
  r.amount = tron::U256(1) << 100;
  auto a = l.plan(r).payment.id;
  l.mark_signed(a, txid('1'), kSigned, 1);
  l.mark_confirmed(a, 3);
  auto b = l.plan(request("b", 40)).payment.id;
  l.mark_signed(b, txid('2'), kSigned, 1);
  l.mark_confirmed(b, 4);
  auto c = l.plan(request("c", 2)).payment.id;
  l.mark_failed(c, wallet::fail_reason::kRefused, "cap");
  l.plan(request("d", 5));
  EXPECT_EQ(l.total_spent(r.token), tron::U256(1) << 100);
  EXPECT_EQ(l.total_spent(tron::Token::parse("trc10:1002000")), 40);
  EXPECT_EQ(l.committed_since(tron::Token::parse("trc10:1002000"), 0), 45);
  EXPECT_EQ(l.list(PaymentState::Confirmed).size(), 2u);
  EXPECT_EQ(l.list(PaymentState::Failed).size(), 1u);
  EXPECT_EQ(l.list(PaymentState::Planned).size(), 1u);
  EXPECT_EQ(l.pending().size(), 1u);
  EXPECT_EQ(l.list().size(), 4u);
}

// The schema (version 1) of ledgers made before fees were recorded, verbatim.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS payments(
  id INTEGER PRIMARY KEY,
  debt_key TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  state TEXT NOT NULL CHECK(state IN ('planned','signed','broadcast','confirmed','failed')),
  token TEXT NOT NULL,
  from_addr TEXT NOT NULL,
  to_addr TEXT NOT NULL,
  amount TEXT NOT NULL,
  fee_limit INTEGER NOT NULL,
  info_hash TEXT,
  peer TEXT,
  txid TEXT UNIQUE,
  signed_tx BLOB,
  expiration INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  broadcast_at INTEGER,
  final_at INTEGER,
  block_number INTEGER,
  error TEXT,
  fail_reason TEXT,
  broadcasts INTEGER NOT NULL DEFAULT 0,
  UNIQUE(debt_key, attempt),
  -- Nothing leaves 'planned' without its signed bytes on disk.
  CHECK(state IN ('planned','failed') OR (txid IS NOT NULL AND signed_tx IS NOT NULL
                                          AND expiration IS NOT NULL))
);
-- At most one attempt per debt that is not failed: no two live attempts, and none after a
-- confirmed one.
CREATE UNIQUE INDEX IF NOT EXISTS payments_one_per_debt ON payments(debt_key)
  WHERE state <> 'failed';
CREATE INDEX IF NOT EXISTS payments_by_state ON payments(state);
CREATE TABLE IF NOT EXISTS credits(
  txid TEXT PRIMARY KEY,
  token TEXT NOT NULL,
  from_addr TEXT NOT NULL,
  to_addr TEXT NOT NULL,
  amount TEXT NOT NULL,
  block_number INTEGER,
  info_hash TEXT,
  peer TEXT,
  credited_at INTEGER NOT NULL
);
PRAGMA user_version = 1;
)sql";

TEST_F(LedgerTest, LedgerOfSchemaOneOpensAndKeepsItsRows) {
  {
    wallet::Db db(path());
    db.exec(kSchemaV1);
    db.exec(
        "INSERT INTO payments(debt_key, attempt, state, token, from_addr, to_addr, amount, "
        "fee_limit, txid, signed_tx, expiration, created_at, updated_at, block_number, "
        "broadcasts) VALUES('wallet-send:old', 1, 'confirmed', 'trx', "
        "'T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb', 'T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb', '1234', "
        "50000000, '" +
        txid('7') +
        "', x'0102', 99, 1, 2, 17, 1);"
        "INSERT INTO payments(debt_key, attempt, state, token, from_addr, to_addr, amount, "
        "fee_limit, txid, signed_tx, expiration, created_at, updated_at) "
        "VALUES('wallet-send:live', 1, 'signed', 'trx', 'T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb', "
        "'T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb', '5', 50000000, '" +
        txid('8') +
        "', x'0102', 99, 3, 3);"
        "INSERT INTO credits VALUES('" +
        txid('9') +
        "', 'trc10:1002000', "
        "'T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb', 'T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb', '77', 5, "
        "NULL, NULL, 4);");
  }
  {
    Ledger l(path());
    auto all = l.list();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].debt_key, "wallet-send:old");
    EXPECT_EQ(all[0].amount, 1234);
    EXPECT_EQ(all[0].block_number, 17);
    EXPECT_FALSE(all[0].fee) << "no fee was known then";
    EXPECT_EQ(l.credits().size(), 1u);
    EXPECT_EQ(l.total_spent(tron::Token::parse("trx")), 1234);
    // The payment still in flight confirms under the new schema, with its fee.
    l.mark_confirmed(all[1].id, 20, 268000);
    EXPECT_EQ(l.get(all[1].id)->fee, 268000);
    EXPECT_EQ(l.total_fees(tron::Token::parse("trx")), 268000);
  }
  wallet::Db db(path());
  wallet::Statement v(db, "PRAGMA user_version");
  ASSERT_TRUE(v.step());
  EXPECT_EQ(v.int64(0), wallet::kLedgerSchemaVersion);
  // Opening again is a no-op.
  Ledger again(path());
  EXPECT_EQ(again.list().size(), 2u);
}

TEST_F(LedgerTest, LedgerOfANewerSchemaIsRefused) {
  { Ledger l(path()); }
  {
    wallet::Db db(path());
    db.exec("PRAGMA user_version = 99");
  }
  try {
    Ledger l(path());
    FAIL();
  } catch (const LedgerError& e) {
    EXPECT_NE(std::string(e.what()).find("schema version 99"), std::string::npos) << e.what();
  }
}

TEST_F(LedgerTest, FeesOfLandedPayments) {
  Ledger l(path());
  auto a = l.plan(request("a", 10)).payment.id;
  EXPECT_FALSE(l.get(a)->fee);
  l.mark_signed(a, txid('1'), kSigned, 1);
  l.mark_confirmed(a, 3, 1'100'000);
  auto b = l.plan(request("b", 20)).payment.id;
  l.mark_signed(b, txid('2'), kSigned, 1);
  // A transaction that failed in its block still burned its fee.
  l.mark_failed(b, wallet::fail_reason::kReverted, "REVERT", 4, 500);
  auto c = l.plan(request("c", 30)).payment.id;
  l.mark_signed(c, txid('3'), kSigned, 1);
  l.mark_confirmed(c, 5, 0);
  auto d = l.plan(request("d", 40)).payment.id;
  l.mark_signed(d, txid('4'), kSigned, 1);
  l.mark_confirmed(d, 6);
  EXPECT_EQ(l.get(a)->fee, 1'100'000);
  EXPECT_EQ(l.get(b)->fee, 500);
  EXPECT_EQ(l.get(c)->fee, 0);
  EXPECT_FALSE(l.get(d)->fee);
  EXPECT_EQ(l.total_fees(tron::Token::parse("trc10:1002000")), 1'100'500);
  EXPECT_EQ(l.total_fees(tron::Token::parse("trx")), 0);
}

}  // namespace

namespace {

// The query plan SQLite picks for `sql`: every line of EXPLAIN QUERY PLAN.
std::string plan_of(wallet::Db& db, const std::string& sql) {
  wallet::Statement s(db, "EXPLAIN QUERY PLAN " + sql);
  std::string out;
  while (s.step()) out += s.text(3) + "\n";
  return out;
}

std::vector<std::string> index_names(wallet::Db& db) {
  wallet::Statement s(db, "SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name");
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text(0));
  return out;
}

}  // namespace

TEST_F(LedgerTest, LedgerOfSchemaTwoGetsItsIndexesInPlace) {
  {
    // A ledger as schema 2 left it: version 1 plus the fee column, no lookup indexes.
    wallet::Db db(path());
    db.exec(kSchemaV1);
    db.exec("ALTER TABLE payments ADD COLUMN fee INTEGER; PRAGMA user_version = 2;");
    db.exec(
        "INSERT INTO payments(debt_key, attempt, state, token, from_addr, to_addr, amount, "
        "fee_limit, info_hash, peer, txid, signed_tx, expiration, created_at, updated_at, "
        "block_number, broadcasts, fee) VALUES('btt_pay:x', 1, 'confirmed', 'trc10:1002000', "
        "'T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb', 'T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb', '42', "
        "50000000, 'ab', 'cd', '" +
        txid('5') + "', x'0102', 99, 10, 11, 17, 1, 300);");
    auto before = index_names(db);
    EXPECT_EQ(std::count(before.begin(), before.end(), "payments_by_torrent"), 0);
  }
  {
    Ledger l(path());
    auto all = l.list();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].fee, 300);
    wallet::PaymentFilter f;
    f.info_hash = "ab";
    f.peer = "cd";
    EXPECT_EQ(l.payments(f).size(), 1u);
    f.peer = "other";
    EXPECT_TRUE(l.payments(f).empty());
  }
  wallet::Db db(path());
  wallet::Statement v(db, "PRAGMA user_version");
  ASSERT_TRUE(v.step());
  EXPECT_EQ(v.int64(0), 3);
  auto names = index_names(db);
  for (const char* want :
       {"payments_by_torrent", "payments_by_payee", "payments_by_token", "payments_by_time",
        "credits_by_payee", "credits_by_token", "credits_by_torrent", "credits_by_time"}) {
    EXPECT_EQ(std::count(names.begin(), names.end(), want), 1) << want;
  }
}

// The lookups callers make use an index: none scans a whole table.
TEST_F(LedgerTest, LookupsUseIndexes) {
  { Ledger l(path()); }
  wallet::Db db(path());
  for (const char* sql : {
           "SELECT * FROM payments WHERE to_addr = 'T' AND info_hash = 'h' AND state IN "
           "('broadcast','confirmed') ORDER BY id DESC",
           "SELECT * FROM payments WHERE info_hash = 'h' AND peer = 'p' ORDER BY id",
           "SELECT * FROM payments WHERE token = 'trx' ORDER BY id",
           "SELECT * FROM payments WHERE created_at >= 1 AND created_at < 2 ORDER BY id",
           "SELECT amount FROM payments WHERE state = 'confirmed' AND token = 'trx'",
           "SELECT amount FROM payments WHERE state <> 'failed' AND token = 'trx' AND "
           "created_at >= 5",
           "SELECT fee FROM payments WHERE fee > 0 AND token = 'trx'",
           "SELECT * FROM payments WHERE debt_key = 'd' ORDER BY attempt",
           "SELECT * FROM payments WHERE txid = 'x'",
           "SELECT * FROM credits WHERE token = 'trx' AND to_addr = 'T' ORDER BY credited_at, txid",
           "SELECT * FROM credits WHERE info_hash = 'h' AND peer = 'p'",
           "SELECT * FROM credits WHERE credited_at >= 1 AND credited_at < 2",
           "SELECT amount FROM credits WHERE token = 'trx'",
       }) {
    std::string plan = plan_of(db, sql);
    EXPECT_EQ(plan.find("SCAN payments\n"), std::string::npos) << sql << "\n" << plan;
    EXPECT_EQ(plan.find("SCAN credits\n"), std::string::npos) << sql << "\n" << plan;
    EXPECT_NE(plan.find("USING"), std::string::npos) << sql << "\n" << plan;
  }
}

TEST_F(LedgerTest, FiltersNarrowPaymentsAndCredits) {
  Ledger l(path());
  auto a = l.plan(request("a", 10)).payment;
  auto b_req = request("b", 20);
  b_req.info_hash = std::string(40, 'b');
  auto b = l.plan(b_req).payment;
  auto c_req = request("c", 30);
  c_req.to = addr(9);
  auto c = l.plan(c_req).payment;
  l.mark_signed(b.id, txid('b'), {1}, 99);
  l.mark_broadcast(b.id);

  wallet::PaymentFilter torrent;
  torrent.info_hash = std::string(40, 'a');
  auto in_a = l.payments(torrent);
  ASSERT_EQ(in_a.size(), 2u);
  EXPECT_EQ(in_a[0].id, a.id);
  EXPECT_EQ(in_a[1].id, c.id);
  torrent.to = addr(2);
  ASSERT_EQ(l.payments(torrent).size(), 1u);

  wallet::PaymentFilter live;
  live.states = {PaymentState::Broadcast};
  ASSERT_EQ(l.payments(live).size(), 1u);
  EXPECT_EQ(l.payments(live)[0].id, b.id);

  wallet::PaymentFilter newest;
  newest.newest_first = true;
  newest.limit = 2;
  auto two = l.payments(newest);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].id, c.id);
  EXPECT_EQ(two[1].id, b.id);

  wallet::PaymentFilter other_token;
  other_token.token = tron::Token::parse("trx");
  EXPECT_TRUE(l.payments(other_token).empty());
  wallet::PaymentFilter later;
  later.since_ms = c.created_at + 1;
  EXPECT_TRUE(l.payments(later).empty());

  for (int i = 0; i < 3; ++i) {
    wallet::Credit cr;
    cr.txid = txid(static_cast<char>('1' + i));
    cr.token = tron::Token::parse(i == 2 ? "trx" : "trc10:1002000");
    cr.from = addr(5);
    cr.to = addr(static_cast<std::uint8_t>(i == 1 ? 7 : 6));
    cr.amount = 100 + i;
    cr.info_hash = std::string(40, 'a');
    cr.peer = i == 0 ? "p0" : "p1";
    cr.credited_at = 1000 + i * 86'400'000;  // one a day
    ASSERT_TRUE(l.credit_once(cr));
  }
  wallet::CreditFilter mine;
  mine.token = tron::Token::parse("trc10:1002000");
  mine.to = addr(6);
  auto got = l.credits(mine);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].amount, 100);
  wallet::CreditFilter peer;
  peer.info_hash = std::string(40, 'a');
  peer.peer = "p1";
  EXPECT_EQ(l.credits(peer).size(), 2u);
  wallet::CreditFilter day;
  day.since_ms = 1000 + 86'400'000;
  day.until_ms = 1000 + 2 * 86'400'000;
  auto one_day = l.credits(day);
  ASSERT_EQ(one_day.size(), 1u);
  EXPECT_EQ(one_day[0].amount, 101);
  EXPECT_EQ(l.credits().size(), 3u);
}
