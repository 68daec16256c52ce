#include "base/http_server.hpp"

#include <array>
#include <mutex>
#include <set>
#include <stdexcept>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace base::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

class Connection;

struct Server::State : std::enable_shared_from_this<Server::State> {
  State(asio::io_context& io, ServerOptions o, AsyncPeerHandler h)
      : io(io), options(std::move(o)), handler(std::move(h)), acceptor(asio::make_strand(io)) {}

  asio::io_context& io;
  ServerOptions options;
  AsyncPeerHandler handler;
  tcp::acceptor acceptor;
  std::uint16_t port = 0;
  std::atomic<std::size_t> open{0};
  std::atomic<bool> stopped{false};
  std::mutex mutex;
  std::set<std::weak_ptr<Connection>, std::owner_less<std::weak_ptr<Connection>>> connections;

  void accept();
  Response error_response(unsigned status, std::string_view why) const;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<Server::State> server, tcp::socket socket)
      : server_(std::move(server)), stream_(std::move(socket)) {
    error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) {
      from_ = ep.address();
      if (from_.is_v6() && from_.to_v6().is_v4_mapped()) {
        from_ = asio::ip::make_address_v4(asio::ip::v4_mapped, from_.to_v6());
      }
    }
  }

  ~Connection() { --server_->open; }

  void run() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Connection::read_header, shared_from_this(), true));
  }

  // From any thread.
  void close() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] { self->shutdown(); });
  }

 private:
  const ServerOptions& options() const { return server_->options; }

  void read_header(bool first) {
    if (server_->stopped) return shutdown();
    parser_.emplace();
    parser_->header_limit(options().header_limit);
    parser_->body_limit(options().body_limit);
    stream_.expires_after(first ? options().request_timeout : options().idle_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             beast::bind_front_handler(&Connection::on_header, shared_from_this()));
  }

  void on_header(error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    // The idle wait is over: the rest of the request has the request timeout.
    stream_.expires_after(options().request_timeout);
    const auto& req = parser_->get();
    auto expect = req.find(bhttp::field::expect);
    if (expect != req.end() && beast::iequals(expect->value(), "100-continue") &&
        !parser_->is_done()) {
      auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_,
                                                                       req.version());
      return bhttp::async_write(stream_, *cont,
                                [self = shared_from_this(), cont](error_code ec, std::size_t) {
                                  if (ec) return self->shutdown();
                                  self->read_body();
                                });
    }
    read_body();
  }

  void read_body() {
    if (parser_->is_done()) return on_body({}, 0);
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Connection::on_body, shared_from_this()));
  }

  void on_body(error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    request_ = parser_->release();
    auto replied = std::make_shared<std::atomic<bool>>(false);
    Reply reply = [self = shared_from_this(), replied](Response res) {
      if (replied->exchange(true)) return;
      asio::dispatch(self->stream_.get_executor(),
                     [self, res = std::move(res)]() mutable { self->answer(std::move(res)); });
    };
    try {
      server_->handler(request_, from_, reply);
    } catch (const std::exception& e) {
      if (replied->exchange(true)) return;
      Response res = server_->error_response(500, e.what());
      res.keep_alive(false);
      answer(std::move(res));
    }
  }

  void answer(Response res) {
    bool close_asked = res[bhttp::field::connection] == "close";
    res.version(request_.version());
    res.keep_alive(request_.keep_alive() && !close_asked && !server_->stopped);
    if (res.find(bhttp::field::server) == res.end()) {
      res.set(bhttp::field::server, options().server_name);
    }
    res.prepare_payload();
    request_ = {};
    write(std::move(res));
  }

  void on_read_error(error_code ec) {
    if (ec == bhttp::error::header_limit) return refuse(431, "request header too large");
    if (ec == bhttp::error::body_limit) return refuse(413, "request body too large");
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category() &&
        ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
      return refuse(400, "malformed request: " + ec.message());
    }
    shutdown();  // closed by the peer, reset, or out of time (the stream is closed then)
  }

  // An answer to a request that is not read to its end: the connection cannot be reused.
  void refuse(unsigned status, const std::string& why) {
    Response res = server_->error_response(status, why);
    res.version(11);
    res.keep_alive(false);
    res.set(bhttp::field::server, options().server_name);
    res.prepare_payload();
    stream_.expires_after(options().request_timeout);
    write(std::move(res));
  }

  void write(Response res) {
    auto out = std::make_shared<Response>(std::move(res));
    stream_.expires_after(options().request_timeout);
    bhttp::async_write(stream_, *out, [self = shared_from_this(), out](error_code ec, std::size_t) {
      if (ec) return self->shutdown();
      if (!out->keep_alive()) return self->drain_and_close();
      self->read_header(false);
    });
  }

  // After the last answer: the client may still be sending (a refused body). Closing with
  // unread bytes would reset the connection and could destroy the answer before the client
  // reads it, so what comes is read and dropped, for a second and a megabyte at most.
  void drain_and_close() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(std::chrono::seconds(1));
    drain();
  }

  void drain() {
    stream_.async_read_some(asio::buffer(scratch_),
                            [self = shared_from_this()](error_code ec, std::size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > (1u << 20)) return self->stream_.close();
                              self->drain();
                            });
  }

  void shutdown() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  std::shared_ptr<Server::State> server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  Request request_;  // the one being answered
  std::array<char, 4096> scratch_;
  std::size_t drained_ = 0;
  asio::ip::address from_;
};

