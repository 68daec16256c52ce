#include "node/pay_buyer.hpp"

#include "tron/hex.hpp"

namespace bttnode::pay {

Buyer::Buyer(BuyerSettings settings, std::shared_ptr<Budget> budget, std::string info_hash_hex,
             std::string our_peer_id_hex, std::string seeder_peer_id_hex, Signer signer)
    : s_(std::move(settings)),
      budget_(std::move(budget)),
      info_hash_hex_(std::move(info_hash_hex)),
      our_hex_(std::move(our_peer_id_hex)),
      seeder_hex_(std::move(seeder_peer_id_hex)),
      signer_(std::move(signer)) {
  if (!budget_) budget_ = std::make_shared<Budget>();
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
    accepted_ = true;
    baseline_ = verified_from_peer;
    Bind bind;
    bind.addr = s_.addr;
    bind.sig = signer_(bind_text(terms->chain, info_hash_hex_, seeder_hex_, our_hex_,
                                 terms->nonce));
    a.send.push_back(bind);
    a.send.push_back(Bid{terms->price});
    return a;
  }
  if (!active()) return a;
  if (const auto* inv = std::get_if<Invoice>(&m)) {
    if (invoice_ && inv->seq <= invoice_->seq) return a;
    invoice_ = *inv;
    return maybe_pay(verified_from_peer, false);
  }
  if (const auto* r = std::get_if<Receipt>(&m)) {
    receipted_ = r->paid;
    return a;
  }
  if (const auto* rej = std::get_if<Reject>(&m)) {
    if (rej->reason == reason::kUnconfirmed) {
      a.note = "the seeder waits for our payment's block" +
               (rej->msg.empty() ? std::string() : " (" + rej->msg + ")");
      return a;
    }
    a.note = "the seeder refused: " + rej->reason + (rej->msg.empty() ? "" : " (" + rej->msg + ")");
    return a;
  }
  return a;
}

BuyerActions Buyer::on_tick(std::int64_t verified_from_peer) {
  return maybe_pay(verified_from_peer, false);
}

BuyerActions Buyer::finish(std::int64_t verified_from_peer) {
  finishing_ = true;
  return maybe_pay(verified_from_peer, true);
}

BuyerActions Buyer::maybe_pay(std::int64_t verified_from_peer, bool final) {
  BuyerActions a;
  if (!active() || in_flight_) return a;
  U256 amount = due(verified_from_peer);
  if (amount == 0) return a;
  if (!final && !finishing_ && amount < terms_->min_settle) return a;
  if (!budget_->allows(amount)) {
    if (!budget_spent_) {
      budget_spent_ = true;
      a.send.push_back(Bid{0});  // we stop paying; the seeder may serve us as anyone else
      a.note = "budget reached: not paying " + amount.str() + " more";
    }
    return a;
  }
  budget_->take(amount);
  PayOrder order{amount, ++orders_};
  in_flight_ = order;
  a.pay = order;
  return a;
}

BuyerActions Buyer::on_payment(const PayOrder& order, const tron::Hash32& txid) {
  BuyerActions a;
  if (!in_flight_ || in_flight_->number != order.number) return a;
  in_flight_.reset();
  paid_ += order.amount;
  a.send.push_back(Settle{txid, order.amount, false});
  return a;
}

BuyerActions Buyer::on_payment_refused(const PayOrder& order, const std::string& why) {
  BuyerActions a;
  if (!in_flight_ || in_flight_->number != order.number) return a;
  in_flight_.reset();
  budget_->give_back(order.amount);
  accepted_ = false;  // no more payments to this seeder in this session
  a.send.push_back(Bid{0});
  a.note = "payment of " + order.amount.str() + " refused: " + why + "; not paying any more";
  return a;
}

}  // namespace bttnode::pay
