#pragma once
// A torrent's own payment terms over the daemon's (torrent-set's bttnode* arguments), kept in
// its record as the user wrote them: amounts in the config's forms ("0.5btt", or base units),
// turned into base units of the selling or buying token by the daemon.
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace bttnode::daemon {

struct PayOverrides {
  std::optional<bool> sell;              // sell this torrent (true) or give it away (false)
  std::optional<std::string> price;      // per MiB, in the selling token
  std::optional<std::string> max_price;  // per MiB, in the buying token
  std::optional<std::string> budget;     // for this torrent, in the buying token; "0": none
  bool empty() const { return !sell && !price && !max_price && !budget; }
  bool operator==(const PayOverrides&) const = default;
};

// The torrent-set and torrent-get names.
inline constexpr const char* kSellArg = "bttnodeSell";
inline constexpr const char* kPriceArg = "bttnodePrice";
inline constexpr const char* kMaxPriceArg = "bttnodeMaxPrice";
inline constexpr const char* kBudgetArg = "bttnodeBudget";

// Whether `args` names any of them.
bool has_override_args(const nlohmann::json& args);
// `current` with the arguments applied: an absent one leaves its value, null or "" gives it
// back to the session's. Amounts are strings or whole numbers of base units; bttnodeSell a
// boolean (or 0/1). Throws std::invalid_argument naming the argument and what is wrong.
PayOverrides apply_override_args(PayOverrides current, const nlohmann::json& args);

// Every key, null where the session's terms hold.
nlohmann::json overrides_to_json(const PayOverrides& o);
// Throws std::invalid_argument for a value of the wrong type or form.
PayOverrides overrides_from_json(const nlohmann::json& j);

}  // namespace bttnode::daemon
