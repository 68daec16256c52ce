#include "wallet/ledger.hpp"

#include <algorithm>
#include <chrono>
#include <functional>

#include "wallet/sqlite.hpp"

namespace wallet {

namespace {

// Schema 1, as the first ledgers were made; later versions are steps on top (see migrate).
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
)sql";

// 2 -> 3: the lookups of the store's filters and sums, each served by an index.
constexpr const char* kIndexesV3 = R"sql(
CREATE INDEX IF NOT EXISTS payments_by_torrent ON payments(info_hash, peer);
CREATE INDEX IF NOT EXISTS payments_by_payee ON payments(to_addr, info_hash);
CREATE INDEX IF NOT EXISTS payments_by_token ON payments(token, state, created_at);
CREATE INDEX IF NOT EXISTS payments_by_time ON payments(created_at);
CREATE INDEX IF NOT EXISTS credits_by_payee ON credits(to_addr, token);
CREATE INDEX IF NOT EXISTS credits_by_token ON credits(token, credited_at);
CREATE INDEX IF NOT EXISTS credits_by_torrent ON credits(info_hash, peer);
CREATE INDEX IF NOT EXISTS credits_by_time ON credits(credited_at);
)sql";

constexpr const char* kPaymentColumns =
    "id, debt_key, attempt, state, token, from_addr, to_addr, amount, fee_limit, info_hash, "
    "peer, txid, signed_tx, expiration, created_at, updated_at, broadcast_at, final_at, "
    "block_number, error, fail_reason, broadcasts, fee";

tron::U256 parse_amount(const std::string& text) {
  if (text.empty() || text.size() > 78 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    throw LedgerError("ledger holds a malformed amount '" + text + "'");
  }
  return tron::U256(text);
}

Payment read_payment(const Statement& s) {
  Payment p;
  p.id = s.int64(0);
  p.debt_key = s.text(1);
  p.attempt = static_cast<int>(s.int64(2));
  p.state = parse_state(s.text(3));
  p.token = tron::Token::parse(s.text(4));
  p.from = tron::Address::from_string(s.text(5));
  p.to = tron::Address::from_string(s.text(6));
  p.amount = parse_amount(s.text(7));
  p.fee_limit = s.int64(8);
  p.info_hash = s.opt_text(9);
  p.peer = s.opt_text(10);
  p.txid = s.opt_text(11);
  p.signed_tx = s.blob(12);
  p.expiration = s.opt_int64(13);
  p.created_at = s.int64(14);
  p.updated_at = s.int64(15);
  p.broadcast_at = s.opt_int64(16);
  p.final_at = s.opt_int64(17);
  p.block_number = s.opt_int64(18);
  p.error = s.opt_text(19);
  p.fail_reason = s.opt_text(20);
  p.broadcasts = static_cast<int>(s.int64(21));
  p.fee = s.opt_int64(22);
  return p;
}

std::vector<Payment> query_payments(Db& db, const std::string& where,
                                    const std::function<void(Statement&)>& bind) {
  Statement s(db, std::string("SELECT ") + kPaymentColumns + " FROM payments " + where);
  if (bind) bind(s);
  std::vector<Payment> out;
  while (s.step()) out.push_back(read_payment(s));
  return out;
}

Credit read_credit(const Statement& s) {
  Credit c;
  c.txid = s.text(0);
  c.token = tron::Token::parse(s.text(1));
  c.from = tron::Address::from_string(s.text(2));
  c.to = tron::Address::from_string(s.text(3));
  c.amount = parse_amount(s.text(4));
  c.block_number = s.opt_int64(5);
  c.info_hash = s.opt_text(6);
  c.peer = s.opt_text(7);
  c.credited_at = s.int64(8);
  return c;
}

std::string state_list(std::initializer_list<PaymentState> states) {
  std::string out;
  for (PaymentState st : states) {
    if (!out.empty()) out += ",";
    out += std::string("'") + to_string(st) + "'";
  }
  return out;
}

// One UPDATE guarded by the allowed source states, in its own SQL transaction.
void transition(Db& db, std::int64_t id, std::initializer_list<PaymentState> from, PaymentState to,
                const std::string& set_sql, const std::function<void(Statement&)>& bind_extra,
                Durability durability = Durability::synced) {
  DbTransaction tx(db, durability);
  Statement s(db, "UPDATE payments SET state = ?1, updated_at = ?2" +
                      (set_sql.empty() ? std::string() : ", " + set_sql) +
                      " WHERE id = ?3 AND state IN (" + state_list(from) + ")");
  s.bind(1, std::string_view(to_string(to))).bind(2, now_ms()).bind(3, id);
  if (bind_extra) bind_extra(s);
  s.run();
  if (db.changes() != 1) {
    Statement q(db, "SELECT state FROM payments WHERE id = ?1");
    q.bind(1, id);
    if (!q.step()) throw LedgerError("no payment with id " + std::to_string(id));
    throw LedgerError("payment " + std::to_string(id) + " is " + q.text(0) + "; it cannot become " +
                      to_string(to));
  }
  tx.commit();
}

