#include "node/pay/buyer_service.hpp"

#include <algorithm>
#include <thread>

#include "node/pay/upload_cap.hpp"
#include "node/pay/verifier.hpp"
#include "p2p/session/session.hpp"
#include "p2p/torrent/torrent.hpp"
#include "tron/fee_estimate.hpp"
#include "tron/hex.hpp"
#include "tron/network.hpp"
#include "tron/tip191.hpp"

namespace bttnode::pay {

namespace {

std::string hex_of(std::span<const std::uint8_t> bytes) {
  return tron::to_hex(tron::Bytes(bytes.begin(), bytes.end()));
}

}  // namespace

// One seeder's payment state, shared with the payments in flight for it.
class BuyerPeerState : public std::enable_shared_from_this<BuyerPeerState> {
 public:
  BuyerPeerState(BuyerService& service, p2p::PeerHandle& handle, std::string info_hash_hex,
                 std::string our_hex)
      : service(service),
        handle(&handle),
        endpoint(handle.endpoint()),
        info_hash_hex(std::move(info_hash_hex)),
        our_hex(std::move(our_hex)) {}

  std::int64_t verified() {
    if (handle) last_verified = handle->stats().counters.verified_down;
    return last_verified;
  }

  void apply(BuyerActions a) {
    if (!buyer) return;
    if (a.note) service.print("btt_pay: " + endpoint + ": " + *a.note);
    if (buyer->stop_requested()) service.request_stop(a.note.value_or("fees above the cap"));
    bool bound = false;
    for (const auto& m : a.send) {
      if (std::holds_alternative<Bind>(m)) bound = true;
      if (handle) handle->send_extension_message(kExtensionName, encode(m, buyer->version()));
    }
    if (bound) {
      service.note_seller();
      service.resend_prior(weak_from_this(), buyer->terms()->addr, info_hash_hex,
                           buyer->nonce_hex());
    }
    if (a.pay) {
      const Terms& t = *buyer->terms();
      wallet::PaymentRequest r;
      r.debt_key = "btt_pay:" + info_hash_hex + ":" + t.addr.to_base58() + ":" +
                   buyer->nonce_hex() + ":" + std::to_string(a.pay->number);
      r.token = service.settings().token;
      r.from = service.settings().addr;
      r.to = t.addr;
      r.amount = a.pay->amount;
      r.info_hash = info_hash_hex;
      r.peer = peer_hex;
      service.pay(weak_from_this(), *a.pay, r);
    }
  }

  void on_message(const Message& m) {
    if (const auto* r = std::get_if<Receipt>(&m)) {
      service.receipted().insert(hex_of(r->txid));
    }
    if (std::holds_alternative<Invoice>(m) || std::holds_alternative<Terms>(m)) {
      last_invoice_at = std::chrono::steady_clock::now();
    }
    apply(buyer->on_message(m, verified()));
  }

  // Nothing left to pay or to wait for. An invoice that bills less than we verified is waited
  // for a few seconds more: leaving at once would leave the seeder's last bytes unpaid.
  bool done() {
    if (!buyer) return true;
    std::int64_t v = verified();
    if (!buyer->settled(v)) return false;
    return !buyer->invoice_behind(v) || std::chrono::steady_clock::now() - last_invoice_at >=
                                            service.settings().last_invoice_wait;
  }

  BuyerService& service;
  p2p::PeerHandle* handle;  // null once the peer is gone
  std::string endpoint;
  std::string info_hash_hex, our_hex, peer_hex;
  std::optional<Buyer> buyer;
  std::int64_t last_verified = 0;
  std::int64_t torrent_size = 0;
  std::chrono::steady_clock::time_point last_invoice_at{};
  int protocol_errors = 0;
};

namespace {

class BuyerPeerExt : public p2p::PeerExtension {
 public:
  explicit BuyerPeerExt(std::shared_ptr<BuyerPeerState> state) : state_(std::move(state)) {}
  ~BuyerPeerExt() override { on_disconnect(); }

  void add_handshake(p2p::bencode::Dict& d) override {
    p2p::bencode::Dict info;
    info["v"] = p2p::bencode::Integer(kVersion);
    info["role"] = "leech";
    d[kExtensionName] = p2p::bencode::Value(std::move(info));
  }

