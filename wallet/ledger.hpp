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
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tron/address.hpp"
#include "tron/hex.hpp"
#include "tron/token.hpp"
#include "tron/transaction.hpp"

namespace wallet {

class Db;

enum class PaymentState { Planned, Signed, Broadcast, Confirmed, Failed };
const char* to_string(PaymentState state);
PaymentState parse_state(std::string_view text);

// Why a payment failed. Only Expired and Refused prove that the transaction cannot land.
namespace fail_reason {
inline constexpr const char* kExpired = "expired";    // past expiration and not on chain
inline constexpr const char* kRefused = "refused";    // refused before signing (caps, balance)
inline constexpr const char* kReverted = "reverted";  // landed in a block, but failed there
}  // namespace fail_reason

struct LedgerError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct PaymentRequest {
  std::string debt_key;
  tron::Token token;
  tron::Address from;
  tron::Address to;
  tron::U256 amount = 0;
  std::int64_t fee_limit = tron::kDefaultFeeLimit;
  std::optional<std::string> info_hash;  // hex, for payments of the incentive layer
  std::optional<std::string> peer;       // remote peer id, hex
};

struct Payment {
  std::int64_t id = 0;
  std::string debt_key;
  int attempt = 1;
  PaymentState state = PaymentState::Planned;
  tron::Token token;
  tron::Address from;
  tron::Address to;
  tron::U256 amount = 0;
  std::int64_t fee_limit = 0;
  std::optional<std::string> info_hash;
  std::optional<std::string> peer;
  std::optional<std::string> txid;  // hex
  tron::Bytes signed_tx;
  std::optional<std::int64_t> expiration;  // ms
  std::int64_t created_at = 0;             // ms since the epoch, local clock
  std::int64_t updated_at = 0;
  std::optional<std::int64_t> broadcast_at;
  std::optional<std::int64_t> final_at;
  std::optional<std::int64_t> block_number;
  std::optional<std::string> error;        // last error text
  std::optional<std::string> fail_reason;  // see fail_reason::
  int broadcasts = 0;                      // times the node accepted or had the tx
  // TRX (sun) the transaction burned, once it is in a block (confirmed, or failed there);
  // none before, and for payments recorded before fees were.
  std::optional<std::int64_t> fee;

  bool final() const { return state == PaymentState::Confirmed || state == PaymentState::Failed; }
};

struct Credit {
  std::string txid;  // hex
  tron::Token token;
  tron::Address from;
  tron::Address to;
  tron::U256 amount = 0;
  std::optional<std::int64_t> block_number;
  std::optional<std::string> info_hash;
  std::optional<std::string> peer;
  std::int64_t credited_at = 0;
};

// The ledger schema this code writes; older files are upgraded when opened, newer refused.
inline constexpr int kLedgerSchemaVersion = 2;

class Ledger {
 public:
  explicit Ledger(const std::string& path);
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  struct Planned {
    Payment payment;
    bool created = false;  // false: the debt already had a live or confirmed attempt
  };
  // Returns the debt's live or confirmed attempt if there is one (the request must then
  // match it, or LedgerError is thrown); otherwise records a new attempt in state planned.
  Planned plan(const PaymentRequest& request);

  // Transitions; each throws LedgerError if the payment is not in an allowed state.
  void mark_signed(std::int64_t id, const std::string& txid, const tron::Bytes& signed_tx,
                   std::int64_t expiration);  // planned -> signed
  void mark_broadcast(std::int64_t id);       // signed|broadcast -> broadcast
  // signed|broadcast -> confirmed; `fee` in sun, as the chain reports it.
  void mark_confirmed(std::int64_t id, std::int64_t block_number,
                      std::optional<std::int64_t> fee = std::nullopt);
  // not final -> failed; a transaction that failed in a block still burned `fee`.
  void mark_failed(std::int64_t id, const std::string& reason, const std::string& error,
                   std::optional<std::int64_t> block_number = std::nullopt,
                   std::optional<std::int64_t> fee = std::nullopt);
  void note_error(std::int64_t id, const std::string& error);  // no state change

  std::optional<Payment> get(std::int64_t id);
  std::optional<Payment> by_txid(const std::string& txid);
  std::vector<Payment> attempts(const std::string& debt_key);  // oldest first
  std::vector<Payment> list(std::optional<PaymentState> state = std::nullopt);
  std::vector<Payment> pending();  // planned, signed or broadcast
  // Debts whose latest attempt failed as expired (provably never landed): candidates for a
  // new attempt, e.g. after a crash between the expiry and the next attempt.
  std::vector<Payment> expired_debts();

  // Records an incoming payment; false if this txid was credited before (a replay).
  bool credit_once(const Credit& credit);
  std::optional<Credit> credit(const std::string& txid);
  std::vector<Credit> credits();

  // Sums in base units of the token.
  tron::U256 total_spent(const tron::Token& token);   // confirmed payments
  tron::U256 total_earned(const tron::Token& token);  // credits
  // TRX (sun) burned by the payments of the token that landed (confirmed or failed in a block).
  std::int64_t total_fees(const tron::Token& token);
  // Confirmed or in-flight (not failed) payments of the token planned at or after since_ms.
  tron::U256 committed_since(const tron::Token& token, std::int64_t since_ms);

 private:
  std::unique_ptr<Db> db_;
};

std::int64_t now_ms();

}  // namespace wallet
