#pragma once
// The btt_pay extension's messages (docs/btt_pay.md): plain structs, their bencoded form,
// the bind text and the one rounding rule every amount follows. No I/O here.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>

#include "tron/address.hpp"
#include "tron/hashes.hpp"
#include "tron/keys.hpp"
#include "tron/token.hpp"
#include "tron/transaction.hpp"

namespace bttnode::pay {

inline constexpr const char* kExtensionName = "btt_pay";
// The highest version this side speaks; a session speaks the lower of both sides' versions.
inline constexpr std::int64_t kVersion = 2;
inline constexpr std::int64_t kMinVersion = 1;
// A signed payment transaction carried in a version-2 settle is at most this long.
inline constexpr std::size_t kMaxSettleTx = 4096;
inline constexpr std::int64_t kMiB = 1 << 20;
inline constexpr std::size_t kNonceSize = 16;
// Settlements of earlier sessions a seller accepts in one session, and so the most a payer
// resends to a seller it meets again.
inline constexpr int kMaxPriorSettles = 32;

using tron::U256;

// floor(bytes * price / 2^20): what `bytes` payload bytes cost at `price` base units per MiB.
U256 owed(std::int64_t bytes, const U256& price);
// The fewest bytes whose cost reaches `amount` (inverse of owed, rounding up).
std::int64_t bytes_covered(const U256& amount, const U256& price);
// floor(amount * 2^20 / price), saturating: the bytes `amount` pays for in full (the spec's
// rule for what a credited amount covers).
std::int64_t bytes_paid_for(const U256& amount, const U256& price);

struct ProtocolError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Terms {
  tron::Address addr;
  std::string chain;  // hex block id of block 0
  tron::Token token;
  U256 price = 0;           // base units per MiB
  std::int64_t credit = 0;  // payload bytes
  U256 min_settle = 0;      // base units
  std::int64_t confirmations = 1;
  std::string nonce;  // kNonceSize raw bytes
  // Version 2: the largest window the seeder ever grants one payer (0: not sent, version 1).
  std::int64_t max_credit = 0;
  bool operator==(const Terms&) const = default;
};

struct Bind {
  tron::Address addr;
  tron::Signature sig{};
  bool operator==(const Bind&) const = default;
};

struct Bid {
  U256 price = 0;
  bool operator==(const Bid&) const = default;
};

struct Invoice {
  std::int64_t seq = 0;
  std::int64_t bytes = 0;
  U256 owed = 0;
  U256 paid = 0;
  // Unpaid bytes of earlier sessions of the same payer on this torrent, still counted against
  // its credit; optional on the wire (0 when absent).
  std::int64_t carried = 0;
  // Version 2: the unpaid bytes the seeder allows now (it grows with what the payer paid) and
  // the amount accepted provisionally, not yet final. 0 when absent.
  std::int64_t window = 0;
  U256 pending = 0;
  bool operator==(const Invoice&) const = default;
};

struct Settle {
  tron::Hash32 txid{};
  U256 amount = 0;
  bool prior = false;  // pays bytes of an earlier session (resent after a restart)
  // Version 2: the signed transaction (protobuf Transaction bytes), so the seeder can check it
  // at once and broadcast it itself. Empty: the seeder looks the txid up on the chain.
  std::string tx;
  bool operator==(const Settle&) const = default;
};

struct Receipt {
  tron::Hash32 txid{};
  U256 credited = 0;
  U256 paid = 0;
  // Version 2: the transaction was checked and accepted by the seeder's node; it counts as
  // paid while it confirms, and a final receipt (provisional false) follows.
  bool provisional = false;
  std::int64_t window = 0;  // as in the invoice; 0 when absent
  bool operator==(const Receipt&) const = default;
};

namespace reason {
inline constexpr const char* kVersion = "version";
inline constexpr const char* kBadBind = "bad_bind";
inline constexpr const char* kOverCredit = "over_credit";
inline constexpr const char* kPrice = "price";
inline constexpr const char* kWrongChain = "wrong_chain";
inline constexpr const char* kProtocol = "protocol";
inline constexpr const char* kUnconfirmed = "unconfirmed";
inline constexpr const char* kUnfunded = "unfunded";
inline constexpr const char* kBusy = "busy";
}  // namespace reason

struct Reject {
  std::string reason;
  std::optional<tron::Hash32> txid;
  std::string msg;
  bool operator==(const Reject&) const = default;
};

using Message = std::variant<Terms, Bind, Bid, Invoice, Settle, Receipt, Reject>;

const char* type_name(const Message& m);
// The message as `version` has it: version 1 leaves out the fields version 2 added.
std::string encode(const Message& m, std::int64_t version = kVersion);
// Throws ProtocolError for anything that is not a well-formed message of a version from
// kMinVersion to kVersion (a field missing or of the wrong type, an amount that is negative or
// too large, a bad address...). `version`, when given, receives the message's version.
Message decode(std::string_view body, std::int64_t* version = nullptr);
// The version a session speaks with a peer that advertised `theirs` in its handshake (0 or
// absent: 1).
std::int64_t session_version(std::int64_t theirs);

// The text the downloader signs with TIP-191 to bind its address (see the spec).
std::string bind_text(std::string_view chain, std::string_view info_hash_hex,
                      std::string_view seeder_peer_id_hex, std::string_view leecher_peer_id_hex,
                      std::string_view nonce);

}  // namespace bttnode::pay
