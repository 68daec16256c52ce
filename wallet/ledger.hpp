#pragma once
// The payment ledger (SQLite, WAL, synchronous=FULL). Every state change is one SQL
// transaction, so after a crash the ledger is exactly at the last committed step.
//
// Outgoing payments move planned -> signed -> broadcast -> confirmed | failed. Each payment
// settles one debt, named by a unique key ("wallet-send:<uuid>", "btt_pay:<infohash>:<peer>:
// <seq>"). A debt may have several attempts, but a partial UNIQUE index allows at most one
// attempt that is not failed: never two live attempts, and never a new one once a payment
// for the debt is confirmed. The signed bytes and txid are stored before any broadcast.
//
// Incoming credits are keyed by txid (UNIQUE): a txid is credited once.
//
// A payment that lands in a block records the TRX (sun) it burned for bandwidth, energy and
// account creation, as the node's gettransactioninfobyid `fee` says. Ledgers of schema 1
// (before fees were recorded) are upgraded in place when opened; their payments keep no fee.
// Schema 3 adds the indexes behind the lookups by torrent, peer, payee, token and time;
// older files get them when opened.
#include <memory>
#include <string>

#include "wallet/ledger_store.hpp"

namespace wallet {

class Db;

// The ledger schema this code writes; older files are upgraded when opened, newer refused.
inline constexpr int kLedgerSchemaVersion = 3;

// The SQLite store.
class Ledger final : public LedgerStore {
 public:
  explicit Ledger(const std::string& path);
  ~Ledger() override;
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  Planned plan(const PaymentRequest& request) override;
  void mark_signed(std::int64_t id, const std::string& txid, const tron::Bytes& signed_tx,
                   std::int64_t expiration) override;
  void mark_broadcast(std::int64_t id) override;
  void mark_confirmed(std::int64_t id, std::int64_t block_number,
                      std::optional<std::int64_t> fee = std::nullopt) override;
  void mark_failed(std::int64_t id, const std::string& reason, const std::string& error,
                   std::optional<std::int64_t> block_number = std::nullopt,
                   std::optional<std::int64_t> fee = std::nullopt) override;
  void note_error(std::int64_t id, const std::string& error) override;

  std::optional<Payment> get(std::int64_t id) override;
  std::optional<Payment> by_txid(const std::string& txid) override;
  std::vector<Payment> attempts(const std::string& debt_key) override;
  std::vector<Payment> payments(const PaymentFilter& filter) override;
  std::vector<Payment> pending() override;
  std::vector<Payment> expired_debts() override;

  bool credit_once(const Credit& credit) override;
  std::optional<Credit> credit(const std::string& txid) override;
  std::vector<Credit> credits(const CreditFilter& filter) override;
  using LedgerStore::credits;

  tron::U256 total_spent(const tron::Token& token) override;
  tron::U256 total_earned(const tron::Token& token) override;
  std::int64_t total_fees(const tron::Token& token) override;
  tron::U256 committed_since(const tron::Token& token, std::int64_t since_ms) override;

 private:
  std::unique_ptr<Db> db_;
};

}  // namespace wallet