bool same_terms(const Payment& p, const PaymentRequest& r) {
  return p.token == r.token && p.from == r.from && p.to == r.to && p.amount == r.amount;
}

}  // namespace

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const char* to_string(PaymentState state) {
  switch (state) {
    case PaymentState::Planned:
      return "planned";
    case PaymentState::Signed:
      return "signed";
    case PaymentState::Broadcast:
      return "broadcast";
    case PaymentState::Confirmed:
      return "confirmed";
    case PaymentState::Failed:
      return "failed";
  }
  return "?";
}

PaymentState parse_state(std::string_view text) {
  for (PaymentState s : {PaymentState::Planned, PaymentState::Signed, PaymentState::Broadcast,
                         PaymentState::Confirmed, PaymentState::Failed}) {
    if (text == to_string(s)) return s;
  }
  throw LedgerError("unknown payment state '" + std::string(text) + "'");
}

namespace {

std::int64_t user_version(Db& db) {
  Statement s(db, "PRAGMA user_version");
  return s.step() ? s.int64(0) : 0;
}

bool has_column(Db& db, const char* table, const char* column) {
  Statement s(db, std::string("SELECT 1 FROM pragma_table_info('") + table + "') WHERE name = ?1");
  s.bind(1, std::string_view(column));
  return s.step();
}

// Brings a ledger of any older schema (or a new, empty file) to kLedgerSchemaVersion, inside
// the caller's transaction: a crash leaves the old schema or the new one, never a mix.
void migrate(Db& db, const std::string& path) {
  const std::int64_t version = user_version(db);
  if (version > kLedgerSchemaVersion) {
    throw LedgerError("ledger " + path + " has schema version " + std::to_string(version) +
                      ", newer than this bttnode knows (" + std::to_string(kLedgerSchemaVersion) +
                      "); use a newer bttnode");
  }
  db.exec(kSchemaV1);  // IF NOT EXISTS: a no-op on an existing ledger
  // 1 -> 2: the TRX each landed payment burned.
  if (!has_column(db, "payments", "fee")) db.exec("ALTER TABLE payments ADD COLUMN fee INTEGER");
  db.exec(kIndexesV3);
  db.exec("PRAGMA user_version = " + std::to_string(kLedgerSchemaVersion));
}

}  // namespace

Ledger::Ledger(const std::string& path) : db_(std::make_unique<Db>(path)) {
  DbTransaction tx(*db_);
  migrate(*db_, path);
  tx.commit();
}

Ledger::~Ledger() = default;

Ledger::Planned Ledger::plan(const PaymentRequest& r) {
  if (r.debt_key.empty()) throw LedgerError("a payment needs a debt key");
  if (r.amount == 0) throw LedgerError("a payment of zero is not a payment");
  // Nothing leaves the machine before mark_signed, whose synced commit carries this one too.
  DbTransaction tx(*db_, Durability::ordered);
  auto existing = query_payments(*db_, "WHERE debt_key = ?1 ORDER BY attempt",
                                 [&](Statement& s) { s.bind(1, std::string_view(r.debt_key)); });
  int next_attempt = 1;
  for (const Payment& p : existing) {
    next_attempt = std::max(next_attempt, p.attempt + 1);
    if (p.state == PaymentState::Failed) continue;
    if (!same_terms(p, r)) {
      throw LedgerError("debt " + r.debt_key + " already has payment " + std::to_string(p.id) +
                        " with different terms");
    }
    return {p, false};
  }
  std::int64_t now = now_ms();
  Statement s(*db_,
              "INSERT INTO payments(debt_key, attempt, state, token, from_addr, to_addr, amount, "
              "fee_limit, info_hash, peer, created_at, updated_at) "
              "VALUES(?1, ?2, 'planned', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)");
  s.bind(1, std::string_view(r.debt_key))
      .bind(2, std::int64_t{next_attempt})
      .bind(3, std::string_view(r.token.to_string()))
      .bind(4, std::string_view(r.from.to_base58()))
      .bind(5, std::string_view(r.to.to_base58()))
      .bind(6, std::string_view(r.amount.str()))
      .bind(7, r.fee_limit)
      .bind(8, r.info_hash)
      .bind(9, r.peer)
      .bind(10, now);
  s.run();
  std::int64_t id = db_->last_insert_rowid();
  tx.commit();
  return {*get(id), true};
}

