// A hostile full node: answers nested without end, or tens of megabytes long. The client
// refuses both with a clear error, without crashing and without holding the answer in memory.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "tests/tron/fullnode_test_server.hpp"
#include "tron/fullnode_answers.hpp"
#include "tron/fullnode_client.hpp"
#include "tron/json_bounded.hpp"

namespace tron {
namespace {

using namespace std::chrono_literals;
using testing::Reply;
using testing::SeenRequest;
using testing::TestHttpServer;

const Address kAlice = Address::from_string("41a614f803b6fd780986a42c78ec9c7f77e6ded13c");

std::string nested(std::size_t levels, char open = '[', char close = ']') {
  return std::string(levels, open) + std::string(levels, close);
}

TEST(JsonBounded, DepthIsCountedOutsideStringsOnly) {
  EXPECT_EQ(json_depth("1", 64), 0);
  EXPECT_EQ(json_depth(R"({"a":[1,{"b":[]}]})", 64), 4);
  EXPECT_EQ(json_depth(R"({"a":"[[[[[[\"[[["})", 64), 1);
  EXPECT_EQ(json_depth(R"(["\\",[[]]])", 64), 3);
  // The scan stops as soon as the limit is passed.
  EXPECT_EQ(json_depth(nested(1'000'000), 64), 65);
}

TEST(JsonBounded, RefusesTooDeepTooLargeAndInvalid) {
  EXPECT_NO_THROW(parse_json_bounded(nested(64), 1 << 20, 64));
  try {
    parse_json_bounded(nested(65), 1 << 20, 64);
    ADD_FAILURE() << "65 levels accepted";
  } catch (const JsonLimitError& e) {
    EXPECT_EQ(e.kind, JsonLimitError::Kind::TooDeep);
    EXPECT_STREQ(e.what(), "JSON nests deeper than 64 levels");
  }
  try {
    parse_json_bounded(std::string(1001, ' '), 1000, 64);
    ADD_FAILURE() << "1001 bytes accepted under a 1000-byte limit";
  } catch (const JsonLimitError& e) {
    EXPECT_EQ(e.kind, JsonLimitError::Kind::TooLarge);
    EXPECT_NE(std::string(e.what()).find("1001 bytes"), std::string::npos) << e.what();
  }
  try {
    parse_json_bounded("{\"a\":", 1000, 64);
    ADD_FAILURE() << "truncated JSON accepted";
  } catch (const JsonLimitError& e) {
    EXPECT_EQ(e.kind, JsonLimitError::Kind::Invalid);
    EXPECT_EQ(std::string(e.what()).rfind("not JSON: ", 0), 0u) << e.what();
  }
  // A million levels of objects, unclosed: refused by the scan, nothing is built.
  EXPECT_THROW(parse_json_bounded(std::string(1'000'000, '{'), 1 << 20, 64), JsonLimitError);
}

// One answer for every path.
Reply answer_with(std::string body) {
  Reply r;
  r.body = std::move(body);
  return r;
}

FullNodeClient client_of(const TestHttpServer& server) {
  return FullNodeClient(testing::options_for(server, 20s, 0));
}

void expect_invalid(const std::function<void()>& call, const std::string& words) {
  try {
    call();
    ADD_FAILURE() << "no NodeError";
  } catch (const NodeError& e) {
    EXPECT_EQ(e.code, "INVALID_ANSWER") << e.what();
    EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
  }
}

// 500,000 levels: printing the "Error" value, copying or comparing it recursed once per level
// and overflowed the stack.
TEST(FullNodeHostile, DeepAnswersAreRefusedWithoutRecursion) {
  const std::string deep_error = "{\"Error\":" + nested(500'000) + "}";
  const std::string deep_log =
      "{\"id\":\"" + std::string(64, '0') + "\",\"log\":" + nested(500'000, '{', '}') + "}";
  std::string body = deep_error;
  std::mutex mutex;
  TestHttpServer server([&](const SeenRequest&) {
    std::lock_guard lock(mutex);
    return answer_with(body);
  });
  FullNodeClient client = client_of(server);
  expect_invalid([&] { client.account(kAlice); }, "deeper than 64 levels");
  {
    std::lock_guard lock(mutex);
    body = deep_log;
  }
  expect_invalid([&] { client.transaction_info_by_id(Hash32{}); }, "deeper than 64 levels");
  expect_invalid([&] { client.now_block(); }, "deeper than 64 levels");
}

// --- 60 MB answers, from a server in a child process so that only the client's memory counts.

constexpr std::size_t kHugeBody = 60u << 20;

std::size_t status_kib(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::stoul(line.substr(std::strlen(field)));
  }
  return 0;
}

// Serves one connection with a 60 MB answer (Content-Length, or chunked), written from a
// 64 KiB block so that the server itself stays small. Returns the child's pid.
pid_t serve_huge_answer(int listener, bool chunked) {
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::signal(SIGPIPE, SIG_IGN);
  int fd = ::accept(listener, nullptr, nullptr);
  if (fd < 0) ::_exit(1);
  char request[8192];
  (void)::read(fd, request, sizeof request);  // the request is small; its content is ignored
  std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n";
  head += chunked ? "Transfer-Encoding: chunked\r\n\r\n"
                  : "Content-Length: " + std::to_string(kHugeBody) + "\r\n\r\n";
  auto send_all = [fd](const char* data, std::size_t n) {
    while (n > 0) {
      ssize_t w = ::write(fd, data, n);
      if (w <= 0) return false;
      data += w;
      n -= static_cast<std::size_t>(w);
    }
    return true;
  };
  send_all(head.data(), head.size());
  static char block[65536];
  std::memset(block, '1', sizeof block);
  block[0] = '[';
  for (std::size_t sent = 0; sent < kHugeBody; sent += sizeof block) {
    if (chunked) {
      static const char size_line[] = "10000\r\n";
      if (!send_all(size_line, sizeof size_line - 1)) break;
    }
    if (!send_all(block, sizeof block)) break;
    if (chunked && !send_all("\r\n", 2)) break;
    block[0] = '1';
  }
  ::close(fd);
  ::_exit(0);
}

void huge_answer_case(bool chunked) {
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  socklen_t len = sizeof addr;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  pid_t child = serve_huge_answer(listener, chunked);
  ASSERT_GT(child, 0);
  ::close(listener);

  FullNodeOptions o;
  o.url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  o.timeout = 20s;
  o.retries = 0;
  FullNodeClient client(o);

  // Reset the peak so that earlier tests in this process do not count.
  { std::ofstream("/proc/self/clear_refs") << "5"; }
  std::size_t rss_before = status_kib("VmRSS:");
  std::string error;
  try {
    client.account(kAlice);
  } catch (const NodeError& e) {
    EXPECT_EQ(e.code, "INVALID_ANSWER");
    error = e.what();
  }
  std::size_t peak = status_kib("VmHWM:");
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);

  EXPECT_NE(error.find("larger than the limit of 1048576 bytes"), std::string::npos) << error;
  std::size_t growth_kib = peak > rss_before ? peak - rss_before : 0;
  // The 1 MiB limit and a read buffer: far below the 60 MiB sent. AddressSanitizer keeps freed
  // blocks in quarantine and pads each one, so it is allowed more, still far below 60 MiB.
#if defined(__SANITIZE_ADDRESS__)
  constexpr std::size_t kLimitKib = 24u * 1024;
#else
  constexpr std::size_t kLimitKib = 8u * 1024;
#endif
  EXPECT_LT(growth_kib, kLimitKib) << "peak RSS grew by " << growth_kib << " KiB";
  std::cout << "60 MiB answer (" << (chunked ? "chunked" : "Content-Length")
            << "): peak RSS growth " << growth_kib << " KiB\n";
}

TEST(FullNodeHostile, HugeAnswerWithContentLengthIsRefusedBeforeReading) {
  huge_answer_case(false);
}

TEST(FullNodeHostile, HugeChunkedAnswerIsRefusedWhileReading) {
  huge_answer_case(true);
}

TEST(FullNodeHostile, LimitsPerPath) {
  EXPECT_EQ(answers::size_limit("/wallet/getaccount"), 1u << 20);
  EXPECT_EQ(answers::size_limit("/wallet/gettransactioninfobyid"), 1u << 20);
  EXPECT_EQ(answers::size_limit("/wallet/getblockbynum"), 8u << 20);
  EXPECT_EQ(answers::size_limit("/wallet/getnowblock"), 8u << 20);
}

}  // namespace
}  // namespace tron
