// The daemon's config file: defaults, every key read, unknown keys and bad values named, the
// node's settings at the top level or under "node", and --dump-config read back unchanged.
#include "node/daemon/config.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace bttnode::daemon {
namespace {

using nlohmann::json;

std::string error_of(const json& j) {
  try {
    parse_config(j);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(DaemonConfig, DefaultsUnderTheDataFolder) {
  DaemonConfig c = parse_config(json::object());
  EXPECT_EQ(c.download_dir, default_data_dir() / "downloads");
  EXPECT_EQ(c.state_dir, default_data_dir() / "state");
  EXPECT_EQ(c.peer_port, 51413);
  EXPECT_EQ(c.node.session.listen_port, 51413);
  EXPECT_EQ(c.rpc_bind, "127.0.0.1");
  EXPECT_EQ(c.rpc_port, 9091);
  EXPECT_FALSE(c.ratio_limit);
  EXPECT_EQ(c.limit_action, "stop");
  EXPECT_TRUE(c.watch_dir.empty());
}

TEST(DaemonConfig, DataFolderFollowsXdg) {
  const char* old = std::getenv("XDG_DATA_HOME");
  std::string saved = old ? old : "";
  setenv("XDG_DATA_HOME", "/tmp/xdg-test", 1);
  EXPECT_EQ(default_data_dir(), std::filesystem::path("/tmp/xdg-test/bttnode"));
  if (old) {
    setenv("XDG_DATA_HOME", saved.c_str(), 1);
  } else {
    unsetenv("XDG_DATA_HOME");
  }
}

TEST(DaemonConfig, ReadsEveryDaemonKey) {
  json j = {{"download_dir", "/srv/dl"},
            {"state_dir", "/srv/state"},
            {"watch_dir", "/srv/watch"},
            {"peer_port", 0},
            {"rpc_bind", "0.0.0.0"},
            {"rpc_port", 0},
            {"rpc_username", "u"},
            {"rpc_password", "p"},
            {"rpc_enabled", false},
            {"rpc_whitelist", "127.0.0.1, 192.168.*.*"},
            {"rpc_host_whitelist", json::array({"box.lan"})},
            {"ratio_limit", 1.5},
            {"idle_seeding_limit", 30},
            {"limit_action", "remove"},
            {"watch_interval", "5s"},
            {"state_interval", 3},
            {"sell", {{"enabled", true}, {"keystore", "/k.json"}, {"price", "0.5btt"}}},
            {"buy", {{"max_price", "1btt"}, {"budget_per_torrent", "100btt"}}}};
  DaemonConfig c = parse_config(j);
  EXPECT_EQ(c.download_dir, "/srv/dl");
  EXPECT_EQ(c.state_dir, "/srv/state");
  EXPECT_EQ(c.watch_dir, "/srv/watch");
  EXPECT_EQ(c.peer_port, 0);
  EXPECT_EQ(c.node.session.listen_port, 0);
  EXPECT_EQ(c.rpc_bind, "0.0.0.0");
  EXPECT_EQ(c.rpc_port, 0);
  EXPECT_EQ(c.rpc_username, "u");
  EXPECT_EQ(c.rpc_password, "p");
  EXPECT_FALSE(c.rpc_enabled);
  EXPECT_EQ(c.rpc_whitelist, (std::vector<std::string>{"127.0.0.1", "192.168.*.*"}));
  EXPECT_EQ(c.rpc_host_whitelist, std::vector<std::string>{"box.lan"});
  EXPECT_DOUBLE_EQ(*c.ratio_limit, 1.5);
  EXPECT_EQ(*c.idle_seeding_limit, std::chrono::minutes(30));
  EXPECT_EQ(c.limit_action, "remove");
  EXPECT_EQ(c.watch_interval, std::chrono::seconds(5));
  EXPECT_EQ(c.state_interval, std::chrono::seconds(3));
  EXPECT_TRUE(c.sell.enabled);
  EXPECT_EQ(c.sell.keystore, "/k.json");
  EXPECT_EQ(c.sell.price, "0.5btt");
  EXPECT_EQ(c.buy.max_price, "1btt");
  EXPECT_EQ(c.buy.budget_per_torrent, "100btt");
}

TEST(DaemonConfig, ADailyBudgetIsAnAmountAndBadValuesAreNamed) {
  EXPECT_EQ(parse_config({{"buy", {{"budget_per_day", "100btt"}}}}).buy.budget_per_day, "100btt");
  EXPECT_EQ(parse_config({{"buy", {{"budget_per_day", "2.5"}}}}).buy.budget_per_day, "2.5");
  EXPECT_EQ(parse_config({{"buy", {{"budget_per_day", 5000}}}}).buy.budget_per_day, "5000");
  EXPECT_EQ(parse_config({{"buy", {{"budget_per_day", 0}}}}).buy.budget_per_day, "0");
  EXPECT_EQ(parse_config({{"buy", {{"budget_per_day", ""}}}}).buy.budget_per_day, "");
  EXPECT_EQ(parse_config(nlohmann::json::object()).buy.budget_per_day, "");
  for (const nlohmann::json& v :
       {nlohmann::json("-5"), nlohmann::json("btt"), nlohmann::json("1.2.3"),
        nlohmann::json("5 btt"), nlohmann::json(-5), nlohmann::json(2.5), nlohmann::json(true)}) {
    try {
      parse_config({{"buy", {{"budget_per_day", v}}}});
      ADD_FAILURE() << v.dump() << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("budget_per_day"), std::string::npos) << e.what();
    }
  }
}

TEST(DaemonConfig, UploadWhileBuyingIsABuyKey) {
  EXPECT_EQ(parse_config(nlohmann::json::object()).node.buy.upload_while_buying, 64);
  EXPECT_EQ(parse_config({{"buy", {{"upload_while_buying", 16}}}}).node.buy.upload_while_buying,
            16);
  EXPECT_EQ(parse_config({{"buy", {{"upload_while_buying", 0}}}}).node.buy.upload_while_buying, 0);
  const auto back =
      parse_config(dump_config(parse_config({{"buy", {{"upload_while_buying", 8}}}})));
  EXPECT_EQ(back.node.buy.upload_while_buying, 8);
  EXPECT_NE(error_of({{"buy", {{"upload_while_buying", -1}}}}).find("upload-while-buying"),
            std::string::npos);
}

TEST(DaemonConfig, NodeSettingsAtTopLevelOrUnderNode) {
  DaemonConfig a = parse_config({{"max_upload_rate", "1M"}, {"max_active_downloads", 3}});
  EXPECT_EQ(a.node.session.max_upload_rate, 1 << 20);
  EXPECT_EQ(a.node.session.max_active_downloads, 3);
  DaemonConfig b = parse_config(
      {{"node", {{"max_download_rate", 2048}, {"max_connections", 100}}}, {"max_active_seeds", 7}});
  EXPECT_EQ(b.node.session.max_download_rate, 2048);
  EXPECT_EQ(b.node.session.max_connections, 100);
  EXPECT_EQ(b.node.session.max_active_seeds, 7);
}

TEST(DaemonConfig, UnknownKeysAreNamedEach) {
  std::string e = error_of({{"download_dir", "/x"}, {"speed", 1}, {"colour", "red"}});
  EXPECT_NE(e.find("speed"), std::string::npos) << e;
  EXPECT_NE(e.find("colour"), std::string::npos) << e;
  e = error_of({{"node", {{"bogus_key", 1}}}});
  EXPECT_NE(e.find("node.bogus_key"), std::string::npos) << e;
  e = error_of({{"sell", {{"prise", "1btt"}}}});
  EXPECT_NE(e.find("sell.prise"), std::string::npos) << e;
  EXPECT_NE(error_of(json::array()), "");
}

TEST(DaemonConfig, BadValuesNameTheirKey) {
  struct Case {
    json j;
    const char* key;
  } cases[] = {
      {{{"peer_port", 70000}}, "peer_port"},
      {{{"rpc_port", "9091"}}, "rpc_port"},
      {{{"ratio_limit", -1}}, "ratio_limit"},
      {{{"idle_seeding_limit", 0}}, "idle_seeding_limit"},
      {{{"limit_action", "delete"}}, "limit_action"},
      {{{"watch_interval", "soon"}}, "watch_interval"},
      {{{"rpc_enabled", "yes"}}, "rpc_enabled"},
      {{{"rpc_whitelist", json::array({1})}}, "rpc_whitelist"},
      {{{"sell", {{"enabled", 1}}}}, "sell.enabled"},
      {{{"max_upload_rate", "fast"}}, "max-up-rate"},
      {{{"node", {{"max_connections", -5}}}}, "max-connections"},
      {{{"max_active_downloads", -2}}, "max_active_downloads"},
  };
  for (const auto& c : cases) {
    std::string e = error_of(c.j);
    EXPECT_NE(e.find(c.key), std::string::npos) << c.j.dump() << " -> " << e;
  }
}

TEST(DaemonConfig, ListenPortAloneGivesThePeerPort) {
  DaemonConfig c = parse_config({{"listen_port", 6881}});
  EXPECT_EQ(c.peer_port, 6881);
  EXPECT_EQ(c.node.session.listen_port, 6881);
}

TEST(DaemonConfig, DumpReadsBackUnchanged) {
  DaemonConfig c = parse_config({{"download_dir", "/d"},
                                 {"ratio_limit", 2.0},
                                 {"idle_seeding_limit", 10},
                                 {"peer_port", 0},
                                 {"max_upload_rate", 4096},
                                 {"sell", {{"token", "trx"}}}});
  json d = dump_config(c);
  EXPECT_EQ(d["download_dir"], "/d");
  EXPECT_EQ(d["node"]["max_upload_rate"], 4096);
  EXPECT_FALSE(d["node"].contains("listen_port"));
  DaemonConfig back = parse_config(d);
  EXPECT_EQ(dump_config(back), d);
  EXPECT_EQ(back.sell.token, "trx");
  EXPECT_EQ(back.peer_port, 0);
}

}  // namespace
}  // namespace bttnode::daemon
