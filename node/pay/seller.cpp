#include "node/pay/seller.hpp"

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
               Clock::time_point now, std::int64_t version)
    : s_(std::move(settings)),
      version_(version),
      nonce_(std::move(nonce)),
      info_hash_hex_(std::move(info_hash_hex)),
      seeder_hex_(std::move(seeder_peer_id_hex)),
      leecher_hex_(std::move(leecher_peer_id_hex)),
      last_invoice_(now),
      started_(now) {
  if (s_.min_settle == 0) s_.min_settle = owed(kMiB, s_.price);
  invoice_bytes_ = std::min(s_.credit / 4, bytes_covered(s_.min_settle, s_.price));
  invoice_bytes_ = std::max<std::int64_t>(invoice_bytes_, 16 * 1024);
  update_prov_limit();
}

SellerSettings settings_for_torrent(SellerSettings s, std::int64_t piece_length) {
  if (!s.credit_explicit) s.credit = std::max(s.credit, kPiecesInCredit * piece_length);
  s.max_credit = std::max(s.max_credit, s.credit);
  return s;
}

std::optional<std::string> unworkable_terms(const SellerSettings& s, std::int64_t piece_length) {
  if (s.price == 0) return std::nullopt;
  U256 min_settle = s.min_settle == 0 ? owed(kMiB, s.price) : s.min_settle;
  std::int64_t settle_bytes = bytes_covered(min_settle, s.price);
  // A payer pays only for whole verified pieces, and a couple are in flight beside them.
  std::int64_t needed = settle_bytes + 2 * piece_length;
  if (settle_bytes > s.max_credit || needed > s.credit) {
    auto mib = [](std::int64_t b) {
      if (b % kMiB == 0) return std::to_string(b / kMiB) + " MiB";
      return std::to_string((b + 1023) / 1024) + " KiB";
    };
    return "a payer must be owed " + mib(settle_bytes) + " (the minimum settlement of " +
           min_settle.str() + " at " + s.price.str() + " per MiB) before it pays, and pieces of " +
           mib(piece_length) + " are in flight beside that, so the credit of " + mib(s.credit) +
           " would hold every payer up until it is banned: give --credit " + mib(needed) +
           " or more, or a lower --min-settle";
  }
  return std::nullopt;
}

SellerSettings with_price(SellerSettings s, const U256& price, bool min_settle_follows) {
  s.price = price;
  if (min_settle_follows) s.min_settle = owed(kMiB, price);
  return s;
}

