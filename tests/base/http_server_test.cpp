#include "base/http_server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// A server on 127.0.0.1 run by two threads, answering "<method> <target> <body>".
struct Running {
  asio::io_context io;
  base::http::Server server;
  std::vector<std::thread> threads;
  std::atomic<int> handled{0};

  explicit Running(base::http::ServerOptions options)
      : server(io, std::move(options), [this](const base::http::Request& req) {
          ++handled;
          if (req.target() == "/throw") throw std::runtime_error("handler failed");
          base::http::Response res{bhttp::status::ok, 11};
          res.body() =
              std::string(req.method_string()) + " " + std::string(req.target()) + " " + req.body();
          if (req.target() == "/close") res.set(bhttp::field::connection, "close");
          return res;
        }) {
    server.start();
    auto guard = std::make_shared<asio::executor_work_guard<asio::io_context::executor_type>>(
        io.get_executor());
    for (int i = 0; i < 2; ++i) threads.emplace_back([this] { io.run(); });
    guard_ = guard;
  }
  ~Running() {
    server.stop();
    guard_.reset();
    io.stop();
    for (auto& t : threads) t.join();
  }
  std::shared_ptr<void> guard_;
};

base::http::ServerOptions small_limits() {
  base::http::ServerOptions o;
  o.header_limit = 1024;
  o.body_limit = 1000;
  o.request_timeout = 400ms;
  o.idle_timeout = 600ms;
  o.max_connections = 4;
  return o;
}

// A blocking client connection with a read deadline.
struct Client {
  asio::io_context io;
  tcp::socket socket{io};

  explicit Client(std::uint16_t port) {
    socket.connect({asio::ip::make_address("127.0.0.1"), port});
    struct timeval tv {
      3, 0
    };
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  void send(const std::string& bytes) { asio::write(socket, asio::buffer(bytes)); }
  // One response, or nullopt if the server closed without one.
  std::optional<bhttp::response<bhttp::string_body>> read() {
    bhttp::response<bhttp::string_body> res;
    boost::system::error_code ec;
    bhttp::read(socket, buffer, res, ec);
    if (ec) return std::nullopt;
    return res;
  }
  // True once the server has closed its side (EOF).
  bool closed_by_server() {
    char c;
    boost::system::error_code ec;
    socket.read_some(asio::buffer(&c, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }
  boost::beast::flat_buffer buffer;
};

std::string get(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: x\r\n" + extra + "\r\n";
}

TEST(HttpServer, KeepsAliveAcrossRequests) {
  Running r(small_limits());
  Client c(r.server.port());
  for (int i = 0; i < 3; ++i) {
    c.send("POST /p" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
    auto res = c.read();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 200);
    EXPECT_EQ(res->body(), "POST /p" + std::to_string(i) + " hi");
    EXPECT_TRUE(res->keep_alive());
    EXPECT_EQ((*res)[bhttp::field::server], "bttnode");
  }
  EXPECT_EQ(r.server.connections(), 1u);
  // Pipelined requests are answered in order.
  c.send(get("/a") + get("/b"));
  EXPECT_EQ(c.read()->body(), "GET /a ");
  EXPECT_EQ(c.read()->body(), "GET /b ");
}

TEST(HttpServer, ClosesWhenAskedTo) {
  Running r(small_limits());
  {
    Client c(r.server.port());
    c.send(get("/x", "Connection: close\r\n"));
    auto res = c.read();
    ASSERT_TRUE(res);
    EXPECT_FALSE(res->keep_alive());
    EXPECT_TRUE(c.closed_by_server());
  }
  {
    Client c(r.server.port());
    c.send(get("/close"));
    auto res = c.read();
    ASSERT_TRUE(res);
    EXPECT_FALSE(res->keep_alive());
    EXPECT_TRUE(c.closed_by_server());
  }
  {
    Client c(r.server.port());
    c.send("GET /old HTTP/1.0\r\n\r\n");
    auto res = c.read();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->version(), 10u);
    EXPECT_TRUE(c.closed_by_server());
  }
}

TEST(HttpServer, RefusesOversizeHeader) {
  Running r(small_limits());
  Client c(r.server.port());
  c.send(get("/x", "X-Big: " + std::string(2000, 'a') + "\r\n"));
  auto res = c.read();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 431);
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_EQ(r.handled.load(), 0);
}

TEST(HttpServer, RefusesOversizeBodyBeforeReadingIt) {
  Running r(small_limits());
  {
    Client c(r.server.port());
    // Only the header is sent: the declared length alone is refused.
    c.send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n");
    auto res = c.read();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 413);
    EXPECT_TRUE(c.closed_by_server());
  }
  {
    Client c(r.server.port());
    std::string chunked = "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 3; ++i) chunked += "190\r\n" + std::string(400, 'z') + "\r\n";
    c.send(chunked);
    auto res = c.read();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 413);
  }
  {
    Client c(r.server.port());
    c.send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + std::string(1000, 'k'));
    auto res = c.read();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 200);
  }
  EXPECT_EQ(r.handled.load(), 1);
}

