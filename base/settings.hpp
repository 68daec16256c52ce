#pragma once
// A table of named settings bound to the fields of a settings struct. The struct's member
// initialisers are the defaults; the table gives each field a name (the command-line flag),
// a JSON key, a type, bounds, a help text and whether it may change while running. A config
// file, the command line and a control API read and write settings through the same table.
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

namespace base {

enum class SettingType { Bool, Int, Int64, Double, String, Duration, Bytes, Rate };
const char* to_string(SettingType t);

// A bad settings value or key; the message names the setting.
struct SettingsError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Text forms, also used by the command line: "500k", "4M", "1G" (powers of 1024) or a plain
// number of bytes; durations "250ms", "30s", "5m", "2h" (a bare number is seconds).
std::int64_t parse_byte_size(const std::string& text);
std::chrono::milliseconds parse_duration(const std::string& text);
std::string format_duration(std::chrono::milliseconds d);

struct SettingInfo {
  std::string name;      // flag name: "max-upload-rate"
  std::string json_key;  // "max_upload_rate"
  SettingType type = SettingType::Int;
  std::string help;
  bool runtime = false;  // may be set while running
  double min = std::numeric_limits<double>::lowest();
  double max = std::numeric_limits<double>::max();
};

template <typename T>
class SettingsTable {
 public:
  struct Entry {
    SettingInfo info;
    std::function<nlohmann::json(const T&)> get;
    std::function<void(T&, const nlohmann::json&)> set;  // value checked by the table
  };

  // Binds a field reached by `field` (a function T& -> M&). M is bool, an integer, double,
  // std::string, a std::chrono::duration, or std::optional of one of those (null clears it).
  template <typename F>
  SettingsTable& add(SettingInfo info, F field) {
    using M = std::remove_reference_t<decltype(field(std::declval<T&>()))>;
    check_type<M>(info);
    Entry e;
    e.info = std::move(info);
    e.get = [field](const T& t) { return to_json(field(const_cast<T&>(t))); };
    e.set = [field, info = e.info](T& t, const nlohmann::json& v) {
      field(t) = from_json<M>(info, v);
    };
    entries_.push_back(std::move(e));
    return *this;
  }

  // Every entry of `inner`, reached through `part` (a function T& -> Inner&).
  template <typename Inner, typename F>
  SettingsTable& include(const SettingsTable<Inner>& inner, F part) {
    for (const auto& ie : inner.entries()) {
      Entry e;
      e.info = ie.info;
      e.get = [part, g = ie.get](const T& t) { return g(part(const_cast<T&>(t))); };
      e.set = [part, s = ie.set](T& t, const nlohmann::json& v) { s(part(t), v); };
      entries_.push_back(std::move(e));
    }
    return *this;
  }

  const std::vector<Entry>& entries() const { return entries_; }
  const Entry* find(const std::string& name) const {
    for (const auto& e : entries_) {
      if (e.info.name == name || e.info.json_key == name) return &e;
    }
    return nullptr;
  }

  // Applies a JSON object; every key must be known (the error names the unknown ones) and
  // every value of its type and within its bounds. Nothing is changed when anything is wrong.
  void load(T& t, const nlohmann::json& object) const {
    if (!object.is_object()) throw SettingsError("settings: want a JSON object");
    std::vector<std::string> unknown;
    for (auto it = object.begin(); it != object.end(); ++it) {
      if (!find_key(it.key())) unknown.push_back(it.key());
    }
    if (!unknown.empty()) {
      std::string names;
      for (const auto& u : unknown) names += (names.empty() ? "" : ", ") + u;
      throw SettingsError("unknown setting" + std::string(unknown.size() > 1 ? "s: " : ": ") +
                          names);
    }
    T copy = t;
    for (auto it = object.begin(); it != object.end(); ++it) {
      find_key(it.key())->set(copy, it.value());
    }
    t = std::move(copy);
  }
  void load_text(T& t, const std::string& json_text) const {
    auto doc = nlohmann::json::parse(json_text, nullptr, false);
    if (doc.is_discarded()) throw SettingsError("settings: not valid JSON");
    load(t, doc);
  }

  nlohmann::json dump(const T& t) const {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& e : entries_) out[e.info.json_key] = e.get(t);
    return out;
  }

