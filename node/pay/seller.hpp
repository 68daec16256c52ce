#pragma once
// The seeder's side of btt_pay for one peer, as a pure state machine: messages in, byte
// counts and a clock in; messages out and decisions (verify a settlement, choke, ban) out.
// The caller does the I/O and the chain work (docs/btt_pay.md, "Serving and choking").
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "node/pay/protocol.hpp"

namespace bttnode::pay {

struct SellerSettings {
  tron::Address addr;
  std::string chain;
  tron::Token token;
  U256 price = 0;  // base units per MiB
  // The first credit: unpaid payload bytes a payer with no record may run ahead. Unless the
  // user set it (credit_explicit), a torrent raises it to kPiecesInCredit pieces.
  std::int64_t credit = 4 * kMiB;
  bool credit_explicit = false;
  // The largest window a payer's record can earn (bytes); also bounds provisional credit.
  std::int64_t max_credit = 1024 * kMiB;
  U256 min_settle = 0;  // 0: the price of one MiB
  std::int64_t confirmations = 1;
  // From a settlement to its final credit: about a block interval per confirmation, plus the
  // time to see it. Provisional credit covers the payer's rate for twice this long.
  std::chrono::milliseconds settle_latency{4000};
  double ban_tolerance = 0.5;             // unpaid beyond window * (1 + this): ban at once
  std::chrono::seconds settle_grace{30};  // over its window this long with nothing to verify: ban
  std::chrono::seconds ban_time{3600};
  std::chrono::milliseconds invoice_interval{1000};
  int max_prior_settles = kMaxPriorSettles;  // settlements of earlier sessions accepted per session
  int max_verifying = 8;                     // settlements of one peer under verification at once
};

// A first credit of fewer than this many pieces could hold a payer up: it pays only for
// verified pieces, and a few pieces are in flight at a time.
inline constexpr std::int64_t kPiecesInCredit = 4;

// The settings for a torrent of `piece_length`: the first credit raised to kPiecesInCredit
// pieces unless the user set it. Returns the reason when the terms cannot work (an honest payer
// would be held up or banned): a credit below the pieces in flight plus the minimum settlement.
SellerSettings settings_for_torrent(SellerSettings s, std::int64_t piece_length);
std::optional<std::string> unworkable_terms(const SellerSettings& s, std::int64_t piece_length);

// `base` at another price per MiB (a torrent's own); the minimum settlement follows the price
// when it was the price of one MiB (`min_settle_follows`).
SellerSettings with_price(SellerSettings base, const U256& price, bool min_settle_follows);
// Unpaid bytes an earlier session left at the `agreed` price, counted at the price `now` asks:
// never more owed than was agreed (a raised price bills fewer of them, a lowered one as many).
std::int64_t carried_at_price(std::int64_t bytes, const U256& agreed, const U256& now);

// What the caller should do after an input.
struct SellerActions {
  std::vector<Message> send;
  std::vector<Settle> verify;      // ask the chain; answer with on_verified (and, for a
                                   // settle carrying its tx, first with on_provisional)
  std::optional<bool> choke;       // set the extension choke on (true) or off (false)
  std::optional<std::string> ban;  // ban the peer for settings().ban_time, with this reason
  bool check_backing = false;      // read the payer's balance and record: on_backing
  bool empty() const { return send.empty() && verify.empty() && !choke && !ban && !check_backing; }
};

// The outcome of a verification, as the caller reports it.
struct VerifyOutcome {
  enum class Kind { Credited, Retry, Refused };
  Kind kind = Kind::Retry;
  std::string reason;  // spec reject code when refused
  U256 credited = 0;   // when credited
  bool prior = false;  // the settlement paid an earlier session
  // Retry of a transaction the node holds but has not confirmed enough: what it found, sent
  // once to the peer with reject `unconfirmed`. Empty (e.g. the node is down): nothing sent.
  std::string detail;
};

class Seller {
 public:
  using Clock = std::chrono::steady_clock;
  Seller(SellerSettings settings, std::string nonce, std::string info_hash_hex,
         std::string seeder_peer_id_hex, std::string leecher_peer_id_hex, Clock::time_point now,
         std::int64_t version = kVersion);

  const SellerSettings& settings() const { return s_; }
  std::int64_t version() const { return version_; }
  Terms terms() const;
  // The first message of the session. The peer is held choked until it answers the terms (a
  // bind and a bid, or a reject) or kAnswerWait passes, so that a payer's first byte is billed.
  SellerActions start();
  static constexpr std::chrono::seconds kAnswerWait{3};
  SellerActions on_message(const Message& m, Clock::time_point now);
  // Payload bytes just sent to the peer.
  SellerActions on_payload_sent(std::int64_t bytes, Clock::time_point now);
  // The payer's balance in the token (what the seeder's node reports) and its record: bytes its
  // confirmed payments to this seeder paid for, in every session and torrent.
  SellerActions on_backing(const U256& balance, std::int64_t record_bytes, Clock::time_point now);
  // The signed transaction of a settle was checked (signature, contract, amount) and the node
  // accepted it (ok), or it was refused for `reason`.
  SellerActions on_provisional(const tron::Hash32& txid, bool ok, const std::string& reason,
                               const std::string& detail, Clock::time_point now);
  SellerActions on_verified(const tron::Hash32& txid, const VerifyOutcome& outcome,
                            Clock::time_point now);
  // The process had no room to check a settlement this peer sent (all peers' settlements
  // under verification are at their cap): no fault of the payer's, and its grace before a ban
  // starts again. One seen to be real before waits for another look; any other is dropped and
  // the payer told `busy`, to send it again.
  SellerActions on_busy(const tron::Hash32& txid, Clock::time_point now);
  SellerActions on_tick(Clock::time_point now);
  // Unpaid bytes that earlier sessions of the bound payer left on this torrent: they count
  // against this session's credit until paid (prior settlements) or forgotten by the caller.
  SellerActions carry_in(std::int64_t bytes, Clock::time_point now);
  // What this session leaves unpaid, carried ones included: for the next session.
  std::int64_t carry_out() const { return payer_ ? unpaid_bytes() : 0; }

