#include "base/http_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace base::http {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using Kind = TransportError::Kind;
using Clock = std::chrono::steady_clock;

namespace {

bool is_closed_error(const error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::connection_aborted || ec == asio::error::broken_pipe ||
         ec == bhttp::error::end_of_stream || ec == ssl::error::stream_truncated;
}

}  // namespace

struct Client::Impl : std::enable_shared_from_this<Client::Impl> {
  Impl(asio::io_context& io, Url u, ClientOptions o)
      : io(io), url(std::move(u)), options(std::move(o)), resolver(io), resolve_timer(io) {}

  asio::io_context& io;
  Url url;
  ClientOptions options;
  bool tls = false;
  std::optional<ssl::context> ctx;
  tcp::resolver resolver;
  asio::steady_timer resolve_timer;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  std::uint64_t opened = 0;

  // The request in flight. `generation` changes when it is abandoned, so late handlers of
  // an earlier one see they are stale.
  std::uint64_t generation = 0;
  Request request;
  Clock::time_point deadline;
  std::uint64_t body_limit = 0;
  ResponseHandler done;
  bool reused = false;
  int attempt = 0;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser;

  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
  bool open() const { return plain.has_value() || secure.has_value(); }
  std::string where() const { return url.origin(); }

  template <class F>
  void with_stream(F&& f) {
    if (secure) {
      f(*secure);
    } else {
      f(*plain);
    }
  }

  // Wraps a completion handler so that it runs only for the current request.
  template <class F>
  auto current(F&& f) {
    // The trailing return type lets Asio probe which signatures the wrapper takes.
    return [self = shared_from_this(), gen = generation, f = std::forward<F>(f)](
               auto&&... args) -> decltype(f(std::forward<decltype(args)>(args)...)) {
      if (gen != self->generation || !self->done) return;
      f(std::forward<decltype(args)>(args)...);
    };
  }

  void drop() {
    error_code ignored;
    if (open()) {
      lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
      lowest().socket().close(ignored);
    }
    secure.reset();
    plain.reset();
    buffer.consume(buffer.size());
  }

  // Gives up the request in flight, if any, with the connection it was using.
  void abandon() {
    const bool in_flight = done != nullptr;
    ++generation;
    done = nullptr;
    if (!in_flight) return;
    resolver.cancel();
    resolve_timer.cancel();
    drop();
  }

  void complete(std::optional<TransportError> error, Response response = {}) {
    auto handler = std::move(done);
    done = nullptr;
    ++generation;
    resolve_timer.cancel();
    if (error) drop();  // never leave a connection open after a failure part way
    if (handler) handler(std::move(error), std::move(response));
  }
  void fail(Kind kind, const std::string& message) { complete(TransportError(kind, message)); }

  void start() {
    reused = open();
    if (reused) return write();
    connect();
  }

  void connect() {
    drop();
    error_code ec;
    auto address = asio::ip::make_address(url.host, ec);
    if (!ec) {
      return on_resolved(tcp::resolver::results_type::create(tcp::endpoint(address, url.port),
                                                             url.host, std::to_string(url.port)));
    }
    resolve_timer.expires_at(deadline);
    resolve_timer.async_wait(current([this](error_code ec) {
      if (ec) return;
      resolver.cancel();
      fail(Kind::Timeout, "timed out resolving " + url.host);
    }));
    resolver.async_resolve(url.host, std::to_string(url.port),
                           current([this](error_code ec, tcp::resolver::results_type results) {
                             resolve_timer.cancel();
                             if (ec) {
                               return fail(Kind::Resolve,
                                           "cannot resolve " + url.host + ": " + ec.message());
                             }
                             on_resolved(std::move(results));
                           }));
  }

  void on_resolved(tcp::resolver::results_type endpoints) {
    if (tls) {
      secure.emplace(io, *ctx);
    } else {
      plain.emplace(io);
    }
    ++opened;
    lowest().expires_at(deadline);
    lowest().async_connect(endpoints, current([this](error_code ec, const tcp::endpoint&) {
                             if (ec) {
                               if (ec == beast::error::timeout) {
                                 return fail(Kind::Timeout, "timed out connecting to " + where());
                               }
                               return fail(Kind::Connect,
                                           "cannot connect to " + where() + ": " + ec.message());
                             }
                             error_code ignored;
                             lowest().socket().set_option(tcp::no_delay(true), ignored);
                             if (tls) return handshake();
                             write();
                           }));
  }

