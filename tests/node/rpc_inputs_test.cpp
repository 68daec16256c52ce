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

// A web server on the test's own io_context; "/slow" never answers.
struct Files {
  boost::asio::io_context io;
  std::vector<base::http::Reply> held;
  base::http::Server server;
  Files()
      : server(io, {},
               [this](const base::http::Request& req, const boost::asio::ip::address&,
                      base::http::Reply reply) {
                 base::http::Response r{bhttp::status::ok, 11};
                 if (req.target() == "/a.torrent") {
                   r.body() = "d4:infod4:name1:aee";
                 } else if (req.target() == "/moved") {
                   r.result(bhttp::status::found);
                   r.set(bhttp::field::location, "/a.torrent");
                 } else if (req.target() == "/loop") {
                   r.result(bhttp::status::found);
                   r.set(bhttp::field::location, "/loop");
                 } else if (req.target() == "/big") {
                   r.body() = std::string(2000, 'x');
                 } else if (req.target() == "/slow") {
                   held.push_back(std::move(reply));
                   return;
                 } else {
                   r.result(bhttp::status::not_found);
                 }
                 reply(std::move(r));
               }) {
    server.start();
  }
  ~Files() { server.stop(); }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server.port()) + path;
  }
  // The body, or the error prefixed with "error: ".
  std::string fetch(const std::string& url, std::chrono::milliseconds timeout = 5s) {
    std::optional<std::string> out;
    auto f = bttnode::daemon::TorrentFetch::start(
        io, url, timeout, 1000, [&](std::optional<std::string> error, std::string body) {
          out = error ? "error: " + *error : body;
        });
    EXPECT_FALSE(out) << "answered before start returned";
    io.restart();
    for (int i = 0; i < 1000 && !out; ++i) io.run_one_for(10ms);
    return out.value_or("no answer");
  }
};

}  // namespace

TEST(RpcInputs, FetchesATorrentFollowingRedirectsWithinItsLimitAndTime) {
  Files f;
  EXPECT_EQ(f.fetch(f.url("/a.torrent")), "d4:infod4:name1:aee");
  EXPECT_EQ(f.fetch(f.url("/moved")), "d4:infod4:name1:aee");
  EXPECT_EQ(f.fetch(f.url("/missing")), "error: cannot fetch " + f.url("/missing") + ": HTTP 404");
  EXPECT_NE(f.fetch(f.url("/loop")).find("too many redirects"), std::string::npos);
  EXPECT_TRUE(f.fetch(f.url("/big")).starts_with("error: cannot fetch"));
  EXPECT_TRUE(f.fetch("ftp://example.org/x").starts_with("error: cannot fetch"));
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(f.fetch(f.url("/slow"), 200ms).starts_with("error: cannot fetch"));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}
