#pragma once
// An HTTP/1.1 server skeleton on Boost.Beast: an accept loop on the caller's io_context, one
// strand per connection, keep-alive, and a handler that turns each request into a response.
// Every input is bounded: the header and body sizes (refused with 431 and 413), the time a
// request may take to arrive and the time an idle kept-alive connection is held (both end
// in a close without an answer), and the number of connections open at once (one
// over the limit is closed as soon as it is accepted). "Expect: 100-continue" is answered
// before the body is read. Handlers may run on several threads at once when the io_context
// does.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace base::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;
// Throwing is answered with 500. The server sets the version, Content-Length and keep-alive
// (kept unless the request or the response says close).
using Handler = std::function<Response(const Request&)>;
// The same, told the client's address (an IPv4-mapped IPv6 address is given as IPv4).
using PeerHandler = std::function<Response(const Request&, const boost::asio::ip::address& from)>;
// An answer that may come later: the handler calls `reply` once, from any thread, when it has
// the response (the request stays valid until then). Meanwhile the connection waits, and other
// work on the io_context goes on. A handler that throws before replying is answered with 500.
using Reply = std::function<void(Response)>;
using AsyncPeerHandler =
    std::function<void(const Request&, const boost::asio::ip::address& from, Reply reply)>;
// The response the server sends on its own for a refused request (400, 413, 431, 500).
using ErrorPage = std::function<Response(unsigned status, std::string_view why)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: any free port
  std::uint32_t header_limit = 16u << 10;
  std::uint64_t body_limit = 1u << 20;
  std::chrono::milliseconds request_timeout{30'000};  // the whole request, header and body
  std::chrono::milliseconds idle_timeout{60'000};     // between requests on one connection
  std::size_t max_connections = 256;
  std::string server_name = "bttnode";
  ErrorPage error_page;  // empty: a short text/plain page
};

class Server {
 public:
  Server(boost::asio::io_context& io, ServerOptions options, Handler handler);
  Server(boost::asio::io_context& io, ServerOptions options, PeerHandler handler);
  Server(boost::asio::io_context& io, ServerOptions options, AsyncPeerHandler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts accepting. Throws std::runtime_error if the address cannot be bound.
  void start();
  // Stops accepting and closes every connection; safe from any thread.
  void stop();
  std::uint16_t port() const;
  std::size_t connections() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

// The user and password of an "Authorization: Basic ..." value; nullopt if it is not one or
// does not decode.
std::optional<std::pair<std::string, std::string>> parse_basic_auth(std::string_view value);

}  // namespace base::http
