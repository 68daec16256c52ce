// The Transmission RPC methods over a real Daemon: answers' shapes and JSON types as
// transmission-remote 3.00 looks them up, the forms of "ids", and refusals of bad arguments.
#include "node/daemon/rpc_methods.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <optional>

#include <nlohmann/json.hpp>

#include "../test_files.hpp"
#include "base/hex.hpp"
#include "base/http_server.hpp"
#include "node/daemon/rpc_inputs.hpp"
#include "p2p/metainfo/create_torrent.hpp"
#include "wallet/ledger.hpp"

namespace bttnode::daemon {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using test_support::TempDir;

struct Fixture {
  TempDir dir{"bttnode-rpc-methods"};
  std::vector<std::string> torrents;
  std::vector<std::string> hex;
  std::unique_ptr<Node> node;
  std::unique_ptr<Daemon> daemon;
  std::unique_ptr<RpcMethods> rpc;
  explicit Fixture(std::function<void(DaemonConfig&)> configure = {}) {
    fs::create_directories(dir / "src");
    for (int i = 0; i < 3; ++i) {
      auto file = dir / "src" / ("f" + std::to_string(i) + ".bin");
      test_support::write_file(file, test_support::random_bytes(100'000, std::uint32_t(i + 1)));
      p2p::CreateTorrentOptions o;
      o.piece_length = 32 * 1024;
      o.trackers = {"http://127.0.0.1:1/announce"};
      auto meta = p2p::create_torrent(file, o);
      torrents.push_back(p2p::encode_metainfo(meta));
      hex.push_back(base::to_hex(meta.info_hash));
    }
    DaemonConfig c;
    c.download_dir = dir / "dl";
    c.state_dir = dir / "state";
    c.node.session.listen_ipv6 = false;
    if (configure) configure(c);
    node = std::make_unique<Node>(c.node);
    daemon = std::make_unique<Daemon>(*node, c);
    RpcMethods::Options o;
    o.session_id = "sid";
    rpc = std::make_unique<RpcMethods>(*daemon, o);
  }
  json call(const std::string& method, json args = json::object(), json tag = nullptr) {
    json req = {{"method", method}, {"arguments", std::move(args)}};
    if (!tag.is_null()) req["tag"] = tag;
    return rpc->handle(req);
  }
  json add(int i, json extra = json::object()) {
    extra["metainfo"] = encode_base64(torrents[std::size_t(i)]);
    return call("torrent-add", extra);
  }
  json get(json ids, std::vector<std::string> fields) {
    json args = {{"fields", fields}};
    if (!ids.is_null()) args["ids"] = ids;
    auto a = call("torrent-get", args);
    EXPECT_EQ(a["result"], "success") << a.dump();
    return a["arguments"]["torrents"];
  }
};

TEST(RpcMethods, UnknownMethodsAndMissingNamesGetTransmissionsResults) {
  Fixture f;
  auto a = f.call("torrent-fly", json::object(), 7);
  EXPECT_EQ(a["result"], "method name not recognized");
  EXPECT_EQ(a["tag"], 7);
  EXPECT_TRUE(a["arguments"].is_object());
  EXPECT_EQ(f.rpc->handle(json{{"tag", 1}})["result"], "no method name");
  EXPECT_NE(f.rpc->handle(json{{"method", "session-get"}, {"arguments", 5}})["result"], "success");
}

TEST(RpcMethods, SessionGetCarriesEveryKeyTheRemotePrintsWithItsType) {
  Fixture f;
  auto a = f.call("session-get", json::object(), 0);
  ASSERT_EQ(a["result"], "success");
  EXPECT_EQ(a["tag"], 0);
  const auto& s = a["arguments"];
  EXPECT_EQ(s["rpc-version"], 16);
  EXPECT_EQ(s["session-id"], "sid");
  for (const char* k :
       {"alt-speed-down", "alt-speed-time-begin", "alt-speed-time-end", "alt-speed-time-day",
        "alt-speed-up", "peer-limit-global", "speed-limit-down", "speed-limit-up", "peer-port",
        "rpc-version-minimum", "cache-size-mb"}) {
    EXPECT_TRUE(s[k].is_number_integer()) << k;
  }
  for (const char* k : {"alt-speed-enabled", "alt-speed-time-enabled", "speed-limit-down-enabled",
                        "speed-limit-up-enabled", "seedRatioLimited", "start-added-torrents",
                        "trash-original-torrent-files", "pex-enabled", "dht-enabled"}) {
    EXPECT_TRUE(s[k].is_boolean()) << k;
  }
  EXPECT_TRUE(s["seedRatioLimit"].is_number());
  EXPECT_EQ(s["download-dir"], (f.dir / "dl").string());
  auto only = f.call("session-get", {{"fields", {"version", "nothing"}}});
  EXPECT_EQ(only["arguments"].size(), 1u);
}

TEST(RpcMethods, SessionSetSpeedLimitsAsTransmissionRemoteSendsThem) {
  Fixture f;
  auto a = f.call("session-set", {{"speed-limit-down", 250},
                                  {"speed-limit-down-enabled", true},
                                  {"speed-limit-up", 120},
                                  {"speed-limit-up-enabled", true}});
  ASSERT_EQ(a["result"], "success") << a.dump();
  EXPECT_EQ(f.node->settings().session.max_upload_rate, 120'000);
  EXPECT_EQ(f.node->settings().session.max_download_rate, 250'000);
  auto s = f.call("session-get")["arguments"];
  EXPECT_EQ(s["speed-limit-up"], 120);
  EXPECT_EQ(s["speed-limit-up-enabled"], true);
  f.call("session-set", {{"speed-limit-down-enabled", false}, {"speed-limit-up-enabled", false}});
  s = f.call("session-get")["arguments"];
  EXPECT_EQ(s["speed-limit-up-enabled"], false);
  EXPECT_EQ(s["speed-limit-up"], 120);  // kept while disabled, as Transmission does
  EXPECT_EQ(f.node->settings().session.max_upload_rate, 0);

  EXPECT_NE(f.call("session-set", {{"speed-limit-up", "fast"}})["result"], "success");
  EXPECT_NE(f.call("session-set", {{"speed-limit-up", -5}})["result"], "success");
  f.call("session-set", {{"seedRatioLimit", 1.5}, {"seedRatioLimited", true}});
  EXPECT_EQ(f.daemon->config().ratio_limit, 1.5);
}

TEST(RpcMethods, TorrentAddAnswersAddedThenDuplicateAndRefusesGarbage) {
  Fixture f;
  auto a = f.add(0, {{"paused", true}, {"labels", {"tv"}}});
  ASSERT_EQ(a["result"], "success") << a.dump();
  EXPECT_EQ(a["arguments"]["torrent-added"]["id"], 1);
  EXPECT_EQ(a["arguments"]["torrent-added"]["hashString"], f.hex[0]);
  EXPECT_EQ(a["arguments"]["torrent-added"]["name"], "f0.bin");
  auto dup = f.add(0);
  EXPECT_EQ(dup["arguments"]["torrent-duplicate"]["id"], 1);

  auto file = f.dir / "f1.torrent";
  test_support::write_file(file, f.torrents[1]);
  auto byname = f.call("torrent-add", {{"filename", file.string()}});
  EXPECT_EQ(byname["arguments"]["torrent-added"]["id"], 2);

  auto magnet =
      f.call("torrent-add", {{"filename", "magnet:?xt=urn:btih:" + f.hex[2] + "&dn=beta%20dir"}});
  ASSERT_EQ(magnet["result"], "success") << magnet.dump();
  EXPECT_EQ(magnet["arguments"]["torrent-added"]["name"], "beta dir");

  EXPECT_EQ(f.call("torrent-add", {{"filename", (f.dir / "none.torrent").string()}})["result"],
            "invalid or corrupt torrent file");
  EXPECT_NE(f.call("torrent-add", {{"metainfo", "!!!"}})["result"], "success");
  EXPECT_NE(f.call("torrent-add", {{"metainfo", encode_base64("d4:spam")}})["result"], "success");
  EXPECT_NE(f.call("torrent-add", json::object())["result"], "success");
  EXPECT_EQ(f.daemon->torrents().size(), 3u);

  auto row = f.get(1, {"labels", "status", "downloadDir"});
  ASSERT_EQ(row.size(), 1u);
  EXPECT_EQ(row[0]["labels"], json({"tv"}));
  EXPECT_EQ(row[0]["status"], 0);
}

// A .torrent named by URL is fetched while the network thread goes on: the answer comes when
// it is added, or says why the fetch failed in Transmission's shape, the tag echoed.
TEST(RpcMethods, TorrentAddByUrlAnswersWhenFetchedWithoutBlocking) {
  Fixture f;
  std::vector<base::http::Reply> held;
  base::http::Server web(f.node->io(), {},
                         [&](const base::http::Request& req, const boost::asio::ip::address&,
                             base::http::Reply reply) {
                           base::http::Response r{boost::beast::http::status::ok, 11};
                           if (req.target() == "/slow") return held.push_back(std::move(reply));
                           if (req.target() == "/t.torrent") {
                             r.body() = f.torrents[1];
                           } else {
                             r.result(boost::beast::http::status::not_found);
                           }
                           reply(std::move(r));
                         });
  web.start();
  auto url = [&](const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(web.port()) + path;
  };
  auto ask = [&](const std::string& path, int tag, std::optional<json>& out) {
    f.rpc->handle(
        {{"method", "torrent-add"}, {"arguments", {{"filename", url(path)}}}, {"tag", tag}},
        [&out](json a) { out = std::move(a); });
  };
  auto wait = [&](std::optional<json>& out) {
    for (int i = 0; i < 500 && !out; ++i) f.node->io().run_one_for(std::chrono::milliseconds(10));
  };
  std::optional<json> slow, added, missing;
  ask("/slow", 1, slow);
  ask("/t.torrent", 2, added);
  EXPECT_FALSE(added);
  EXPECT_EQ(f.call("session-get", {{"fields", {"version"}}})["result"], "success");
  wait(added);
  ASSERT_TRUE(added);
  EXPECT_EQ((*added)["result"], "success") << added->dump();
  EXPECT_EQ((*added)["tag"], 2);
  EXPECT_EQ((*added)["arguments"]["torrent-added"]["hashString"], f.hex[1]);
  EXPECT_FALSE(slow);  // still fetching, and the other one went by it
  EXPECT_EQ(f.daemon->torrents().size(), 1u);

  ask("/none", 3, missing);
  wait(missing);
  ASSERT_TRUE(missing);
  EXPECT_EQ((*missing)["result"], "cannot fetch " + url("/none") + ": HTTP 404");
  EXPECT_EQ((*missing)["arguments"], json::object());
  EXPECT_EQ((*missing)["tag"], 3);

  // At most kMaxFetches at once.
  std::vector<std::optional<json>> more(RpcMethods::kMaxFetches);
  for (std::size_t i = 0; i < more.size(); ++i) ask("/slow", 10 + int(i), more[i]);
  ASSERT_TRUE(more.back());
  EXPECT_NE((*more.back())["result"].get<std::string>().find("too many"), std::string::npos);
  EXPECT_FALSE(more.front());
  web.stop();
}

TEST(RpcMethods, TorrentGetFieldsOfTheListHaveTheirTypes) {
  Fixture f;
  f.add(0);
  f.call("torrent-add", {{"filename", "magnet:?xt=urn:btih:" + f.hex[2] + "&dn=m"}});
  auto rows = f.get(nullptr, {"error", "errorString", "eta", "id", "isFinished", "leftUntilDone",
                              "name", "peersGettingFromUs", "peersSendingToUs", "rateDownload",
                              "rateUpload", "sizeWhenDone", "status", "uploadRatio", "no-such"});
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& r : rows) {
    for (const char* k :
         {"error", "eta", "id", "leftUntilDone", "peersGettingFromUs", "peersSendingToUs",
          "rateDownload", "rateUpload", "sizeWhenDone", "status"}) {
      EXPECT_TRUE(r[k].is_number_integer()) << k << " " << r.dump();
    }
    EXPECT_TRUE(r["uploadRatio"].is_number_float());
    EXPECT_TRUE(r["isFinished"].is_boolean());
    EXPECT_FALSE(r.contains("no-such"));
    EXPECT_EQ(r.size(), 14u);
  }
  EXPECT_EQ(rows[0]["sizeWhenDone"], 100'000);
  EXPECT_EQ(rows[1]["sizeWhenDone"], 0);  // a magnet before its metadata
  EXPECT_EQ(rows[1]["name"], "m");

  auto info = f.get(
      1, {"hashString", "totalSize", "pieceCount", "pieceSize", "files", "trackers", "fileCount",
          "magnetLink", "percentDone", "haveValid", "haveUnchecked", "seedRatioMode",
          "seedIdleLimit", "bttnodeEarned", "bttnodeToken", "bttnodePayers", "pieces"})[0];
  EXPECT_EQ(info["hashString"], f.hex[0]);
  EXPECT_EQ(info["pieceCount"], 4);
  EXPECT_EQ(info["pieceSize"], 32 * 1024);
  EXPECT_EQ(info["fileCount"], 1);
  EXPECT_EQ(info["files"][0]["name"], "f0.bin");
  EXPECT_EQ(info["files"][0]["length"], 100'000);
  EXPECT_EQ(info["trackers"][0]["announce"], "http://127.0.0.1:1/announce");
  EXPECT_EQ(info["trackers"][0]["tier"], 0);
  EXPECT_NE(info["magnetLink"].get<std::string>().find(f.hex[0]), std::string::npos);
  EXPECT_TRUE(info["percentDone"].is_number_float());
  EXPECT_EQ(info["bttnodeEarned"], "0");
  EXPECT_EQ(info["bttnodePayers"], 0);
  EXPECT_TRUE(decode_base64(info["pieces"].get<std::string>()));

  auto table = f.call("torrent-get", {{"fields", {"id", "name"}}, {"format", "table"}});
  EXPECT_EQ(table["arguments"]["torrents"][0], json({"id", "name"}));
  EXPECT_EQ(table["arguments"]["torrents"].size(), 3u);
  EXPECT_NE(f.call("torrent-get", json::object())["result"], "success");  // no fields
}

TEST(RpcMethods, IdsAsIntegerListHashOrRecentlyActive) {
  Fixture f;
  for (int i = 0; i < 3; ++i) f.add(i);
  auto ids = [&](json sel) {
    std::vector<int> out;
    for (const auto& t : f.get(sel, {"id"})) out.push_back(t["id"]);
    return out;
  };
  EXPECT_EQ(ids(2), std::vector<int>({2}));
  EXPECT_EQ(ids(json::array({3, 1})), std::vector<int>({1, 3}));
  EXPECT_EQ(ids(f.hex[1]), std::vector<int>({2}));
  EXPECT_EQ(ids(json::array({1, f.hex[2]})), std::vector<int>({1, 3}));
  EXPECT_EQ(ids(nullptr), std::vector<int>({1, 2, 3}));
  EXPECT_EQ(ids(99), std::vector<int>());
  EXPECT_NE(f.call("torrent-get", {{"ids", "zzz"}, {"fields", {"id"}}})["result"], "success");
  EXPECT_NE(f.call("torrent-get", {{"ids", {{"a", 1}}}, {"fields", {"id"}}})["result"], "success");

  ASSERT_EQ(f.call("torrent-remove", {{"ids", 2}, {"delete-local-data", false}})["result"],
            "success");
  auto recent = f.call("torrent-get", {{"ids", "recently-active"}, {"fields", {"id"}}});
  ASSERT_EQ(recent["result"], "success");
  EXPECT_EQ(recent["arguments"]["removed"], json({2}));
  EXPECT_EQ(f.daemon->torrents().size(), 2u);
}

TEST(RpcMethods, TorrentSetChangesOptionsAndRefusesBadValuesWhole) {
  Fixture f;
  f.add(0);
  auto a = f.call("torrent-set", {{"ids", 1},
                                  {"uploadLimit", 50},
                                  {"uploadLimited", true},
                                  {"seedRatioLimit", 3.5},
                                  {"seedRatioMode", 1},
                                  {"seedIdleLimit", 90},
                                  {"seedIdleMode", 2},
                                  {"labels", {"movies", "4k"}},
                                  {"bandwidthPriority", 1}});
  ASSERT_EQ(a["result"], "success") << a.dump();
  const auto& o = f.daemon->find(1)->options;
  EXPECT_EQ(o.upload_limit, 50'000);
  EXPECT_TRUE(o.upload_limited);
  EXPECT_EQ(o.ratio_limit, 3.5);
  EXPECT_EQ(o.ratio_mode, LimitMode::Single);
  EXPECT_EQ(o.idle_limit, std::chrono::minutes(90));
  EXPECT_EQ(o.idle_mode, LimitMode::Unlimited);
  EXPECT_EQ(o.bandwidth_priority, 1);
  auto row =
      f.get(1, {"uploadLimit", "uploadLimited", "seedRatioLimit", "seedRatioMode", "labels"})[0];
  EXPECT_EQ(row["uploadLimit"], 50);
  EXPECT_EQ(row["seedRatioMode"], 1);
  EXPECT_EQ(row["labels"], json({"movies", "4k"}));

  auto bad = f.call("torrent-set", {{"ids", 1}, {"labels", {"x"}}, {"seedRatioMode", 7}});
  EXPECT_NE(bad["result"], "success");
  EXPECT_EQ(f.daemon->find(1)->options.labels, std::vector<std::string>({"movies", "4k"}));
  EXPECT_NE(f.call("torrent-set", {{"ids", 1}, {"labels", {1, 2}}})["result"], "success");
}

// The bandwidth priority and whether the session's limits hold reach the engine's torrent,
// and torrent-get reports them.
TEST(RpcMethods, BandwidthPriorityAndHonorsSessionLimitsReachTheEngine) {
  Fixture f;
  f.add(0);
  auto& engine = f.daemon->find(1)->torrent();
  EXPECT_EQ(engine.bandwidth_priority(), 0);
  EXPECT_TRUE(engine.honors_session_limits());
  ASSERT_EQ(
      f.call("torrent-set",
             {{"ids", 1}, {"bandwidthPriority", -1}, {"honorsSessionLimits", false}})["result"],
      "success");
  EXPECT_EQ(engine.bandwidth_priority(), -1);
  EXPECT_FALSE(engine.honors_session_limits());
  auto row = f.get(1, {"bandwidthPriority", "honorsSessionLimits"})[0];
  EXPECT_EQ(row["bandwidthPriority"], -1);
  EXPECT_EQ(row["honorsSessionLimits"], false);
  EXPECT_NE(f.call("torrent-set", {{"ids", 1}, {"bandwidthPriority", 2}})["result"], "success");
  EXPECT_EQ(engine.bandwidth_priority(), -1);
}

TEST(RpcMethods, StopStartRemoveAndTheRestAnswerSuccess) {
  Fixture f;
  f.add(0);
  f.add(1);
  EXPECT_EQ(f.call("torrent-stop", {{"ids", 1}})["result"], "success");
  EXPECT_EQ(f.get(1, {"status"})[0]["status"], 0);
  EXPECT_TRUE(f.daemon->find(1)->paused);
  EXPECT_EQ(f.call("torrent-start", {{"ids", 1}})["result"], "success");
  EXPECT_FALSE(f.daemon->find(1)->paused);
  EXPECT_EQ(f.call("torrent-start-now", {{"ids", {1}}})["result"], "success");
  EXPECT_EQ(f.call("torrent-verify", {{"ids", 1}})["result"], "success");
  EXPECT_EQ(f.call("torrent-reannounce", {{"ids", 1}})["result"], "success");
  EXPECT_EQ(f.call("queue-move-bottom", {{"ids", 1}})["result"], "success");
  EXPECT_EQ(f.daemon->find(2)->queue_position, 0);
  auto space = f.call("free-space", {{"path", f.dir.path().string()}});
  EXPECT_TRUE(space["arguments"]["size-bytes"].is_number_integer());
  EXPECT_NE(f.call("free-space", {{"path", (f.dir / "nope").string()}})["result"], "success");
  EXPECT_NE(f.call("torrent-set-location", {{"ids", 1}, {"location", "relative"}})["result"],
            "success");
  auto st = f.call("session-stats", json::object(), 1);
  EXPECT_EQ(st["arguments"]["torrentCount"], 2);
  EXPECT_TRUE(st["arguments"]["cumulative-stats"]["uploadedBytes"].is_number_integer());
  EXPECT_EQ(f.call("torrent-remove", {{"ids", {1, 2}}})["result"], "success");
  EXPECT_TRUE(f.daemon->torrents().empty());
}

// The queue a remote reorders is the one the session starts torrents from.
TEST(RpcMethods, QueueMoveTopChoosesWhichQueuedTorrentStartsNext) {
  Fixture f([](DaemonConfig& c) { c.node.session.max_active_downloads = 1; });
  for (int i = 0; i < 3; ++i) f.add(i);
  auto statuses = [&] {
    std::vector<int> v;
    for (const auto& t : f.get(nullptr, {"status"})) v.push_back(t["status"].get<int>());
    return v;
  };
  auto wait_for = [&](std::vector<int> want) {
    for (int i = 0; i < 500 && statuses() != want; ++i) {
      f.node->io().run_for(std::chrono::milliseconds(10));
    }
    return statuses();
  };
  ASSERT_EQ(wait_for({4, 3, 3}), (std::vector<int>{4, 3, 3}));
  EXPECT_EQ(f.call("queue-move-top", {{"ids", {3}}})["result"], "success");
  EXPECT_EQ(f.daemon->find(3)->queue_position, 0);
  EXPECT_EQ(f.call("torrent-stop", {{"ids", {1}}})["result"], "success");
  EXPECT_EQ(wait_for({0, 3, 4}), (std::vector<int>{0, 3, 4}));
}

TEST(RpcMethods, PaymentMethodsWithoutWallets) {
  Fixture f;
  f.add(0);
  auto terms = f.call("bttnode-terms", {{"ids", 1}});
  ASSERT_EQ(terms["result"], "success");
  EXPECT_EQ(terms["arguments"]["torrents"][0]["hashString"], f.hex[0]);
  EXPECT_TRUE(terms["arguments"]["torrents"][0]["sell"].is_null());
  auto e = f.call("bttnode-earnings");
  ASSERT_EQ(e["result"], "success") << e.dump();
  EXPECT_TRUE(e["arguments"]["torrents"].is_array());
  EXPECT_TRUE(e["arguments"]["this_run"].empty());
  EXPECT_NE(f.call("bttnode-earnings", {{"token", "nonsense!"}})["result"], "success");
  auto w = f.call("bttnode-wallet");
  EXPECT_EQ(w["result"], "success");
  EXPECT_TRUE(w["arguments"].empty());
}

TEST(RpcMethods, EarningsFromTheWalletsLedgerPerTorrentAndPeerWithTxids) {
  TempDir wallet_dir{"bttnode-rpc-ledger"};
  auto keystore = wallet_dir / "seller.keystore.json";
  Fixture f([&](DaemonConfig& c) { c.sell.keystore = keystore; });
  f.add(0);
  {
    wallet::Ledger ledger(keystore.string() + ".ledger.db");
    for (int i = 0; i < 2; ++i) {
      wallet::Credit c;
      c.txid = std::string(63, 'a') + char('0' + i);
      c.amount = 1000 + i;
      c.info_hash = f.hex[0];
      c.peer = std::string(40, 'b');
      c.credited_at = 1'700'000'000'000 + i;
      ASSERT_TRUE(ledger.credit_once(c));
    }
  }
  auto e = f.call("bttnode-earnings");
  ASSERT_EQ(e["result"], "success") << e.dump();
  const auto& t = e["arguments"]["torrents"][0];
  EXPECT_EQ(t["info_hash"], f.hex[0]);
  EXPECT_EQ(t["id"], 1);
  ASSERT_EQ(t["peers"].size(), 1u);
  EXPECT_EQ(t["peers"][0]["peer"], std::string(40, 'b'));
  ASSERT_EQ(t["peers"][0]["credits"].size(), 2u);
  EXPECT_EQ(t["peers"][0]["credits"][1]["txid"], std::string(63, 'a') + "1");
  auto row = f.get(1, {"bttnodeEarned", "bttnodePayers", "bttnodeSpent"})[0];
  EXPECT_EQ(row["bttnodeEarned"], "2001");
  EXPECT_EQ(row["bttnodePayers"], 1);
  EXPECT_EQ(row["bttnodeSpent"], "0");
  auto other = f.call("bttnode-earnings", {{"ids", 99}});
  EXPECT_TRUE(other["arguments"]["torrents"].empty());
}

}  // namespace
}  // namespace bttnode::daemon
