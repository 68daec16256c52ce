// The devnet server on loopback: many concurrent keep-alive connections, GET and POST.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "devnet_test_util.hpp"
#include "tron/devnet/server.hpp"
#include "tron/devnet/state_file.hpp"

namespace tron::devnet {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using nlohmann::json;

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

http::response<http::string_body> exchange(beast::tcp_stream& stream, http::verb verb,
                                           const std::string& target, const std::string& body) {
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.keep_alive(true);
  if (verb == http::verb::post) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  return res;
}

TEST(DevnetServer, ServesMoreThan200ConcurrentKeepAliveConnections) {
  auto service = std::make_shared<Service>(Chain(testing::test_genesis()), wall_ms);
  ServerOptions options;
  options.port = 0;
  options.block_interval = std::chrono::milliseconds(200);
  Server server(service, options);
  server.start();
  ASSERT_NE(server.port(), 0);

  constexpr int kConnections = 250;
  asio::io_context ioc;
  std::vector<std::unique_ptr<beast::tcp_stream>> streams;
  for (int i = 0; i < kConnections; ++i) {
    streams.push_back(std::make_unique<beast::tcp_stream>(ioc));
    streams.back()->expires_after(std::chrono::seconds(60));
    streams.back()->connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
  }
  // All 250 are open at once; each is used twice (keep-alive), with GET and POST.
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < kConnections; ++i) {
      auto res = round == 0
                     ? exchange(*streams[i], http::verb::get, "/wallet/getnowblock", "")
                     : exchange(*streams[i], http::verb::post, "/wallet/getaccount",
                                json{{"address", testing::key_of("bob").address().to_base58()},
                                     {"visible", true}}
                                    .dump());
      ASSERT_EQ(res.result(), http::status::ok);
      ASSERT_TRUE(res.keep_alive());
      json j = json::parse(res.body());
      ASSERT_TRUE(round == 0 ? j.contains("blockID") : j.contains("balance")) << res.body();
    }
  }
  // And from several threads at once, while blocks are sealed.
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kConnections; i += 8) {
        auto res = exchange(*streams[i], http::verb::post, "/wallet/getchainparameters", "{}");
        if (res.result() == http::status::ok &&
            res.body().find("getEnergyFee") != std::string::npos) {
          ++ok;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kConnections);
  // An answer with a wrong method or path keeps the connection usable.
  EXPECT_EQ(exchange(*streams[0], http::verb::get, "/wallet/broadcasthex", "").result(),
            http::status::method_not_allowed);
  EXPECT_EQ(exchange(*streams[0], http::verb::get, "/nope", "").result(), http::status::not_found);
  EXPECT_EQ(exchange(*streams[0], http::verb::get, "/wallet/getnowblock", "").result(),
            http::status::ok);
  for (auto& s : streams) {
    beast::error_code ec;
    s->socket().shutdown(tcp::socket::shutdown_both, ec);
  }
  EXPECT_GE(service->head_number(), 0);
  server.stop();
}

// A hostile body over a socket: 100,000 nested arrays get a 400, and the same keep-alive
// connection and new ones are served afterwards.
TEST(DevnetServer, DeeplyNestedBodyIsRefusedAndServingGoesOn) {
  auto service = std::make_shared<Service>(Chain(testing::test_genesis()), wall_ms);
  Server server(service, ServerOptions{});
  server.start();
  asio::io_context ioc;
  auto connect = [&] {
    auto s = std::make_unique<beast::tcp_stream>(ioc);
    s->expires_after(std::chrono::seconds(60));
    s->connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
    return s;
  };
  auto stream = connect();
  auto deep = exchange(*stream, http::verb::post, "/wallet/getblock", std::string(100'000, '['));
  EXPECT_EQ(deep.result(), http::status::bad_request);
  EXPECT_NE(deep.body().find("nested deeper than"), std::string::npos) << deep.body();
  auto next = exchange(*stream, http::verb::post, "/wallet/getnowblock", "{}");
  EXPECT_EQ(next.result(), http::status::ok);
  EXPECT_TRUE(json::parse(next.body()).contains("blockID"));
  auto fresh = connect();
  EXPECT_EQ(exchange(*fresh, http::verb::get, "/wallet/getnowblock", "").result(),
            http::status::ok);
  server.stop();
}

TEST(DevnetServer, StopSealsPendingAndSavesState) {
  auto dir = std::filesystem::temp_directory_path() / ("devnet-srv-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "state.json").string();
  Chain chain(testing::test_genesis());
  chain.seal(wall_ms());
  auto tx = testing::trx_transfer(chain, testing::key_of("alice"), testing::key_of("bob").address(),
                                  42, wall_ms());
  ASSERT_TRUE(chain.broadcast(tx).ok());
  auto service = std::make_shared<Service>(std::move(chain), wall_ms);
  ServerOptions options;
  options.block_interval = std::chrono::hours(1);  // only stop() seals
  options.state_path = path;
  {
    Server server(service, options);
    server.start();
    server.stop();
  }
  auto text = read_file_if_exists(path);
  ASSERT_TRUE(text.has_value());
  Chain loaded = Chain::from_state_json(testing::test_genesis(), json::parse(*text));
  EXPECT_EQ(loaded.head_number(), 2);
  EXPECT_NE(loaded.find_transaction(transaction_id(tx)), nullptr);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tron::devnet
