#include "node/pay/seller_service.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <random>

#include "p2p/session/session.hpp"
#include "p2p/torrent/torrent.hpp"
#include "tron/hex.hpp"
#include "tron/network.hpp"

namespace bttnode::pay {

namespace {

using Clock = std::chrono::steady_clock;
// A settlement not yet in a block is looked at again this often, for this long, before it is
// handed back to the peer's slower retry.
constexpr auto kQuickRecheck = std::chrono::milliseconds(250);
constexpr auto kQuickRecheckFor = std::chrono::seconds(3);

std::string hex_of(std::span<const std::uint8_t> bytes) {
  return tron::to_hex(tron::Bytes(bytes.begin(), bytes.end()));
}

std::string random_nonce() {
  std::random_device rd;  // the kernel's CSPRNG on Linux
  std::string nonce(kNonceSize, '\0');
  for (auto& c : nonce) c = char(rd() & 0xff);
  return nonce;
}

}  // namespace

// One peer's payment state, shared with the verifications in flight for it.
class SellerPeerState : public std::enable_shared_from_this<SellerPeerState> {
 public:
  SellerPeerState(SellerService& service, p2p::PeerHandle& handle, std::string info_hash_hex,
                  std::string seeder_hex)
      : service(service),
        handle(&handle),
        endpoint(handle.endpoint()),
        info_hash_hex(std::move(info_hash_hex)),
        seeder_hex(std::move(seeder_hex)) {}

  void apply(SellerActions a) {
    if (!handle || !seller) return;
    for (const auto& m : a.send) {
      if (const auto* r = std::get_if<Reject>(&m); r && r->txid) {
        std::string txid = tron::to_hex(tron::Bytes(r->txid->begin(), r->txid->end()));
        if (r->reason == reason::kUnconfirmed) {
          service.print("txid " + txid + " from " + endpoint + " is not confirmed yet (" + r->msg +
                        "); checking again");
        } else {
          service.print("refused txid " + txid + " from " + endpoint + ": " + r->reason);
        }
      }
      handle->send_extension_message(kExtensionName, encode(m, seller->version()));
    }
    if (a.choke) handle->set_choked_by_extension(*a.choke);
    for (const auto& s : a.verify) {
      if (!service.verify(weak_from_this(), s, *seller->payer(), info_hash_hex, peer_hex)) {
        apply(seller->on_busy(s.txid, Clock::now()));
        if (!handle || !seller) return;
      }
    }
    if (a.check_backing && seller->payer())
      service.check_backing(weak_from_this(), *seller->payer());
    handle->set_upload_priority(seller->rank());
    if (a.ban) {
      service.print("banned " + endpoint + ": " + *a.ban);
      auto* h = handle;
      h->ban("btt_pay: " + *a.ban, int(service.settings().ban_time.count()));
    }
  }

  // Once, when the session ends: what it leaves unpaid goes to the payer's next session.
  void finish() {
    if (finished || !seller || !seller->payer()) return;
    finished = true;
    service.put_carried(info_hash_hex, *seller->payer(), seller->carry_out(),
                        seller->settings().price);
  }

  void on_message(const Message& m) {
    const bool was_bound = seller->bound();
    apply(seller->on_message(m, Clock::now()));
    if (!was_bound && seller->bound() && handle) {
      apply(seller->carry_in(
          service.take_carried(info_hash_hex, *seller->payer(), seller->settings().price),
          Clock::now()));
    }
  }

  void start(const SellerSettings& terms, std::int64_t version) {
    peer_hex = hex_of(handle->peer_id());
    seller.emplace(terms, random_nonce(), info_hash_hex, seeder_hex, peer_hex, Clock::now(),
                   version);
    apply(seller->start());
  }

  SellerService& service;
  p2p::PeerHandle* handle;  // null once the peer is gone
  std::string endpoint;
  std::string info_hash_hex, seeder_hex, peer_hex;
  std::optional<Seller> seller;
  int protocol_errors = 0;
  bool finished = false;
};

namespace {

// The version the peer advertised in its handshake's btt_pay dictionary (1 when absent).
std::int64_t advertised_version(const p2p::bencode::Dict& d) {
  auto it = d.find(kExtensionName);
  if (it == d.end() || !it->second.is_dict()) return 1;
  const auto* v = it->second.find("v");
  return v && v->is_int() ? v->as_int() : 1;
}

class SellerPeerExt : public p2p::PeerExtension {
 public:
  SellerPeerExt(std::shared_ptr<SellerPeerState> state, SellerSettings terms)
      : state_(std::move(state)), terms_(std::move(terms)) {}
  ~SellerPeerExt() override {
    state_->handle = nullptr;
    state_->finish();
  }

