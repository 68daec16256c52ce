// The dashboard's files: compiled in byte for byte from web/, served with their types and
// ETags (304 on a match), nothing outside "/" and "/web/", and only behind the frontend's auth.
#include "node/daemon/dashboard.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <set>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>

#include "../test_files.hpp"
#include "node/daemon/web_assets.hpp"

namespace bttnode::daemon {
namespace {

namespace http = boost::beast::http;

base::http::Request get(std::string target) {
  base::http::Request req{http::verb::get, target, 11};
  return req;
}

TEST(Dashboard, EmbedsEveryFileOfWebByteForByte) {
  const std::filesystem::path web = std::filesystem::path(BTTNODE_SOURCE_DIR) / "web";
  std::set<std::string> on_disk, embedded;
  for (const auto& e : std::filesystem::recursive_directory_iterator(web)) {
    if (e.is_regular_file()) on_disk.insert(std::filesystem::relative(e.path(), web).string());
  }
  for (const auto& a : kWebAssets) {
    embedded.insert(a.path);
    EXPECT_EQ(a.bytes(), test_support::read_file(web / a.path)) << a.path;
  }
  EXPECT_EQ(embedded, on_disk);
  EXPECT_TRUE(on_disk.count("index.html"));
}

TEST(Dashboard, ServesThePageAndItsFilesWithTypes) {
  auto route = dashboard_route();
  auto page = route(get("/"));
  ASSERT_TRUE(page);
  EXPECT_EQ(page->result(), http::status::ok);
  EXPECT_EQ((*page)[http::field::content_type], "text/html; charset=utf-8");
  EXPECT_NE(page->body().find("<title>bttnode</title>"), std::string::npos);
  EXPECT_NE((*page)["Content-Security-Policy"].find("default-src 'self'"), std::string::npos);
  auto same = route(get("/index.html?x=1"));
  ASSERT_TRUE(same);
  EXPECT_EQ(same->body(), page->body());

  auto js = route(get("/web/app.js"));
  ASSERT_TRUE(js);
  EXPECT_EQ(js->result(), http::status::ok);
  EXPECT_EQ((*js)[http::field::content_type], "text/javascript; charset=utf-8");
  EXPECT_EQ((*js)[http::field::cache_control], "no-cache");
  auto css = route(get("/web/style.css"));
  ASSERT_TRUE(css);
  EXPECT_EQ((*css)[http::field::content_type], "text/css; charset=utf-8");
}

TEST(Dashboard, EveryModuleThePageLoadsIsServed) {
  auto route = dashboard_route();
  // Each script and stylesheet of the page, and each module those import, resolves.
  std::set<std::string> seen;
  std::vector<std::string> todo = {"/"};
  const std::regex ref(R"re((?:src|href)="(/web/[^"]+)"|from '\./([^']+)')re");
  while (!todo.empty()) {
    auto target = todo.back();
    todo.pop_back();
    if (!seen.insert(target).second) continue;
    auto res = route(get(target));
    ASSERT_TRUE(res) << target;
    ASSERT_EQ(res->result(), http::status::ok) << target;
    const std::string& body = res->body();
    for (std::sregex_iterator it(body.begin(), body.end(), ref), end; it != end; ++it) {
      todo.push_back((*it)[1].matched ? (*it)[1].str() : "/web/" + (*it)[2].str());
    }
  }
  EXPECT_TRUE(seen.count("/web/app.js"));
  EXPECT_TRUE(seen.count("/web/rpc.js"));
  EXPECT_TRUE(seen.count("/web/plot.js"));
}

TEST(Dashboard, RevalidatesWithETag) {
  auto route = dashboard_route();
  auto first = route(get("/web/app.js"));
  ASSERT_TRUE(first);
  const std::string etag((*first)[http::field::etag]);
  ASSERT_GE(etag.size(), 3u);
  EXPECT_EQ(etag.front(), '"');

  auto again = get("/web/app.js");
  again.set(http::field::if_none_match, "\"other\", W/" + etag);
  auto res = route(again);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result(), http::status::not_modified);
  EXPECT_TRUE(res->body().empty());
  EXPECT_EQ((*res)[http::field::etag], etag);

  auto stale = get("/web/app.js");
  stale.set(http::field::if_none_match, "\"0000\"");
  auto full = route(stale);
  ASSERT_TRUE(full);
  EXPECT_EQ(full->result(), http::status::ok);
  EXPECT_EQ(full->body(), first->body());
  EXPECT_NE((*route(get("/web/style.css")))[http::field::etag], etag);
}

TEST(Dashboard, IsServedBehindTheFrontendsAuth) {
  boost::asio::io_context io;
  DaemonConfig c;
  c.rpc_username = "alice";
  c.rpc_password = "secret";
  HttpFrontend frontend(io, c, [](const nlohmann::json&) { return nlohmann::json::object(); });
  frontend.add_route("/", dashboard_route());
  const auto local = boost::asio::ip::make_address("127.0.0.1");
  auto page = get("/");
  page.set(http::field::host, "127.0.0.1:9091");
  EXPECT_EQ(frontend.handle(page, local).result(), http::status::unauthorized);
  page.set(http::field::authorization, "Basic YWxpY2U6c2VjcmV0");  // alice:secret
  auto res = frontend.handle(page, local);
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res[http::field::content_type], "text/html; charset=utf-8");
  auto js = get("/web/app.js");
  js.set(http::field::host, "localhost");
  js.set(http::field::authorization, "Basic YWxpY2U6c2VjcmV0");
  auto script = frontend.handle(js, local);
  EXPECT_EQ(script.result(), http::status::ok);
  js.set(http::field::if_none_match, script[http::field::etag]);
  EXPECT_EQ(frontend.handle(js, local).result(), http::status::not_modified);
}

TEST(Dashboard, LeavesOtherPathsAndRefusesOtherMethods) {
  auto route = dashboard_route();
  EXPECT_FALSE(route(get("/transmission/rpc")));
  EXPECT_FALSE(route(get("/metrics")));
  EXPECT_FALSE(route(get("/webx")));
  auto missing = route(get("/web/../daemon.hpp"));
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->result(), http::status::not_found);
  auto missing2 = route(get("/web/"));
  ASSERT_TRUE(missing2);
  EXPECT_EQ(missing2->result(), http::status::not_found);
  base::http::Request post{http::verb::post, "/", 11};
  auto refused = route(post);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result(), http::status::method_not_allowed);
  EXPECT_EQ(content_type_of("a/b.unknown"), "application/octet-stream");
  EXPECT_EQ(content_type_of("noext"), "application/octet-stream");
}

}  // namespace
}  // namespace bttnode::daemon
