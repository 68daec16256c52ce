#pragma once
// java-tron's HTTP JSON for the messages the devnet serves: proto3 JSON with default values
// left out, bytes as hex, and with visible=true addresses in base58 and names as text.
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "tron/devnet/state.hpp"
#include "tron/hashes.hpp"
#include "tron/proto/tron.pb.h"

namespace tron::devnet {

// An error reported as java-tron reports an exception: {"Error": "class <java_class> : <msg>"}.
struct JavaError : std::runtime_error {
  std::string java_class;
  JavaError(std::string cls, const std::string& message)
      : std::runtime_error(message), java_class(std::move(cls)) {}
  std::string text() const { return "class " + java_class + " : " + what(); }
};

inline constexpr const char* kParseException =
    "org.tron.core.services.http.JsonFormat$ParseException";
inline constexpr const char* kIllegalArgument = "java.lang.IllegalArgumentException";

// Util.printTransactionToJSON: {ret?, signature?, txID, raw_data, raw_data_hex}.
nlohmann::json tx_to_json(const protocol::Transaction& tx, bool visible);
// Util.packTransaction: the transaction from its JSON (raw_data and signature; txID and
// raw_data_hex are ignored as java-tron ignores them). Throws JavaError.
protocol::Transaction tx_from_json(const nlohmann::json& j, bool visible);

nlohmann::json block_to_json(const protocol::Block& block, const Hash32& id, bool visible,
                             bool with_transactions = true);
// genesis_ms: block 0's time; java-tron reports the resource slots as genesis + slot * 3 s.
nlohmann::json account_to_json(const Account& account, bool visible, std::int64_t genesis_ms = 0);
nlohmann::json info_to_json(const protocol::TransactionInfo& info, bool visible);
nlohmann::json asset_to_json(const AssetIssue& asset, bool visible);

// An address field: base58 when visible, else "41…" hex.
std::string address_text(const std::string& raw_bytes, bool visible);
// Reads an address field from a request. Throws JavaError on bad text.
std::string address_from_json(const nlohmann::json& v, bool visible, const char* field);
// Reads an int64 (number or decimal string). Throws JavaError.
std::int64_t int_from_json(const nlohmann::json& v, const char* field);
// Reads a hex bytes field. Throws JavaError.
std::string hex_bytes_from_json(const nlohmann::json& v, const char* field);

}  // namespace tron::devnet