std::int64_t carried_at_price(std::int64_t bytes, const U256& agreed, const U256& now) {
  if (bytes <= 0 || now <= agreed) return bytes;
  return bytes_paid_for(owed(bytes, agreed), now);
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
  t.max_credit = s_.max_credit;
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

std::int64_t Seller::prov_counted() const {
  return std::min(pending_bytes_, prov_limit_);
}

std::int64_t Seller::unpaid_bytes() const {
  if (s_.price == 0) return 0;
  // This session's own payments pay its own bytes; what earlier sessions left is paid by prior
  // settlements only, so a receipt's `paid` stays this session's alone. Provisional credit
  // counts as paid up to its limit.
  return uncovered(billed_bytes_, covered_ + prov_counted()) + uncovered(carried_, prior_covered_);
}

namespace {
constexpr std::int64_t kBytesMax = std::numeric_limits<std::int64_t>::max() / 4;
std::int64_t capped_sum(std::int64_t a, std::int64_t b) {
  return std::min(kBytesMax, std::min(kBytesMax, a) + std::min(kBytesMax, b));
}
}  // namespace

std::int64_t Seller::window() const {
  if (s_.price == 0) return kBytesMax;
  std::int64_t earned = capped_sum(record_, prov_counted());
  return std::min(s_.max_credit, capped_sum(s_.credit, capped_sum(earned, earned)));
}

void Seller::update_prov_limit() {
  std::int64_t by_record = capped_sum(s_.credit, capped_sum(record_, record_));
  double by_rate = 2.0 * rate_ * double(s_.settle_latency.count()) / 1000.0;
  std::int64_t rate_bytes = by_rate >= double(kBytesMax) ? kBytesMax : std::int64_t(by_rate);
  std::int64_t v = std::min(s_.max_credit, std::max(by_record, rate_bytes));
  prov_limit_ = std::max(prov_limit_, v);  // never shrinks: what counted as paid stays so
}

std::int64_t Seller::worst_case_loss_bytes() const {
  if (s_.price == 0) return 0;
  std::int64_t reach = capped_sum(record_, prov_limit_);
  std::int64_t window_max =
      std::min(s_.max_credit, capped_sum(s_.credit, capped_sum(reach, reach)));
  double unpaid = double(window_max) * (1.0 + s_.ban_tolerance);
  return capped_sum(std::int64_t(std::min(unpaid, double(kBytesMax))), prov_limit_);
}

void Seller::update_rate(std::int64_t bytes, Clock::time_point now) {
  if (rate_since_ == Clock::time_point{}) rate_since_ = now;
  rate_bytes_ += bytes;
  auto dt = std::chrono::duration<double>(now - rate_since_).count();
  if (dt >= 0.1 && double(rate_bytes_) / dt > rate_) {
    rate_ = double(rate_bytes_) / dt;  // the peak: the provisional limit only ever grows
    update_prov_limit();
  }
  if (dt >= 1.0) {
    rate_since_ = now;
    rate_bytes_ = 0;
  }
}

void Seller::merge(SellerActions& into, SellerActions from) {
  if (from.choke) into.choke = from.choke;
  if (from.ban) into.ban = from.ban;
  into.check_backing = into.check_backing || from.check_backing;
  for (auto& x : from.send) into.send.push_back(std::move(x));
  for (auto& x : from.verify) into.verify.push_back(std::move(x));
}

SellerActions Seller::carry_in(std::int64_t bytes, Clock::time_point now) {
  if (!payer_ || bytes <= 0) return {};
  carried_ += bytes;
  return check_credit(now);
}

std::int64_t Seller::rank() const {
  if (!billing() || !backed_ || over_credit() || banned_) return 0;
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
  i.window = s_.price == 0 ? 0 : window();
  i.pending = pending_;
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
    } else if (s_.price > 0) {
      // Priority is earned: the bid counts once the payer's balance is seen to back it.
      backed_ = false;
      unfunded_ = false;
      backing_asked_ = true;
      a.check_backing = true;
    }
    merge(a, check_credit(now));
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
    if (int(verifying_.size() + retry_.size()) >= s_.max_verifying) {
      return refuse(reason::kBusy, settle->txid,
                    std::to_string(s_.max_verifying) + " settlements are being checked already",
                    false);
    }
    if (over_since_) over_since_ = now;  // give the peer time while its payment is checked
    Settle checked = *settle;
    // Provisional credit needs version 2, a fresh settlement, and a balance seen at the backing
    // check that still covers it with everything settled since.
    if (version_ < 2 || checked.prior || !available_ || *available_ < checked.amount) {
      checked.tx.clear();
    }
    verifying_.push_back(checked);
    SellerActions a;
    a.verify.push_back(checked);
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
  update_rate(bytes, now);
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

SellerActions Seller::on_backing(const U256& balance, std::int64_t record_bytes,
                                 Clock::time_point now) {
  if (banned_ || !payer_) return {};
  record_ = std::max(record_, record_bytes);
  available_ = balance;
  // Settlements already made in this session are no longer in the balance it had.
  U256 settled = paid_ + pending_;
  *available_ -= std::min(*available_, settled);
  update_prov_limit();
  SellerActions a;
  const U256 bid = bid_.value_or(0);
  const U256 first = owed(s_.credit, bid);
  backed_ = record_ > 0 || balance >= first;
  if (!backed_ && billing()) {
    unfunded_ = true;
    a.send.push_back(Reject{reason::kUnfunded, std::nullopt,
                            "the balance of " + payer_->to_base58() + " (" + balance.str() +
                                ") does not cover the first credit at its bid (" + first.str() +
                                "); served as an ordinary peer"});
  }
  merge(a, check_credit(now));
  return a;
}

SellerActions Seller::on_provisional(const tron::Hash32& txid, bool ok, const std::string& reason,
                                     const std::string& detail, Clock::time_point now) {
  auto it = std::find_if(verifying_.begin(), verifying_.end(),
                         [&](const Settle& s) { return s.txid == txid; });
  if (it == verifying_.end() || banned_) return {};
  if (!ok) {
    bool prior = it->prior;
    verifying_.erase(it);
    return refuse(reason, txid, detail, !prior);
  }
  if (provisional_.count(txid)) return {};
  provisional_[txid] = it->amount;
  pending_ += it->amount;
  pending_bytes_ = bytes_paid_for(pending_, s_.price);
  if (available_) *available_ -= std::min(*available_, it->amount);
  SellerActions a;
  Receipt r{txid, 0, paid_};
  r.provisional = true;
  r.window = window();
  a.send.push_back(r);
  merge(a, check_credit(now));
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
  auto prov = provisional_.find(txid);
  if (outcome.kind != VerifyOutcome::Kind::Retry && prov != provisional_.end()) {
    pending_ -= std::min(pending_, prov->second);
    pending_bytes_ = bytes_paid_for(pending_, s_.price);
    provisional_.erase(prov);
  }
  switch (outcome.kind) {
    case VerifyOutcome::Kind::Retry:
      retry_.emplace_back(settle, now + kRetryDelay);
      // Said once, so the payer knows why no receipt comes yet; it is checked again and
      // credited once its block has the confirmations. A provisional one needs no word.
      if (!outcome.detail.empty() && !provisional_.count(txid) &&
          told_unconfirmed_.insert(txid).second) {
        a.send.push_back(Reject{reason::kUnconfirmed, txid, outcome.detail});
      }
      return a;
    case VerifyOutcome::Kind::Refused:
      return refuse(outcome.reason, txid, "", !settle.prior);
    case VerifyOutcome::Kind::Credited: {
      if (!outcome.prior) {
        if (settle.prior) {
          prior_paid_ += outcome.credited;
          prior_covered_ = bytes_paid_for(prior_paid_, s_.price);
        } else {
          paid_ += outcome.credited;
          covered_ = bytes_paid_for(paid_, s_.price);
        }
        record_ = capped_sum(record_, bytes_paid_for(outcome.credited, s_.price));
        if (!backed_ && record_ > 0) {
          backed_ = true;
          unfunded_ = false;
        }
        update_prov_limit();
      }
      Receipt r{txid, outcome.credited, paid_};
      r.window = window();
      a.send.push_back(r);
      break;
    }
  }
  merge(a, check_credit(now));
  return a;
}

SellerActions Seller::on_busy(const tron::Hash32& txid, Clock::time_point now) {
  auto it = std::find_if(verifying_.begin(), verifying_.end(),
                         [&](const Settle& s) { return s.txid == txid; });
  if (it == verifying_.end() || banned_) return {};
  Settle settle = *it;
  verifying_.erase(it);
  if (over_since_) over_since_ = now;
  if (provisional_.count(txid) || told_unconfirmed_.count(txid)) {
    // Seen to be real before (credited provisionally, or the node holds it): looked at again
    // later like any settlement waiting for its block, without a word to the payer.
    retry_.emplace_back(settle, now + kRetryDelay);
    return {};
  }
  SellerActions a;
  a.send.push_back(Reject{reason::kBusy, txid, "the seeder is checking many settlements"});
  return a;
}

SellerActions Seller::check_credit(Clock::time_point now) {
  SellerActions a;
  if (banned_) return a;
  if (!billing()) {
    // An ordinary peer now (no bid at the price, or unfunded): never held by the credit.
    if (choked_) {
      choked_ = false;
      over_since_.reset();
      if (!holding_) a.choke = false;
    }
    return a;
  }
  std::int64_t unpaid = unpaid_bytes();
  std::int64_t allowed = window();
  double limit = double(allowed) * (1.0 + s_.ban_tolerance);
  if (double(unpaid) > limit) {
    banned_ = true;
    a.choke = true;
    a.ban = "unpaid " + std::to_string(unpaid) + " bytes, beyond its window of " +
            std::to_string(allowed) + " bytes and the tolerance";
    return a;
  }
  if (unpaid > allowed) {
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
      Settle again = it->first;
      if (provisional_.count(again.txid)) again.tx.clear();  // checked once: now only its block
      verifying_.push_back(again);
      a.verify.push_back(again);
      it = retry_.erase(it);
    } else {
      ++it;
    }
  }
  auto c = check_credit(now);
  const bool sent = !c.send.empty();
  merge(a, std::move(c));
  if (holding_ && now - started_ >= kAnswerWait) release(a);
  if (!sent && billing() && billed_bytes_ != last_invoiced_bytes_ &&
      now - last_invoice_ >= s_.invoice_interval) {
    last_invoice_ = now;
    a.send.push_back(invoice());
  }
  return a;
}

}  // namespace bttnode::pay
