// The settings table: loading a JSON object, dumping it, setting one value by name, and the
// errors for unknown keys, wrong types and values out of bounds.
#include "base/settings.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

namespace base {
namespace {

using namespace std::chrono_literals;

struct Inner {
  int slots = 8;
  std::chrono::seconds interval{10};
};

struct Demo {
  bool pex = true;
  int peers = 50;
  std::int64_t big = 1;
  double share = 0.25;
  std::string name = "bttnode";
  std::int64_t rate = 0;
  std::size_t buffer = 1 << 20;
  std::chrono::milliseconds wait{4000};
  std::optional<std::int64_t> cap;
  std::uint16_t port = 0;
  Inner inner;
};

SettingsTable<Inner> inner_table() {
  SettingsTable<Inner> t;
  t.add(
      {"slots", "slots", SettingType::Int, "slots", true, 0, 100},
      [](Inner & s) -> auto& { return s.slots; });
  t.add(
      {"interval", "interval", SettingType::Duration, "interval", false, 1000, 60'000},
      [](Inner & s) -> auto& { return s.interval; });
  return t;
}

const SettingsTable<Demo>& table() {
  static const SettingsTable<Demo> t = [] {
    SettingsTable<Demo> t;
    t.add(
        {"pex", "enable_pex", SettingType::Bool, "pex"}, [](Demo & d) -> auto& { return d.pex; });
    t.add(
        {"peers", "max_peers", SettingType::Int, "peers", true, 1, 1000},
        [](Demo & d) -> auto& { return d.peers; });
    t.add(
        {"big", "big", SettingType::Int64, "big"}, [](Demo & d) -> auto& { return d.big; });
    t.add(
        {"share", "share", SettingType::Double, "share", true, 0, 1},
        [](Demo & d) -> auto& { return d.share; });
    t.add(
        {"name", "name", SettingType::String, "name"}, [](Demo & d) -> auto& { return d.name; });
    t.add(
        {"rate", "rate", SettingType::Rate, "rate", true, 0},
        [](Demo & d) -> auto& { return d.rate; });
    t.add(
        {"buffer", "buffer", SettingType::Bytes, "buffer", false, 1024, 1 << 30},
        [](Demo & d) -> auto& { return d.buffer; });
    t.add(
        {"wait", "wait", SettingType::Duration, "wait", false, 0, 3'600'000},
        [](Demo & d) -> auto& { return d.wait; });
    t.add(
        {"cap", "cap", SettingType::Int64, "cap", false, 0},
        [](Demo & d) -> auto& { return d.cap; });
    t.add(
        {"port", "port", SettingType::Int, "port", false, 0, 65535},
        [](Demo & d) -> auto& { return d.port; });
    t.include(
        inner_table(), [](Demo & d) -> auto& { return d.inner; });
    return t;
  }();
  return t;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const SettingsError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Settings, DumpGivesTheStructDefaults) {
  auto j = table().dump(Demo{});
  EXPECT_EQ(j["enable_pex"], true);
  EXPECT_EQ(j["max_peers"], 50);
  EXPECT_EQ(j["share"], 0.25);
  EXPECT_EQ(j["name"], "bttnode");
  EXPECT_EQ(j["buffer"], 1 << 20);
  EXPECT_EQ(j["wait"], "4s");
  EXPECT_TRUE(j["cap"].is_null());
  EXPECT_EQ(j["slots"], 8);
  EXPECT_EQ(j["interval"], "10s");
  EXPECT_EQ(j.size(), table().entries().size());
}

TEST(Settings, LoadAppliesEveryKindAndDumpReadsBack) {
  Demo d;
  table().load_text(d, R"({"enable_pex": false, "max_peers": 7, "big": 9000000000,
      "share": 0.5, "name": "x", "rate": "2M", "buffer": 4096, "wait": "250ms", "cap": 5,
      "port": 6881, "slots": 3, "interval": 20})");
  EXPECT_FALSE(d.pex);
  EXPECT_EQ(d.peers, 7);
  EXPECT_EQ(d.big, 9000000000);
  EXPECT_EQ(d.share, 0.5);
  EXPECT_EQ(d.name, "x");
  EXPECT_EQ(d.rate, 2 << 20);
  EXPECT_EQ(d.buffer, 4096u);
  EXPECT_EQ(d.wait, 250ms);
  EXPECT_EQ(d.cap, 5);
  EXPECT_EQ(d.port, 6881);
  EXPECT_EQ(d.inner.slots, 3);
  EXPECT_EQ(d.inner.interval, 20s);

  Demo back;
  table().load(back, table().dump(d));
  EXPECT_EQ(table().dump(back), table().dump(d));
  table().load_text(back, R"({"cap": null})");
  EXPECT_FALSE(back.cap);
}

TEST(Settings, UnknownKeysAreNamedAndNothingChanges) {
  Demo d;
  auto why = error_of(
      [&] { table().load_text(d, R"({"max_peers": 9, "max_perrs": 3, "colour": "red"})"); });
  EXPECT_NE(why.find("max_perrs"), std::string::npos) << why;
  EXPECT_NE(why.find("colour"), std::string::npos) << why;
  EXPECT_EQ(d.peers, 50);
}

TEST(Settings, WrongTypesAndBoundsAreClearErrors) {
  Demo d;
  EXPECT_NE(error_of([&] {
              table().load_text(d, R"({"max_peers": "many"})");
            }).find("peers: want a whole number"),
            std::string::npos);
  EXPECT_NE(error_of([&] { table().load_text(d, R"({"enable_pex": 1})"); }).find("true or false"),
            std::string::npos);
  EXPECT_NE(error_of([&] { table().load_text(d, R"({"max_peers": 0})"); }).find("out of bounds"),
            std::string::npos);
  EXPECT_NE(error_of([&] { table().load_text(d, R"({"share": 1.5})"); }).find("from 0 to 1"),
            std::string::npos);
  EXPECT_NE(error_of([&] { table().load_text(d, R"({"buffer": "3X"})"); }).find("suffix"),
            std::string::npos);
  EXPECT_NE(error_of([&] { table().load_text(d, R"({"wait": "5 days"})"); }).find("wait"),
            std::string::npos);
  EXPECT_NE(
      error_of([&] { table().load_text(d, R"({"interval": "500ms"})"); }).find("out of bounds"),
      std::string::npos);
  EXPECT_NE(error_of([&] { table().load_text(d, R"([1, 2])"); }).find("object"), std::string::npos);
  EXPECT_NE(error_of([&] { table().load_text(d, "{"); }).find("JSON"), std::string::npos);
  EXPECT_NE(
      error_of([&] { table().load_text(d, R"({"big": 18446744073709551615})"); }).find("too large"),
      std::string::npos);
  EXPECT_NE(
      error_of([&] { table().load_text(d, R"({"rate": "99999999999G"})"); }).find("too large"),
      std::string::npos);
  EXPECT_EQ(table().dump(d), table().dump(Demo{}));
}

TEST(Settings, ANegativeValueLoadsWhereTheTypeAndBoundsAllowIt) {
  Demo d;
  table().load_text(d, R"({"big": -5})");
  EXPECT_EQ(d.big, -5);
  EXPECT_NE(error_of([&] { table().load_text(d, R"({"port": -1})"); }).find("port"),
            std::string::npos);
  EXPECT_EQ(d.port, 0);
}

TEST(Settings, SetByNameFromTextAndTheRunTimeRule) {
  Demo d;
  table().set(d, "peers", "12", true);
  EXPECT_EQ(d.peers, 12);
  table().set(d, "rate", "500k", true);
  EXPECT_EQ(d.rate, 500 * 1024);
  table().set(d, "enable_pex", "false");  // by JSON key too
  EXPECT_FALSE(d.pex);
  table().set(d, "wait", "2m");
  EXPECT_EQ(d.wait, 120s);
  EXPECT_NE(
      error_of([&] { table().set(d, "wait", "3s", true); }).find("cannot change while running"),
      std::string::npos);
  EXPECT_EQ(d.wait, 120s);
  EXPECT_NE(error_of([&] { table().set(d, "nope", "1"); }).find("unknown setting: nope"),
            std::string::npos);
  EXPECT_NE(error_of([&] { table().set(d, "peers", "12x"); }).find("not a whole number"),
            std::string::npos);
  EXPECT_EQ(table().text(d, *table().find("wait")), "2m");
  EXPECT_EQ(table().text(d, *table().find("cap")), "");
}

TEST(Settings, TextForms) {
  EXPECT_EQ(parse_byte_size("1G"), std::int64_t(1) << 30);
  EXPECT_EQ(parse_byte_size("1000"), 1000);
  EXPECT_THROW(parse_byte_size("k"), SettingsError);
  EXPECT_EQ(parse_duration("90"), 90s);
  EXPECT_EQ(parse_duration("2h"), 7200s);
  EXPECT_THROW(parse_duration("2d"), SettingsError);
  EXPECT_EQ(format_duration(90s), "90s");
  EXPECT_EQ(format_duration(250ms), "250ms");
  EXPECT_EQ(format_duration(3600s), "1h");
  EXPECT_EQ(format_duration(120s), "2m");
}

}  // namespace
}  // namespace base
