#include "node/runtime/settings.hpp"

#include "node/pay/settings_table.hpp"
#include "p2p/session/settings_table.hpp"

namespace bttnode {

namespace {

using T = base::SettingType;

base::SettingsTable<NodeSettings> make_table() {
  using S = NodeSettings;
  base::SettingsTable<S> t;
  t.include(
      p2p::session_settings_table(), [](S & s) -> auto& { return s.session; });
  t.include(
      pay::seller_settings_table(), [](S & s) -> auto& { return s.sell; });
  t.include(
      pay::buyer_settings_table(), [](S & s) -> auto& { return s.buy; });
  t.include(
      pay::verifier_settings_table(), [](S & s) -> auto& { return s.verifier; });
  t.add(
      {"chain-timeout", "chain_timeout", T::Duration, "time a full-node request may take", false,
       100, 600'000},
      [](S & s) -> auto& { return s.chain_timeout; });
  t.add(
      {"chain-retries", "chain_retries", T::Int, "retries of a full-node request", false, 0, 10},
      [](S & s) -> auto& { return s.chain_retries; });
  t.add(
      {"settle-on-exit", "settle_on_exit", T::Duration,
       "after a download, time the last payments may take", true, 0, 3'600'000},
      [](S & s) -> auto& { return s.settle_on_exit; });
  return t;
}

}  // namespace

const base::SettingsTable<NodeSettings>& node_settings_table() {
  static const auto table = make_table();
  return table;
}

std::vector<const base::SettingsTable<NodeSettings>::Entry*> node_settings(
    std::initializer_list<const char*> names) {
  std::vector<const base::SettingsTable<NodeSettings>::Entry*> out;
  for (const char* n : names) {
    const auto* e = node_settings_table().find(n);
    if (!e) throw std::logic_error(std::string("no setting ") + n);
    out.push_back(e);
  }
  return out;
}

}  // namespace bttnode