  void on_handshake(const p2p::bencode::Dict& d) override {
    auto& s = *state_;
    if (!s.handle || s.buyer || !s.handle->peer_supports(kExtensionName)) return;
    s.peer_hex = hex_of(s.handle->peer_id());
    BuyerService* service = &s.service;
    std::int64_t theirs = 1;
    if (auto it = d.find(kExtensionName); it != d.end() && it->second.is_dict()) {
      if (const auto* v = it->second.find("v"); v && v->is_int()) theirs = v->as_int();
    }
    s.buyer.emplace(
        s.service.settings_for(s.torrent_size), s.service.budget(), s.info_hash_hex, s.our_hex,
        s.peer_hex, [service](const std::string& text) { return service->sign_bind(text); },
        session_version(theirs), s.service.daily_budget());
  }

  void on_message(std::string_view name, std::string_view body) override {
    auto& s = *state_;
    if (name != kExtensionName || !s.buyer || !s.handle) return;
    Message m;
    try {
      m = decode(body);
    } catch (const ProtocolError& e) {
      s.handle->send_extension_message(
          kExtensionName,
          encode(Reject{reason::kProtocol, std::nullopt, e.what()}, s.buyer->version()));
      if (++s.protocol_errors > 5) s.handle->disconnect("btt_pay: malformed messages");
      return;
    }
    s.on_message(m);
  }

  void on_disconnect() override {
    if (state_->handle) state_->verified();
    state_->handle = nullptr;
  }

  bool wants_connection() const override { return !state_->done(); }

 private:
  std::shared_ptr<BuyerPeerState> state_;
};

class BuyerTorrentExt : public p2p::TorrentExtension {
 public:
  BuyerTorrentExt(BuyerService& service, p2p::Torrent& torrent)
      : service_(service), torrent_(torrent), cap_(service.settings().upload_while_buying) {}

  std::vector<std::string> message_names() const override { return {kExtensionName}; }

  std::unique_ptr<p2p::PeerExtension> new_peer(p2p::PeerHandle& handle) override {
    auto state = std::make_shared<BuyerPeerState>(service_, handle, hex_of(torrent_.info_hash()),
                                                  hex_of(torrent_.session().peer_id()));
    if (const auto* meta = torrent_.metainfo()) state->torrent_size = meta->total_size;
    service_.add_peer(state);
    peers_.push_back(state);
    return std::make_unique<BuyerPeerExt>(state);
  }

  void on_tick() override {
    bool buying = false;
    for (auto it = peers_.begin(); it != peers_.end();) {
      auto state = it->lock();
      if (!state || !state->handle) {
        it = peers_.erase(it);
        continue;
      }
      ++it;
      if (state->buyer) state->apply(state->buyer->on_tick(state->verified()));
      if (state->handle && state->buyer && state->buyer->paying()) buying = true;
    }
    const std::int64_t current = torrent_.upload_limit();
    const bool was_capped = cap_.capped();
    const std::int64_t limit = cap_.next(current, buying, !torrent_.is_seed());
    if (limit != current) torrent_.set_rate_limits(limit, torrent_.download_limit());
    if (cap_.capped() != was_capped) {
      service_.print(cap_.capped() ? "btt_pay: upload held to " + std::to_string(limit / 1024) +
                                         " KiB/s while buying"
                                   : "btt_pay: upload no longer held");
    }
  }

