#pragma once
// The downloader's side of btt_pay for one seeder, as a pure state machine. It accepts terms
// only on its own chain, in its own token, at or below its maximum price; binds and bids;
// and pays min(invoice, its own verified bytes from the seeder x bid) minus what it already
// paid, once that reaches the seeder's minimum settlement (and whatever is left at the end),
// never beyond its budget (the torrent's, and the node's for the day). It never pays for bytes it
// did not verify, so a seeder that stops serving is paid nothing more.
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "node/pay/daily_budget.hpp"
#include "node/pay/protocol.hpp"

namespace bttnode::pay {

// What every seeder of one download may still be paid; shared by the Buyers of a process.
struct Budget {
  std::optional<U256> remaining;  // nullopt: unlimited
  U256 used = 0;                  // taken and not given back, whatever the limit
  bool allows(const U256& amount) const { return !remaining || amount <= *remaining; }
  void take(const U256& amount) {
    if (remaining) *remaining -= std::min(*remaining, amount);
    used += amount;
  }
  void give_back(const U256& amount) {
    if (remaining) *remaining += amount;
    used -= std::min(used, amount);
  }
  // A new limit for the whole (nullopt: none): what was used counts against it.
  void set_limit(const std::optional<U256>& limit) {
    if (!limit) {
      remaining.reset();
    } else {
      remaining = *limit - std::min(*limit, used);
    }
  }
  std::optional<U256> limit() const {
    if (!remaining) return std::nullopt;
    return *remaining + used;
  }
};

struct BuyerSettings {
  tron::Address addr;  // our paying address
  std::string chain;   // our node's chain id
  tron::Token token;
  U256 max_price = 0;  // base units per MiB
  // Fees: what one settlement burns (sun, as estimated from the node), the cap on fees per GiB
  // downloaded (sun; none: pay as asked and report), and whether a seeder whose terms cannot
  // keep fees under the cap ends the download (stop) or is downloaded from as a free peer.
  std::int64_t fee_per_settlement = 0;
  std::optional<U256> fee_cap_per_gib;
  bool stop_over_fee_cap = false;
  std::int64_t torrent_size = 0;              // bytes, for the settlement plan (0: unknown)
  std::chrono::milliseconds pay_retry{3000};  // a payment not sent is tried again after this
  // A payment's block is awaited for three times this, polling the node this often.
  std::chrono::milliseconds confirm_wait{30'000};
  std::chrono::milliseconds confirm_poll{250};
  // At the end, an invoice that bills less than we verified is awaited this long.
  std::chrono::milliseconds last_invoice_wait{5000};
  // While we pay a seeder for a torrent still downloading, the torrent's upload is held to
  // this (KiB/s; 0: not held). Free peers on fast links would otherwise take from us
  // what we paid to get first, faster than the seeder serves them, and the lead is gone. It
  // is not 0: tit-for-tat peers still see something back and keep us unchoked.
  std::int64_t upload_while_buying = 64;
};

// How a download of `size` bytes settles with a seeder of these terms, the payer settling at
// half its window (three quarters where a fee floor asks for more): a version-2 window starts
// at `credit` and grows by twice what is paid, up to `max_credit`; a version-1 seeder's stays
// at `credit` (max_credit 0).
struct SettlementPlan {
  std::int64_t settlements = 0;
  std::int64_t largest_bytes = 0;
};
SettlementPlan plan_settlements(std::int64_t size, std::int64_t credit, std::int64_t max_credit,
                                std::int64_t min_settle_bytes, std::int64_t floor_bytes);
// The settlement size (bytes) that keeps one settlement's fee under the cap: GiB * fee / cap.
std::int64_t fee_floor_bytes(std::int64_t fee_per_settlement, const U256& cap_per_gib);

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
  // `daily`: the node's budget for the day, shared by every buyer of the node (null: none).
  Buyer(BuyerSettings settings, std::shared_ptr<Budget> budget, std::string info_hash_hex,
        std::string our_peer_id_hex, std::string seeder_peer_id_hex, Signer signer,
        std::int64_t version = kVersion, std::shared_ptr<DailyBudget> daily = nullptr);

  // verified_from_peer: verified payload bytes received from this seeder so far (all time).
  BuyerActions on_message(const Message& m, std::int64_t verified_from_peer);
  BuyerActions on_tick(std::int64_t verified_from_peer);
  // The download is complete or we are leaving: pay whatever is due, however small.
  BuyerActions finish(std::int64_t verified_from_peer);
  // The payment of `order` was signed and broadcast. (While it cannot be, e.g. the node is
  // down, the caller retries the same order: the ledger's debt key keeps it one payment.)
  // `signed_tx`: the transaction's protobuf bytes, carried in a version-2 settle.
  BuyerActions on_payment(const PayOrder& order, const tron::Hash32& txid,
                          const std::string& signed_tx = {});
  // Settle when this much is due (base units): half the seeder's window, the minimum
  // settlement, or the fee floor, whichever is more (the floor within the window).
  U256 threshold() const;
  std::int64_t window() const;  // as the seeder last told it (its credit before that)
  // Set when the seeder's terms cannot keep fees under the cap and we were told to stop.
  bool stop_requested() const { return stop_requested_; }
  std::int64_t version() const { return version_; }
  // The payment was refused for good (spending caps, balance): we stop paying this seeder.
  BuyerActions on_payment_refused(const PayOrder& order, const std::string& why);

  bool active() const { return terms_ && accepted_; }
  // Active and still paying: no budget reached, not told to stop.
  bool paying() const { return active() && !budget_spent_ && !stop_requested_; }
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
  U256 paid() const { return paid_; }  // broadcast payments of this session
  U256 receipted() const { return receipted_; }
  bool paying_in_flight() const { return in_flight_.has_value(); }
  // Owed by our own count (verified bytes since the bind, at the bid).
  U256 own_owed(std::int64_t verified_from_peer) const;
  U256 due(std::int64_t verified_from_peer) const;
  const std::string& nonce_hex() const { return nonce_hex_; }

 private:
  BuyerActions maybe_pay(std::int64_t verified_from_peer, bool final);
  const Settle* find_settle(const tron::Hash32& txid) const;
  void forget_settle(const tron::Hash32& txid);
  // Whether paying this seeder keeps fees under the cap; the note says why not.
  std::optional<std::string> fee_cap_problem(const Terms& t) const;

  BuyerSettings s_;
  std::int64_t version_;
  std::int64_t window_ = 0;
  std::int64_t floor_bytes_ = 0;
  bool stop_requested_ = false;
  std::shared_ptr<Budget> budget_;
  std::shared_ptr<DailyBudget> daily_;
  std::int64_t in_flight_day_ = 0;  // the day the payment in flight was counted in
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
  // Settlements sent and not yet answered by a receipt (provisional or final) or a refusal:
  // no new one while kMaxAwaiting wait, so a seeder never has more to check than it takes.
  std::set<tron::Hash32> awaiting_;
  static constexpr std::size_t kMaxAwaiting = 4;
  // Settlements sent and not yet finally receipted or refused, to send again when the seeder
  // answers `busy` (it had no room to check them: they are still ours to settle).
  std::deque<Settle> unanswered_;
  static constexpr std::size_t kMaxUnanswered = 32;
  std::set<tron::Hash32> resend_;  // told `busy`: sent again at the next tick
  std::int64_t orders_ = 0;
  bool budget_spent_ = false;
  bool finishing_ = false;
};

}  // namespace bttnode::pay