void Ledger::mark_signed(std::int64_t id, const std::string& txid, const tron::Bytes& signed_tx,
                         std::int64_t expiration) {
  transition(*db_, id, {PaymentState::Planned}, PaymentState::Signed,
             "txid = ?4, signed_tx = ?5, expiration = ?6", [&](Statement& s) {
               s.bind(4, std::string_view(txid)).bind(5, signed_tx).bind(6, expiration);
             });
}

// Lost to a power cut, these two leave the payment signed or broadcast: recovery sends the same
// signed bytes again and reads the outcome from the chain, so they need no sync of their own.
void Ledger::mark_broadcast(std::int64_t id) {
  transition(*db_, id, {PaymentState::Signed, PaymentState::Broadcast}, PaymentState::Broadcast,
             "broadcast_at = COALESCE(broadcast_at, ?2), broadcasts = broadcasts + 1", nullptr,
             Durability::ordered);
}

void Ledger::mark_confirmed(std::int64_t id, std::int64_t block_number,
                            std::optional<std::int64_t> fee) {
  transition(
      *db_, id, {PaymentState::Signed, PaymentState::Broadcast}, PaymentState::Confirmed,
      "final_at = ?2, block_number = ?4, error = NULL, fee = ?5",
      [&](Statement& s) { s.bind(4, block_number).bind(5, fee); }, Durability::ordered);
}

void Ledger::mark_failed(std::int64_t id, const std::string& reason, const std::string& error,
                         std::optional<std::int64_t> block_number,
                         std::optional<std::int64_t> fee) {
  transition(*db_, id, {PaymentState::Planned, PaymentState::Signed, PaymentState::Broadcast},
             PaymentState::Failed,
             "final_at = ?2, fail_reason = ?4, error = ?5, block_number = ?6, fee = ?7",
             [&](Statement& s) {
               s.bind(4, std::string_view(reason))
                   .bind(5, std::string_view(error))
                   .bind(6, block_number)
                   .bind(7, fee);
             });
}

void Ledger::note_error(std::int64_t id, const std::string& error) {
  DbTransaction tx(*db_, Durability::ordered);
  Statement s(*db_, "UPDATE payments SET error = ?1, updated_at = ?2 WHERE id = ?3");
  s.bind(1, std::string_view(error)).bind(2, now_ms()).bind(3, id);
  s.run();
  tx.commit();
}

std::optional<Payment> Ledger::get(std::int64_t id) {
  auto v = query_payments(*db_, "WHERE id = ?1", [&](Statement& s) { s.bind(1, id); });
  if (v.empty()) return std::nullopt;
  return v.front();
}

std::optional<Payment> Ledger::by_txid(const std::string& txid) {
  auto v = query_payments(*db_, "WHERE txid = ?1",
                          [&](Statement& s) { s.bind(1, std::string_view(txid)); });
  if (v.empty()) return std::nullopt;
  return v.front();
}

std::vector<Payment> Ledger::attempts(const std::string& debt_key) {
  return query_payments(*db_, "WHERE debt_key = ?1 ORDER BY attempt",
                        [&](Statement& s) { s.bind(1, std::string_view(debt_key)); });
}

namespace {

// WHERE clauses built from a filter's set fields, bound in order.
struct Where {
  std::string sql;
  std::vector<std::function<void(Statement&, int)>> binds;

  void add(const std::string& condition, std::function<void(Statement&, int)> bind) {
    sql += sql.empty() ? "WHERE " : " AND ";
    sql += condition;
    if (bind) binds.push_back(std::move(bind));
  }
  // `condition` holds one "?" that is numbered here.
  void add_value(const std::string& condition, std::string value) {
    std::string numbered = condition;
    numbered.replace(numbered.find('?'), 1, "?" + std::to_string(binds.size() + 1));
    add(numbered,
        [value = std::move(value)](Statement& s, int i) { s.bind(i, std::string_view(value)); });
  }
  void add_value(const std::string& condition, std::int64_t value) {
    std::string numbered = condition;
    numbered.replace(numbered.find('?'), 1, "?" + std::to_string(binds.size() + 1));
    add(numbered, [value](Statement& s, int i) { s.bind(i, value); });
  }
  void bind(Statement& s) const {
    for (std::size_t i = 0; i < binds.size(); ++i) binds[i](s, static_cast<int>(i + 1));
  }
};

// The fields payment and credit filters share; `time` is the column since/until apply to.
template <class Filter>
Where common_where(const Filter& f, const std::string& time) {
  Where w;
  if (f.token) w.add_value("token = ?", f.token->to_string());
  if (f.info_hash) w.add_value("info_hash = ?", *f.info_hash);
  if (f.peer) w.add_value("peer = ?", *f.peer);
  if (f.to) w.add_value("to_addr = ?", f.to->to_base58());
  if (f.since_ms) w.add_value(time + " >= ?", *f.since_ms);
  if (f.until_ms) w.add_value(time + " < ?", *f.until_ms);
  return w;
}

std::string limit_sql(std::size_t limit) {
  return limit ? " LIMIT " + std::to_string(limit) : std::string();
}

}  // namespace

