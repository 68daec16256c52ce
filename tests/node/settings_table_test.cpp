// The node's settings table: every name and key once, the defaults those of the structs, and
// a whole dump read back unchanged.
#include "node/runtime/settings.hpp"

#include <gtest/gtest.h>

#include <set>

namespace bttnode {
namespace {

TEST(NodeSettings, NamesAndKeysAreUnique) {
  std::set<std::string> names, keys;
  for (const auto& e : node_settings_table().entries()) {
    EXPECT_TRUE(names.insert(e.info.name).second) << e.info.name;
    EXPECT_TRUE(keys.insert(e.info.json_key).second) << e.info.json_key;
    EXPECT_FALSE(e.info.help.empty()) << e.info.name;
  }
  EXPECT_GE(names.size(), 50u);
}

TEST(NodeSettings, DefaultsAreTheStructsAndRoundTrip) {
  NodeSettings s;
  auto j = node_settings_table().dump(s);
  EXPECT_EQ(j["max_connections"], p2p::SessionSettings{}.max_connections);
  EXPECT_EQ(j["unchoke_slots"], p2p::ChokerSettings{}.unchoke_slots);
  EXPECT_EQ(j["max_open_files"], p2p::StorageOptions{}.max_open_files);
  EXPECT_EQ(j["max_prior_settles"], pay::kMaxPriorSettles);
  EXPECT_EQ(j["unknown_tx_grace"], "15s");
  NodeSettings back;
  back.session.max_connections = 1;
  node_settings_table().load(back, j);
  EXPECT_EQ(node_settings_table().dump(back), j);
}

TEST(NodeSettings, RunTimeChangesOnlyWhereTheyApply) {
  NodeSettings s;
  node_settings_table().set(s, "max-up-rate", "1M", true);
  EXPECT_EQ(s.session.max_upload_rate, 1 << 20);
  EXPECT_THROW(node_settings_table().set(s, "port", "6881", true), base::SettingsError);
  node_settings_table().set(s, "port", "6881");
  EXPECT_EQ(s.session.listen_port, 6881);
}

}  // namespace
}  // namespace bttnode