 private:
  BuyerService& service_;
  p2p::Torrent& torrent_;
  std::vector<std::weak_ptr<BuyerPeerState>> peers_;
  UploadCap cap_;
};

}  // namespace

BuyerService::BuyerService(boost::asio::io_context& io, BuyerSettings settings,
                           const tron::PrivateKey& key, tron::FullNodeOptions node,
                           const std::string& ledger_path, std::optional<U256> budget, Output out,
                           std::shared_ptr<DailyBudget> daily)
    : io_(io),
      settings_(std::move(settings)),
      key_(key),
      out_(std::move(out)),
      budget_(std::make_shared<Budget>(Budget{budget})),
      daily_(std::move(daily)),
      worker_(io),
      finish_timer_(io) {
  settings_.addr = key_.address();
  node_ = std::make_unique<tron::FullNodeClient>(std::move(node));
  settings_.chain = tron::node_chain_id(*node_);
  chain_ = std::make_unique<wallet::FullNodeChain>(*node_);
  ledger_ = std::make_unique<wallet::Ledger>(ledger_path);
  executor_ = std::make_unique<wallet::PaymentExecutor>(*ledger_, *chain_, key_);
  // What one settlement will cost, before any is made: a transfer of four MiB at our maximum
  // price to an existing account (ours stands in for the seeder's, unknown yet).
  try {
    auto cost = tron::estimate_transfer_cost(*node_, settings_.token, settings_.addr,
                                             settings_.addr, owed(4 * kMiB, settings_.max_price));
    settings_.fee_per_settlement = cost.sun;
    print("btt_pay: one settlement costs " + cost.text);
  } catch (const std::exception& e) {
    print(std::string("btt_pay: cannot estimate what a settlement costs: ") + e.what());
  }
  if (settings_.fee_cap_per_gib) {
    print("btt_pay: fee cap " + settings_.fee_cap_per_gib->str() + " sun per GiB: settlements of " +
          std::to_string(fee_floor_bytes(settings_.fee_per_settlement, *settings_.fee_cap_per_gib) /
                         kMiB) +
          " MiB or more keep under it");
  }
}

BuyerService::~BuyerService() {
  worker_.join();
}

tron::Signature BuyerService::sign_bind(const std::string& text) const {
  return tron::sign_message(key_, text);
}

int BuyerService::recover() {
  auto touched = executor_->recover();
  for (const auto& p : touched) {
    print(std::string("earlier payment ") + (p.txid ? "txid " + *p.txid : p.debt_key) + ": " +
          wallet::to_string(p.state));
    // On the chain but not yet final when we looked: followed until it is, as a payment of
    // this run would be, so the ledger does not keep it as merely broadcast.
    if (p.state == wallet::PaymentState::Broadcast && p.txid) {
      auto deadline = std::chrono::steady_clock::now() + 3 * settings_.confirm_wait;
      worker_.run_after(settings_.confirm_poll, [this, id = p.id, txid = *p.txid, deadline] {
        confirm(id, txid, std::nullopt, deadline, settings_.confirm_poll);
      });
    }
  }
  return int(touched.size());
}

std::shared_ptr<p2p::TorrentExtension> BuyerService::extension_for(p2p::Torrent& torrent) {
  return std::make_shared<BuyerTorrentExt>(*this, torrent);
}

void BuyerService::pay(std::weak_ptr<BuyerPeerState> peer, const PayOrder& order,
                       const wallet::PaymentRequest& request) {
  worker_.run([this, peer, order, request] {
    enum class Kind { Sent, Refused, Retry } kind = Kind::Retry;
    std::string why;
    wallet::Payment p;
    try {
      p = executor_->submit(request);
      if (p.state == wallet::PaymentState::Failed) {
        kind = Kind::Refused;
        why = p.fail_reason.value_or("failed") + ": " + p.error.value_or("");
      } else if (p.txid && (p.state == wallet::PaymentState::Broadcast ||
                            p.state == wallet::PaymentState::Confirmed)) {
        kind = Kind::Sent;
      } else {
        why = p.error.value_or("not broadcast yet");
      }
    } catch (const wallet::PaymentRefused& e) {
      kind = Kind::Refused;
      why = e.what();
    } catch (const std::exception& e) {
      why = e.what();
    }
    if (kind != Kind::Sent) {
      worker_.reply([this, peer, order, request, kind, why] {
        auto state = peer.lock();
        if (!state || !state->buyer) return;
        if (kind == Kind::Refused) {
          state->apply(state->buyer->on_payment_refused(order, why));
          return;
        }
        print("btt_pay: payment of " + order.amount.str() + " to " + request.to.to_base58() +
              " not sent yet (" + why + "); retrying");
        auto timer = std::make_shared<boost::asio::steady_timer>(io_, settings_.pay_retry);
        timer->async_wait([this, timer, peer, order, request](const boost::system::error_code& ec) {
          if (!ec) pay(peer, order, request);
        });
      });
      return;
    }
    tron::Hash32 txid;
    auto raw = tron::from_hex(*p.txid);
    std::copy(raw.begin(), raw.end(), txid.begin());
    std::string signed_tx(p.signed_tx.begin(), p.signed_tx.end());
    worker_.reply([peer, order, txid, signed_tx] {
      if (auto state = peer.lock(); state && state->buyer) {
        state->apply(state->buyer->on_payment(order, txid, signed_tx));
      }
    });
    // Its block is awaited by polls that leave the worker free for the next payment.
    confirm(p.id, *p.txid, request, std::chrono::steady_clock::now() + 3 * settings_.confirm_wait,
            settings_.confirm_poll);
  });
}

void BuyerService::confirm(std::int64_t payment_id, std::string txid,
                           std::optional<wallet::PaymentRequest> request,
                           std::chrono::steady_clock::time_point deadline,
                           std::chrono::milliseconds delay) {
  // Worker thread. While the node cannot be reached, keep asking until the deadline, so a
  // payment sent just before an outage is confirmed once the node is back.
  std::string state_text = "pending";
  // Quick at first (a block may be only a fraction of a second away), then every few seconds.
  auto next_delay = std::min<std::chrono::milliseconds>(delay * 3 / 2, std::chrono::seconds(3));
  try {
    wallet::Payment p = executor_->wait(payment_id, std::chrono::milliseconds(0));
    payment_id = p.id;  // a failed attempt may have been replaced by a new one
    if (p.txid) txid = *p.txid;
    if (p.state == wallet::PaymentState::Confirmed) state_text = "confirmed";
    if (p.state == wallet::PaymentState::Failed) state_text = "failed";
  } catch (const std::exception&) {
    next_delay = std::chrono::seconds(1);
  }
  if (state_text == "pending" && std::chrono::steady_clock::now() < deadline) {
    worker_.run_after(delay, [this, payment_id, txid, request, deadline, next_delay] {
      confirm(payment_id, txid, request, deadline, next_delay);
    });
    return;
  }
  if (!request) {
    // An earlier run's payment: told, not counted in this run's totals.
    if (state_text != "pending") print("earlier payment txid " + txid + ": " + state_text);
    return;
  }
  // Counted here, on the worker: the totals are read only after stop() joined it, and a
  // reply posted after the engine stopped would never run.
  if (state_text != "failed") {
    paid_ += request->amount;
    ++payments_;
  }
  if (state_text == "pending") ++pending_;
  print("paid " + request->amount.str() + " " + request->token.to_string() + " to " +
        request->to.to_base58() + " txid " + txid + " " + state_text);
}

void BuyerService::resend_prior(std::weak_ptr<BuyerPeerState> peer, const tron::Address& seeder,
                                const std::string& info_hash_hex, const std::string& nonce_hex) {
  worker_.run([this, peer, seeder, info_hash_hex, nonce_hex] {
    std::vector<Settle> prior;
    try {
      wallet::PaymentFilter to_seeder;
      to_seeder.to = seeder;
      to_seeder.info_hash = info_hash_hex;
      to_seeder.states = {wallet::PaymentState::Broadcast, wallet::PaymentState::Confirmed};
      to_seeder.newest_first = true;
      for (const auto& p : ledger_->payments(to_seeder)) {
        if (prior.size() >= std::size_t(kMaxPriorSettles)) break;
        if (!p.txid) continue;
        if (p.debt_key.find(nonce_hex) != std::string::npos) continue;  // this session's own
        Settle s;
        auto raw = tron::from_hex(*p.txid);
        std::copy(raw.begin(), raw.end(), s.txid.begin());
        s.amount = p.amount;
        s.prior = true;
        prior.push_back(s);
      }
    } catch (const std::exception&) {
      return;
    }
    worker_.reply([this, peer, prior] {
      auto state = peer.lock();
      if (!state || !state->handle) return;
      for (const auto& s : prior) {
        if (receipted_.count(hex_of(s.txid))) continue;
        state->handle->send_extension_message(kExtensionName, encode(s));
      }
    });
  });
}

void BuyerService::finish(std::function<void()> done, std::chrono::seconds timeout) {
  finishing_ = true;
  finish_done_ = std::move(done);
  finish_started_ = std::chrono::steady_clock::now();
  finish_deadline_ = finish_started_ + timeout;
  for (auto& w : peers_) {
    if (auto state = w.lock(); state && state->buyer) {
      state->apply(state->buyer->finish(state->verified()));
    }
  }
  finish_poll();
}

void BuyerService::finish_poll() {
  auto now = std::chrono::steady_clock::now();
  bool settled = worker_.busy() == 0;
  for (auto& w : peers_) {
    auto state = w.lock();
    if (!state || !state->buyer || !state->handle) continue;
    // Invoices may trail the last bytes by a second; finish() marked the buyer final, so
    // each new invoice is paid in full as it comes.
    state->apply(state->buyer->on_tick(state->verified()));
    if (!state->done()) settled = false;
  }
  // Give the seeders' last invoices time to arrive before calling it settled.
  if ((settled && now - finish_started_ >= std::chrono::seconds(3)) || now >= finish_deadline_) {
    auto done = std::move(finish_done_);
    finish_done_ = nullptr;
    if (done) done();
    return;
  }
  finish_timer_.expires_after(std::chrono::milliseconds(250));
  finish_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) finish_poll();
  });
}

}  // namespace bttnode::pay