  void add_handshake(p2p::bencode::Dict& d) override {
    p2p::bencode::Dict info;
    info["v"] = p2p::bencode::Integer(kVersion);
    info["role"] = "seed";
    d[kExtensionName] = p2p::bencode::Value(std::move(info));
  }

  void on_handshake(const p2p::bencode::Dict& d) override {
    if (state_->handle && !state_->seller && state_->handle->peer_supports(kExtensionName)) {
      state_->start(terms_, session_version(advertised_version(d)));
    }
  }

  void on_message(std::string_view name, std::string_view body) override {
    if (name != kExtensionName || !state_->seller || !state_->handle) return;
    Message m;
    try {
      m = decode(body);
    } catch (const ProtocolError& e) {
      state_->handle->send_extension_message(
          kExtensionName,
          encode(Reject{reason::kProtocol, std::nullopt, e.what()}, state_->seller->version()));
      if (++state_->protocol_errors > 5) state_->handle->disconnect("btt_pay: malformed messages");
      return;
    }
    state_->on_message(m);
  }

  void on_payload_sent(p2p::ByteCount bytes) override {
    if (!state_->seller) return;
    auto a = state_->seller->on_payload_sent(bytes, Clock::now());
    if (!a.empty()) state_->apply(std::move(a));
  }

  void on_disconnect() override {
    state_->handle = nullptr;
    state_->finish();
  }

  bool wants_connection() const override {
    return state_->seller && state_->seller->wants_connection(Clock::now());
  }

 private:
  std::shared_ptr<SellerPeerState> state_;
  SellerSettings terms_;
};

class SellerTorrentExt : public p2p::TorrentExtension {
 public:
  SellerTorrentExt(SellerService& service, p2p::Torrent& torrent)
      : service_(service), torrent_(torrent) {}

  // Worked out for each new peer: the torrent's own terms may have changed since the last.
  SellerSettings terms() const {
    const auto* meta = torrent_.metainfo();
    return service_.settings_for(meta ? meta->piece_length : 0, hex_of(torrent_.info_hash()));
  }

  std::vector<std::string> message_names() const override { return {kExtensionName}; }

  std::unique_ptr<p2p::PeerExtension> new_peer(p2p::PeerHandle& handle) override {
    const std::string hex = hex_of(torrent_.info_hash());
    if (!service_.sells(hex)) return nullptr;  // served as by a seeder without btt_pay
    auto state = std::make_shared<SellerPeerState>(service_, handle, hex,
                                                   hex_of(torrent_.session().peer_id()));
    peers_[&handle] = state;
    return std::make_unique<SellerPeerExt>(state, terms());
  }

  std::optional<std::int64_t> rank(const p2p::PeerHandle& handle) override {
    auto it = peers_.find(&handle);
    if (it == peers_.end()) return std::nullopt;
    auto state = it->second.lock();
    if (!state || !state->seller) return std::nullopt;
    return state->seller->rank();
  }

  int bound_payers() const {
    int n = 0;
    for (const auto& [handle, weak] : peers_) {
      auto state = weak.lock();
      if (state && state->handle && state->seller && state->seller->bound()) ++n;
    }
    return n;
  }

  const p2p::Torrent& torrent() const { return torrent_; }

  void add_payers(std::map<std::string, std::string>& out) const {
    for (const auto& [handle, weak] : peers_) {
      auto state = weak.lock();
      if (state && state->handle && state->seller && state->seller->bound()) {
        out[state->endpoint] = state->seller->payer()->to_base58();
      }
    }
  }

  void on_tick() override {
    auto now = Clock::now();
    for (auto it = peers_.begin(); it != peers_.end();) {
      auto state = it->second.lock();
      if (!state || !state->handle) {
        it = peers_.erase(it);
        continue;
      }
      ++it;
      if (state->seller) state->apply(state->seller->on_tick(now));
    }
  }