Response Server::State::error_response(unsigned status, std::string_view why) const {
  if (options.error_page) return options.error_page(status, why);
  Response res{static_cast<bhttp::status>(status), 11};
  res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
  res.body() = std::string(why) + "\n";
  return res;
}

void Server::State::accept() {
  acceptor.async_accept(
      asio::make_strand(io), [self = shared_from_this()](error_code ec, tcp::socket socket) {
        if (self->stopped || !self->acceptor.is_open()) return;
        if (!ec) {
          if (self->open.load() >= self->options.max_connections) {
            error_code ignored;
            socket.close(ignored);
          } else {
            ++self->open;
            auto c = std::make_shared<Connection>(self, std::move(socket));
            {
              std::lock_guard lock(self->mutex);
              std::erase_if(self->connections, [](const auto& w) { return w.expired(); });
              self->connections.insert(c);
            }
            c->run();
          }
        }
        self->accept();
      });
}

Server::Server(asio::io_context& io, ServerOptions options, AsyncPeerHandler handler)
    : state_(std::make_shared<State>(io, std::move(options), std::move(handler))) {}

Server::Server(asio::io_context& io, ServerOptions options, PeerHandler handler)
    : Server(io, std::move(options),
             AsyncPeerHandler(
                 [h = std::move(handler)](const Request& req, const asio::ip::address& from,
                                          const Reply& reply) { reply(h(req, from)); })) {}

Server::Server(asio::io_context& io, ServerOptions options, Handler handler)
    : Server(io, std::move(options),
             PeerHandler([h = std::move(handler)](const Request& req, const asio::ip::address&) {
               return h(req);
             })) {}

Server::~Server() {
  stop();
}

void Server::start() {
  const ServerOptions& o = state_->options;
  error_code ec;
  auto address = asio::ip::make_address(o.host, ec);
  if (ec) throw std::runtime_error("bad listen address " + o.host);
  tcp::endpoint endpoint(address, o.port);
  auto& acceptor = state_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error("cannot listen on " + o.host + ":" + std::to_string(o.port) + ": " +
                             ec.message());
  }
  state_->port = acceptor.local_endpoint().port();
  state_->accept();
}

void Server::stop() {
  if (state_->stopped.exchange(true)) return;
  asio::post(state_->acceptor.get_executor(), [state = state_] {
    error_code ignored;
    state->acceptor.close(ignored);
  });
  std::lock_guard lock(state_->mutex);
  for (const auto& w : state_->connections) {
    if (auto c = w.lock()) c->close();
  }
  state_->connections.clear();
}

std::uint16_t Server::port() const {
  return state_->port;
}

std::size_t Server::connections() const {
  return state_->open.load();
}

std::optional<std::pair<std::string, std::string>> parse_basic_auth(std::string_view value) {
  constexpr std::string_view kScheme = "basic ";
  auto head = value.substr(0, kScheme.size());
  if (value.size() < kScheme.size() ||
      !beast::iequals(beast::string_view(head.data(), head.size()),
                      beast::string_view(kScheme.data(), kScheme.size()))) {
    return std::nullopt;
  }
  std::string_view encoded = value.substr(kScheme.size());
  while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
  while (!encoded.empty() && encoded.back() == ' ') encoded.remove_suffix(1);
  if (encoded.empty() || encoded.size() % 4 != 0 || encoded.size() > 4096) return std::nullopt;
  std::string decoded;
  std::uint32_t bits = 0;
  int have = 0;
  std::size_t padding = 0;
  for (char ch : encoded) {
    int v;
    if (ch >= 'A' && ch <= 'Z') {
      v = ch - 'A';
    } else if (ch >= 'a' && ch <= 'z') {
      v = ch - 'a' + 26;
    } else if (ch >= '0' && ch <= '9') {
      v = ch - '0' + 52;
    } else if (ch == '+') {
      v = 62;
    } else if (ch == '/') {
      v = 63;
    } else if (ch == '=') {
      ++padding;
      continue;
    } else {
      return std::nullopt;
    }
    if (padding) return std::nullopt;  // data after '='
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    have += 6;
    if (have >= 8) {
      have -= 8;
      decoded.push_back(static_cast<char>((bits >> have) & 0xff));
    }
  }
  if (padding > 2) return std::nullopt;
  auto colon = decoded.find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::make_pair(decoded.substr(0, colon), decoded.substr(colon + 1));
}

}  // namespace base::http
