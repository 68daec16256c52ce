#include "node/pay_seller.hpp"

#include <algorithm>
#include <limits>

#include "tron/tip191.hpp"

namespace bttnode::pay {

namespace {
constexpr auto kRetryDelay = std::chrono::milliseconds(750);
// However fast bytes go out, invoices are at least this far apart.
constexpr auto kMinInvoiceGap = std::chrono::milliseconds(100);
}  // namespace

Seller::Seller(SellerSettings settings, std::string nonce, std::string info_hash_hex,
               std::string seeder_peer_id_hex, std::string leecher_peer_id_hex,
               Clock::time_point now)
    : s_(std::move(settings)),
      nonce_(std::move(nonce)),
      info_hash_hex_(std::move(info_hash_hex)),
      seeder_hex_(std::move(seeder_peer_id_hex)),
      leecher_hex_(std::move(leecher_peer_id_hex)),
      last_invoice_(now),
      started_(now) {
  if (s_.min_settle == 0) s_.min_settle = owed(kMiB, s_.price);
  invoice_bytes_ = std::min(s_.credit / 4, bytes_covered(s_.min_settle, s_.price));
  invoice_bytes_ = std::max<std::int64_t>(invoice_bytes_, 16 * 1024);
}

Terms Seller::terms() const {
  Terms t;
  t.addr = s_.addr;
  t.chain = s_.chain;
  t.token = s_.token;
  t.price = s_.price;
  t.credit = s_.credit;
  t.min_settle = s_.min_settle;
  t.confirmations = s_.confirmations;
  t.nonce = nonce_;
  return t;
}

SellerActions Seller::start() {
  SellerActions a;
  a.send.push_back(terms());
  holding_ = true;
  a.choke = true;
  return a;
}

void Seller::release(SellerActions& a) {
  if (!holding_) return;
  holding_ = false;
  if (!choked_ && !banned_ && !a.choke) a.choke = false;
}

namespace {
std::int64_t uncovered(std::int64_t bytes, std::int64_t covered) {
  return bytes > covered ? bytes - covered : 0;
}
}  // namespace

std::int64_t Seller::unpaid_bytes() const {
  if (s_.price == 0) return 0;
  // This session's own payments pay its own bytes; what earlier sessions left is paid by prior
  // settlements only, so a receipt's `paid` stays this session's alone.
  return uncovered(billed_bytes_, covered_) + uncovered(carried_, prior_covered_);
}

SellerActions Seller::carry_in(std::int64_t bytes, Clock::time_point now) {
  if (!payer_ || bytes <= 0) return {};
  carried_ += bytes;
  return check_credit(now);
}

std::int64_t Seller::rank() const {
  if (!billing() || over_credit() || banned_) return 0;
  constexpr std::int64_t kTop = std::numeric_limits<std::int64_t>::max() - 1;
  U256 bid = *bid_;
  return bid >= U256(kTop) ? kTop + 1 : static_cast<std::int64_t>(bid) + 1;
}

Invoice Seller::invoice() {
  Invoice i;
  i.seq = ++seq_;
  i.bytes = billed_bytes_;
  i.owed = owed_total();
  i.paid = paid_;
  i.carried = s_.price == 0 ? 0 : uncovered(carried_, prior_covered_);
  last_invoiced_bytes_ = billed_bytes_;
  return i;
}

SellerActions Seller::refuse(const std::string& reason, std::optional<tron::Hash32> txid,
                             const std::string& msg, bool ban) {
  SellerActions a;
  a.send.push_back(Reject{reason, txid, msg});
  if (ban && !banned_) {
    banned_ = true;
    a.ban = reason + (msg.empty() ? "" : ": " + msg);
  }
  return a;
}

SellerActions Seller::on_message(const Message& m, Clock::time_point now) {
  if (banned_) return {};
  if (const auto* bind = std::get_if<Bind>(&m)) {
    if (payer_) {
      if (*payer_ == bind->addr) return {};
      return refuse(reason::kBadBind, std::nullopt, "already bound to another address", true);
    }
    std::string text = bind_text(s_.chain, info_hash_hex_, seeder_hex_, leecher_hex_, nonce_);
    if (!tron::verify_message(text, bind->sig, bind->addr)) {
      return refuse(reason::kBadBind, std::nullopt,
                    "the signature is not by " + bind->addr.to_base58(), true);
    }
    payer_ = bind->addr;
    return {};
  }
  if (const auto* bid = std::get_if<Bid>(&m)) {
    if (!payer_) return refuse(reason::kProtocol, std::nullopt, "bid before bind", false);
    if (bid_) owed_base_ += owed(bytes_at_bid_, *bid_);
    bytes_at_bid_ = 0;
    bid_ = bid->price;
    SellerActions a;
    if (bid->price < s_.price) {
      a.send.push_back(
          Reject{reason::kPrice, std::nullopt, "the price is " + s_.price.str() + " per MiB"});
    }
    auto c = check_credit(now);
    a.choke = c.choke;
    a.ban = c.ban;
    for (auto& x : c.send) a.send.push_back(std::move(x));
    release(a);
    return a;
  }
  if (const auto* settle = std::get_if<Settle>(&m)) {
    if (!payer_) return refuse(reason::kProtocol, settle->txid, "settle before bind", false);
    auto same = [&](const Settle& x) { return x.txid == settle->txid; };
    if (std::any_of(verifying_.begin(), verifying_.end(), same) ||
        std::any_of(retry_.begin(), retry_.end(), [&](const auto& r) { return same(r.first); })) {
      return {};
    }
    if (settle->amount == 0) {
      return refuse("wrong_amount", settle->txid, "a settlement of 0", !settle->prior);
    }
    if (settle->prior && ++prior_settles_ > s_.max_prior_settles) {
      return refuse(reason::kProtocol, settle->txid, "too many settlements of earlier sessions",
                    false);
    }
    if (over_since_) over_since_ = now;  // give the peer time while its payment is checked
    verifying_.push_back(*settle);
    SellerActions a;
    a.verify.push_back(*settle);
    return a;
  }
  if (const auto* reject = std::get_if<Reject>(&m)) {
    // The downloader declined the terms (price, chain...): it stays an ordinary peer.
    (void)reject;
    SellerActions a;
    release(a);
    return a;
  }
  // terms, invoice and receipt are the seeder's own messages: not for this side.
  return {};
}

SellerActions Seller::on_payload_sent(std::int64_t bytes, Clock::time_point now) {
  if (!billing() || banned_ || bytes <= 0) return {};
  bytes_at_bid_ += bytes;
  billed_bytes_ += bytes;
  last_payload_ = now;
  SellerActions a = check_credit(now);
  // An invoice a second, or sooner once the new bytes are worth a settlement, so that the
  // payer can pay while bytes keep flowing instead of running into its credit.
  std::int64_t fresh = billed_bytes_ - std::max<std::int64_t>(0, last_invoiced_bytes_);
  bool worth = fresh >= invoice_bytes_ && now - last_invoice_ >= kMinInvoiceGap;
  if (a.send.empty() && (worth || now - last_invoice_ >= s_.invoice_interval)) {
    last_invoice_ = now;
    a.send.push_back(invoice());
  }
  return a;
}

SellerActions Seller::on_verified(const tron::Hash32& txid, const VerifyOutcome& outcome,
                                  Clock::time_point now) {
  auto it = std::find_if(verifying_.begin(), verifying_.end(),
                         [&](const Settle& s) { return s.txid == txid; });
  if (it == verifying_.end() || banned_) return {};
  Settle settle = *it;
  verifying_.erase(it);
  SellerActions a;
  switch (outcome.kind) {
    case VerifyOutcome::Kind::Retry:
      retry_.emplace_back(settle, now + kRetryDelay);
      // Said once, so the payer knows why no receipt comes yet; it is checked again and
      // credited once its block has the confirmations.
      if (!outcome.detail.empty() && told_unconfirmed_.insert(txid).second) {
        a.send.push_back(Reject{reason::kUnconfirmed, txid, outcome.detail});
      }
      return a;
    case VerifyOutcome::Kind::Refused:
      return refuse(outcome.reason, txid, "", !settle.prior);
    case VerifyOutcome::Kind::Credited:
      if (!outcome.prior) {
        if (settle.prior) {
          prior_paid_ += outcome.credited;
          prior_covered_ = bytes_paid_for(prior_paid_, s_.price);
        } else {
          paid_ += outcome.credited;
          covered_ = bytes_paid_for(paid_, s_.price);
        }
      }
      a.send.push_back(Receipt{txid, outcome.credited, paid_});
      break;
  }
  auto c = check_credit(now);
  a.choke = c.choke;
  a.ban = c.ban;
  for (auto& x : c.send) a.send.push_back(std::move(x));
  return a;
}

SellerActions Seller::check_credit(Clock::time_point now) {
  SellerActions a;
  if (banned_) return a;
  std::int64_t unpaid = unpaid_bytes();
  double limit = double(s_.credit) * (1.0 + s_.ban_tolerance);
  if (double(unpaid) > limit) {
    banned_ = true;
    a.choke = true;
    a.ban = "unpaid " + std::to_string(unpaid) + " bytes, beyond its credit of " +
            std::to_string(s_.credit) + " bytes and the tolerance";
    return a;
  }
  if (unpaid > s_.credit) {
    if (!choked_) {
      choked_ = true;
      over_since_ = now;
      a.choke = true;
      last_invoice_ = now;
      a.send.push_back(invoice());
    } else if (verifying_.empty() && retry_.empty() && over_since_ &&
               now - *over_since_ >= s_.settle_grace) {
      banned_ = true;
      a.ban =
          "over its credit for " + std::to_string(s_.settle_grace.count()) + " s without paying";
    }
  } else if (choked_) {
    choked_ = false;
    over_since_.reset();
    if (!holding_) a.choke = false;
  }
  return a;
}

SellerActions Seller::on_tick(Clock::time_point now) {
  if (banned_) return {};
  SellerActions a;
  for (auto it = retry_.begin(); it != retry_.end();) {
    if (it->second <= now) {
      verifying_.push_back(it->first);
      a.verify.push_back(it->first);
      it = retry_.erase(it);
    } else {
      ++it;
    }
  }
  auto c = check_credit(now);
  a.choke = c.choke;
  a.ban = c.ban;
  for (auto& x : c.send) a.send.push_back(std::move(x));
  if (holding_ && now - started_ >= kAnswerWait) release(a);
  if (c.send.empty() && billing() && billed_bytes_ != last_invoiced_bytes_ &&
      now - last_invoice_ >= s_.invoice_interval) {
    last_invoice_ = now;
    a.send.push_back(invoice());
  }
  return a;
}

}  // namespace bttnode::pay
