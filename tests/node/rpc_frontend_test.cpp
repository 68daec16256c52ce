// The RPC's HTTP layer over real loopback sockets: whitelist, auth, Host check, session id,
// routes, bodies up to 10 MiB with Expect: 100-continue.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "base/http_client.hpp"
#include "node/daemon/http_frontend.hpp"

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using bttnode::daemon::DaemonConfig;
using bttnode::daemon::HttpFrontend;
using namespace std::chrono_literals;

namespace {

// A frontend whose RPC echoes the request back, with a route at /metrics.
struct Running {
  asio::io_context io;
  std::unique_ptr<HttpFrontend> frontend;
  std::thread thread;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;

  explicit Running(DaemonConfig c) {
    c.rpc_port = 0;
    frontend = std::make_unique<HttpFrontend>(io, c, [](const nlohmann::json& req) {
      nlohmann::json a = {{"result", "success"}, {"arguments", {{"echo", req}}}};
      if (req.contains("tag")) a["tag"] = req["tag"];
      return a;
    });
    frontend->add_route("/metrics", [](const base::http::Request&) {
      base::http::Response r{bhttp::status::ok, 11};
      r.body() = "metrics here";
      return std::optional<base::http::Response>(std::move(r));
    });
    frontend->start();
    guard.emplace(io.get_executor());
    thread = std::thread([this] { io.run(); });
  }
  ~Running() {
    frontend->stop();
    guard.reset();
    io.stop();
    thread.join();
  }
  base::Url url() const {
    return base::Url::parse("http://127.0.0.1:" + std::to_string(frontend->port()));
  }
};

base::http::Request post(const std::string& target, const std::string& body) {
  base::http::Request r{bhttp::verb::post, target, 11};
  r.body() = body;
  r.prepare_payload();
  return r;
}

const char* kAliceAuth = "Basic YWxpY2U6c2VjcmV0";  // alice:secret

}  // namespace

TEST(RpcFrontend, HandsOutTheSessionIdWith409ThenAnswers) {
  Running r{DaemonConfig{}};
  base::http::BlockingClient client(r.url());
  auto first =
      client.request(post("/transmission/rpc/", R"({"method":"session-get","tag":3})"), 5s);
  EXPECT_EQ(first.result_int(), 409);
  std::string id(first["X-Transmission-Session-Id"]);
  EXPECT_EQ(id, r.frontend->session_id());
  EXPECT_EQ(id.size(), 48u);

  auto wrong = post("/transmission/rpc", R"({"method":"x"})");
  wrong.set("X-Transmission-Session-Id", "not-it");
  EXPECT_EQ(client.request(wrong, 5s).result_int(), 409);

  for (std::string target : {"/transmission/rpc", "/transmission/rpc/"}) {
    auto req = post(target, R"({"method":"session-get","tag":3})");
    req.set("x-transmission-session-id", id);  // header names are case-insensitive
    auto res = client.request(req, 5s);
    ASSERT_EQ(res.result_int(), 200) << target;
    auto j = nlohmann::json::parse(res.body());
    EXPECT_EQ(j["tag"], 3);
    EXPECT_EQ(j["arguments"]["echo"]["method"], "session-get");
    EXPECT_EQ(std::string(res["X-Transmission-Session-Id"]), id);
  }
}

TEST(RpcFrontend, SessionIdsDifferBetweenStarts) {
  asio::io_context io;
  DaemonConfig c;
  HttpFrontend a(io, c, [](const nlohmann::json&) { return nlohmann::json::object(); });
  HttpFrontend b(io, c, [](const nlohmann::json&) { return nlohmann::json::object(); });
  EXPECT_NE(a.session_id(), b.session_id());
}

