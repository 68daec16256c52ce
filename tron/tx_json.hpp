#pragma once
// java-tron's JSON form of transactions (the shape /wallet/createtransaction answers and
// /wallet/broadcasttransaction takes). With visible=false addresses are 41-hex and byte
// fields hex; with visible=true addresses are base58 and name fields (asset_name) plain text.
// Only fields with non-default values are printed, as java-tron does.
#include <string>

#include <nlohmann/json.hpp>

#include "tron/proto/tron.pb.h"

namespace tron::txjson {

// `raw_bytes` is the serialized raw_data (the caller usually has it already).
nlohmann::json transaction_to_json(const protocol::Transaction& tx, const std::string& raw_bytes,
                                   bool visible);
nlohmann::json raw_to_json(const protocol::Transaction::raw& raw, bool visible);

// Reads the JSON form. raw_data_hex, when present, is the transaction's raw_data; raw_data,
// when present too, must encode to the same bytes, and txID must be their SHA-256. Only
// TransferContract, TransferAssetContract and TriggerSmartContract are understood in
// raw_data. Throws std::invalid_argument saying what is wrong.
protocol::Transaction transaction_from_json(const nlohmann::json& json);
protocol::Transaction::raw raw_from_json(const nlohmann::json& raw_data, bool visible);

}  // namespace tron::txjson
