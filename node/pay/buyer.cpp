#include "node/pay/buyer.hpp"

#include <algorithm>
#include <limits>

#include "tron/hex.hpp"

namespace bttnode::pay {

namespace {
constexpr std::int64_t kGiB = std::int64_t(1) << 30;

std::string trx_text(const U256& sun) {
  std::string digits = sun.str();
  if (digits.size() <= 6) digits.insert(0, 7 - digits.size(), '0');
  std::string whole = digits.substr(0, digits.size() - 6);
  std::string frac = digits.substr(digits.size() - 6, 2);
  return whole + "." + frac + " TRX";
}
}  // namespace

SettlementPlan plan_settlements(std::int64_t size, std::int64_t credit, std::int64_t max_credit,
                                std::int64_t min_settle_bytes, std::int64_t floor_bytes) {
  SettlementPlan plan;
  if (size <= 0 || credit <= 0) return plan;
  std::int64_t paid = 0;
  std::int64_t window = credit;
  while (paid < size && plan.settlements < 1'000'000) {
    std::int64_t s = std::max(
        {min_settle_bytes, std::min(floor_bytes, window * 3 / 4), window / 2, std::int64_t(1)});
    s = std::min(s, size - paid);
    paid += s;
    ++plan.settlements;
    plan.largest_bytes = std::max(plan.largest_bytes, s);
    if (max_credit > 0) {
      window = std::min(max_credit, credit + 2 * std::min(paid, max_credit));
    }
  }
  return plan;
}

std::int64_t fee_floor_bytes(std::int64_t fee_per_settlement, const U256& cap_per_gib) {
  if (fee_per_settlement <= 0) return 0;
  if (cap_per_gib == 0) return std::numeric_limits<std::int64_t>::max();
  U256 bytes = (U256(fee_per_settlement) * U256(kGiB) + cap_per_gib - 1) / cap_per_gib;
  return bytes >= U256(std::numeric_limits<std::int64_t>::max())
             ? std::numeric_limits<std::int64_t>::max()
             : static_cast<std::int64_t>(bytes);
}

Buyer::Buyer(BuyerSettings settings, std::shared_ptr<Budget> budget, std::string info_hash_hex,
             std::string our_peer_id_hex, std::string seeder_peer_id_hex, Signer signer,
             std::int64_t version, std::shared_ptr<DailyBudget> daily)
    : s_(std::move(settings)),
      version_(version),
      budget_(std::move(budget)),
      daily_(std::move(daily)),
      info_hash_hex_(std::move(info_hash_hex)),
      our_hex_(std::move(our_peer_id_hex)),
      seeder_hex_(std::move(seeder_peer_id_hex)),
      signer_(std::move(signer)) {
  if (!budget_) budget_ = std::make_shared<Budget>();
  if (s_.fee_cap_per_gib)
    floor_bytes_ = fee_floor_bytes(s_.fee_per_settlement, *s_.fee_cap_per_gib);
}

std::int64_t Buyer::window() const {
  if (window_ > 0) return window_;
  return terms_ ? terms_->credit : 0;
}

U256 Buyer::threshold() const {
  if (!terms_) return 0;
  std::int64_t w = window();
  std::int64_t bytes = std::max(w / 2, std::min(floor_bytes_, w * 3 / 4));
  return std::max(terms_->min_settle, owed(bytes, terms_->price));
}

std::optional<std::string> Buyer::fee_cap_problem(const Terms& t) const {
  if (!s_.fee_cap_per_gib || s_.fee_per_settlement <= 0 || s_.torrent_size <= 0) {
    return std::nullopt;
  }
  std::int64_t size = s_.torrent_size;
  auto plan = plan_settlements(size, t.credit, version_ >= 2 ? t.max_credit : 0,
                               bytes_covered(t.min_settle, t.price), floor_bytes_);
  U256 fees = U256(plan.settlements) * U256(s_.fee_per_settlement);
  U256 allowed = *s_.fee_cap_per_gib * U256(size) / U256(kGiB);
  if (fees <= allowed) return std::nullopt;
  return "paying this seeder for " + std::to_string(size / kMiB) + " MiB takes about " +
         std::to_string(plan.settlements) + " transactions of about " +
         trx_text(U256(s_.fee_per_settlement)) + " in fees each (" + trx_text(fees) +
         "), above the cap of " + trx_text(*s_.fee_cap_per_gib) + " per GiB (" + trx_text(allowed) +
         " for this download)";
}

U256 Buyer::own_owed(std::int64_t verified_from_peer) const {
  if (!active()) return 0;
  return owed(verified_from_peer - baseline_, terms_->price);
}

U256 Buyer::due(std::int64_t verified_from_peer) const {
  if (!active() || !invoice_) return 0;
  U256 limit = std::min(invoice_->owed, own_owed(verified_from_peer));
  return limit > paid_ ? limit - paid_ : U256(0);
}

BuyerActions Buyer::on_message(const Message& m, std::int64_t verified_from_peer) {
  BuyerActions a;
  if (const auto* terms = std::get_if<Terms>(&m)) {
    if (terms_ && terms_->nonce == terms->nonce) return a;
    if (terms_ && accepted_ && (in_flight_ || due(verified_from_peer) > 0)) {
      // New terms start a new session; what the old one owed stays unpaid only if the seeder
      // chose to drop it. Keep it simple and safe: pay nothing more to the old session.
      a.note = "the seeder changed its terms; starting over";
    }
    terms_ = *terms;
    awaiting_.clear();
    accepted_ = false;
    invoice_.reset();
    paid_ = 0;
    receipted_ = 0;
    nonce_hex_ = tron::to_hex(tron::Bytes(terms->nonce.begin(), terms->nonce.end()));
    if (terms->chain != s_.chain) {
      a.send.push_back(Reject{reason::kWrongChain, std::nullopt, "our chain is " + s_.chain});
      a.note = "not paying: the seeder's chain " + terms->chain + " is not ours";
      return a;
    }
    if (!(terms->token == s_.token)) {
      a.send.push_back(Reject{reason::kPrice, std::nullopt, "we pay in " + s_.token.to_string()});
      a.note = "not paying: the seeder asks for " + terms->token.to_string();
      return a;
    }
    if (terms->price > s_.max_price) {
      a.send.push_back(Reject{reason::kPrice, std::nullopt,
                              "our maximum is " + s_.max_price.str() + " per MiB"});
      a.note = "not paying: the seeder asks " + terms->price.str() + " per MiB, above our " +
               s_.max_price.str();
      return a;
    }
    if (auto problem = fee_cap_problem(*terms)) {
      a.send.push_back(Reject{reason::kPrice, std::nullopt, "fees above our cap"});
      if (s_.stop_over_fee_cap) {
        stop_requested_ = true;
        a.note = "stopping: " + *problem;
      } else {
        a.note = "downloading as a free peer: " + *problem;
      }
      return a;
    }
    accepted_ = true;
    window_ = 0;
    baseline_ = verified_from_peer;
    if (s_.fee_per_settlement > 0 && s_.torrent_size > 0) {
      auto plan =
          plan_settlements(s_.torrent_size, terms->credit, version_ >= 2 ? terms->max_credit : 0,
                           bytes_covered(terms->min_settle, terms->price), floor_bytes_);
      a.note = "paying " + terms->price.str() + " per MiB: about " +
               std::to_string(plan.settlements) + " settlements for this torrent, fees about " +
               trx_text(U256(plan.settlements) * U256(s_.fee_per_settlement));
    }
    Bind bind;
    bind.addr = s_.addr;
    bind.sig =
        signer_(bind_text(terms->chain, info_hash_hex_, seeder_hex_, our_hex_, terms->nonce));
    a.send.push_back(bind);
    a.send.push_back(Bid{terms->price});
    return a;
  }
  if (!active()) return a;
  if (const auto* inv = std::get_if<Invoice>(&m)) {
    if (invoice_ && inv->seq <= invoice_->seq) return a;
    invoice_ = *inv;
    if (inv->window > 0) window_ = inv->window;
    return maybe_pay(verified_from_peer, false);
  }
  if (const auto* r = std::get_if<Receipt>(&m)) {
    awaiting_.erase(r->txid);
    resend_.erase(r->txid);
    if (!r->provisional) forget_settle(r->txid);
    if (r->window > 0) window_ = std::max(window_, r->window);
    if (!r->provisional) receipted_ = r->paid;
    return maybe_pay(verified_from_peer, false);
  }
  if (const auto* rej = std::get_if<Reject>(&m)) {
    if (rej->txid && rej->reason == reason::kBusy && find_settle(*rej->txid)) {
      // Not checked at all: it waits (and counts as awaiting) until we send it again.
      resend_.insert(*rej->txid);
      a.note = "the seeder is busy checking settlements; sending it again";
      return a;
    }
    if (rej->txid && rej->reason != reason::kUnconfirmed) {
      awaiting_.erase(*rej->txid);
      forget_settle(*rej->txid);
    }
    if (rej->reason == reason::kUnconfirmed) {
      a.note = "the seeder waits for our payment's block" +
               (rej->msg.empty() ? std::string() : " (" + rej->msg + ")");
      return a;
    }
    a.note = "the seeder refused: " + rej->reason + (rej->msg.empty() ? "" : " (" + rej->msg + ")");
    if (rej->reason == reason::kUnfunded) {
      accepted_ = false;  // served as an ordinary peer; nothing is billed
    }
    return a;
  }
  return a;
}

BuyerActions Buyer::on_tick(std::int64_t verified_from_peer) {
  BuyerActions again;
  for (const auto& txid : resend_) {
    if (const auto* s = find_settle(txid)) again.send.push_back(*s);
  }
  resend_.clear();
  BuyerActions a = maybe_pay(verified_from_peer, false);
  again.send.insert(again.send.end(), a.send.begin(), a.send.end());
  again.pay = a.pay;
  again.note = a.note;
  return again;
}

const Settle* Buyer::find_settle(const tron::Hash32& txid) const {
  for (const auto& s : unanswered_) {
    if (s.txid == txid) return &s;
  }
  return nullptr;
}

void Buyer::forget_settle(const tron::Hash32& txid) {
  for (auto it = unanswered_.begin(); it != unanswered_.end(); ++it) {
    if (it->txid == txid) {
      unanswered_.erase(it);
      return;
    }
  }
}

BuyerActions Buyer::finish(std::int64_t verified_from_peer) {
  finishing_ = true;
  return maybe_pay(verified_from_peer, true);
}

BuyerActions Buyer::maybe_pay(std::int64_t verified_from_peer, bool final) {
  BuyerActions a;
  if (!active() || in_flight_ || awaiting_.size() >= kMaxAwaiting) return a;
  U256 amount = due(verified_from_peer);
  if (amount == 0) return a;
  if (!final && !finishing_ && amount < threshold()) return a;
  auto reached = [&](const std::string& which) {
    if (!budget_spent_) {
      budget_spent_ = true;
      a.send.push_back(Bid{0});  // we stop paying; the seeder may serve us as anyone else
      a.note = which + " reached: not paying " + amount.str() + " more";
    }
    return a;
  };
  if (!budget_->allows(amount)) return reached("budget");
  std::int64_t day = 0;
  if (daily_ && !daily_->try_take(amount, &day)) return reached("daily budget");
  budget_->take(amount);
  PayOrder order{amount, ++orders_};
  in_flight_ = order;
  in_flight_day_ = day;
  a.pay = order;
  return a;
}

BuyerActions Buyer::on_payment(const PayOrder& order, const tron::Hash32& txid,
                               const std::string& signed_tx) {
  BuyerActions a;
  if (!in_flight_ || in_flight_->number != order.number) return a;
  in_flight_.reset();
  paid_ += order.amount;
  awaiting_.insert(txid);
  Settle settle;
  settle.txid = txid;
  settle.amount = order.amount;
  if (version_ >= 2 && signed_tx.size() <= kMaxSettleTx) settle.tx = signed_tx;
  a.send.push_back(settle);
  unanswered_.push_back(settle);
  if (unanswered_.size() > kMaxUnanswered) unanswered_.pop_front();
  return a;
}

BuyerActions Buyer::on_payment_refused(const PayOrder& order, const std::string& why) {
  BuyerActions a;
  if (!in_flight_ || in_flight_->number != order.number) return a;
  in_flight_.reset();
  budget_->give_back(order.amount);
  if (daily_) daily_->give_back(order.amount, in_flight_day_);
  accepted_ = false;  // no more payments to this seeder in this session
  a.send.push_back(Bid{0});
  a.note = "payment of " + order.amount.str() + " refused: " + why + "; not paying any more";
  return a;
}

}  // namespace bttnode::pay