TEST(RpcFrontend, NotJsonIsNoMethodNameAndGetIs405) {
  Running r{DaemonConfig{}};
  base::http::BlockingClient client(r.url());
  auto req = post("/transmission/rpc", "this is not json");
  req.set("X-Transmission-Session-Id", r.frontend->session_id());
  auto res = client.request(req, 5s);
  ASSERT_EQ(res.result_int(), 200);
  EXPECT_EQ(nlohmann::json::parse(res.body())["result"], "no method name");

  req.body() = std::string(1000, '[');
  req.prepare_payload();
  EXPECT_EQ(nlohmann::json::parse(client.request(req, 5s).body())["result"], "no method name");

  // Valid JSON, but nested deeper than any request: refused before it is parsed.
  req.body() = R"({"method":"session-get","arguments":{"x":)" + std::string(100, '[') +
               std::string(100, ']') + "}}";
  req.prepare_payload();
  EXPECT_EQ(nlohmann::json::parse(client.request(req, 5s).body())["result"], "no method name");
  req.body() = R"({"method":"session-get","arguments":{"x":[[[]]]}})";
  req.prepare_payload();
  EXPECT_NE(nlohmann::json::parse(client.request(req, 5s).body())["result"], "no method name");

  base::http::Request get{bhttp::verb::get, "/transmission/rpc", 11};
  get.set("X-Transmission-Session-Id", r.frontend->session_id());
  EXPECT_EQ(client.request(get, 5s).result_int(), 405);
}

TEST(RpcFrontend, BasicAuthAsksWithWwwAuthenticateAndGuardsRoutes) {
  DaemonConfig c;
  c.rpc_username = "alice";
  c.rpc_password = "secret";
  Running r{c};
  base::http::BlockingClient client(r.url());
  auto none = client.request(post("/transmission/rpc/", "{}"), 5s);
  EXPECT_EQ(none.result_int(), 401);
  EXPECT_EQ(std::string(none[bhttp::field::www_authenticate]), "Basic realm=\"bttnode\"");
  EXPECT_TRUE(none.find("X-Transmission-Session-Id") == none.end());

  auto bad = post("/transmission/rpc/", "{}");
  bad.set(bhttp::field::authorization, "Basic YWxpY2U6d3Jvbmc=");  // alice:wrong
  EXPECT_EQ(client.request(bad, 5s).result_int(), 401);

  base::http::Request metrics{bhttp::verb::get, "/metrics", 11};
  EXPECT_EQ(client.request(metrics, 5s).result_int(), 401);
  metrics.set(bhttp::field::authorization, kAliceAuth);
  auto m = client.request(metrics, 5s);
  EXPECT_EQ(m.result_int(), 200);
  EXPECT_EQ(m.body(), "metrics here");

  auto good = post("/transmission/rpc/", R"({"method":"m"})");
  good.set(bhttp::field::authorization, kAliceAuth);
  auto conflict = client.request(good, 5s);
  EXPECT_EQ(conflict.result_int(), 409);
  good.set("X-Transmission-Session-Id", conflict["X-Transmission-Session-Id"]);
  EXPECT_EQ(client.request(good, 5s).result_int(), 200);

  base::http::Request unknown{bhttp::verb::get, "/nothing", 11};
  unknown.set(bhttp::field::authorization, kAliceAuth);
  EXPECT_EQ(client.request(unknown, 5s).result_int(), 404);
}

TEST(RpcFrontend, ForeignHostIsRefusedOnLoopbackEvenWithThePassword) {
  DaemonConfig c;
  c.rpc_username = "alice";
  c.rpc_password = "secret";
  c.rpc_host_whitelist = {"box.example", "*.lan"};
  Running r{c};
  base::http::BlockingClient client(r.url());
  auto ask = [&](const std::string& host) {
    auto req = post("/transmission/rpc/", "{}");
    req.set(bhttp::field::authorization, kAliceAuth);
    req.set(bhttp::field::host, host);
    return client.request(req, 5s);
  };
  auto evil = ask("evil.example:9091");
  EXPECT_EQ(evil.result_int(), 421);
  EXPECT_NE(evil.body().find("evil.example"), std::string::npos);
  EXPECT_NE(evil.body().find("rpc_host_whitelist"), std::string::npos);
  EXPECT_TRUE(evil.find("X-Transmission-Session-Id") == evil.end());
  for (std::string ok : {"localhost:9091", "LocalHost", "ui.localhost", "127.0.0.2:1", "[::1]:9091",
                         "box.example", "nas.lan:80"}) {
    EXPECT_EQ(ask(ok).result_int(), 409) << ok;
  }
  for (std::string no : {"localhost.evil.example", "box.example.evil", "lan", "x.localhostx"}) {
    EXPECT_EQ(ask(no).result_int(), 421) << no;
  }
}

TEST(RpcFrontend, AnyHostWhenNotBoundToLoopback) {
  DaemonConfig c;
  c.rpc_bind = "0.0.0.0";
  Running r{c};
  base::http::BlockingClient client(r.url());
  auto req = post("/transmission/rpc/", "{}");
  req.set(bhttp::field::host, "seedbox.example.org:9091");
  EXPECT_EQ(client.request(req, 5s).result_int(), 409);
}

