#include "tron/amount.hpp"

#include <cctype>

#include <nlohmann/json.hpp>

#include "tron/fullnode_client.hpp"

namespace tron {

namespace {

// Longer text is no amount anyone means: 2^256 has 78 digits.
constexpr std::size_t kMaxAmountText = 120;

std::invalid_argument bad(std::string_view text, const std::string& why) {
  return std::invalid_argument("bad amount '" + std::string(text) + "': " + why);
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string token_name(const Token& token, const Network& network) {
  auto symbol = token_symbol(token, network);
  return symbol ? *symbol + " (" + token.to_string() + ")" : token.to_string();
}

}  // namespace

std::optional<unsigned> known_decimals(const Token& token, const Network& network) {
  switch (token.kind) {
    case Token::Kind::Trx:
      return kTrxDecimals;
    case Token::Kind::Trc10:
      if (token.asset_id == network.bttold_asset) return kBttOldDecimals;
      return std::nullopt;
    case Token::Kind::Trc20:
      if (network.btt && token.contract == *network.btt) return kBttDecimals;
      return std::nullopt;
  }
  return std::nullopt;
}

U256 parse_token_amount(std::string_view text, const Token& token, const Network& network,
                        const DecimalsLookup& lookup) {
  if (text.size() > kMaxAmountText) {
    throw bad(text.substr(0, 20), "longer than " + std::to_string(kMaxAmountText) + " characters");
  }
  std::string_view s = trim(text);
  if (s.empty()) throw bad(text, "empty");
  std::size_t split = 0;
  while (split < s.size() &&
         (std::isdigit(static_cast<unsigned char>(s[split])) || s[split] == '.'))
    ++split;
  const std::string_view number = s.substr(0, split);
  const std::string unit = lower(trim(s.substr(split)));
  if (number.empty()) {
    throw bad(text, s[0] == '-' ? "amounts cannot be negative" : "expected a number first");
  }
  for (char c : unit) {
    if (!std::isalpha(static_cast<unsigned char>(c))) {
      throw bad(text, "expected a number and an optional unit (trx, sun, btt, bttold, token)");
    }
  }
  const bool decimal = number.find('.') != std::string_view::npos;

  // Which unit means which token; the unit must name the token in use.
  auto need = [&](bool ok, const std::string& unit_means) {
    if (!ok) {
      throw bad(text, "the unit " + unit + " is for " + unit_means + ", but the token is " +
                          token_name(token, network));
    }
  };
  unsigned decimals = 0;
  if (unit.empty()) {
    if (decimal) {
      throw bad(text,
                "a number without a unit is in base units and must be whole; for whole "
                "tokens add a unit, e.g. " +
                    std::string(number) + "token");
    }
  } else if (unit == "sun") {
    need(token.kind == Token::Kind::Trx, "TRX");
    if (decimal)
      throw bad(text, "sun are TRX base units and come whole; for TRX write " +
                          std::string(number) + "trx");
  } else if (unit == "trx") {
    need(token.kind == Token::Kind::Trx, "TRX");
    decimals = kTrxDecimals;
  } else if (unit == "btt") {
    if (!network.btt) throw bad(text, "no BTT on " + network.name + ": " + network.btt_note);
    need(token.kind == Token::Kind::Trc20 && token.contract == *network.btt,
         "BTT (trc20:" + network.btt->to_base58() + ")");
    decimals = kBttDecimals;
  } else if (unit == "bttold") {
    need(token.kind == Token::Kind::Trc10 && token.asset_id == network.bttold_asset,
         "BTTOLD (trc10:" + network.bttold_asset + ")");
    decimals = kBttOldDecimals;
  } else if (unit == "token" || unit == "tokens") {
    if (auto known = known_decimals(token, network)) {
      decimals = *known;
    } else if (lookup) {
      decimals = lookup(token);
    } else {
      throw bad(text, "the decimals of " + token.to_string() +
                          " are not known here; give the amount in base units");
    }
  } else {
    throw bad(text, "unknown unit '" + unit + "' (expected trx, sun, btt, bttold or token)");
  }

  if (decimal) {
    const std::size_t dot = number.find('.');
    const std::size_t digits = number.size() - dot - 1;
    if (digits > decimals) {
      throw bad(text, token_name(token, network) + " has " + std::to_string(decimals) +
                          " decimals, the amount has " + std::to_string(digits) +
                          " digits after the point");
    }
  }
  try {
    return abi::parse_units(number, decimals);
  } catch (const std::invalid_argument& e) {
    // parse_units names only the number; say the whole text.
    std::string why = e.what();
    if (auto colon = why.find("': "); colon != std::string::npos) why = why.substr(colon + 3);
    throw bad(text, why);
  }
}

unsigned node_token_decimals(FullNodeClient& node, const Token& token) {
  switch (token.kind) {
    case Token::Kind::Trx:
      return kTrxDecimals;
    case Token::Kind::Trc20: {
      int d = node.trc20_decimals(token.contract);
      if (d > 77) {
        throw NodeError("INVALID_ANSWER", "decimals() of " + token.to_string() + " is " +
                                              std::to_string(d) + ", beyond what uint256 holds");
      }
      return static_cast<unsigned>(d);
    }
    case Token::Kind::Trc10: {
      nlohmann::json asset = node.post("/wallet/getassetissuebyid", {{"value", token.asset_id}});
      if (asset.empty()) {
        throw std::invalid_argument("the node knows no TRC-10 asset " + token.asset_id);
      }
      auto p = asset.find("precision");
      if (p == asset.end()) return 0;  // java-tron leaves out a precision of 0
      if (!p->is_number_integer() || p->get<std::int64_t>() < 0 || p->get<std::int64_t>() > 18) {
        throw NodeError("INVALID_ANSWER",
                        "/wallet/getassetissuebyid: 'precision' is not a number from 0 to 18");
      }
      return static_cast<unsigned>(p->get<std::int64_t>());
    }
  }
  return 0;
}

std::string format_token_amount(const U256& amount, const Token& token, const Network& network,
                                std::optional<unsigned> decimals) {
  if (!decimals) decimals = known_decimals(token, network);
  if (!decimals) return abi::to_decimal(amount) + " base units of " + token.to_string();
  auto symbol = token_symbol(token, network);
  return abi::format_units(amount, *decimals) + " " + (symbol ? *symbol : token.to_string());
}

std::string format_trx(std::int64_t sun) {
  std::string sign = sun < 0 ? "-" : "";
  U256 magnitude = sun < 0 ? U256(-(sun + 1)) + 1 : U256(sun);
  return sign + abi::format_units(magnitude, kTrxDecimals) + " TRX";
}

}  // namespace tron
