// HTTP(S) tracker announce and scrape on base::http::Client: one GET, one deadline for the
// whole exchange, up to three redirects.
#include "base/http_client.hpp"
#include "p2p/tracker/tracker_client_impl.hpp"
#include "p2p/tracker/tracker_http.hpp"

namespace p2p {

namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::uint32_t kHeaderLimit = 16u << 10;
constexpr int kMaxRedirects = 3;

// One GET to a tracker, following redirects; `done` gets the 200 body or an error.
class HttpTrackerGet : public TrackerOp, public std::enable_shared_from_this<HttpTrackerGet> {
 public:
  // body: the answer (nullptr on failure); error: why not; cancelled: cancel() ended it.
  using Done =
      std::function<void(const std::string* body, const std::string& error, bool cancelled)>;

  HttpTrackerGet(std::shared_ptr<TrackerClient::Impl> impl, base::Url url, std::string target,
                 std::size_t body_limit, Done done)
      : impl_(std::move(impl)),
        url_(std::move(url)),
        first_target_(std::move(target)),
        body_limit_(body_limit),
        done_fn_(std::move(done)) {}

  void start() override {
    deadline_ = Clock::now() + impl_->settings.http_timeout;
    send(first_target_);
  }

  void cancel() override { finish(nullptr, "cancelled", true); }

 private:
  void send(const std::string& target) {
    base::http::ClientOptions options;
    options.header_limit = kHeaderLimit;
    options.user_agent = impl_->settings.user_agent;
    options.keep_alive = false;
    options.extra_ca_file = impl_->settings.ca_file;
    try {
      client_ = std::make_unique<base::http::Client>(impl_->io, url_, options);
    } catch (const std::exception& e) {
      return fail(e.what());
    }
    base::http::Request request{http::verb::get, target, 11};
    request.set(http::field::accept_encoding, "identity");
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
    client_->async_request(
        std::move(request), std::max(left, std::chrono::milliseconds(1)), body_limit_,
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
      // The redirect target already carries the query parameters.
      return send(url_.target());
    }
    if (status != 200) {
      return fail("HTTP status " + std::to_string(status) + " " + std::string(res.reason()));
    }
    finish(&res.body(), "", false);
  }

  void fail(const std::string& why) { finish(nullptr, why, false); }

  void finish(const std::string* body, const std::string& error, bool cancelled) {
    if (done_) return;
    done_ = true;
    if (client_) client_->close();
    auto h = std::move(done_fn_);
    h(body, error, cancelled);
  }

  std::shared_ptr<TrackerClient::Impl> impl_;
  base::Url url_;
  std::string first_target_;
  std::size_t body_limit_;
  Done done_fn_;
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
  std::string target = build_http_announce_url(url.target(), req, tracker_id);
  std::size_t limit = impl->settings.max_response_size;
  return std::make_shared<HttpTrackerGet>(
      std::move(impl), std::move(url), std::move(target), limit,
      [full_url = std::move(full_url), handler = std::move(handler)](
          const std::string* body, const std::string& error, bool cancelled) {
        if (!body) return handler(announce_error(full_url, error, cancelled));
        AnnounceResult r;
        r.url = full_url;
        try {
          r.response = parse_http_announce_response(*body);
        } catch (const TrackerResponseError& e) {
          r.error = e.what();
          r.tracker_failure = e.is_failure_reason();
        }
        handler(r);
      });
}

std::shared_ptr<TrackerOp> make_http_scrape(std::shared_ptr<TrackerClient::Impl> impl,
                                            base::Url scrape_url, std::string announce_url,
                                            InfoHash info_hash, ScrapeHandler handler) {
  std::string target = build_http_scrape_url(scrape_url.target(), info_hash);
  std::size_t limit = impl->settings.max_scrape_response_size;
  return std::make_shared<HttpTrackerGet>(
      std::move(impl), std::move(scrape_url), std::move(target), limit,
      [announce_url = std::move(announce_url), info_hash, handler = std::move(handler)](
          const std::string* body, const std::string& error, bool cancelled) {
        ScrapeResult r;
        r.url = announce_url;
        r.cancelled = cancelled;
        if (!body) {
          r.error = error;
          return handler(r);
        }
        try {
          r.info = parse_http_scrape_response(*body, info_hash);
        } catch (const TrackerResponseError& e) {
          r.error = e.what();
        }
        handler(r);
      });
}

}  // namespace p2p
