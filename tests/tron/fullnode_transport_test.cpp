// The full-node client's transport against a scripted server on loopback: keep-alive, retries
// with backoff on transport errors only, timeouts, the API key header.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "tests/tron/fullnode_test_server.hpp"
#include "tests/tron/fullnode_test_util.hpp"
#include "tron/fullnode_client.hpp"
#include "tron/http_url.hpp"

namespace tron {
namespace {

using namespace std::chrono_literals;
using testing::options_for;
using testing::Reply;
using testing::SeenRequest;
using testing::TestHttpServer;
using Action = Reply::Action;
using Clock = std::chrono::steady_clock;

Reply json_reply(const nlohmann::json& body) {
  Reply r;
  r.body = body.dump();
  return r;
}

// A free port with nothing listening on it.
std::uint16_t closed_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

TEST(HttpUrl, ParsesSchemesHostsPortsAndPrefixes) {
  auto u = HttpUrl::parse("http://127.0.0.1:8090");
  EXPECT_FALSE(u.tls);
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 8090);
  EXPECT_EQ(u.prefix, "");
  EXPECT_TRUE(u.host_is_ip());
  EXPECT_EQ(u.host_header(), "127.0.0.1:8090");

  u = HttpUrl::parse("HTTPS://API.TronGrid.io/");
  EXPECT_TRUE(u.tls);
  EXPECT_EQ(u.host, "api.trongrid.io");
  EXPECT_EQ(u.port, 443);
  EXPECT_EQ(u.prefix, "");
  EXPECT_FALSE(u.host_is_ip());
  EXPECT_EQ(u.host_header(), "api.trongrid.io");

  u = HttpUrl::parse("https://node.example:8443/tron/v1/");
  EXPECT_EQ(u.port, 8443);
  EXPECT_EQ(u.prefix, "/tron/v1");
  EXPECT_EQ(u.host_header(), "node.example:8443");

  u = HttpUrl::parse("http://[::1]:9000/x");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 9000);
  EXPECT_EQ(u.prefix, "/x");
  EXPECT_EQ(u.host_header(), "[::1]:9000");
  EXPECT_EQ(u.origin(), "http://[::1]:9000");
}

TEST(HttpUrl, RefusesBadUrls) {
  for (const char* bad : {"", "127.0.0.1:8090", "ftp://host", "http://", "http://:80",
                          "http://host:", "http://host:0", "http://host:65536", "http://host:80x",
                          "http://user@host", "http://host/path?q=1", "http://host#frag",
                          "http://[::1", "http://[zz]:80", "http://ho st", "http://host:123456"}) {
    EXPECT_THROW(HttpUrl::parse(bad), std::invalid_argument) << bad;
  }
}

TEST(FullNodeTransport, KeepsOneConnectionAliveAcrossRequests) {
  TestHttpServer server([](const SeenRequest&) { return json_reply(testing::block_answer(7, 1)); });
  FullNodeClient client(options_for(server));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(client.now_block().number, 7);
  EXPECT_EQ(server.connections(), 1);
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 5u);
  EXPECT_EQ(requests[0].target, "/wallet/getnowblock");
  EXPECT_EQ(requests[0].headers["content-type"], "application/json");
  EXPECT_EQ(requests[0].headers["host"], "127.0.0.1:" + std::to_string(server.port()));
}

TEST(FullNodeTransport, PathPrefixIsPrepended) {
  TestHttpServer server([](const SeenRequest&) { return json_reply(testing::block_answer(1, 1)); });
  auto o = options_for(server);
  o.url += "/proxy/tron/";
  FullNodeClient client(o);
  client.now_block();
  EXPECT_EQ(server.requests().at(0).target, "/proxy/tron/wallet/getnowblock");
}

