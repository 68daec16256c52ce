#pragma once
// Token amounts as people write them: base units ("1000"), or whole tokens with a unit
// ("2.5btt", "0.001trx", "3 bttold", "1.5token"). Exact: decimal text to integer base units,
// no floating point; more fractional digits than the token has are refused.
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "tron/abi.hpp"
#include "tron/network.hpp"
#include "tron/token.hpp"

namespace tron {

class FullNodeClient;

// Decimals known without a node: TRX 6, the network's BTTOLD 6, its TRC-20 BTT 18.
std::optional<unsigned> known_decimals(const Token& token, const Network& network);

// Asked for the decimals of a token known_decimals does not know; may throw.
using DecimalsLookup = std::function<unsigned(const Token&)>;

// The amount in base units of `token`. Forms:
//   1000          base units (a whole number, no unit)
//   1000sun       TRX base units (token trx only)
//   2.5trx        whole TRX            (token trx only)
//   2.5btt        whole BTT (TRC-20)   (token btt only)
//   2.5bttold     whole BTTOLD (TRC-10 1002000) (token bttold only)
//   2.5token      whole units of any token; for a token with no known decimals they come
//                 from `lookup`, and without one the form is refused
// A space may stand between number and unit; units are case-insensitive. Throws
// std::invalid_argument naming the text and what is wrong.
U256 parse_token_amount(std::string_view text, const Token& token, const Network& network,
                        const DecimalsLookup& lookup = {});

// Decimals from the node: decimals() of a TRC-20 contract, precision of a TRC-10 asset
// (/wallet/getassetissuebyid), 6 for TRX. Throws NodeError, std::invalid_argument for an
// asset the node does not know.
unsigned node_token_decimals(FullNodeClient& node, const Token& token);

// "2.5 BTT" when the symbol and decimals are known, "2.5 trc20:T..." with decimals only,
// else "2500 base units of trc10:1000001".
std::string format_token_amount(const U256& amount, const Token& token, const Network& network,
                                std::optional<unsigned> decimals = std::nullopt);

// TRX as text, e.g. 350000 sun -> "0.35 TRX".
std::string format_trx(std::int64_t sun);

}  // namespace tron