  bool bound() const { return payer_.has_value(); }
  const std::optional<tron::Address>& payer() const { return payer_; }
  // Bound, bidding at least the asking price, and not found unfunded: its bytes are billed.
  bool billing() const { return payer_ && bid_ && *bid_ >= s_.price && !unfunded_; }
  bool over_credit() const { return unpaid_bytes() > window(); }
  // Choker rank and upload priority: > 0 only for a payer in good standing whose balance backs
  // its bid for its window (or that has a record of paying). An unbacked bid ranks nowhere.
  std::int64_t rank() const;
  std::int64_t billed_bytes() const { return billed_bytes_; }
  U256 owed_total() const { return owed_base_ + owed(bytes_at_bid_, bid_.value_or(0)); }
  U256 paid() const { return paid_; }
  U256 pending() const { return pending_; }  // provisionally accepted, not final yet
  std::int64_t unpaid_bytes() const;
  // The unpaid bytes allowed now: min(max_credit, credit + 2 * (record + provisional)), the
  // provisional part counted up to provisional_limit().
  std::int64_t window() const;
  // Provisional bytes that count as paid: min(max_credit, max(credit + 2 * record,
  // 2 * rate * settle_latency)), never shrinking within a session.
  std::int64_t provisional_limit() const { return prov_limit_; }
  // The most this session can lose if the payer never pays again, in bytes at the price: the
  // unpaid bytes it may reach before a ban plus the provisional bytes that count as paid.
  std::int64_t worst_case_loss_bytes() const;
  std::int64_t record_bytes() const { return record_; }
  bool banned() const { return banned_; }
  // Still owed, or a settlement is being checked, and bytes went out recently: keep the
  // connection open even when both sides are seeds, so the last settlement can arrive.
  bool wants_connection(Clock::time_point now) const {
    if (banned_) return false;
    if (!verifying_.empty() || !retry_.empty()) return true;
    return billing() && owed_total() > paid_ && now - last_payload_ < std::chrono::seconds(60);
  }

 private:
  SellerActions check_credit(Clock::time_point now);
  // Ends the hold of start(): unchoked unless over credit.
  void release(SellerActions& a);
  Invoice invoice();
  SellerActions refuse(const std::string& reason, std::optional<tron::Hash32> txid,
                       const std::string& msg, bool ban);
  void merge(SellerActions& into, SellerActions from);
  void update_rate(std::int64_t bytes, Clock::time_point now);
  void update_prov_limit();
  std::int64_t prov_counted() const;

  SellerSettings s_;
  std::int64_t version_;
  std::string nonce_, info_hash_hex_, seeder_hex_, leecher_hex_;
  std::optional<tron::Address> payer_;
  std::optional<U256> bid_;
  U256 owed_base_ = 0;             // owed for bytes billed at earlier bids
  std::int64_t bytes_at_bid_ = 0;  // billed at the current bid
  std::int64_t billed_bytes_ = 0;
  U256 paid_ = 0;             // credited in this session
  std::int64_t carried_ = 0;  // unpaid bytes of earlier sessions
  U256 prior_paid_ = 0;       // fresh credits of prior settlements: they pay carried_
  // Bytes paid_ pays for at the price, worked out when a credit comes rather than for every
  // block sent (a 256-bit division).
  std::int64_t covered_ = 0;
  std::int64_t prior_covered_ = 0;  // bytes prior_paid_ pays for
  // Provisional credit: settlements whose signed transaction was checked and accepted by the
  // node, by txid, until final.
  std::map<tron::Hash32, U256> provisional_;
  U256 pending_ = 0;                // their sum
  std::int64_t pending_bytes_ = 0;  // bytes their sum pays for
  std::int64_t record_ = 0;         // bytes of the payer's confirmed payments, all sessions
  std::optional<U256> available_;   // balance at the backing check minus settled since
  bool backing_asked_ = false;
  bool backed_ = false;
  bool unfunded_ = false;
  std::int64_t prov_limit_ = 0;
  double rate_ = 0;  // bytes per second sent to the peer, recent peak
  Clock::time_point rate_since_{};
  std::int64_t rate_bytes_ = 0;
  std::vector<Settle> verifying_;                            // asked of the chain, no answer yet
  std::vector<std::pair<Settle, Clock::time_point>> retry_;  // to ask again at that time
  std::set<tron::Hash32> told_unconfirmed_;  // a reject `unconfirmed` was sent once for these
  int prior_settles_ = 0;
  std::int64_t seq_ = 0;
  std::int64_t last_invoiced_bytes_ = -1;
  std::int64_t invoice_bytes_ = kMiB;  // new billed bytes that call for an invoice
  Clock::time_point last_invoice_{};
  std::optional<Clock::time_point> over_since_;
  Clock::time_point last_payload_{};
  bool choked_ = false;   // over credit
  bool holding_ = false;  // waiting for the answer to the terms
  Clock::time_point started_{};
  bool banned_ = false;
};

}  // namespace bttnode::pay
