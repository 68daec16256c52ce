#pragma once
// The HTTP/1.1 client of the project, over TCP or TLS, asynchronous on the caller's
// io_context. One Client is one connection to one origin, kept alive between requests
// unless told otherwise; a kept-alive connection the server closed while idle is reopened
// once at no cost. Every request has one deadline for all of it (resolve, connect, TLS
// handshake, write, read) and a body limit, checked against Content-Length before the body
// is read and against the bytes of a chunked or close-delimited body as they come.
// TLS sends SNI and checks the server's certificate and host name against the system
// store plus an optional extra CA file.
//
// BlockingClient runs the same client on an io_context of its own, for callers that wait.
// Neither is thread safe: one request at a time.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "base/url.hpp"

namespace base::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

struct TransportError : std::runtime_error {
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
  TransportError(Kind kind, const std::string& message) : std::runtime_error(message), kind(kind) {}
  // A transient failure worth another attempt. A certificate that fails verification, or an
  // answer that is not HTTP, will not get better by asking again.
  bool retryable() const {
    return kind != Kind::Tls && kind != Kind::Malformed && kind != Kind::TooLarge;
  }
};

struct ClientOptions {
  std::string extra_ca_file;  // PEM, beside the system store
  std::uint32_t header_limit = 64u << 10;
  std::string user_agent = "bttnode";
  bool keep_alive = true;  // false: "Connection: close" and a new connection each request
};

// Exactly one of the two is set.
using ResponseHandler = std::function<void(std::optional<TransportError>, Response)>;

class Client {
 public:
  // Throws std::invalid_argument for a scheme other than http or https, or an extra CA file
  // that cannot be loaded.
  Client(boost::asio::io_context& io, Url url, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  static constexpr std::uint64_t kDefaultBodyLimit = 8ull << 20;

  // Sends `request` (Host, User-Agent and Connection are filled in when absent) and calls
  // `done` on the io_context when the answer is read or the request failed.
  void async_request(Request request, std::chrono::milliseconds timeout, std::uint64_t body_limit,
                     ResponseHandler done);
  // Closes the connection; a request in flight is abandoned and its handler never called.
  void close();
  bool is_open() const;
  const Url& url() const;
  std::uint64_t connections_opened() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

class BlockingClient {
 public:
  explicit BlockingClient(Url url, ClientOptions options = {});
  ~BlockingClient();
  BlockingClient(const BlockingClient&) = delete;
  BlockingClient& operator=(const BlockingClient&) = delete;

  // Throws TransportError.
  Response request(Request request, std::chrono::milliseconds timeout,
                   std::uint64_t body_limit = Client::kDefaultBodyLimit);
  void close();
  bool is_open() const { return client_->is_open(); }
  const Url& url() const { return client_->url(); }
  std::uint64_t connections_opened() const { return client_->connections_opened(); }

 private:
  boost::asio::io_context io_;
  std::unique_ptr<Client> client_;
};

}  // namespace base::http
