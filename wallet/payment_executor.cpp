#include "wallet/payment_executor.hpp"

#include <thread>

#include "tron/transaction.hpp"

namespace wallet {

namespace {

constexpr std::int64_t kDayMs = 24 * 60 * 60 * 1000;

tron::Hash32 txid_bytes(const std::string& hex) {
  tron::Bytes b = tron::from_hex(hex);
  if (b.size() != 32) throw LedgerError("ledger holds a malformed txid " + hex);
  tron::Hash32 h;
  std::copy(b.begin(), b.end(), h.begin());
  return h;
}

}  // namespace

const char* to_string(Step step) {
  switch (step) {
    case Step::Planned:
      return "planned";
    case Step::Signed:
      return "signed";
    case Step::BroadcastSent:
      return "broadcast-sent";
    case Step::BroadcastRecorded:
      return "broadcast-recorded";
    case Step::LandedSeen:
      return "landed-seen";
    case Step::Finalized:
      return "finalized";
  }
  return "?";
}

PaymentExecutor::PaymentExecutor(LedgerStore& ledger, Chain& chain, const tron::PrivateKey& key,
                                 SpendingPolicy policy, ExecutorOptions options)
    : ledger_(ledger),
      chain_(chain),
      key_(key),
      policy_(std::move(policy)),
      options_(std::move(options)) {
  if (!options_.sleep) {
    options_.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  }
}

void PaymentExecutor::hook(Step step, const Payment& p) {
  if (options_.hook) options_.hook(step, p);
}

void PaymentExecutor::log(const std::string& line) {
  if (options_.log) options_.log(line);
}

Payment PaymentExecutor::reload(std::int64_t id) {
  auto p = ledger_.get(id);
  if (!p) throw LedgerError("no payment with id " + std::to_string(id));
  return *p;
}

Payment PaymentExecutor::submit(const PaymentRequest& request) {
  if (request.from != key_.address()) {
    throw PaymentRefused("the payment is from " + request.from.to_base58() +
                         " but the key is for " + key_.address().to_base58());
  }
  LedgerStore::Planned planned = ledger_.plan(request);
  if (planned.created) {
    hook(Step::Planned, planned.payment);
  } else {
    log("debt " + request.debt_key + " already has payment " + std::to_string(planned.payment.id) +
        " (" + to_string(planned.payment.state) + ")");
  }
  if (planned.payment.final()) return planned.payment;
  return advance(planned.payment.id);
}

std::optional<std::string> PaymentExecutor::policy_violation(const Payment& p) {
  if (policy_.max_per_payment && p.amount > *policy_.max_per_payment) {
    return "amount " + p.amount.str() + " is above the per-payment cap " +
           policy_.max_per_payment->str();
  }
  if (policy_.daily_limit) {
    // Includes this payment, which is planned and so counted.
    tron::U256 committed = ledger_.committed_since(p.token, now_ms() - kDayMs);
    if (committed > *policy_.daily_limit) {
      return "payments of " + p.token.to_string() + " in the last 24 hours would reach " +
             committed.str() + ", above the daily cap " + policy_.daily_limit->str();
    }
  }
  tron::U256 balance = chain_.balance(p.from, p.token);
  if (balance < p.amount) {
    return "balance " + balance.str() + " of " + p.token.to_string() + " is below the amount " +
           p.amount.str();
  }
  if (balance - p.amount < policy_.balance_floor) {
    return "paying " + p.amount.str() + " would leave " + (balance - p.amount).str() +
           ", below the balance floor " + policy_.balance_floor.str();
  }
  return std::nullopt;
}

Payment PaymentExecutor::sign(Payment p) {
  if (auto why = policy_violation(p)) {
    // Never signed, so it can never land: failing it is safe.
    ledger_.mark_failed(p.id, fail_reason::kRefused, *why);
    p = reload(p.id);
    log("payment " + std::to_string(p.id) + " refused: " + *why);
    hook(Step::Finalized, p);
    return p;
  }
  tron::TxTiming timing = chain_.timing();
  std::optional<tron::Transaction> tx;
  try {
    tx = tron::Transaction::transfer(p.token, p.from, p.to, p.amount, timing, p.fee_limit);
  } catch (const std::invalid_argument& e) {
    // E.g. a TRX amount beyond 64 bits: this payment can never be made.
    ledger_.mark_failed(p.id, fail_reason::kRefused, e.what());
    p = reload(p.id);
    hook(Step::Finalized, p);
    return p;
  }
  tx->sign(key_);
  std::string txid = tron::to_hex(tx->txid());
  ledger_.mark_signed(p.id, txid, tx->serialized(), timing.expiration);
  p = reload(p.id);
  log("payment " + std::to_string(p.id) + " signed: txid " + txid);
  hook(Step::Signed, p);
  return p;
}

Payment PaymentExecutor::broadcast(Payment p) {
  BroadcastOutcome out = chain_.broadcast(p.signed_tx);
  hook(Step::BroadcastSent, p);
  if (out.accepted || out.code == kDuplicateCode) {
    ledger_.mark_broadcast(p.id);
    p = reload(p.id);
    hook(Step::BroadcastRecorded, p);
    return p;
  }
  // A refusal does not prove the tx can never land (another node may have it), so the
  // payment stays live until it is found or provably expired.
  std::string error =
      "broadcast refused: " + out.code + (out.message.empty() ? "" : ": ") + out.message;
  ledger_.note_error(p.id, error);
  log("payment " + std::to_string(p.id) + " " + error);
  return reload(p.id);
}

Payment PaymentExecutor::check(Payment p) {
  // Head time first: a block holding the tx has a time at or before the expiration, so if the
  // head we saw is past expiration + margin, such a block was already there for the lookup.
  std::int64_t head = chain_.head_block_time();
  std::optional<TxStatus> status = chain_.lookup(txid_bytes(*p.txid));
  if (status) {
    hook(Step::LandedSeen, p);
    if (status->success) {
      ledger_.mark_confirmed(p.id, status->block_number, status->fee);
      log("payment " + std::to_string(p.id) + " confirmed in block " +
          std::to_string(status->block_number) +
          (status->fee ? ", fee " + std::to_string(*status->fee) + " sun" : ""));
    } else {
      ledger_.mark_failed(p.id, fail_reason::kReverted,
                          "failed in block " + std::to_string(status->block_number) +
                              (status->message.empty() ? "" : ": " + status->message),
                          status->block_number, status->fee);
      log("payment " + std::to_string(p.id) + " failed in block " +
          std::to_string(status->block_number));
    }
    p = reload(p.id);
    hook(Step::Finalized, p);
    return p;
  }
  if (head > *p.expiration + options_.expiry_margin.count()) {
    ledger_.mark_failed(p.id, fail_reason::kExpired,
                        "expired at " + std::to_string(*p.expiration) +
                            " and not on chain at head block time " + std::to_string(head));
    p = reload(p.id);
    log("payment " + std::to_string(p.id) + " expired without landing");
    hook(Step::Finalized, p);
  }
  return p;
}

Payment PaymentExecutor::next_attempt(const Payment& failed) {
  if (!options_.retry_expired || failed.fail_reason != fail_reason::kExpired) return failed;
  auto all = ledger_.attempts(failed.debt_key);
  if (static_cast<int>(all.size()) >= options_.max_attempts) {
    log("debt " + failed.debt_key + ": no attempts left");
    return failed;
  }
  PaymentRequest r;
  r.debt_key = failed.debt_key;
  r.token = failed.token;
  r.from = failed.from;
  r.to = failed.to;
  r.amount = failed.amount;
  r.fee_limit = failed.fee_limit;
  r.info_hash = failed.info_hash;
  r.peer = failed.peer;
  LedgerStore::Planned planned = ledger_.plan(r);
  if (planned.created) {
    log("debt " + failed.debt_key + ": attempt " + std::to_string(planned.payment.attempt));
    hook(Step::Planned, planned.payment);
  }
  return planned.payment;
}

Payment PaymentExecutor::advance(std::int64_t payment_id) {
  Payment p = reload(payment_id);
  if (p.from != key_.address()) {
    throw PaymentRefused("payment " + std::to_string(p.id) + " is from " + p.from.to_base58() +
                         ", not from this key's address");
  }
  // A failed attempt of a debt may have been superseded; work on the current one.
  if (p.state == PaymentState::Failed) {
    auto all = ledger_.attempts(p.debt_key);
    p = all.back();
    if (p.state == PaymentState::Failed) p = next_attempt(p);
  }
  if (p.state == PaymentState::Planned) {
    p = sign(p);
    if (p.state != PaymentState::Signed) return p;
    return broadcast(p);
  }
  if (p.state == PaymentState::Signed || p.state == PaymentState::Broadcast) {
    p = check(p);
    if (p.state == PaymentState::Failed) {
      Payment n = next_attempt(p);
      if (n.id != p.id) return advance(n.id);
      return p;
    }
    if (p.final()) return p;
    // Not on chain yet: send the same bytes again (harmless if the node has them).
    return broadcast(p);
  }
  return p;
}

Payment PaymentExecutor::wait(std::int64_t payment_id, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  Payment p = advance(payment_id);
  for (;;) {
    if (p.state == PaymentState::Confirmed) return p;
    if (p.state == PaymentState::Failed) {
      // Final unless a new attempt is due.
      Payment n = next_attempt(p);
      if (n.id == p.id) return p;
      p = advance(n.id);
      continue;
    }
    if (std::chrono::steady_clock::now() >= deadline) return p;
    options_.sleep(options_.poll_interval);
    p = advance(p.id);
  }
}

std::vector<Payment> PaymentExecutor::recover() {
  std::vector<Payment> out;
  std::vector<Payment> todo = ledger_.pending();
  if (options_.retry_expired) {
    for (Payment& p : ledger_.expired_debts()) {
      if (p.attempt < options_.max_attempts) todo.push_back(std::move(p));
    }
  }
  for (const Payment& p : todo) {
    // A ledger may be shared by several keys; each key finishes only its own payments.
    if (p.from != key_.address()) continue;
    try {
      log("recovering payment " + std::to_string(p.id) + " (" + to_string(p.state) + ", debt " +
          p.debt_key + ")");
      out.push_back(advance(p.id));
    } catch (const LedgerError& e) {
      // E.g. another process moved the payment on first; the ledger stays consistent.
      log("payment " + std::to_string(p.id) + ": " + e.what());
      out.push_back(reload(p.id));
    } catch (const std::exception& e) {
      ledger_.note_error(p.id, std::string("recovery: ") + e.what());
      log("payment " + std::to_string(p.id) + ": " + e.what());
      out.push_back(reload(p.id));
    }
  }
  return out;
}

}  // namespace wallet
