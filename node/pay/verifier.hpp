#pragma once
// The seeder's check of a btt_pay settlement (docs/btt_pay.md, "Verification by the seeder"):
// the payment transaction is read from the seeder's own full node, every rule of the spec is
// checked against the signed raw_data (not against the node's JSON rendering of it), and a
// payment that passes is credited in the ledger, keyed by txid, before the verdict is returned.
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "tron/fullnode_client.hpp"
#include "tron/hashes.hpp"
#include "tron/token.hpp"
#include "tron/transaction.hpp"
#include "wallet/ledger.hpp"

namespace bttnode::pay {

struct ExpectedPayment {
  tron::Hash32 txid{};
  tron::Address from;     // the bound (paying) address
  tron::Address to;       // the seeder's payout address
  tron::Token token;      // trx, trc10:<id>, trc20:<contract>
  tron::U256 amount = 0;  // what the settle message claims
  int confirmations = 1;  // blocks on top of, and including, the tx's block: 1 = in a block
  std::string info_hash;  // hex, recorded with the credit
  std::string peer;       // remote peer id hex, recorded with the credit
};

enum class Verdict {
  Credited,
  Unconfirmed,  // not in a block yet, or too few confirmations: check again later
  NodeDown,     // the node could not be reached or gave an inconsistent answer: check again later
  UnknownTx,
  FailedTx,
  WrongSender,
  WrongRecipient,
  WrongToken,  // another kind of contract, another asset or token contract, or not a transfer
  WrongAmount,
  Replayed,
};

// The spec's reject reason for a verdict: "unknown_tx", "failed_tx", "wrong_sender",
// "wrong_recipient", "wrong_token", "wrong_amount", "replayed_tx", "unconfirmed". NodeDown also
// gives "unconfirmed" (the payer sees the same thing: not confirmed yet); Credited gives "".
const char* reject_reason(Verdict verdict);
// A short name for logs: "credited", "unconfirmed", "node_down", "unknown_tx", ...
const char* to_string(Verdict verdict);
// Unconfirmed and NodeDown: the settlement is neither accepted nor refused yet.
bool retry_later(Verdict verdict);

struct Verification {
  Verdict verdict = Verdict::NodeDown;
  std::string detail;                        // one line, for logs and the reject's msg
  std::optional<std::int64_t> block_number;  // the block holding the transaction, once known
  // Unconfirmed only: the node holds the transaction (pending, or in a block without enough
  // confirmations yet), as opposed to not knowing it (yet).
  bool seen_by_node = false;
};

struct VerifierOptions {
  // A txid the node knows neither in a block nor in its pending pool is reported Unconfirmed
  // for this long after this verifier was first asked about it (the payer's transaction may
  // still be on its way to our node), then UnknownTx. Zero: UnknownTx at once. The default is
  // five block intervals: a payer's transaction reaches our node well within that.
  std::chrono::milliseconds unknown_grace{15'000};
};

// Safe to call from several threads, each with its own node client: the ledger is used under a
// lock (each Ledger call is one SQL transaction, and credit_once keeps a txid unique even when
// two verifications race).
class SettlementVerifier {
 public:
  SettlementVerifier(tron::FullNodeClient& node, wallet::LedgerStore& ledger,
                     VerifierOptions options = {});

  // Asks the node for the transaction (gettransactionbyid) and its info
  // (gettransactioninfobyid), checks every rule of the spec, and if all hold records the credit
  // in the ledger (Ledger::credit_once, keyed by txid) BEFORE returning Credited. A txid already
  // credited returns Replayed. Never throws for a bad or hostile transaction or node answer;
  // a ledger failure (wallet::LedgerError, e.g. a full disk) is thrown, since nothing is known
  // about the payment then.
  Verification verify(const ExpectedPayment& expected) { return verify(expected, node_); }
  // The same through another client of the same node (one per verifying thread).
  Verification verify(const ExpectedPayment& expected, tron::FullNodeClient& node);

  // The local checks of a version-2 settle that carries its signed transaction, before any
  // node is asked: the bytes are a Transaction whose raw_data hashes to the txid, signed once
  // by the bound address, paying the seeder the claimed amount in the token (rules 2 to 4),
  // not expired and not valid for more than a day, and never credited. Credited means all hold.
  Verification check_signed(const std::string& transaction_bytes, const ExpectedPayment& expected,
                            std::int64_t now_ms);

  // The ledger's credit of a txid, if any (under the ledger lock).
  std::optional<wallet::Credit> credit(const std::string& txid);

 private:
  Verification not_found(const ExpectedPayment& expected, tron::FullNodeClient& node);
  void forget(const tron::Hash32& txid);

  tron::FullNodeClient& node_;
  wallet::LedgerStore& ledger_;
  VerifierOptions options_;
  std::mutex ledger_mutex_;  // one SQLite connection: one call at a time
  std::mutex mutex_;         // guards first_asked_
  // When each txid the node did not know was first asked about (for unknown_grace).
  std::map<tron::Hash32, std::chrono::steady_clock::time_point> first_asked_;
};

}  // namespace bttnode::pay
