// HTTP tracker announce over Boost.Beast: resolve, connect, GET, read, parse; with one
// deadline for the whole exchange and up to three redirects.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "p2p/tracker/tracker_client_impl.hpp"
#include "p2p/tracker/tracker_http.hpp"

namespace p2p {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

class HttpAnnounce : public TrackerOp, public std::enable_shared_from_this<HttpAnnounce> {
 public:
  HttpAnnounce(std::shared_ptr<TrackerClient::Impl> impl, base::Url url, std::string full_url,
               AnnounceRequest req, std::string tracker_id, AnnounceHandler handler)
      : impl_(std::move(impl)),
        url_(std::move(url)),
        full_url_(std::move(full_url)),
        req_(req),
        tracker_id_(std::move(tracker_id)),
        handler_(std::move(handler)),
        resolver_(impl_->io),
        stream_(impl_->io),
        deadline_(impl_->io) {}

  void start() override {
    deadline_.expires_after(impl_->settings.http_timeout);
    deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->fail("timed out");
    });
    begin();
  }

  void cancel() override {
    AnnounceResult r;
    r.url = full_url_;
    r.error = "cancelled";
    r.cancelled = true;
    finish(r);
  }

 private:
  void begin() {
    target_ = build_http_announce_url(url_.target(), req_, tracker_id_);
    resolver_.async_resolve(
        url_.host, std::to_string(url_.port),
        [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type res) {
          self->on_resolve(ec, std::move(res));
        });
  }

  void on_resolve(beast::error_code ec, tcp::resolver::results_type res) {
    if (done_) return;
    if (ec) return fail("cannot resolve " + url_.host + ": " + ec.message());
    stream_.async_connect(res,
                          [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
                            self->on_connect(ec);
                          });
  }

  void on_connect(beast::error_code ec) {
    if (done_) return;
    if (ec) return fail("cannot connect: " + ec.message());
    request_ = {};
    request_.version(11);
    request_.method(http::verb::get);
    request_.target(target_);
    request_.set(http::field::host, url_.authority());
    request_.set(http::field::user_agent, impl_->settings.user_agent);
    request_.set(http::field::accept_encoding, "identity");
    request_.set(http::field::connection, "close");
    http::async_write(
        stream_, request_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    if (done_) return;
    if (ec) return fail("cannot send the request: " + ec.message());
    parser_.emplace();
    parser_->body_limit(impl_->settings.max_response_size);
    parser_->header_limit(16 * 1024);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (done_) return;
    if (ec) return fail("cannot read the reply: " + ec.message());
    const auto& res = parser_->get();
    unsigned status = res.result_int();
    if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
      auto loc = res.find(http::field::location);
      if (loc == res.end() || ++redirects_ > 3)
        return fail("too many redirects or a redirect without a location");
      std::string location(loc->value());
      try {
        base::Url next = url_.resolve(location);
        if (next.scheme != "http") return fail("redirected to an unsupported scheme: " + location);
        url_ = next;
      } catch (const std::exception& e) {
        return fail(std::string("bad redirect: ") + e.what());
      }
      // The redirect target already carries the announce parameters when absolute.
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream_.close();
      buffer_.consume(buffer_.size());
      resolver_.async_resolve(
          url_.host, std::to_string(url_.port),
          [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type r) {
            self->on_resolve(ec, std::move(r));
          });
      target_ = url_.target();
      return;
    }
    if (status != 200) {
      return fail("HTTP status " + std::to_string(status) + " " + std::string(res.reason()));
    }
    AnnounceResult r;
    r.url = full_url_;
    try {
      r.response = parse_http_announce_response(res.body());
    } catch (const TrackerResponseError& e) {
      r.error = e.what();
      r.tracker_failure = e.is_failure_reason();
    }
    finish(r);
  }

  void fail(const std::string& why) {
    if (done_) return;
    AnnounceResult r;
    r.url = full_url_;
    r.error = why;
    finish(r);
  }

  void finish(const AnnounceResult& r) {
    if (done_) return;
    done_ = true;
    deadline_.cancel();
    resolver_.cancel();
    beast::error_code ignored;
    stream_.socket().close(ignored);
    auto h = std::move(handler_);
    h(r);
  }

  std::shared_ptr<TrackerClient::Impl> impl_;
  base::Url url_;
  std::string full_url_;
  AnnounceRequest req_;
  std::string tracker_id_;
  AnnounceHandler handler_;
  tcp::resolver resolver_;
  beast::tcp_stream stream_;
  asio::steady_timer deadline_;
  std::string target_;
  http::request<http::empty_body> request_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
  int redirects_ = 0;
  bool done_ = false;
};

}  // namespace

std::shared_ptr<TrackerOp> make_http_announce(std::shared_ptr<TrackerClient::Impl> impl,
                                              base::Url url, std::string full_url,
                                              AnnounceRequest req, std::string tracker_id,
                                              AnnounceHandler handler) {
  return std::make_shared<HttpAnnounce>(std::move(impl), std::move(url), std::move(full_url), req,
                                        std::move(tracker_id), std::move(handler));
}

}  // namespace p2p