 private:
  SellerService& service_;
  p2p::Torrent& torrent_;
  std::map<const p2p::PeerHandle*, std::weak_ptr<SellerPeerState>> peers_;
};

}  // namespace

SellerService::SellerService(boost::asio::io_context& io, SellerSettings settings,
                             tron::FullNodeOptions node, const std::string& ledger_path, Output out,
                             VerifierOptions verifier_options, VerifyPoolOptions pool_options)
    : io_(io), settings_(std::move(settings)), out_(std::move(out)), worker_(io) {
  node_ = std::make_unique<tron::FullNodeClient>(node);
  settings_.chain = tron::node_chain_id(*node_);
  ledger_ = std::make_unique<wallet::Ledger>(ledger_path);
  verifier_ = std::make_unique<SettlementVerifier>(*node_, *ledger_, verifier_options);
  pool_ = std::make_unique<VerifyPool>(node, pool_options);
  min_settle_follows_ = settings_.min_settle == 0;
  if (settings_.min_settle == 0) settings_.min_settle = owed(kMiB, settings_.price);
  // The payers' records: what their confirmed payments to this address paid for.
  if (settings_.price > 0) {
    wallet::CreditFilter mine;
    mine.token = settings_.token;
    mine.to = settings_.addr;
    for (const auto& c : ledger_->credits(mine)) {
      auto& r = record_[c.from.to_base58()];
      r = std::min<std::int64_t>(r + bytes_paid_for(c.amount, settings_.price),
                                 std::numeric_limits<std::int64_t>::max() / 4);
    }
  }
  // The chain's block interval, from the two newest blocks: a settlement is final about a
  // block per confirmation after it is sent, plus a second to see it.
  try {
    auto head = node_->now_block();
    if (head.number > 1) {
      auto before = node_->block_by_number(head.number - 1);
      std::int64_t prev = before.at("block_header").at("raw_data").value("timestamp", 0LL);
      std::int64_t interval = head.timestamp - prev;
      if (interval > 0 && interval < 60'000) {
        settings_.settle_latency =
            std::chrono::milliseconds(interval * settings_.confirmations + 1000);
      }
    }
  } catch (const std::exception&) {
    // Keep the default latency (mainnet's 3 s blocks).
  }
}

std::int64_t SellerService::record_of(const tron::Address& payer) const {
  auto it = record_.find(payer.to_base58());
  return it == record_.end() ? 0 : it->second;
}

void SellerService::check_backing(std::weak_ptr<SellerPeerState> peer, const tron::Address& payer) {
  std::int64_t record = record_of(payer);
  worker_.run([this, peer, payer, record] {
    if (stopping_) return;
    U256 balance = 0;
    bool known = true;
    try {
      switch (settings_.token.kind) {
        case tron::Token::Kind::Trx:
          balance = U256(std::max<std::int64_t>(0, node_->account(payer).trx));
          break;
        case tron::Token::Kind::Trc10: {
          auto acc = node_->account(payer);
          auto it = acc.trc10.find(settings_.token.asset_id);
          balance = it == acc.trc10.end() ? U256(0) : U256(std::max<std::int64_t>(0, it->second));
          break;
        }
        case tron::Token::Kind::Trc20:
          balance = node_->trc20_balance(settings_.token.contract, payer);
          break;
      }
    } catch (const std::exception& e) {
      known = false;
      print("btt_pay: cannot read the balance of " + payer.to_base58() + ": " + e.what());
    }
    if (!known) return;  // its bid ranks nowhere until a payment of it is credited
    worker_.reply([peer, balance, record] {
      auto state = peer.lock();
      if (!state || !state->handle || !state->seller) return;
      state->apply(state->seller->on_backing(balance, record, Clock::now()));
    });
  });
}

SellerService::~SellerService() {
  stopping_ = true;
  pool_->stop();
  worker_.join();
}

std::shared_ptr<p2p::TorrentExtension> SellerService::extension_for(p2p::Torrent& torrent) {
  auto ext = std::make_shared<SellerTorrentExt>(*this, torrent);
  std::erase_if(extensions_, [](const auto& w) { return w.expired(); });
  extensions_.push_back(ext);
  return ext;
}

int SellerService::bound_payers() const {
  int n = 0;
  for (const auto& w : extensions_) {
    if (auto ext = w.lock()) n += static_cast<const SellerTorrentExt&>(*ext).bound_payers();
  }
  return n;
}

std::map<std::string, std::string> SellerService::payers_of(const p2p::Torrent& torrent) const {
  std::map<std::string, std::string> out;
  for (const auto& w : extensions_) {
    auto ext = w.lock();
    if (!ext) continue;
    const auto& e = static_cast<const SellerTorrentExt&>(*ext);
    if (&e.torrent() == &torrent) e.add_payers(out);
  }
  return out;
}

void SellerService::set_torrent_terms(const std::string& info_hash_hex, TorrentTerms terms) {
  if (terms.sell && !terms.price) {
    torrent_terms_.erase(info_hash_hex);
  } else {
    torrent_terms_[info_hash_hex] = terms;
  }
}

SellerService::TorrentTerms SellerService::torrent_terms(const std::string& info_hash_hex) const {
  auto it = torrent_terms_.find(info_hash_hex);
  return it == torrent_terms_.end() ? TorrentTerms{} : it->second;
}

SellerSettings SellerService::settings_for(std::int64_t piece_length,
                                           const std::string& info_hash_hex,
                                           std::optional<U256> price) const {
  if (!price) price = torrent_terms(info_hash_hex).price;
  SellerSettings s = price ? with_price(settings_, *price, min_settle_follows_) : settings_;
  return settings_for_torrent(std::move(s), piece_length);
}

std::int64_t SellerService::take_carried(const std::string& info_hash_hex,
                                         const tron::Address& payer, const U256& price) {
  auto it = carried_.find({info_hash_hex, payer.to_base58()});
  if (it == carried_.end()) return 0;
  Carried c = it->second;
  carried_.erase(it);
  if (std::chrono::steady_clock::now() - c.since >= settings_.ban_time) return 0;
  // Owed at the price of the session that left them, whatever the torrent asks now.
  return carried_at_price(c.bytes, c.price, price);
}

void SellerService::put_carried(const std::string& info_hash_hex, const tron::Address& payer,
                                std::int64_t bytes, const U256& price) {
  auto now = std::chrono::steady_clock::now();
  for (auto it = carried_.begin(); it != carried_.end();) {
    it = now - it->second.since >= settings_.ban_time ? carried_.erase(it) : std::next(it);
  }
  if (bytes <= 0) return;
  // Two sessions of one payer at once each put back their own part.
  Carried& c = carried_[{info_hash_hex, payer.to_base58()}];
  // Kept at one price: bytes another session left at another are counted at this one's for
  // no more than they owed.
  if (c.bytes > 0 && c.price != price && price > 0) {
    c.bytes = bytes_paid_for(owed(c.bytes, c.price), price);
  }
  c.price = price;
  c.bytes += bytes;
  c.since = now;
}

ExpectedPayment SellerService::expected(const Settle& settle, const tron::Address& payer,
                                        const std::string& info_hash_hex,
                                        const std::string& peer_hex) const {
  ExpectedPayment e;
  e.txid = settle.txid;
  e.from = payer;
  e.to = settings_.addr;
  e.token = settings_.token;
  e.amount = settle.amount;
  e.confirmations = int(settings_.confirmations);
  e.info_hash = info_hash_hex;
  e.peer = peer_hex;
  return e;
}

bool SellerService::verify(std::weak_ptr<SellerPeerState> peer, const Settle& settle,
                           const tron::Address& payer, const std::string& info_hash_hex,
                           const std::string& peer_hex) {
  // Served first and never crowded out by settlements of new addresses: a payer with a record,
  // or one whose settlement carries its transaction (the Seller keeps it only when the payer's
  // balance was seen to back it; a bad one is refused and banned after a local check).
  const bool known = record_of(payer) > 0 || !settle.tx.empty();
  if (stopping_ || !pool_->admit(known)) return false;
  ExpectedPayment e = expected(settle, payer, info_hash_hex, peer_hex);
  auto until = std::chrono::steady_clock::now() + kQuickRecheckFor;
  if (!settle.tx.empty()) {
    pool_->post(
        [this, peer, settle, e, until, known](tron::FullNodeClient& node) {
          provisional_on_worker(node, peer, settle, e, until, known);
        },
        known);
  } else {
    pool_->post(
        [this, peer, settle, e, until, known](tron::FullNodeClient& node) {
          verify_on_worker(node, peer, settle, e, until, known);
        },
        known);
  }
  return true;
}

void SellerService::provisional_on_worker(tron::FullNodeClient& node,
                                          std::weak_ptr<SellerPeerState> peer, const Settle& settle,
                                          const ExpectedPayment& e,
                                          std::chrono::steady_clock::time_point quick_until,
                                          bool known) {
  if (stopping_) return;
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  Verification v;
  try {
    v = verifier_->check_signed(settle.tx, e, now_ms);
  } catch (const std::exception& ex) {
    v.verdict = Verdict::NodeDown;
    v.detail = ex.what();
  }
  bool ok = false;
  bool answered = true;
  std::string reason, detail = v.detail;
  if (v.verdict == Verdict::Credited) {
    try {
      auto r = node.broadcast_hex(tron::Bytes(settle.tx.begin(), settle.tx.end()));
      ok = r.ok || r.code == "DUP_TRANSACTION_ERROR";
      if (!ok) {
        reason = "failed_tx";
        detail = "our node refused it: " + r.code + (r.message.empty() ? "" : " " + r.message);
      }
    } catch (const std::exception&) {
      answered = false;  // node down: no provisional credit; the final check waits for it
    }
  } else if (v.verdict == Verdict::NodeDown) {
    answered = false;
  } else {
    reason = reject_reason(v.verdict);
  }
  if (answered) {
    worker_.reply([peer, txid = settle.txid, ok, reason, detail] {
      auto state = peer.lock();
      if (!state || !state->handle || !state->seller) return;
      state->apply(state->seller->on_provisional(txid, ok, reason, detail, Clock::now()));
    });
    if (!ok) {
      pool_->finish(known);
      return;
    }
  }
  verify_on_worker(node, peer, settle, e, quick_until, known);
}

void SellerService::verify_on_worker(tron::FullNodeClient& node,
                                     std::weak_ptr<SellerPeerState> peer, const Settle& settle,
                                     const ExpectedPayment& e,
                                     std::chrono::steady_clock::time_point quick_until,
                                     bool known) {
  if (stopping_) return;
  Verification v;
  try {
    v = verifier_->verify(e, node);
  } catch (const std::exception& ex) {
    v.verdict = Verdict::NodeDown;
    v.detail = ex.what();
  }
  // Held by the node, most likely its block is moments away: look again soon, without tying up
  // a worker, rather than at the peer's next tick. A txid the node does not know is looked at
  // soon again only for a payer with a record: anyone can send random ones.
  if (v.verdict == Verdict::Unconfirmed && (v.seen_by_node || known) &&
      std::chrono::steady_clock::now() < quick_until) {
    pool_->post_after(
        kQuickRecheck,
        [this, peer, settle, e, quick_until, known](tron::FullNodeClient& n) {
          verify_on_worker(n, peer, settle, e, quick_until, known);
        },
        known);
    return;
  }
  pool_->finish(known);
  VerifyOutcome o;
  bool fresh = false;
  if (v.verdict == Verdict::Credited) {
    o.kind = VerifyOutcome::Kind::Credited;
    o.credited = settle.amount;
    fresh = true;
  } else if (retry_later(v.verdict)) {
    o.kind = VerifyOutcome::Kind::Retry;
    if (v.seen_by_node) o.detail = v.detail;  // told to the peer as `unconfirmed`
  } else if (v.verdict == Verdict::Replayed && settle.prior) {
    // A settlement resent after a restart: fine if this payer's credit is already there.
    std::optional<wallet::Credit> c;
    try {
      c = verifier_->credit(tron::to_hex(tron::Bytes(settle.txid.begin(), settle.txid.end())));
    } catch (const std::exception&) {
    }
    if (c && c->from == e.from) {
      o.kind = VerifyOutcome::Kind::Credited;
      o.credited = c->amount;
      o.prior = true;
    } else {
      o.kind = VerifyOutcome::Kind::Refused;
      o.reason = reject_reason(v.verdict);
    }
  } else {
    o.kind = VerifyOutcome::Kind::Refused;
    o.reason = reject_reason(v.verdict);
  }
  worker_.reply([this, peer, settle, o, fresh, from = e.from, e_info_hash = e.info_hash] {
    std::string txid = tron::to_hex(tron::Bytes(settle.txid.begin(), settle.txid.end()));
    auto state = peer.lock();
    const bool session_over = !state || !state->handle || !state->seller;
    if (fresh && session_over) {
      // Paid after the connection closed: it pays what that session carried forward.
      auto key = std::make_pair(e_info_hash, from.to_base58());
      if (auto it = carried_.find(key); it != carried_.end() && it->second.price > 0) {
        it->second.bytes -=
            std::min(it->second.bytes, bytes_paid_for(settle.amount, it->second.price));
        if (it->second.bytes == 0) carried_.erase(it);
      }
    }
    if (fresh) {
      note_credit(settle.amount);
      if (const U256 price = price_for(e_info_hash); price > 0) {
        auto& r = record_[from.to_base58()];
        r = std::min<std::int64_t>(r + bytes_paid_for(settle.amount, price),
                                   std::numeric_limits<std::int64_t>::max() / 4);
      }
      print("credited " + settle.amount.str() + " " + settings_.token.to_string() + " from " +
            from.to_base58() + " txid " + txid + " peer " +
            (state ? state->endpoint : std::string("(gone)")));
    }
    if (!session_over) {
      state->apply(state->seller->on_verified(settle.txid, o, Clock::now()));
    }
  });
}

}  // namespace bttnode::pay
