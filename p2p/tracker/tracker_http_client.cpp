// HTTP(S) tracker announce on base::http::Client: one GET, one deadline for the whole
// exchange, up to three redirects.
#include "base/http_client.hpp"
#include "p2p/tracker/tracker_client_impl.hpp"
#include "p2p/tracker/tracker_http.hpp"

namespace p2p {

namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::uint32_t kHeaderLimit = 16u << 10;
constexpr int kMaxRedirects = 3;

class HttpAnnounce : public TrackerOp, public std::enable_shared_from_this<HttpAnnounce> {
 public:
  HttpAnnounce(std::shared_ptr<TrackerClient::Impl> impl, base::Url url, std::string full_url,
               AnnounceRequest req, std::string tracker_id, AnnounceHandler handler)
      : impl_(std::move(impl)),
        url_(std::move(url)),
        full_url_(std::move(full_url)),
        req_(req),
        tracker_id_(std::move(tracker_id)),
        handler_(std::move(handler)) {}

  void start() override {
    deadline_ = Clock::now() + impl_->settings.http_timeout;
    send(build_http_announce_url(url_.target(), req_, tracker_id_));
  }

  void cancel() override { finish(announce_error(full_url_, "cancelled", true)); }

 private:
  void send(const std::string& target) {
    base::http::ClientOptions options;
    options.header_limit = kHeaderLimit;
    options.user_agent = impl_->settings.user_agent;
    options.keep_alive = false;
    try {
      client_ = std::make_unique<base::http::Client>(impl_->io, url_, options);
    } catch (const std::exception& e) {
      return fail(e.what());
    }
    base::http::Request request{http::verb::get, target, 11};
    request.set(http::field::accept_encoding, "identity");
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
    client_->async_request(
        std::move(request), std::max(left, std::chrono::milliseconds(1)),
        impl_->settings.max_response_size,
        [self = shared_from_this()](std::optional<base::http::TransportError> error,
                                    base::http::Response response) {
          if (error) return self->on_error(*error);
          self->on_response(std::move(response));
        });
  }

  void on_error(const base::http::TransportError& e) {
    if (e.kind == base::http::TransportError::Kind::Timeout) {
      return fail(std::string("timed out: ") + e.what());
    }
    fail(e.what());
  }

  void on_response(base::http::Response res) {
    if (done_) return;
    unsigned status = res.result_int();
    if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
      auto loc = res.find(http::field::location);
      if (loc == res.end() || ++redirects_ > kMaxRedirects) {
        return fail("too many redirects or a redirect without a location");
      }
      std::string location(loc->value());
      try {
        base::Url next = url_.resolve(location);
        if (next.scheme != "http" && next.scheme != "https") {
          return fail("redirected to an unsupported scheme: " + location);
        }
        url_ = next;
      } catch (const std::exception& e) {
        return fail(std::string("bad redirect: ") + e.what());
      }
      // The redirect target already carries the announce parameters.
      return send(url_.target());
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

  void fail(const std::string& why) { finish(announce_error(full_url_, why)); }

  void finish(const AnnounceResult& r) {
    if (done_) return;
    done_ = true;
    if (client_) client_->close();
    auto h = std::move(handler_);
    h(r);
  }

  std::shared_ptr<TrackerClient::Impl> impl_;
  base::Url url_;
  std::string full_url_;
  AnnounceRequest req_;
  std::string tracker_id_;
  AnnounceHandler handler_;
  Clock::time_point deadline_;
  std::unique_ptr<base::http::Client> client_;
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
