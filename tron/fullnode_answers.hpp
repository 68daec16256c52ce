#pragma once
// The full node's answers read into values, without any I/O, so that they are tested and
// fuzzed apart from the connection. Every reader throws NodeError{INVALID_ANSWER} on an answer
// of the wrong shape, naming the path and the field.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tron/fullnode_client.hpp"

namespace tron::answers {

// The largest answer each API path can honestly give, as read from the wire. An account with
// every TRC-10 asset, a transaction and its info with logs, all fit well in 1 MiB; a block of
// the 2 MB java-tron allows, printed as JSON with hex, fits in 8 MiB.
std::size_t size_limit(std::string_view path);
constexpr int kMaxDepth = 64;

// An HTTP answer: a non-200 status throws NodeError{"HTTP <status>"}, a body that is not one
// JSON object (or is over `max_bytes`, or nests over kMaxDepth) INVALID_ANSWER, a body with an
// "Error" field NodeError{ERROR}.
nlohmann::json parse_answer(std::string_view path, unsigned status, std::string_view reason,
                            std::string_view body, std::size_t max_bytes);

BlockRef block(std::string_view path, const nlohmann::json& answer);
AccountBalances account(std::string_view path, const nlohmann::json& answer,
                        const Address& address);
std::map<std::string, std::int64_t> chain_parameters(std::string_view path,
                                                     const nlohmann::json& answer);
// constant_result[0] of triggerconstantcontract; throws the node's code on a revert.
Bytes constant_result(std::string_view path, const nlohmann::json& answer,
                      std::string_view function_selector);
BroadcastResult broadcast(std::string_view path, const nlohmann::json& answer,
                          const std::string& txid, bool retried);
// nullopt for {} (not in a block yet).
std::optional<nlohmann::json> transaction(std::string_view path, nlohmann::json answer,
                                          const std::string& txid_hex);
std::optional<TxInfo> transaction_info(std::string_view path, nlohmann::json answer,
                                       const std::string& txid_hex);

// java-tron prints bytes fields as hex; returns printable UTF-8 decoded, anything else as is.
std::string decode_message(const std::string& text);
// A short printable excerpt of an answer, for error messages.
std::string excerpt(std::string_view text);

}  // namespace tron::answers
