// The pure parts of torrent-add's inputs: base64 both ways, and a .torrent fetched by URL.
#include <gtest/gtest.h>

#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "base/http_server.hpp"
#include "node/daemon/rpc_inputs.hpp"
#include "node/daemon/rpc_methods.hpp"

using bttnode::daemon::decode_base64;
using bttnode::daemon::encode_base64;
using namespace std::chrono_literals;
namespace bhttp = boost::beast::http;

TEST(RpcInputs, Base64RoundTripsEveryLength) {
  std::string data;
  for (int i = 0; i < 300; ++i) {
    auto enc = encode_base64(data);
    EXPECT_EQ(enc.size() % 4, 0u);
    auto dec = decode_base64(enc);
    ASSERT_TRUE(dec) << i;
    EXPECT_EQ(*dec, data);
    data.push_back(static_cast<char>(i * 37));
  }
  EXPECT_EQ(encode_base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(encode_base64("fo"), "Zm8=");
  EXPECT_EQ(*decode_base64("Zm9v\nYmFy\r\n"), "foobar");  // wrapped lines
  EXPECT_EQ(*decode_base64("Zm8"), "fo");                 // padding left out
  EXPECT_FALSE(decode_base64("Zm9v!mFy"));
  EXPECT_FALSE(decode_base64("Zm8=Zm8="));  // data after padding
  EXPECT_FALSE(decode_base64("Z"));         // not whole bytes
}

namespace {

struct Files {
  boost::asio::io_context io;
  base::http::Server server;
  std::thread thread;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard;
  Files()
      : server(io, {}, [this](const base::http::Request& req) {
          base::http::Response r{bhttp::status::ok, 11};
          if (req.target() == "/a.torrent") {
            r.body() = "d4:infod4:name1:aee";
          } else if (req.target() == "/moved") {
            r.result(bhttp::status::found);
            r.set(bhttp::field::location, "/a.torrent");
          } else if (req.target() == "/big") {
            r.body() = std::string(2000, 'x');
          } else {
            r.result(bhttp::status::not_found);
          }
          return r;
        }) {
    server.start();
    guard.emplace(io.get_executor());
    thread = std::thread([this] { io.run(); });
  }
  ~Files() {
    server.stop();
    guard.reset();
    io.stop();
    thread.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server.port()) + path;
  }
};

}  // namespace

TEST(RpcInputs, FetchesATorrentFollowingRedirectsWithinItsLimit) {
  Files f;
  using bttnode::daemon::fetch_torrent;
  using bttnode::daemon::RpcError;
  EXPECT_EQ(fetch_torrent(f.url("/a.torrent"), 5s, 1000), "d4:infod4:name1:aee");
  EXPECT_EQ(fetch_torrent(f.url("/moved"), 5s, 1000), "d4:infod4:name1:aee");
  try {
    fetch_torrent(f.url("/missing"), 5s, 1000);
    FAIL();
  } catch (const RpcError& e) {
    EXPECT_NE(std::string(e.what()).find("HTTP 404"), std::string::npos);
  }
  EXPECT_THROW(fetch_torrent(f.url("/big"), 5s, 1000), RpcError);
  EXPECT_THROW(fetch_torrent("ftp://example.org/x", 5s, 1000), RpcError);
}
