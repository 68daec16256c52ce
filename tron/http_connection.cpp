#include "tron/http_connection.hpp"

#include <optional>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace tron {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using boost::system::error_code;
using Kind = HttpTransportError::Kind;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::uint32_t kHeaderLimit = 64u << 10;

bool is_closed_error(const error_code& ec) {
  return ec == net::error::eof || ec == net::error::connection_reset ||
         ec == net::error::connection_aborted || ec == net::error::broken_pipe ||
         ec == http::error::end_of_stream || ec == ssl::error::stream_truncated;
}

}  // namespace

struct HttpConnection::Impl {
  HttpUrl url;
  net::io_context ioc;
  ssl::context ctx{ssl::context::tls_client};
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  std::uint64_t opened = 0;

  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
  bool open() const { return plain.has_value() || secure.has_value(); }

  // Runs the io_context until the operation started by `start` completes; returns its error.
  template <class Start>
  error_code run(Start&& start) {
    error_code result = net::error::would_block;
    bool done = false;
    start([&result, &done](error_code ec, auto&&...) {
      result = ec;
      done = true;
    });
    ioc.restart();
    ioc.run();
    if (!done) return net::error::operation_aborted;
    return result;
  }

  std::string where() const { return url.origin(); }

  void drop() {
    error_code ignored;
    if (secure) {
      beast::get_lowest_layer(*secure).socket().shutdown(tcp::socket::shutdown_both, ignored);
      beast::get_lowest_layer(*secure).socket().close(ignored);
    }
    if (plain) {
      plain->socket().shutdown(tcp::socket::shutdown_both, ignored);
      plain->socket().close(ignored);
    }
    secure.reset();
    plain.reset();
    buffer.consume(buffer.size());
    // Handlers of cancelled operations may still be queued; let them finish.
    ioc.restart();
    ioc.poll();
  }

  tcp::resolver::results_type resolve(Clock::time_point deadline) {
    tcp::resolver resolver(ioc);
    net::steady_timer timer(ioc, deadline);
    tcp::resolver::results_type results;
    error_code result = net::error::would_block;
    bool timed_out = false;
    resolver.async_resolve(url.host, std::to_string(url.port),
                           [&](error_code ec, tcp::resolver::results_type r) {
                             result = ec;
                             results = std::move(r);
                             timer.cancel();
                           });
    timer.async_wait([&](error_code ec) {
      if (!ec) {
        timed_out = true;
        resolver.cancel();
      }
    });
    ioc.restart();
    ioc.run();
    if (timed_out) throw HttpTransportError(Kind::Timeout, "timed out resolving " + url.host);
    if (result) {
      throw HttpTransportError(Kind::Resolve,
                               "cannot resolve " + url.host + ": " + result.message());
    }
    return results;
  }

  void connect(Clock::time_point deadline) {
    drop();
    tcp::resolver::results_type endpoints;
    error_code ec;
    auto address = net::ip::make_address(url.host, ec);
    if (!ec) {
      endpoints = tcp::resolver::results_type::create(tcp::endpoint(address, url.port), url.host,
                                                      std::to_string(url.port));
    } else {
      endpoints = resolve(deadline);
    }

    if (url.tls) {
      secure.emplace(ioc, ctx);
    } else {
      plain.emplace(ioc);
    }
    ++opened;
    lowest().expires_at(deadline);
    ec = run([&](auto handler) { lowest().async_connect(endpoints, std::move(handler)); });
    if (ec) {
      drop();
      if (ec == beast::error::timeout) {
        throw HttpTransportError(Kind::Timeout, "timed out connecting to " + where());
      }
      throw HttpTransportError(Kind::Connect, "cannot connect to " + where() + ": " + ec.message());
    }
    lowest().socket().set_option(tcp::no_delay(true), ec);
    if (url.tls) handshake();
  }

  void handshake() {
    SSL* native = secure->native_handle();
    // SNI is for host names only (RFC 6066); the certificate is checked against either.
    if (!url.host_is_ip()) SSL_set_tlsext_host_name(native, url.host.c_str());
    X509_VERIFY_PARAM* param = SSL_get0_param(native);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    int set = url.host_is_ip() ? X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str())
                               : X509_VERIFY_PARAM_set1_host(param, url.host.c_str(), 0);
    if (set != 1) throw HttpTransportError(Kind::Tls, "cannot set the expected TLS host name");
    secure->set_verify_mode(ssl::verify_peer);

