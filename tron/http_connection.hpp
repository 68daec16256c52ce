#pragma once
// One kept-alive HTTP/1.1 client connection over TCP or TLS. TLS sends SNI and checks the
// server's certificate and host name against the system store, plus an optional extra CA file
// (for private nodes and tests). Calls block until done or until their deadline.
//
// Not thread safe: one caller at a time (FullNodeClient serializes its calls).
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tron/http_url.hpp"

namespace tron {

struct HttpTransportError : std::runtime_error {
  enum class Kind {
    Resolve,    // host name not found
    Connect,    // refused, unreachable
    Tls,        // handshake refused: bad certificate, wrong host, no common protocol
    Timeout,    // the deadline passed
    Closed,     // the server closed or reset the connection before any answer
    Truncated,  // the answer stopped part way
    Malformed,  // the bytes received are not an HTTP answer, or its header is too large
    TooLarge,   // the body is over the caller's limit (refused while reading)
  };
  Kind kind;
  HttpTransportError(Kind kind, const std::string& message)
      : std::runtime_error(message), kind(kind) {}
  // A transient failure worth another attempt. A certificate that fails verification, or an
  // answer that is not HTTP, will not get better by asking again.
  bool retryable() const {
    return kind != Kind::Tls && kind != Kind::Malformed && kind != Kind::TooLarge;
  }
};

struct HttpResponse {
  unsigned status = 0;
  std::string reason;
  std::string body;
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

class HttpConnection {
 public:
  // Throws std::invalid_argument if extra_ca_file cannot be loaded.
  explicit HttpConnection(HttpUrl url, const std::string& extra_ca_file = {});
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Sends one request with `body` (JSON) and reads the answer, opening the connection first if
  // needed. A kept-alive connection that turns out to be closed by the server is reopened once
  // at no cost. An answer whose body is over `body_limit` bytes is refused as soon as its
  // Content-Length (or its chunks so far) says so, before it is read into memory.
  // Throws HttpTransportError.
  HttpResponse post(std::string_view target, const std::string& body, const HttpHeaders& headers,
                    std::chrono::milliseconds timeout,
                    std::uint64_t body_limit = kDefaultBodyLimit);

  static constexpr std::uint64_t kDefaultBodyLimit = 8ull << 20;

  bool is_open() const;
  void close();
  const HttpUrl& url() const;
  // How many connections were opened so far (to observe reuse).
  std::uint64_t connections_opened() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tron
