// A torrent's own payment terms: torrent-set's bttnode* arguments (absent keeps, null or ""
// clears, bad values refused with the argument named), their place in the torrent's record
// across a restart, and the pure rules they rely on: a new price never makes a payer owe more
// for bytes already sent, a new budget counts what was spent, the minimum settlement follows
// the price. Over the RPC without wallets: refused, changing nothing.
#include "node/daemon/pay_overrides.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../test_files.hpp"
#include "base/hex.hpp"
#include "node/daemon/daemon.hpp"
#include "node/daemon/rpc_inputs.hpp"
#include "node/daemon/rpc_methods.hpp"
#include "node/daemon/state_store.hpp"
#include "node/pay/buyer.hpp"
#include "node/pay/seller.hpp"
#include "p2p/metainfo/create_torrent.hpp"

namespace bttnode::daemon {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using pay::U256;

TEST(PayOverrides, ArgumentsSetKeepAndClear) {
  PayOverrides o = apply_override_args({}, {{"bttnodePrice", "0.5btt"}, {"bttnodeSell", true}});
  EXPECT_EQ(o.price, "0.5btt");
  EXPECT_EQ(o.sell, true);
  EXPECT_FALSE(o.max_price);
  // Absent: kept; null and "": the session's again; whole numbers are base units.
  o = apply_override_args(o, {{"bttnodeMaxPrice", 2000}, {"bttnodeBudget", "3 btt"}});
  EXPECT_EQ(o.price, "0.5btt");
  EXPECT_EQ(o.max_price, "2000");
  EXPECT_EQ(o.budget, "3 btt");
  o = apply_override_args(o,
                          {{"bttnodePrice", nullptr}, {"bttnodeSell", 0}, {"bttnodeBudget", ""}});
  EXPECT_FALSE(o.price);
  EXPECT_EQ(o.sell, false);
  EXPECT_FALSE(o.budget);
  EXPECT_EQ(o.max_price, "2000");
  EXPECT_FALSE(o.empty());
  EXPECT_TRUE(
      apply_override_args(o, {{"bttnodeSell", nullptr}, {"bttnodeMaxPrice", nullptr}}).empty());
  EXPECT_TRUE(has_override_args({{"bttnodeBudget", nullptr}}));
  EXPECT_FALSE(has_override_args({{"uploadLimit", 5}}));
}

TEST(PayOverrides, BadValuesAreRefusedNamingTheArgument) {
  auto refusal = [](json args) {
    try {
      apply_override_args({}, args);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(refusal({{"bttnodePrice", "cheap"}}).find("\"bttnodePrice\""), std::string::npos);
  EXPECT_NE(refusal({{"bttnodePrice", -5}}).find("negative"), std::string::npos);
  EXPECT_NE(refusal({{"bttnodePrice", "1.2.3btt"}}), "accepted");
  EXPECT_NE(refusal({{"bttnodePrice", "0.5btt!"}}), "accepted");
  EXPECT_NE(refusal({{"bttnodeMaxPrice", json::array()}}).find("\"bttnodeMaxPrice\""),
            std::string::npos);
  EXPECT_NE(refusal({{"bttnodeBudget", 1.5}}), "accepted");
  EXPECT_NE(refusal({{"bttnodeSell", "yes"}}).find("\"bttnodeSell\""), std::string::npos);
  EXPECT_NE(refusal({{"bttnodeSell", 2}}), "accepted");
  EXPECT_EQ(refusal({{"bttnodePrice", "0.5 btt"}}), "accepted");
}

TEST(PayOverrides, KeptInTheTorrentsRecord) {
  DaemonTorrent t;
  t.id = 4;
  t.download_dir = "/dl";
  t.pay.sell = false;
  t.pay.price = "0.25btt";
  t.pay.budget = "12";
  const std::string hex(40, 'a');
  json j = json::parse(record_to_json(t, hex).dump());
  DaemonTorrent back;
  EXPECT_EQ(record_from_json(j, back), hex);
  EXPECT_EQ(back.pay, t.pay);
  EXPECT_TRUE(j["pay"]["bttnodeMaxPrice"].is_null());
  // A record of a version without them: the session's terms.
  j.erase("pay");
  DaemonTorrent old;
  record_from_json(j, old);
  EXPECT_TRUE(old.pay.empty());
  j["pay"] = {{"bttnodePrice", "nonsense"}};
  EXPECT_THROW(record_from_json(j, old), DaemonError);
}

TEST(PayTerms, ARaisedPriceNeverBillsMoreForCarriedBytes) {
  const U256 agreed = 1000, higher = 3000, lower = 10;
  const std::int64_t bytes = 5 * pay::kMiB + 123;
  const auto raised = pay::carried_at_price(bytes, agreed, higher);
  EXPECT_LT(raised, bytes);
  EXPECT_LE(pay::owed(raised, higher), pay::owed(bytes, agreed));
  EXPECT_GE(pay::owed(raised + 1024, higher), pay::owed(bytes, agreed));  // not much less
  EXPECT_EQ(pay::carried_at_price(bytes, agreed, lower), bytes);
  EXPECT_EQ(pay::carried_at_price(bytes, agreed, agreed), bytes);
  EXPECT_EQ(pay::carried_at_price(0, agreed, higher), 0);
}

TEST(PayTerms, ATorrentsPriceMovesTheMinimumSettlementWithIt) {
  pay::SellerSettings s;
  s.price = 1000;
  s.min_settle = pay::owed(pay::kMiB, s.price);
  auto own = pay::with_price(s, 4000, true);
  EXPECT_EQ(own.price, 4000);
  EXPECT_EQ(own.min_settle, 4000);
  s.min_settle = 77;  // set by the user: kept
  EXPECT_EQ(pay::with_price(s, 4000, false).min_settle, 77);
}

TEST(PayTerms, ANewBudgetCountsWhatWasSpent) {
  pay::Budget b{U256(1000)};
  b.take(300);
  b.give_back(100);
  EXPECT_EQ(b.used, 200);
  b.set_limit(U256(500));
  EXPECT_EQ(*b.remaining, 300);
  EXPECT_EQ(*b.limit(), 500);
  b.set_limit(U256(150));  // below what was spent: nothing more
  EXPECT_EQ(*b.remaining, 0);
  EXPECT_FALSE(b.allows(1));
  b.set_limit(std::nullopt);
  EXPECT_TRUE(b.allows(U256(1) << 100));
  EXPECT_FALSE(b.limit());
  b.take(50);
  b.set_limit(U256(1000));  // spent while unlimited counts too
  EXPECT_EQ(*b.remaining, 750);
}

// Over the RPC of a daemon that neither sells nor buys: terms it cannot use are refused with
// Transmission's result string, and nothing of the request changes.
TEST(PayOverrides, TorrentSetRefusesTermsTheDaemonCannotUseAndChangesNothing) {
  test_support::TempDir dir{"bttnode-pay-overrides"};
  fs::create_directories(dir / "src");
  auto file = dir / "src" / "f.bin";
  test_support::write_file(file, test_support::random_bytes(100'000, 7));
  p2p::CreateTorrentOptions co;
  co.piece_length = 32 * 1024;
  const std::string metainfo = p2p::encode_metainfo(p2p::create_torrent(file, co));
  DaemonConfig c;
  c.download_dir = dir / "dl";
  c.state_dir = dir / "state";
  c.node.session.listen_ipv6 = false;
  Node node(c.node);
  Daemon d(node, c);
  RpcMethods rpc(d);
  auto call = [&](const std::string& method, json args) {
    return rpc.handle(json{{"method", method}, {"arguments", std::move(args)}});
  };
  ASSERT_EQ(call("torrent-add", {{"metainfo", encode_base64(metainfo)}})["result"], "success");
  auto a = call("torrent-set", {{"ids", 1}, {"uploadLimit", 77}, {"bttnodePrice", "0.5btt"}});
  EXPECT_NE(a["result"].get<std::string>().find("bttnodePrice"), std::string::npos) << a.dump();
  EXPECT_NE(a["result"].get<std::string>().find("does not sell"), std::string::npos);
  EXPECT_TRUE(a["arguments"].is_object());
  a = call("torrent-set", {{"ids", 1}, {"uploadLimit", 77}, {"bttnodeBudget", "cheap"}});
  EXPECT_NE(a["result"].get<std::string>().find("bttnodeBudget"), std::string::npos);
  a = call("torrent-set", {{"ids", 1}, {"bttnodeMaxPrice", "1btt"}});
  EXPECT_NE(a["result"].get<std::string>().find("does not buy"), std::string::npos);
  EXPECT_EQ(d.find(1)->options.upload_limit, 0);
  EXPECT_TRUE(d.find(1)->pay.empty());
  // Clearing is always fine.
  a = call("torrent-set", {{"ids", 1}, {"bttnodePrice", nullptr}, {"bttnodeSell", nullptr}});
  EXPECT_EQ(a["result"], "success") << a.dump();
  auto g = call(
      "torrent-get",
      {{"ids", 1},
       {"fields",
        {"bttnodeSell", "bttnodePrice", "bttnodeMaxPrice", "bttnodeBudget", "bttnodeOverrides"}}});
  const auto& t = g["arguments"]["torrents"][0];
  EXPECT_EQ(t["bttnodeSell"], false);
  EXPECT_TRUE(t["bttnodePrice"].is_null());
  EXPECT_TRUE(t["bttnodeMaxPrice"].is_null());
  EXPECT_TRUE(t["bttnodeBudget"].is_null());
  EXPECT_TRUE(t["bttnodeOverrides"]["bttnodePrice"].is_null());
  auto terms = call("bttnode-terms", {{"ids", 1}});
  EXPECT_TRUE(terms["arguments"]["torrents"][0]["overrides"].is_object());
}

}  // namespace
}  // namespace bttnode::daemon
