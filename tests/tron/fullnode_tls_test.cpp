// HTTPS to a loopback server whose self-signed certificate is made in the test: accepted when
// passed as the extra CA and it names the host, refused otherwise, and never retried.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "tests/tron/fullnode_test_cert.hpp"
#include "tests/tron/fullnode_test_server.hpp"
#include "tests/tron/fullnode_test_util.hpp"
#include "tron/fullnode_client.hpp"

namespace tron {
namespace {

using namespace std::chrono_literals;
using testing::Reply;
using testing::SeenRequest;
using testing::TestHttpServer;

// A PEM file in a fresh temporary folder, removed at the end of the test.
class TempPem {
 public:
  explicit TempPem(const std::string& pem) {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() /
           ("bttnode-tls-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(dir_);
    path_ = dir_ / "ca.pem";
    std::ofstream(path_) << pem;
  }
  ~TempPem() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path dir_, path_;
};

Reply block_reply(const SeenRequest&) {
  Reply r;
  r.body = testing::block_answer(11, 5).dump();
  return r;
}

FullNodeOptions options(const std::string& url, const std::string& ca_file) {
  FullNodeOptions o;
  o.url = url;
  o.ca_file = ca_file;
  o.timeout = 5s;
  o.retries = 3;
  o.backoff = 50ms;
  return o;
}

void expect_refused(FullNodeClient& client, TestHttpServer& server, const std::string& why) {
  try {
    client.now_block();
    FAIL() << "the certificate was accepted";
  } catch (const NodeError& e) {
    EXPECT_EQ(e.code, "TRANSPORT");
    EXPECT_TRUE(e.transport);
    EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
  }
  EXPECT_EQ(server.connections(), 1) << "a refused certificate must not be retried";
  EXPECT_TRUE(server.requests().empty()) << "nothing may be sent to an unverified server";
}

TEST(FullNodeTls, TrustsASelfSignedCertificateGivenAsExtraCa) {
  auto cert = testing::make_self_signed("bttnode test node", "DNS:localhost,IP:127.0.0.1");
  TempPem ca(cert.cert_pem);
  TestHttpServer server(block_reply, testing::server_context(cert));

  FullNodeClient by_ip(options(server.url(), ca.path()));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(by_ip.now_block().number, 11);
  EXPECT_EQ(server.connections(), 1);  // the TLS session is kept alive too
  EXPECT_EQ(server.requests().at(0).sni, "");  // no SNI for an IP address

  FullNodeClient by_name(
      options("https://localhost:" + std::to_string(server.port()), ca.path()));
  EXPECT_EQ(by_name.now_block().number, 11);
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[3].sni, "localhost");
  EXPECT_EQ(requests[3].headers["host"], "localhost:" + std::to_string(server.port()));
}

TEST(FullNodeTls, RefusesACertificateNoTrustedCaSigned) {
  auto cert = testing::make_self_signed("bttnode test node", "DNS:localhost,IP:127.0.0.1");
  TestHttpServer server(block_reply, testing::server_context(cert));
  FullNodeClient client(options(server.url(), ""));  // the system store alone
  expect_refused(client, server, "certificate");
}

TEST(FullNodeTls, RefusesACertificateFromAnotherCa) {
  auto served = testing::make_self_signed("impostor", "DNS:localhost,IP:127.0.0.1");
  auto trusted = testing::make_self_signed("bttnode test node", "DNS:localhost,IP:127.0.0.1");
  TempPem ca(trusted.cert_pem);
  TestHttpServer server(block_reply, testing::server_context(served));
  FullNodeClient client(options(server.url(), ca.path()));
  expect_refused(client, server, "certificate");
}

TEST(FullNodeTls, RefusesATrustedCertificateForAnotherHost) {
  auto cert = testing::make_self_signed("elsewhere", "DNS:node.example,IP:10.9.8.7");
  TempPem ca(cert.cert_pem);
  TestHttpServer server(block_reply, testing::server_context(cert));
  FullNodeClient by_ip(options(server.url(), ca.path()));
  expect_refused(by_ip, server, "mismatch");
}

TEST(FullNodeTls, PlainHttpAnswerToHttpsIsNotTrusted) {
  TestHttpServer server(block_reply);  // speaks plain HTTP
  auto o = options("https://127.0.0.1:" + std::to_string(server.port()), "");
  FullNodeClient client(o);
  EXPECT_THROW(client.now_block(), NodeError);
}

TEST(FullNodeTls, UnreadableCaFileIsAClearError) {
  auto o = options("https://127.0.0.1:1", "/nonexistent/ca.pem");
  EXPECT_THROW(FullNodeClient{o}, std::invalid_argument);
}

}  // namespace
}  // namespace tron