std::vector<Payment> Ledger::payments(const PaymentFilter& f) {
  Where w = common_where(f, "created_at");
  if (!f.states.empty()) {
    std::string in;
    for (PaymentState st : f.states)
      in += std::string(in.empty() ? "'" : ",'") + to_string(st) + "'";
    w.add("state IN (" + in + ")", nullptr);
  }
  return query_payments(
      *db_, w.sql + (f.newest_first ? " ORDER BY id DESC" : " ORDER BY id") + limit_sql(f.limit),
      [&](Statement& s) { w.bind(s); });
}

std::vector<Payment> Ledger::pending() {
  return query_payments(*db_, "WHERE state IN ('planned','signed','broadcast') ORDER BY id",
                        nullptr);
}

std::vector<Payment> Ledger::expired_debts() {
  return query_payments(*db_,
                        "WHERE state = 'failed' AND fail_reason = 'expired' AND attempt = "
                        "(SELECT MAX(attempt) FROM payments q WHERE q.debt_key = "
                        "payments.debt_key) ORDER BY id",
                        nullptr);
}

bool Ledger::credit_once(const Credit& c) {
  DbTransaction tx(*db_);
  Statement s(*db_,
              "INSERT OR IGNORE INTO credits(txid, token, from_addr, to_addr, amount, "
              "block_number, info_hash, peer, credited_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)");
  s.bind(1, std::string_view(c.txid))
      .bind(2, std::string_view(c.token.to_string()))
      .bind(3, std::string_view(c.from.to_base58()))
      .bind(4, std::string_view(c.to.to_base58()))
      .bind(5, std::string_view(c.amount.str()))
      .bind(6, c.block_number)
      .bind(7, c.info_hash)
      .bind(8, c.peer)
      .bind(9, c.credited_at ? c.credited_at : now_ms());
  s.run();
  bool inserted = db_->changes() == 1;
  tx.commit();
  return inserted;
}

std::optional<Credit> Ledger::credit(const std::string& txid) {
  Statement s(*db_,
              "SELECT txid, token, from_addr, to_addr, amount, block_number, info_hash, peer, "
              "credited_at FROM credits WHERE txid = ?1");
  s.bind(1, std::string_view(txid));
  if (!s.step()) return std::nullopt;
  return read_credit(s);
}

std::vector<Credit> Ledger::credits(const CreditFilter& f) {
  Where w = common_where(f, "credited_at");
  Statement s(*db_,
              "SELECT txid, token, from_addr, to_addr, amount, block_number, info_hash, peer, "
              "credited_at FROM credits " +
                  w.sql + " ORDER BY credited_at, txid" + limit_sql(f.limit));
  w.bind(s);
  std::vector<Credit> out;
  while (s.step()) out.push_back(read_credit(s));
  return out;
}

namespace {

// The sum of the amounts a query selects (text columns: amounts can exceed 64 bits). The
// token is ?1; `since_ms`, when given, is ?2.
tron::U256 sum_amounts(Db& db, const char* sql, const tron::Token& token,
                       std::optional<std::int64_t> since_ms = std::nullopt) {
  tron::U256 sum = 0;
  Statement s(db, sql);
  s.bind(1, std::string_view(token.to_string()));
  if (since_ms) s.bind(2, *since_ms);
  while (s.step()) sum += parse_amount(s.text(0));
  return sum;
}

}  // namespace

tron::U256 Ledger::total_spent(const tron::Token& token) {
  return sum_amounts(*db_, "SELECT amount FROM payments WHERE state = 'confirmed' AND token = ?1",
                     token);
}

tron::U256 Ledger::total_earned(const tron::Token& token) {
  return sum_amounts(*db_, "SELECT amount FROM credits WHERE token = ?1", token);
}

std::int64_t Ledger::total_fees(const tron::Token& token) {
  // Summed here, saturating: SQLite's SUM throws on overflow, and a node's figures are not
  // to be trusted that far.
  Statement s(*db_, "SELECT fee FROM payments WHERE fee > 0 AND token = ?1");
  s.bind(1, std::string_view(token.to_string()));
  std::int64_t sum = 0;
  while (s.step()) {
    const std::int64_t fee = s.int64(0);
    sum = fee > INT64_MAX - sum ? INT64_MAX : sum + fee;
  }
  return sum;
}

tron::U256 Ledger::committed_since(const tron::Token& token, std::int64_t since_ms) {
  return sum_amounts(*db_,
                     "SELECT amount FROM payments WHERE state <> 'failed' AND token = ?1 AND "
                     "created_at >= ?2",
                     token, since_ms);
}

}  // namespace wallet