  // Sets one setting by flag name or JSON key from its text form ("4M", "30s", "true").
  // While running (`live`), a setting that does not apply at run time is refused.
  void set(T& t, const std::string& name, const std::string& text, bool live = false) const {
    const Entry* e = find(name);
    if (!e) throw SettingsError("unknown setting: " + name);
    if (live && !e->info.runtime) {
      throw SettingsError(e->info.name + " cannot change while running");
    }
    e->set(t, parse_text(e->info, text));
  }
  void set_json(T& t, const std::string& name, const nlohmann::json& v, bool live = false) const {
    const Entry* e = find(name);
    if (!e) throw SettingsError("unknown setting: " + name);
    if (live && !e->info.runtime) {
      throw SettingsError(e->info.name + " cannot change while running");
    }
    e->set(t, v);
  }

  // The value as text, in the form set() reads (empty for an unset optional).
  std::string text(const T& t, const Entry& e) const { return json_text(e.info, e.get(t)); }

 private:
  const Entry* find_key(const std::string& key) const {
    for (const auto& e : entries_) {
      if (e.info.json_key == key) return &e;
    }
    return nullptr;
  }

  template <typename M>
  struct Unwrap {
    using type = M;
    static constexpr bool optional = false;
  };
  template <typename M>
  struct Unwrap<std::optional<M>> {
    using type = M;
    static constexpr bool optional = true;
  };
  template <typename M>
  struct IsDuration : std::false_type {};
  template <typename R, typename P>
  struct IsDuration<std::chrono::duration<R, P>> : std::true_type {};

  template <typename M>
  static void check_type(const SettingInfo& info) {
    using V = typename Unwrap<M>::type;
    bool ok = false;
    switch (info.type) {
      case SettingType::Bool:
        ok = std::is_same_v<V, bool>;
        break;
      case SettingType::Int:
      case SettingType::Int64:
      case SettingType::Bytes:
      case SettingType::Rate:
        ok = std::is_integral_v<V> && !std::is_same_v<V, bool>;
        break;
      case SettingType::Double:
        ok = std::is_floating_point_v<V>;
        break;
      case SettingType::String:
        ok = std::is_same_v<V, std::string>;
        break;
      case SettingType::Duration:
        ok = IsDuration<V>::value;
        break;
    }
    if (!ok) throw std::logic_error("setting " + info.name + ": field does not hold its type");
  }

  template <typename M>
  static nlohmann::json to_json(const M& v) {
    if constexpr (Unwrap<M>::optional) {
      if (!v) return nullptr;
      return to_json(*v);
    } else if constexpr (IsDuration<M>::value) {
      return format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(v));
    } else {
      return v;
    }
  }

  template <typename M>
  static M from_json(const SettingInfo& info, const nlohmann::json& v) {
    using V = typename Unwrap<M>::type;
    if constexpr (Unwrap<M>::optional) {
      if (v.is_null()) return std::nullopt;
    }
    nlohmann::json checked = check_value(info, v);
    if constexpr (IsDuration<V>::value) {
      return std::chrono::duration_cast<V>(std::chrono::milliseconds(checked.get<std::int64_t>()));
    } else if constexpr (std::is_integral_v<V> && !std::is_same_v<V, bool>) {
      const std::int64_t n = checked.get<std::int64_t>();
      if (n < std::int64_t(std::numeric_limits<V>::min()) ||
          (n > 0 && std::uint64_t(n) > std::uint64_t(std::numeric_limits<V>::max()))) {
        throw SettingsError(info.name + ": " + std::to_string(n) + " is out of range");
      }
      return static_cast<V>(n);
    } else {
      return checked.get<V>();
    }
  }

 public:
  // check_value: a value as given (JSON) in its stored form (durations in milliseconds),
  // type- and bound-checked. parse_text: the text form as a value as given.
  static nlohmann::json check_value(const SettingInfo& info, const nlohmann::json& v);
  static nlohmann::json parse_text(const SettingInfo& info, const std::string& text);
  static std::string json_text(const SettingInfo& info, const nlohmann::json& v);

 private:
  std::vector<Entry> entries_;
};

// The type-independent checks behind SettingsTable.
nlohmann::json check_setting_value(const SettingInfo& info, const nlohmann::json& v);
nlohmann::json parse_setting_text(const SettingInfo& info, const std::string& text);
std::string setting_value_text(const SettingInfo& info, const nlohmann::json& v);

template <typename T>
nlohmann::json SettingsTable<T>::check_value(const SettingInfo& info, const nlohmann::json& v) {
  return check_setting_value(info, v);
}
template <typename T>
nlohmann::json SettingsTable<T>::parse_text(const SettingInfo& info, const std::string& text) {
  return parse_setting_text(info, text);
}
template <typename T>
std::string SettingsTable<T>::json_text(const SettingInfo& info, const nlohmann::json& v) {
  return setting_value_text(info, v);
}

}  // namespace base