TEST(RpcFrontend, ClientOutsideTheWhitelistGets403) {
  DaemonConfig c;
  c.rpc_whitelist = {"10.*.*.*", "192.168.1.7"};
  Running r{c};
  base::http::BlockingClient client(r.url());
  auto res = client.request(post("/transmission/rpc/", "{}"), 5s);
  EXPECT_EQ(res.result_int(), 403);
  EXPECT_NE(res.body().find("whitelist"), std::string::npos);
}

TEST(RpcFrontend, WhitelistMatching) {
  using bttnode::daemon::client_allowed;
  auto a = [](const char* s) { return asio::ip::make_address(s); };
  EXPECT_TRUE(client_allowed({}, a("8.8.8.8")));
  EXPECT_TRUE(client_allowed({"127.0.0.1", "::1"}, a("::1")));
  EXPECT_TRUE(client_allowed({"192.168.*.*"}, a("192.168.10.5")));
  EXPECT_FALSE(client_allowed({"192.168.1.*"}, a("192.168.10.5")));
  EXPECT_FALSE(client_allowed({"192.168.*"}, a("192.168.1.5")));  // four octets or nothing
  EXPECT_TRUE(client_allowed({"1*.0.0.1"}, a("127.0.0.1")));
  EXPECT_FALSE(client_allowed({"127.0.0.1"}, a("127.0.0.2")));
  EXPECT_TRUE(client_allowed({"fe80::*"}, a("fe80::1")));
  EXPECT_EQ(bttnode::daemon::host_of("[::1]:9091"), "::1");
  EXPECT_EQ(bttnode::daemon::host_of("::1"), "::1");
  EXPECT_EQ(bttnode::daemon::host_of("a.b:80"), "a.b");
  EXPECT_TRUE(bttnode::daemon::is_loopback_bind("127.0.0.1"));
  EXPECT_TRUE(bttnode::daemon::is_loopback_bind("::1"));
  EXPECT_FALSE(bttnode::daemon::is_loopback_bind("0.0.0.0"));
}

TEST(RpcFrontend, TakesTenMebibyteBodiesAfter100Continue) {
  Running r{DaemonConfig{}};
  asio::io_context io;
  asio::ip::tcp::socket sock(io);
  sock.connect({asio::ip::make_address("127.0.0.1"), r.frontend->port()});
  std::string body = R"({"method":"torrent-add","arguments":{"metainfo":")" +
                     std::string(10'000'000, 'A') + "\"}}";
  bhttp::request<bhttp::string_body> req{bhttp::verb::post, "/transmission/rpc/", 11};
  req.set(bhttp::field::host, "127.0.0.1");
  req.set(bhttp::field::expect, "100-continue");
  req.set("X-Transmission-Session-Id", r.frontend->session_id());
  req.body() = body;
  req.prepare_payload();
  bhttp::request_serializer<bhttp::string_body> sr{req};
  bhttp::write_header(sock, sr);
  boost::beast::flat_buffer buf;
  bhttp::response<bhttp::string_body> cont;
  bhttp::read(sock, buf, cont);
  ASSERT_EQ(cont.result_int(), 100);
  bhttp::write(sock, sr);
  bhttp::response_parser<bhttp::string_body> p;
  p.body_limit(32u << 20);
  bhttp::read(sock, buf, p);
  ASSERT_EQ(p.get().result_int(), 200);
  auto j = nlohmann::json::parse(p.get().body());
  EXPECT_EQ(j["arguments"]["echo"]["arguments"]["metainfo"].get<std::string>().size(), 10'000'000u);
}

TEST(RpcFrontend, RefusesBodiesOverTenMebibytesBeforeReadingThem) {
  Running r{DaemonConfig{}};
  asio::io_context io;
  asio::ip::tcp::socket sock(io);
  sock.connect({asio::ip::make_address("127.0.0.1"), r.frontend->port()});
  std::string head =
      "POST /transmission/rpc/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "X-Transmission-Session-Id: " +
      r.frontend->session_id() + "\r\nContent-Length: " + std::to_string((10u << 20) + 1) +
      "\r\n\r\n";
  asio::write(sock, asio::buffer(head));
  boost::beast::flat_buffer buf;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(sock, buf, res);
  EXPECT_EQ(res.result_int(), 413);
}
