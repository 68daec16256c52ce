#include "base/settings.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace base {

const char* to_string(SettingType t) {
  switch (t) {
    case SettingType::Bool:
      return "bool";
    case SettingType::Int:
      return "int";
    case SettingType::Int64:
      return "int64";
    case SettingType::Double:
      return "double";
    case SettingType::String:
      return "string";
    case SettingType::Duration:
      return "duration";
    case SettingType::Bytes:
      return "bytes";
    case SettingType::Rate:
      return "bytes/s";
  }
  return "?";
}

namespace {

// A decimal integer with nothing before or after it; false on overflow.
bool whole_number(const std::string& text, std::size_t& used, long long& out) {
  if (text.empty() || !(std::isdigit(static_cast<unsigned char>(text[0])) || text[0] == '-')) {
    return false;
  }
  errno = 0;
  char* end = nullptr;
  out = std::strtoll(text.c_str(), &end, 10);
  used = std::size_t(end - text.c_str());
  return errno == 0 && used > 0 && !(used == 1 && text[0] == '-');
}

std::int64_t scaled(long long v, long long mult, const std::string& text) {
  if (v > 0 && v > std::numeric_limits<std::int64_t>::max() / mult) {
    throw SettingsError("'" + text + "' is too large");
  }
  if (v < 0 && v < std::numeric_limits<std::int64_t>::min() / mult) {
    throw SettingsError("'" + text + "' is too small");
  }
  return v * mult;
}

}  // namespace

std::int64_t parse_byte_size(const std::string& text) {
  std::size_t used = 0;
  long long v = 0;
  if (!whole_number(text, used, v)) {
    throw SettingsError("'" + text + "' is not a number of bytes (e.g. 1000, 500k, 4M, 1G)");
  }
  const std::string suffix = text.substr(used);
  long long mult = 1;
  if (suffix == "k" || suffix == "K")
    mult = 1024;
  else if (suffix == "m" || suffix == "M")
    mult = 1024 * 1024;
  else if (suffix == "g" || suffix == "G")
    mult = 1024ll * 1024 * 1024;
  else if (!suffix.empty())
    throw SettingsError("unknown suffix '" + suffix + "' in '" + text + "'");
  return scaled(v, mult, text);
}

std::chrono::milliseconds parse_duration(const std::string& text) {
  std::size_t used = 0;
  long long v = 0;
  if (!whole_number(text, used, v)) {
    throw SettingsError("'" + text + "' is not a duration (e.g. 250ms, 30s, 5m, 2h)");
  }
  const std::string suffix = text.substr(used);
  long long mult = 0;
  if (suffix == "ms")
    mult = 1;
  else if (suffix == "s" || suffix.empty())
    mult = 1000;
  else if (suffix == "m")
    mult = 60'000;
  else if (suffix == "h")
    mult = 3'600'000;
  else
    throw SettingsError("unknown unit '" + suffix + "' in '" + text + "' (ms, s, m or h)");
  return std::chrono::milliseconds(scaled(v, mult, text));
}

std::string format_duration(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0 && ms / 60'000 < 60) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

namespace {

std::string bounds_text(const SettingInfo& info) {
  auto num = [&](double x) {
    if (info.type == SettingType::Duration) {
      return format_duration(std::chrono::milliseconds(std::llround(x)));
    }
    if (info.type == SettingType::Double) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g", x);
      return std::string(buf);
    }
    return std::to_string(std::llround(x));
  };
  const bool has_min = info.min > std::numeric_limits<double>::lowest();
  const bool has_max = info.max < std::numeric_limits<double>::max();
  if (has_min && has_max) return "from " + num(info.min) + " to " + num(info.max);
  if (has_min) return "at least " + num(info.min);
  return "at most " + num(info.max);
}

void check_bounds(const SettingInfo& info, double v, const std::string& shown) {
  if (v < info.min || v > info.max) {
    throw SettingsError(info.name + ": " + shown + " is out of bounds (" + bounds_text(info) + ")");
  }
}

SettingsError wrong_type(const SettingInfo& info, const nlohmann::json& v, const char* want) {
  return SettingsError(info.name + ": want " + want + ", got " + v.dump());
}

}  // namespace

