#include "base/http_client.hpp"

#include <gtest/gtest.h>

#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/http.hpp>

#include "base/http_server.hpp"

namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;
using Kind = base::http::TransportError::Kind;

// base::http::Server on a thread of its own; "/size/N" answers N bytes, "/sleep/MS" waits.
struct Loopback {
  asio::io_context io;
  base::http::Server server;
  std::thread thread;
  std::atomic<int> requests{0};

  explicit Loopback(std::chrono::milliseconds idle = 5000ms)
      : server(io, options(idle), [this](const base::http::Request& req) {
          ++requests;
          std::string target(req.target());
          base::http::Response res{bhttp::status::ok, 11};
          if (target.rfind("/size/", 0) == 0) {
            res.body() = std::string(std::stoul(target.substr(6)), 'b');
          } else if (target.rfind("/sleep/", 0) == 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(std::stoul(target.substr(7))));
            res.body() = "late";
          } else if (target == "/redirect") {
            res.result(bhttp::status::found);
            res.set(bhttp::field::location, "/size/1");
          } else {
            res.body() = std::string(req.method_string()) + " " + target + " " + req.body() + " " +
                         std::string(req[bhttp::field::host]);
          }
          return res;
        }) {
    server.start();
    thread = std::thread([this] {
      auto guard = asio::make_work_guard(io);
      io.run();
    });
  }
  ~Loopback() {
    server.stop();
    io.stop();
    thread.join();
  }
  static base::http::ServerOptions options(std::chrono::milliseconds idle) {
    base::http::ServerOptions o;
    o.idle_timeout = idle;
    return o;
  }
  base::Url url() const {
    return base::Url::parse("http://127.0.0.1:" + std::to_string(server.port()));
  }
};

base::http::Request get(const std::string& target) {
  return base::http::Request{bhttp::verb::get, target, 11};
}

TEST(BlockingClient, KeepsOneConnectionAlive) {
  Loopback server;
  base::http::BlockingClient client(server.url());
  for (int i = 0; i < 5; ++i) {
    base::http::Request post{bhttp::verb::post, "/echo", 11};
    post.body() = "n" + std::to_string(i);
    auto res = client.request(post, 2000ms);
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.body(), "POST /echo n" + std::to_string(i) +
                              " 127.0.0.1:" + std::to_string(server.server.port()));
  }
  EXPECT_EQ(client.connections_opened(), 1u);
  EXPECT_TRUE(client.is_open());
  client.close();
  EXPECT_FALSE(client.is_open());
  EXPECT_EQ(client.request(get("/size/3"), 2000ms).body(), "bbb");
  EXPECT_EQ(client.connections_opened(), 2u);
}

TEST(BlockingClient, ReopensAConnectionTheServerClosedWhileIdle) {
  Loopback server(150ms);
  base::http::BlockingClient client(server.url());
  EXPECT_EQ(client.request(get("/size/1"), 2000ms).body(), "b");
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(client.request(get("/size/2"), 2000ms).body(), "bb");
  EXPECT_EQ(client.connections_opened(), 2u);
}

TEST(BlockingClient, RefusesABodyOverTheLimit) {
  Loopback server;
  base::http::BlockingClient client(server.url());
  EXPECT_EQ(client.request(get("/size/1000"), 2000ms, 1000).body().size(), 1000u);
  try {
    client.request(get("/size/1001"), 2000ms, 1000);
    FAIL() << "accepted a body over the limit";
  } catch (const base::http::TransportError& e) {
    EXPECT_EQ(e.kind, Kind::TooLarge);
    EXPECT_FALSE(e.retryable());
  }
  EXPECT_FALSE(client.is_open());
  EXPECT_EQ(client.request(get("/size/5"), 2000ms, 1000).body(), "bbbbb");
}

TEST(BlockingClient, TimesOutAndFailsToConnect) {
  Loopback server;
  base::http::BlockingClient client(server.url());
  auto start = std::chrono::steady_clock::now();
  try {
    client.request(get("/sleep/800"), 200ms);
    FAIL() << "no timeout";
  } catch (const base::http::TransportError& e) {
    EXPECT_EQ(e.kind, Kind::Timeout) << e.what();
    EXPECT_TRUE(e.retryable());
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 700ms);

  std::uint16_t closed;
  {
    asio::io_context io;
    asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
    closed = a.local_endpoint().port();
  }
  base::http::BlockingClient nobody(base::Url::parse("http://127.0.0.1:" + std::to_string(closed)));
  try {
    nobody.request(get("/"), 1000ms);
    FAIL() << "connected to a closed port";
  } catch (const base::http::TransportError& e) {
    EXPECT_EQ(e.kind, Kind::Connect) << e.what();
  }
  base::http::BlockingClient unknown(base::Url::parse("http://no-such-host.invalid:80"));
  try {
    unknown.request(get("/"), 3000ms);
    FAIL() << "resolved .invalid";
  } catch (const base::http::TransportError& e) {
    EXPECT_TRUE(e.kind == Kind::Resolve || e.kind == Kind::Timeout) << e.what();
  }
}

TEST(BlockingClient, RefusesOtherSchemes) {
  EXPECT_THROW(base::http::BlockingClient(base::Url::parse("udp://h:1")), std::invalid_argument);
  base::http::ClientOptions o;
  o.extra_ca_file = "/nonexistent/ca.pem";
  EXPECT_THROW(base::http::BlockingClient(base::Url::parse("https://h"), o), std::invalid_argument);
}

TEST(AsyncClient, RunsManyClientsOnOneIoContext) {
  Loopback server;
  asio::io_context io;
  std::vector<std::unique_ptr<base::http::Client>> clients;
  std::vector<std::string> bodies(8);
  int done = 0;
  for (int i = 0; i < 8; ++i) {
    base::http::ClientOptions o;
    o.keep_alive = false;
    clients.push_back(std::make_unique<base::http::Client>(io, server.url(), o));
    clients.back()->async_request(
        get("/size/" + std::to_string(i + 1)), 2000ms, 1 << 20,
        [&, i](std::optional<base::http::TransportError> e, base::http::Response r) {
          ++done;
          if (!e) bodies[i] = r.body();
        });
  }
  io.run();
  EXPECT_EQ(done, 8);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(bodies[i], std::string(i + 1, 'b'));
  for (auto& c : clients) EXPECT_FALSE(c->is_open());  // Connection: close
}

TEST(AsyncClient, ClosingAbandonsTheRequestInFlight) {
  Loopback server;
  asio::io_context io;
  base::http::Client client(io, server.url());
  bool called = false;
  client.async_request(
      get("/sleep/300"), 2000ms, 1 << 20,
      [&](std::optional<base::http::TransportError>, base::http::Response) { called = true; });
  asio::steady_timer t(io, 50ms);
  t.async_wait([&](boost::system::error_code) { client.close(); });
  io.run();
  EXPECT_FALSE(called);
  EXPECT_FALSE(client.is_open());
}

}  // namespace
