#pragma once
// The downloader's side of btt_pay for one seeder, as a pure state machine. It accepts terms
// only on its own chain, in its own token, at or below its maximum price; binds and bids;
// and pays min(invoice, its own verified bytes from the seeder x bid) minus what it already
// paid, once that reaches the seeder's minimum settlement (and whatever is left at the end),
// never beyond its budget. It never pays for bytes it did not verify, so a seeder that stops
// serving is paid nothing more.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "node/pay_protocol.hpp"

namespace bttnode::pay {

// What every seeder of one download may still be paid; shared by the Buyers of a process.
struct Budget {
  std::optional<U256> remaining;  // nullopt: unlimited
  bool allows(const U256& amount) const { return !remaining || amount <= *remaining; }
  void take(const U256& amount) {
    if (remaining) *remaining -= std::min(*remaining, amount);
  }
  void give_back(const U256& amount) {
    if (remaining) *remaining += amount;
  }
};

struct BuyerSettings {
  tron::Address addr;  // our paying address
  std::string chain;   // our node's chain id
  tron::Token token;
  U256 max_price = 0;  // base units per MiB
};

// A payment for the caller to make: sign, broadcast, then report with on_payment.
struct PayOrder {
  U256 amount = 0;
  std::int64_t number = 0;  // 1, 2, ... within this session: part of the ledger's debt key
};

struct BuyerActions {
  std::vector<Message> send;
  std::optional<PayOrder> pay;
  std::optional<std::string> note;  // something worth a log line
};

class Buyer {
 public:
  // Signs the bind text with our key (TIP-191); the key stays with the caller.
  using Signer = std::function<tron::Signature(const std::string& text)>;
  Buyer(BuyerSettings settings, std::shared_ptr<Budget> budget, std::string info_hash_hex,
        std::string our_peer_id_hex, std::string seeder_peer_id_hex, Signer signer);

  // verified_from_peer: verified payload bytes received from this seeder so far (all time).
  BuyerActions on_message(const Message& m, std::int64_t verified_from_peer);
  BuyerActions on_tick(std::int64_t verified_from_peer);
  // The download is complete or we are leaving: pay whatever is due, however small.
  BuyerActions finish(std::int64_t verified_from_peer);
  // The payment of `order` was signed and broadcast. (While it cannot be, e.g. the node is
  // down, the caller retries the same order: the ledger's debt key keeps it one payment.)
  BuyerActions on_payment(const PayOrder& order, const tron::Hash32& txid);
  // The payment was refused for good (spending caps, balance): we stop paying this seeder.
  BuyerActions on_payment_refused(const PayOrder& order, const std::string& why);

  bool active() const { return terms_ && accepted_; }
  bool finishing() const { return finishing_; }
  // Nothing left to do with this seeder: nothing due, no payment in flight, every payment
  // receipted (or we are not paying it at all).
  bool settled(std::int64_t verified_from_peer) const {
    return !active() || (!in_flight_ && due(verified_from_peer) == 0 && receipted_ >= paid_);
  }
  // Paying, and the seeder's last invoice bills less than our own count: its next invoice may
  // still be on the way (invoices trail the bytes by up to a second or two).
  bool invoice_behind(std::int64_t verified_from_peer) const {
    return active() && own_owed(verified_from_peer) > (invoice_ ? invoice_->owed : U256(0));
  }
  const std::optional<Terms>& terms() const { return terms_; }
  U256 paid() const { return paid_; }       // broadcast payments of this session
  U256 receipted() const { return receipted_; }
  bool paying_in_flight() const { return in_flight_.has_value(); }
  // Owed by our own count (verified bytes since the bind, at the bid).
  U256 own_owed(std::int64_t verified_from_peer) const;
  U256 due(std::int64_t verified_from_peer) const;
  const std::string& nonce_hex() const { return nonce_hex_; }

 private:
  BuyerActions maybe_pay(std::int64_t verified_from_peer, bool final);

  BuyerSettings s_;
  std::shared_ptr<Budget> budget_;
  std::string info_hash_hex_, our_hex_, seeder_hex_;
  Signer signer_;
  std::optional<Terms> terms_;
  std::string nonce_hex_;
  bool accepted_ = false;
  std::int64_t baseline_ = 0;  // verified bytes from the peer when we bound
  std::optional<Invoice> invoice_;
  U256 paid_ = 0;
  U256 receipted_ = 0;
  std::optional<PayOrder> in_flight_;
  std::int64_t orders_ = 0;
  bool budget_spent_ = false;
  bool finishing_ = false;
};

}  // namespace bttnode::pay
