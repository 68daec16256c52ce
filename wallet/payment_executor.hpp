#pragma once
// The crash-safe send flow over the ledger and a chain:
//
//   plan (row committed) -> build + sign (signed bytes, txid, expiration committed)
//   -> broadcast -> look the txid up -> confirmed | failed
//
// Every step is committed before the next begins, and every step can be repeated: after a
// crash, a signed or broadcast payment is broadcast again with the SAME bytes (a node that
// already has it answers DUP_TRANSACTION_ERROR, which counts as sent). Only when the chain's
// head block time is past the transaction's expiration by a margin, and the txid is not on
// chain, is the payment marked failed ("expired"): it can never land, and only then is a new
// attempt for the same debt made. The ledger allows one attempt per debt that is not failed.
// Spending caps are checked before signing.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tron/keys.hpp"
#include "wallet/chain.hpp"
#include "wallet/ledger.hpp"

namespace wallet {

struct SpendingPolicy {
  std::optional<tron::U256> max_per_payment;  // largest single payment, base units
  std::optional<tron::U256> daily_limit;      // per token, payments planned in the last 24 hours
  tron::U256 balance_floor = 0;               // token balance that must remain after the payment
};

// Points between steps, for crash-injection tests: the hook runs right after the step.
enum class Step {
  Planned,            // planned row committed
  Signed,             // signed bytes committed, nothing broadcast yet
  BroadcastSent,      // the chain has the bytes, the ledger does not know yet
  BroadcastRecorded,  // state broadcast committed
  LandedSeen,         // the chain reports the tx in a block, the ledger does not know yet
  Finalized,          // confirmed or failed committed
};
const char* to_string(Step step);

struct ExecutorOptions {
  // How far the head block time must be past a transaction's expiration before its absence
  // from the chain counts as proof that it never landed.
  std::chrono::milliseconds expiry_margin{30'000};
  bool retry_expired = true;  // make a new attempt after a proven expiry
  int max_attempts = 3;       // attempts per debt, expired ones included
  std::chrono::milliseconds poll_interval{1'000};
  std::function<void(std::chrono::milliseconds)> sleep;  // default: this thread sleeps
  std::function<void(Step, const Payment&)> hook;        // tests inject crashes here
  std::function<void(const std::string&)> log;           // progress lines; no secrets
};

struct PaymentRefused : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class PaymentExecutor {
 public:
  PaymentExecutor(LedgerStore& ledger, Chain& chain, const tron::PrivateKey& key,
                  SpendingPolicy policy = {}, ExecutorOptions options = {});

  // Plans the payment of a debt (or finds the debt's current attempt) and drives it as far
  // as it goes without waiting: signed, broadcast, and confirmed if already in a block.
  // Calling it again for the same debt never pays twice.
  Payment submit(const PaymentRequest& request);

  // One round for a payment that is not final: sign if planned; look it up; confirm, fail
  // (reverted or provably expired, then a new attempt if allowed) or (re)broadcast.
  // Returns the debt's current attempt.
  Payment advance(std::int64_t payment_id);

  // Rounds until the debt's current attempt is final or the timeout passes.
  Payment wait(std::int64_t payment_id, std::chrono::milliseconds timeout);

  // On start: one round for every payment of this key that is not final, and a new attempt
  // for debts whose last attempt provably expired. Errors of one payment are recorded on it
  // and do not stop the others. Returns the payments it touched.
  std::vector<Payment> recover();

 private:
  Payment sign(Payment p);
  Payment broadcast(Payment p);
  // Looks the tx up; may finalize. Returns the (possibly updated) payment.
  Payment check(Payment p);
  Payment next_attempt(const Payment& failed);
  std::optional<std::string> policy_violation(const Payment& p);
  void hook(Step step, const Payment& p);
  void log(const std::string& line);
  Payment reload(std::int64_t id);

  LedgerStore& ledger_;
  Chain& chain_;
  tron::PrivateKey key_;
  SpendingPolicy policy_;
  ExecutorOptions options_;
};

}  // namespace wallet