TEST(FullNodeTransport, ServerClosingTheConnectionIsFollowedByANewOne) {
  // "Connection: close" on each answer, and an idle close without notice: neither is an error,
  // and neither costs a retry.
  std::atomic<int> n{0};
  TestHttpServer server([&](const SeenRequest&) {
    Reply r = json_reply(testing::block_answer(3, 1));
    if (n++ % 2 == 0) {
      r.keep_alive = false;
    } else {
      r.action = Action::RespondThenIdleClose;
    }
    return r;
  });
  auto o = options_for(server);
  o.retries = 0;
  FullNodeClient client(o);
  for (int i = 0; i < 4; ++i) {
    std::this_thread::sleep_for(20ms);  // let the idle close reach us
    EXPECT_EQ(client.now_block().number, 3);
  }
  EXPECT_EQ(server.requests().size(), 4u);
  EXPECT_EQ(server.connections(), 4);
}

TEST(FullNodeTransport, RetriesWithBackoffAfterDroppedConnectionsThenSucceeds) {
  std::atomic<int> n{0};
  TestHttpServer server([&](const SeenRequest&) {
    Reply r = json_reply(testing::block_answer(42, 1000));
    int i = n++;
    if (i == 0) r.action = Action::Drop;
    if (i == 1) r.action = Action::Reset;
    if (i == 2) r.action = Action::Truncate;
    return r;
  });
  FullNodeClient client(options_for(server));  // 3 retries, backoff 100 ms doubling
  auto start = Clock::now();
  BlockRef block = client.now_block();
  auto elapsed = Clock::now() - start;
  EXPECT_EQ(block.number, 42);
  EXPECT_EQ(block.timestamp, 1000);
  EXPECT_EQ(server.requests().size(), 4u);
  EXPECT_EQ(server.connections(), 4);
  EXPECT_GE(elapsed, 100ms + 200ms + 400ms);  // the backoff really waited, and doubled
  EXPECT_LT(elapsed, 10s);
}

TEST(FullNodeTransport, GivesUpAfterTheRetriesWithATransportError) {
  TestHttpServer server([](const SeenRequest&) {
    Reply r;
    r.action = Action::Drop;
    return r;
  });
  auto o = options_for(server);
  o.retries = 2;
  o.backoff = 50ms;
  FullNodeClient client(o);
  try {
    client.now_block();
    FAIL() << "expected a NodeError";
  } catch (const NodeError& e) {
    EXPECT_EQ(e.code, "TRANSPORT");
    EXPECT_TRUE(e.transport);
    EXPECT_NE(std::string(e.what()).find("3 attempts"), std::string::npos) << e.what();
  }
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(FullNodeTransport, ConnectionRefusedIsRetriedThenReported) {
  FullNodeOptions o;
  o.url = "http://127.0.0.1:" + std::to_string(closed_port());
  o.retries = 2;
  o.backoff = 100ms;
  FullNodeClient client(o);
  auto start = Clock::now();
  try {
    client.chain_parameters();
    FAIL() << "expected a NodeError";
  } catch (const NodeError& e) {
    EXPECT_EQ(e.code, "TRANSPORT");
    EXPECT_TRUE(e.transport);
    EXPECT_NE(std::string(e.what()).find("cannot connect"), std::string::npos) << e.what();
  }
  EXPECT_GE(Clock::now() - start, 100ms + 200ms);
}

TEST(FullNodeTransport, NodeErrorsAreNeverRetried) {
  std::atomic<int> n{0};
  TestHttpServer server([&](const SeenRequest& req) {
    ++n;
    if (req.target == "/wallet/getchainparameters") {
      return json_reply({{"Error", "class java.lang.IllegalStateException : node is syncing"}});
    }
    if (req.target == "/wallet/getnowblock") {
      Reply r;
      r.status = 503;
      r.body = "<html>Service Unavailable</html>";
      return r;
    }
    // broadcasthex refused: java-tron puts the message as hex of its text.
    return json_reply({{"code", "SIGERROR"},
                       {"txid", testing::sample_transaction().txid},
                       {"message", to_hex(as_bytes("Validate signature error: bad"))}});
  });
  FullNodeClient client(options_for(server));
  try {
    client.chain_parameters();
    FAIL();
  } catch (const NodeError& e) {
    EXPECT_EQ(e.code, "ERROR");
    EXPECT_FALSE(e.transport);
    EXPECT_NE(std::string(e.what()).find("node is syncing"), std::string::npos);
  }
  EXPECT_EQ(n.load(), 1);
  try {
    client.now_block();
    FAIL();
  } catch (const NodeError& e) {
    EXPECT_EQ(e.code, "HTTP 503");
    EXPECT_FALSE(e.transport);
  }
  EXPECT_EQ(n.load(), 2);
  auto tx = testing::sample_transaction();
  BroadcastResult result = client.broadcast_hex(tx.bytes);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.code, "SIGERROR");
  EXPECT_EQ(result.message, "Validate signature error: bad");
  EXPECT_EQ(result.txid, tx.txid);
  EXPECT_EQ(n.load(), 3);
}