nlohmann::json check_setting_value(const SettingInfo& info, const nlohmann::json& v) {
  switch (info.type) {
    case SettingType::Bool:
      if (!v.is_boolean()) throw wrong_type(info, v, "true or false");
      return v;
    case SettingType::String:
      if (!v.is_string()) throw wrong_type(info, v, "a string");
      return v;
    case SettingType::Double: {
      if (!v.is_number()) throw wrong_type(info, v, "a number");
      const double d = v.get<double>();
      if (!std::isfinite(d)) throw wrong_type(info, v, "a finite number");
      check_bounds(info, d, v.dump());
      return d;
    }
    case SettingType::Int:
    case SettingType::Int64: {
      if (!v.is_number_integer()) throw wrong_type(info, v, "a whole number");
      if (v.is_number_unsigned() &&
          v.get<std::uint64_t>() > std::uint64_t(std::numeric_limits<std::int64_t>::max())) {
        throw SettingsError(info.name + ": " + v.dump() + " is too large");
      }
      const std::int64_t n = v.get<std::int64_t>();
      check_bounds(info, double(n), v.dump());
      return n;
    }
    case SettingType::Bytes:
    case SettingType::Rate: {
      std::int64_t n = 0;
      if (v.is_string()) {
        try {
          n = parse_byte_size(v.get<std::string>());
        } catch (const SettingsError& e) {
          throw SettingsError(info.name + ": " + e.what());
        }
      } else if (v.is_number_integer() &&
                 !(v.is_number_unsigned() && v.get<std::uint64_t>() > std::uint64_t(INT64_MAX))) {
        n = v.get<std::int64_t>();
      } else {
        throw wrong_type(info, v, "a number of bytes (1000, \"4M\")");
      }
      check_bounds(info, double(n), v.dump());
      return n;
    }
    case SettingType::Duration: {
      std::int64_t ms = 0;
      if (v.is_string()) {
        try {
          ms = parse_duration(v.get<std::string>()).count();
        } catch (const SettingsError& e) {
          throw SettingsError(info.name + ": " + e.what());
        }
      } else if (v.is_number() && std::isfinite(v.get<double>()) &&
                 std::fabs(v.get<double>()) < 1e12) {
        ms = std::llround(v.get<double>() * 1000);  // a number is seconds
      } else {
        throw wrong_type(info, v, "a duration (\"30s\", \"250ms\", or seconds)");
      }
      check_bounds(info, double(ms), v.dump());
      return ms;
    }
  }
  return v;
}

nlohmann::json parse_setting_text(const SettingInfo& info, const std::string& text) {
  switch (info.type) {
    case SettingType::Bool:
      if (text == "true" || text == "1" || text == "yes" || text == "on") return true;
      if (text == "false" || text == "0" || text == "no" || text == "off") return false;
      throw SettingsError(info.name + ": want true or false, got '" + text + "'");
    case SettingType::String:
      return text;
    case SettingType::Double: {
      char* end = nullptr;
      const double d = std::strtod(text.c_str(), &end);
      if (text.empty() || *end) throw SettingsError(info.name + ": '" + text + "' is not a number");
      return d;
    }
    case SettingType::Int:
    case SettingType::Int64: {
      std::size_t used = 0;
      long long n = 0;
      if (!whole_number(text, used, n) || used != text.size()) {
        throw SettingsError(info.name + ": '" + text + "' is not a whole number");
      }
      return std::int64_t(n);
    }
    case SettingType::Bytes:
    case SettingType::Rate:
    case SettingType::Duration:
      return text;  // checked with its unit by check_setting_value
  }
  return text;
}

std::string setting_value_text(const SettingInfo&, const nlohmann::json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

}  // namespace base
