#pragma once
// What the payment ledger stores and the operations its callers need, apart from how it is
// stored: wallet::Ledger keeps it in SQLite; another store (PostgreSQL) can implement the same
// interface. Every operation is atomic and durable when it returns, with the guarantees
// described in ledger.hpp: a debt is never paid twice, a credit never lost or counted twice.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tron/address.hpp"
#include "tron/hex.hpp"
#include "tron/token.hpp"
#include "tron/transaction.hpp"

namespace wallet {

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

// Which payments a query returns; unset fields match all. Each field a query sets narrows it
// through an index, never a scan of the whole table.
struct PaymentFilter {
  std::optional<tron::Token> token;
  std::optional<std::string> info_hash;
  std::optional<std::string> peer;
  std::optional<tron::Address> to;
  std::vector<PaymentState> states;      // empty: any
  std::optional<std::int64_t> since_ms;  // created_at >= since_ms
  std::optional<std::int64_t> until_ms;  // created_at < until_ms
  bool newest_first = false;             // else oldest first (by id)
  std::size_t limit = 0;                 // 0: no limit
};

struct CreditFilter {
  std::optional<tron::Token> token;
  std::optional<std::string> info_hash;
  std::optional<std::string> peer;
  std::optional<tron::Address> to;
  std::optional<std::int64_t> since_ms;  // credited_at >= since_ms
  std::optional<std::int64_t> until_ms;  // credited_at < until_ms
  std::size_t limit = 0;
};

class LedgerStore {
 public:
  virtual ~LedgerStore() = default;

  struct Planned {
    Payment payment;
    bool created = false;  // false: the debt already had a live or confirmed attempt
  };
  // Returns the debt's live or confirmed attempt if there is one (the request must then
  // match it, or LedgerError is thrown); otherwise records a new attempt in state planned.
  virtual Planned plan(const PaymentRequest& request) = 0;

  // Transitions; each throws LedgerError if the payment is not in an allowed state.
  virtual void mark_signed(std::int64_t id, const std::string& txid, const tron::Bytes& signed_tx,
                           std::int64_t expiration) = 0;  // planned -> signed
  virtual void mark_broadcast(std::int64_t id) = 0;       // signed|broadcast -> broadcast
  // signed|broadcast -> confirmed; `fee` in sun, as the chain reports it.
  virtual void mark_confirmed(std::int64_t id, std::int64_t block_number,
                              std::optional<std::int64_t> fee = std::nullopt) = 0;
  // not final -> failed; a transaction that failed in a block still burned `fee`.
  virtual void mark_failed(std::int64_t id, const std::string& reason, const std::string& error,
                           std::optional<std::int64_t> block_number = std::nullopt,
                           std::optional<std::int64_t> fee = std::nullopt) = 0;
  virtual void note_error(std::int64_t id, const std::string& error) = 0;  // no state change

  virtual std::optional<Payment> get(std::int64_t id) = 0;
  virtual std::optional<Payment> by_txid(const std::string& txid) = 0;
  virtual std::vector<Payment> attempts(const std::string& debt_key) = 0;  // oldest first
  virtual std::vector<Payment> payments(const PaymentFilter& filter) = 0;
  virtual std::vector<Payment> pending() = 0;  // planned, signed or broadcast, oldest first
  // Debts whose latest attempt failed as expired (provably never landed): candidates for a
  // new attempt, e.g. after a crash between the expiry and the next attempt.
  virtual std::vector<Payment> expired_debts() = 0;

  // Records an incoming payment; false if this txid was credited before (a replay).
  virtual bool credit_once(const Credit& credit) = 0;
  virtual std::optional<Credit> credit(const std::string& txid) = 0;
  virtual std::vector<Credit> credits(const CreditFilter& filter) = 0;  // oldest first

  // Sums in base units of the token.
  virtual tron::U256 total_spent(const tron::Token& token) = 0;   // confirmed payments
  virtual tron::U256 total_earned(const tron::Token& token) = 0;  // credits
  // TRX (sun) burned by the payments of the token that landed (confirmed or failed in a block).
  virtual std::int64_t total_fees(const tron::Token& token) = 0;
  // Confirmed or in-flight (not failed) payments of the token planned at or after since_ms.
  virtual tron::U256 committed_since(const tron::Token& token, std::int64_t since_ms) = 0;

  // Every payment (of one state), oldest first; every credit.
  std::vector<Payment> list(std::optional<PaymentState> state = std::nullopt) {
    PaymentFilter f;
    if (state) f.states = {*state};
    return payments(f);
  }
  std::vector<Credit> credits() { return credits(CreditFilter{}); }
};

std::int64_t now_ms();

}  // namespace wallet
