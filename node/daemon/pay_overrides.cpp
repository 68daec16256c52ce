#include "node/daemon/pay_overrides.hpp"

#include <cctype>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace bttnode::daemon {

namespace {

using json = nlohmann::json;

[[noreturn]] void bad(const char* name, const std::string& why) {
  throw std::invalid_argument(std::string("invalid argument \"") + name + "\": " + why);
}

// A number with an optional fraction and unit ("2.5btt", "1000"); the token decides later
// whether the unit and decimals fit it.
bool amount_form(const std::string& s) {
  std::size_t i = 0, digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  }
  if (i < s.size() && s[i] == ' ') ++i;
  while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
  return digits > 0 && i == s.size() && s.size() <= 100;
}

// nullopt for null or "": the session's value.
std::optional<std::string> amount_arg(const json& v, const char* name) {
  const char* want = "want an amount per the config's forms (\"0.5btt\", or base units), or null";
  if (v.is_null()) return std::nullopt;
  if (v.is_number_unsigned()) return std::to_string(v.get<std::uint64_t>());
  if (v.is_number_integer()) {
    if (v.get<std::int64_t>() < 0) bad(name, "cannot be negative");
    return std::to_string(v.get<std::int64_t>());
  }
  if (!v.is_string()) bad(name, want);
  std::string s = v.get<std::string>();
  if (s.empty()) return std::nullopt;
  if (!amount_form(s)) bad(name, "'" + s.substr(0, 100) + "': " + want);
  return s;
}

std::optional<bool> bool_arg(const json& v, const char* name) {
  if (v.is_null()) return std::nullopt;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number_integer() && (v.get<std::int64_t>() == 0 || v.get<std::int64_t>() == 1)) {
    return v.get<std::int64_t>() == 1;  // Transmission's clients send 0/1
  }
  bad(name, "want true, false or null");
}

}  // namespace

bool has_override_args(const json& args) {
  for (const char* n : {kSellArg, kPriceArg, kMaxPriceArg, kBudgetArg}) {
    if (args.contains(n)) return true;
  }
  return false;
}

PayOverrides apply_override_args(PayOverrides o, const json& args) {
  if (auto it = args.find(kSellArg); it != args.end()) o.sell = bool_arg(*it, kSellArg);
  if (auto it = args.find(kPriceArg); it != args.end()) o.price = amount_arg(*it, kPriceArg);
  if (auto it = args.find(kMaxPriceArg); it != args.end()) {
    o.max_price = amount_arg(*it, kMaxPriceArg);
  }
  if (auto it = args.find(kBudgetArg); it != args.end()) o.budget = amount_arg(*it, kBudgetArg);
  return o;
}

json overrides_to_json(const PayOverrides& o) {
  auto opt = [](const auto& v) { return v ? json(*v) : json(nullptr); };
  return {{kSellArg, opt(o.sell)},
          {kPriceArg, opt(o.price)},
          {kMaxPriceArg, opt(o.max_price)},
          {kBudgetArg, opt(o.budget)}};
}

PayOverrides overrides_from_json(const json& j) {
  if (!j.is_object()) throw std::invalid_argument("pay overrides: want an object");
  return apply_override_args({}, j);
}

}  // namespace bttnode::daemon
