#include "tron/token.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace tron {

namespace {

constexpr std::string_view kForms = "expected trx, trc10:<asset id> or trc20:<contract address>";

bool iequals_prefix(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

std::invalid_argument bad(std::string_view text, std::string_view why) {
  return std::invalid_argument("bad token '" + std::string(text) + "': " + std::string(why) +
                               " (" + std::string(kForms) + ")");
}

}  // namespace

Token Token::parse(std::string_view text) {
  Token token;
  if (text.size() == 3 && iequals_prefix(text, "trx")) return token;

  if (iequals_prefix(text, "trc10:")) {
    std::string_view id = text.substr(6);
    // java-tron asset ids are decimal numbers (1000001 and up); they travel as ASCII digits.
    if (id.empty() || id.size() > 19) throw bad(text, "the asset id must be 1 to 19 digits");
    if (!std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      throw bad(text, "the asset id must be decimal digits");
    }
    if (id[0] == '0') throw bad(text, "the asset id must not start with 0");
    token.kind = Kind::Trc10;
    token.asset_id = std::string(id);
    return token;
  }

  if (iequals_prefix(text, "trc20:")) {
    std::string_view contract = text.substr(6);
    auto address = Address::parse(contract);
    if (!address) throw bad(text, "the contract is not a base58 or 41-hex TRON address");
    token.kind = Kind::Trc20;
    token.contract = *address;
    return token;
  }

  throw bad(text, "unknown token kind");
}

std::string Token::to_string() const {
  switch (kind) {
    case Kind::Trx:
      return "trx";
    case Kind::Trc10:
      return "trc10:" + asset_id;
    case Kind::Trc20:
      return "trc20:" + contract.to_base58();
  }
  return "trx";
}

}  // namespace tron