    error_code ec = run([&](auto handler) {
      secure->async_handshake(ssl::stream_base::client, std::move(handler));
    });
    if (!ec) return;
    long verify = SSL_get_verify_result(native);
    drop();
    if (ec == beast::error::timeout) {
      throw HttpTransportError(Kind::Timeout, "timed out in the TLS handshake with " + where());
    }
    if (is_closed_error(ec)) {
      throw HttpTransportError(Kind::Closed,
                               "connection closed in the TLS handshake with " + where());
    }
    std::string why = ec.message();
    if (verify != X509_V_OK) why = X509_verify_cert_error_string(verify);
    throw HttpTransportError(Kind::Tls, "TLS handshake with " + where() + " failed: " + why);
  }

  template <class Stream>
  HttpResponse exchange(Stream& stream, const http::request<http::string_body>& request,
                        bool reused, std::uint64_t body_limit) {
    error_code ec =
        run([&](auto handler) { http::async_write(stream, request, std::move(handler)); });
    if (ec) fail_exchange(ec, false, reused);

    http::response_parser<http::string_body> parser;
    parser.body_limit(body_limit);
    parser.header_limit(kHeaderLimit);
    // The header first: a Content-Length over the limit is refused before any body is read.
    // Chunked and close-delimited bodies are refused by the parser once they pass the limit.
    ec = run(
        [&](auto handler) { http::async_read_header(stream, buffer, parser, std::move(handler)); });
    if (!ec && parser.content_length() && *parser.content_length() > body_limit) {
      ec = http::error::body_limit;
    }
    if (!ec && !parser.is_done()) {
      ec = run([&](auto handler) { http::async_read(stream, buffer, parser, std::move(handler)); });
    }
    if (ec == http::error::body_limit) {
      drop();
      throw HttpTransportError(Kind::TooLarge, "answer from " + where() +
                                                   " is larger than the limit of " +
                                                   std::to_string(body_limit) + " bytes");
    }
    if (ec) fail_exchange(ec, parser.got_some(), reused);
    // A large answer must not keep its buffer's memory for the life of the connection.
    if (buffer.capacity() > kHeaderLimit) buffer.shrink_to_fit();

    auto& response = parser.get();
    HttpResponse out;
    out.status = response.result_int();
    out.reason = std::string(response.reason());
    out.body = std::move(response.body());
    if (!response.keep_alive()) drop();
    return out;
  }

  // A failure part way through a request: never leave the connection open after it.
  [[noreturn]] void fail_exchange(const error_code& ec, bool got_some, bool reused) {
    drop();
    if (ec == beast::error::timeout) {
      throw HttpTransportError(Kind::Timeout, "no answer from " + where() + " in time");
    }
    if (ec == http::error::partial_message || (got_some && is_closed_error(ec))) {
      throw HttpTransportError(Kind::Truncated, "answer from " + where() + " cut short");
    }
    if (is_closed_error(ec)) {
      throw HttpTransportError(Kind::Closed, std::string(reused ? "kept-alive " : "") +
                                                 "connection to " + where() +
                                                 " closed before an answer: " + ec.message());
    }
    if (ec.category() == http::make_error_code(http::error::bad_version).category()) {
      throw HttpTransportError(Kind::Malformed,
                               "malformed HTTP answer from " + where() + ": " + ec.message());
    }
    throw HttpTransportError(Kind::Closed, "connection to " + where() + " failed: " + ec.message());
  }
};

HttpConnection::HttpConnection(HttpUrl url, const std::string& extra_ca_file)
    : impl_(std::make_unique<Impl>()) {
  impl_->url = std::move(url);
  if (impl_->url.tls) {
    SSL_CTX_set_min_proto_version(impl_->ctx.native_handle(), TLS1_2_VERSION);
    error_code ec;
    impl_->ctx.set_default_verify_paths(ec);  // the system store; missing is not fatal
    if (!extra_ca_file.empty()) {
      impl_->ctx.load_verify_file(extra_ca_file, ec);
      if (ec) {
        throw std::invalid_argument("cannot load CA file '" + extra_ca_file + "': " + ec.message());
      }
    }
  }
}

HttpConnection::~HttpConnection() {
  impl_->drop();
}

HttpResponse HttpConnection::post(std::string_view target, const std::string& body,
                                  const HttpHeaders& headers, std::chrono::milliseconds timeout,
                                  std::uint64_t body_limit) {
  auto deadline = Clock::now() + timeout;
  http::request<http::string_body> request{http::verb::post,
                                           beast::string_view(target.data(), target.size()), 11};
  request.set(http::field::host, impl_->url.host_header());
  request.set(http::field::user_agent, "bttnode");
  request.set(http::field::content_type, "application/json");
  request.set(http::field::accept, "application/json");
  for (const auto& [name, value] : headers) request.set(name, value);
  request.keep_alive(true);
  request.body() = body;
  request.prepare_payload();

  for (int attempt = 0;; ++attempt) {
    bool reused = impl_->open();
    if (!reused) impl_->connect(deadline);
    impl_->lowest().expires_at(deadline);
    try {
      if (impl_->secure) return impl_->exchange(*impl_->secure, request, reused, body_limit);
      return impl_->exchange(*impl_->plain, request, reused, body_limit);
    } catch (const HttpTransportError& e) {
      // The server may close an idle kept-alive connection at any time; that is no failure
      // of this request, so it gets a fresh connection once.
      if (!(reused && attempt == 0 && e.kind == Kind::Closed)) throw;
    }
  }
}

bool HttpConnection::is_open() const {
  return impl_->open();
}
void HttpConnection::close() {
  impl_->drop();
}
const HttpUrl& HttpConnection::url() const {
  return impl_->url;
}
std::uint64_t HttpConnection::connections_opened() const {
  return impl_->opened;
}

}  // namespace tron