TEST(HttpServer, TimesOutSlowRequestsAndIdleConnections) {
  Running r(small_limits());
  for (const char* partial : {"GET /slow HTTP/1.1\r\nHo",
                              "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"}) {
    // Half a header, or half a body, then nothing: closed once the request timeout passes.
    Client c(r.server.port());
    auto start = std::chrono::steady_clock::now();
    c.send(partial);
    EXPECT_TRUE(c.closed_by_server()) << partial;
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_GE(took, 350ms) << partial;
    EXPECT_LT(took, 2500ms) << partial;
  }
  {
    // A connection that never sends anything is closed without an answer.
    Client c(r.server.port());
    auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(c.closed_by_server());
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2500ms);
  }
  {
    // Kept alive for the idle timeout after an answer, then closed.
    Client c(r.server.port());
    c.send(get("/x"));
    ASSERT_TRUE(c.read());
    auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(c.closed_by_server());
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_GE(took, 500ms);
    EXPECT_LT(took, 2500ms);
  }
  EXPECT_EQ(r.handled.load(), 1);
}

TEST(HttpServer, BoundsConnections) {
  Running r(small_limits());
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(std::make_unique<Client>(r.server.port()));
    clients.back()->send(get("/x"));
    ASSERT_TRUE(clients.back()->read());
  }
  EXPECT_EQ(r.server.connections(), 4u);
  Client extra(r.server.port());
  EXPECT_TRUE(extra.closed_by_server());
  clients.pop_back();
  for (int i = 0; i < 100 && r.server.connections() > 3; ++i) std::this_thread::sleep_for(10ms);
  Client again(r.server.port());
  again.send(get("/y"));
  auto res = again.read();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body(), "GET /y ");
}

TEST(HttpServer, AnswersContinueAndHandlerErrors) {
  Running r(small_limits());
  Client c(r.server.port());
  c.send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  bhttp::response_parser<bhttp::empty_body> interim;
  bhttp::read_header(c.socket, c.buffer, interim);
  EXPECT_EQ(interim.get().result_int(), 100);
  c.send("body");
  auto res = c.read();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body(), "POST /x body");

  Client e(r.server.port());
  e.send(get("/throw"));
  auto failed = e.read();
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->result_int(), 500);
  EXPECT_NE(failed->body().find("handler failed"), std::string::npos);

  Client g(r.server.port());
  g.send("NOT HTTP AT ALL\r\n\r\n");
  auto bad = g.read();
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->result_int(), 400);
}

// An answer that comes later holds only its own connection: one io thread answers another
// request meanwhile, and the late answer keeps the connection alive for the next request.
TEST(HttpServer, AnswersLaterWithoutHoldingTheThread) {
  asio::io_context io;
  std::vector<base::http::Reply> waiting;
  std::atomic<bool> later_asked{false};
  base::http::Server server(
      io, {},
      [&](const base::http::Request& req, const asio::ip::address&, base::http::Reply reply) {
        base::http::Response res{bhttp::status::ok, 11};
        res.body() = std::string(req.target());
        if (req.target() == "/later") {
          waiting.push_back([reply, res](base::http::Response) mutable { reply(std::move(res)); });
          later_asked = true;
          return;
        }
        reply(std::move(res));
        for (auto& w : waiting) w({});
        waiting.clear();
        reply({});  // a second reply is ignored
      });
  server.start();
  std::thread thread([&] { io.run_for(5s); });
  struct Join {
    asio::io_context& io;
    std::thread& t;
    ~Join() {
      io.stop();
      t.join();
    }
  } join{io, thread};
  Client slow(server.port());
  slow.send(get("/later"));
  for (int i = 0; i < 300 && !later_asked; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(later_asked);
  Client fast(server.port());
  fast.send(get("/now"));
  auto now = fast.read();
  ASSERT_TRUE(now);
  EXPECT_EQ(now->body(), "/now");
  auto later = slow.read();
  ASSERT_TRUE(later);
  EXPECT_EQ(later->body(), "/later");
  EXPECT_TRUE(later->keep_alive());
  slow.send(get("/again"));
  auto again = slow.read();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->body(), "/again");
  server.stop();
}

TEST(HttpServer, RefusesAPortInUse) {
  Running r(small_limits());
  asio::io_context io;
  auto o = small_limits();
  o.port = r.server.port();
  base::http::Server second(io, o,
                            [](const base::http::Request&) { return base::http::Response{}; });
  EXPECT_THROW(second.start(), std::runtime_error);
}

TEST(BasicAuth, Parses) {
  auto a = base::http::parse_basic_auth("Basic dXNlcjpwYTpzcw==");  // user:pa:ss
  ASSERT_TRUE(a);
  EXPECT_EQ(a->first, "user");
  EXPECT_EQ(a->second, "pa:ss");
  auto empty = base::http::parse_basic_auth("basic Og==");  // ":"
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->first, "");
  for (const char* bad : {"", "Basic", "Basic ", "Bearer dXNlcjpwYXNz", "Basic dXNlcg==",
                          "Basic dXNl*jpwYXNz", "Basic dXNlcjpwYXNz=", "Basic ab=c"}) {
    EXPECT_FALSE(base::http::parse_basic_auth(bad)) << bad;
  }
}

}  // namespace