TEST(FullNodeTransport, SilentServerTimesOut) {
  TestHttpServer server([](const SeenRequest&) {
    Reply r;
    r.action = Action::Silent;
    return r;
  });
  auto o = options_for(server);
  o.timeout = 300ms;
  o.retries = 1;
  o.backoff = 50ms;
  FullNodeClient client(o);
  auto start = Clock::now();
  try {
    client.now_block();
    FAIL() << "expected a timeout";
  } catch (const NodeError& e) {
    EXPECT_EQ(e.code, "TRANSPORT");
    EXPECT_TRUE(e.transport);
    EXPECT_NE(std::string(e.what()).find("in time"), std::string::npos) << e.what();
  }
  auto elapsed = Clock::now() - start;
  EXPECT_GE(elapsed, 2 * 300ms + 50ms);
  EXPECT_LT(elapsed, 5s);
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(FullNodeTransport, SendsTheApiKeyHeaderOnlyWhenSet) {
  TestHttpServer server([](const SeenRequest&) { return json_reply(testing::block_answer(1, 1)); });
  auto o = options_for(server);
  o.api_key = "3f1c0c52-8a77-4b7e-9c1f-0d2b9b6a4e11";
  FullNodeClient with_key(o);
  with_key.now_block();
  o.api_key.clear();
  FullNodeClient without_key(o);
  without_key.now_block();
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].headers["tron-pro-api-key"], "3f1c0c52-8a77-4b7e-9c1f-0d2b9b6a4e11");
  EXPECT_EQ(requests[1].headers.count("tron-pro-api-key"), 0u);
}

TEST(FullNodeTransport, BroadcastWhoseAnswerWasLostIsNotReportedAsDuplicate) {
  // The first attempt reaches the node but the answer is lost; the node then knows the
  // transaction and says DUP_TRANSACTION_ERROR to the retry: it was accepted.
  auto tx = testing::sample_transaction();
  std::atomic<int> n{0};
  TestHttpServer server([&](const SeenRequest&) {
    if (n++ == 0) {
      Reply r;
      r.action = Action::Drop;
      return r;
    }
    return json_reply({{"code", "DUP_TRANSACTION_ERROR"},
                       {"txid", tx.txid},
                       {"message", to_hex(as_bytes("dup transaction"))}});
  });
  FullNodeClient client(options_for(server));
  BroadcastResult result = client.broadcast_hex(tx.bytes);
  EXPECT_TRUE(result.ok);
  EXPECT_EQ(result.code, "SUCCESS");
  EXPECT_EQ(result.txid, tx.txid);
  // Without a lost answer, a duplicate is the node's refusal.
  FullNodeClient again(options_for(server));
  result = again.broadcast_hex(tx.bytes);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.code, "DUP_TRANSACTION_ERROR");
  EXPECT_EQ(result.message, "dup transaction");
}

TEST(FullNodeTransport, SharedClientSerializesCallsFromThreads) {
  TestHttpServer server([](const SeenRequest&) { return json_reply(testing::block_answer(9, 1)); });
  FullNodeClient client(options_for(server));
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) ok += client.now_block().number == 9;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 40);
  EXPECT_EQ(server.connections(), 1);
}

}  // namespace
}  // namespace tron