  void handshake() {
    SSL* native = secure->native_handle();
    const bool ip = url.host_is_ip();
    // SNI is for host names only (RFC 6066); the certificate is checked against either.
    if (!ip) SSL_set_tlsext_host_name(native, url.host.c_str());
    X509_VERIFY_PARAM* param = SSL_get0_param(native);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    int set = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str())
                 : X509_VERIFY_PARAM_set1_host(param, url.host.c_str(), 0);
    if (set != 1) return fail(Kind::Tls, "cannot set the expected TLS host name");
    secure->set_verify_mode(ssl::verify_peer);
    secure->async_handshake(
        ssl::stream_base::client, current([this](error_code ec) {
          if (!ec) return write();
          long verify = SSL_get_verify_result(secure->native_handle());
          if (ec == beast::error::timeout) {
            return fail(Kind::Timeout, "timed out in the TLS handshake with " + where());
          }
          if (is_closed_error(ec)) {
            return fail(Kind::Closed, "connection closed in the TLS handshake with " + where());
          }
          std::string why = ec.message();
          if (verify != X509_V_OK) why = X509_verify_cert_error_string(verify);
          fail(Kind::Tls, "TLS handshake with " + where() + " failed: " + why);
        }));
  }

  void write() {
    lowest().expires_at(deadline);
    with_stream([this](auto& stream) {
      bhttp::async_write(stream, request, current([this](error_code ec, std::size_t) {
                           if (ec) return fail_exchange(ec, false);
                           read_header();
                         }));
    });
  }

  // The header first: a Content-Length over the limit is refused before any body is read.
  // Chunked and close-delimited bodies are refused by the parser once they pass the limit.
  void read_header() {
    parser.emplace();
    parser->body_limit(body_limit);
    parser->header_limit(options.header_limit);
    with_stream([this](auto& stream) {
      bhttp::async_read_header(
          stream, buffer, *parser, current([this](error_code ec, std::size_t) {
            if (!ec && parser->content_length() && *parser->content_length() > body_limit) {
              ec = bhttp::error::body_limit;
            }
            if (ec || parser->is_done()) return on_read(ec);
            read_body();
          }));
    });
  }

  void read_body() {
    with_stream([this](auto& stream) {
      bhttp::async_read(stream, buffer, *parser,
                        current([this](error_code ec, std::size_t) { on_read(ec); }));
    });
  }

  void on_read(error_code ec) {
    if (ec == bhttp::error::body_limit) {
      return fail(Kind::TooLarge, "answer from " + where() + " is larger than the limit of " +
                                      std::to_string(body_limit) + " bytes");
    }
    if (ec) return fail_exchange(ec, parser->got_some());
    // A large answer must not keep its buffer's memory for the life of the connection.
    if (buffer.capacity() > options.header_limit) buffer.shrink_to_fit();
    Response response = parser->release();
    parser.reset();
    if (!response.keep_alive() || !options.keep_alive) drop();
    complete(std::nullopt, std::move(response));
  }

  void fail_exchange(const error_code& ec, bool got_some) {
    if (ec == beast::error::timeout)
      return fail(Kind::Timeout, "no answer from " + where() + " in time");
    if (ec == bhttp::error::partial_message || (got_some && is_closed_error(ec))) {
      return fail(Kind::Truncated, "answer from " + where() + " cut short");
    }
    if (is_closed_error(ec)) {
      // The server may close an idle kept-alive connection at any time; that is no failure
      // of this request, so it gets a fresh connection once.
      if (reused && attempt == 0) {
        ++attempt;
        reused = false;
        drop();
        return connect();
      }
      return fail(Kind::Closed, std::string(reused ? "kept-alive " : "") + "connection to " +
                                    where() + " closed before an answer: " + ec.message());
    }
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category()) {
      return fail(Kind::Malformed, "malformed HTTP answer from " + where() + ": " + ec.message());
    }
    fail(Kind::Closed, "connection to " + where() + " failed: " + ec.message());
  }
};

Client::Client(asio::io_context& io, Url url, ClientOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(url), std::move(options))) {
  Impl& i = *impl_;
  if (i.url.scheme != "http" && i.url.scheme != "https") {
    throw std::invalid_argument("not an HTTP URL: " + i.url.origin());
  }
  i.tls = i.url.scheme == "https";
  if (i.tls) {
    i.ctx.emplace(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(i.ctx->native_handle(), TLS1_2_VERSION);
    error_code ec;
    i.ctx->set_default_verify_paths(ec);  // the system store; missing is not fatal
    if (!i.options.extra_ca_file.empty()) {
      i.ctx->load_verify_file(i.options.extra_ca_file, ec);
      if (ec) {
        throw std::invalid_argument("cannot load CA file '" + i.options.extra_ca_file +
                                    "': " + ec.message());
      }
    }
  }
}

Client::~Client() {
  impl_->abandon();
  impl_->drop();
}

void Client::async_request(Request request, std::chrono::milliseconds timeout,
                           std::uint64_t body_limit, ResponseHandler done) {
  Impl& i = *impl_;
  i.abandon();  // one at a time: a request still in flight is given up
  if (request.find(boost::beast::http::field::host) == request.end()) {
    request.set(boost::beast::http::field::host, i.url.authority());
  }
  if (request.find(boost::beast::http::field::user_agent) == request.end()) {
    request.set(boost::beast::http::field::user_agent, i.options.user_agent);
  }
  request.keep_alive(i.options.keep_alive);
  request.prepare_payload();
  i.request = std::move(request);
  i.deadline = Clock::now() + timeout;
  i.body_limit = body_limit;
  i.done = std::move(done);
  i.attempt = 0;
  i.start();
}

void Client::close() {
  impl_->abandon();
  impl_->drop();
}
bool Client::is_open() const {
  return impl_->open();
}
const Url& Client::url() const {
  return impl_->url;
}
std::uint64_t Client::connections_opened() const {
  return impl_->opened;
}

BlockingClient::BlockingClient(Url url, ClientOptions options)
    : client_(std::make_unique<Client>(io_, std::move(url), std::move(options))) {}

BlockingClient::~BlockingClient() {
  close();
}

Response BlockingClient::request(Request request, std::chrono::milliseconds timeout,
                                 std::uint64_t body_limit) {
  std::optional<TransportError> error;
  std::optional<Response> response;
  client_->async_request(std::move(request), timeout, body_limit,
                         [&](std::optional<TransportError> e, Response r) {
                           error = std::move(e);
                           response = std::move(r);
                         });
  io_.restart();
  while (!error && !response && io_.run_one() > 0) {
  }
  // What a finished request left behind (cancelled timers) runs now, not on the next call.
  io_.restart();
  io_.poll();
  if (error) throw *error;
  if (!response) throw TransportError(TransportError::Kind::Closed, "request abandoned");
  return std::move(*response);
}

void BlockingClient::close() {
  client_->close();
  // Handlers of cancelled operations may still be queued; let them finish.
  io_.restart();
  io_.poll();
}

}  // namespace base::http
