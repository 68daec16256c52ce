// UDP tracker announce and scrape, BEP 15: connect (or reuse a connection id younger than a
// minute), then announce or scrape; each request is retransmitted after base * 2^n. Through
// the session's shared UDP socket when the client has one (replies matched by transaction id
// and address), else through a socket of its own.
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "p2p/tracker/tracker_client_impl.hpp"
#include "p2p/tracker/tracker_udp.hpp"
#include "p2p/transport/udp_socket.hpp"

namespace p2p {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using error_code = boost::system::error_code;

namespace {

// How a UDP exchange ended: `result` as for an announce; `scrape` set for a scrape answered.
struct UdpOutcome {
  AnnounceResult result;
  std::optional<ScrapeInfo> scrape;
};
using UdpDone = std::function<void(const UdpOutcome&)>;

class UdpAnnounce : public TrackerOp, public std::enable_shared_from_this<UdpAnnounce> {
 public:
  UdpAnnounce(std::shared_ptr<TrackerClient::Impl> impl, base::Url url, std::string full_url,
              AnnounceRequest req, std::optional<InfoHash> scrape, UdpDone handler)
      : impl_(std::move(impl)),
        url_(std::move(url)),
        full_url_(std::move(full_url)),
        req_(req),
        scrape_(scrape),
        handler_(std::move(handler)),
        resolver_(impl_->io),
        socket_(impl_->io),
        timer_(impl_->io) {}

  void start() override {
    resolver_.async_resolve(
        url_.host, std::to_string(url_.port),
        [self = shared_from_this()](error_code ec, udp::resolver::results_type res) {
          self->on_resolve(ec, std::move(res));
        });
  }

  void cancel() override { finish(announce_error(full_url_, "cancelled", true)); }

 private:
  void on_resolve(error_code ec, udp::resolver::results_type res) {
    if (done_) return;
    if (ec || res.empty()) return fail("cannot resolve " + url_.host + ": " + ec.message());
    endpoint_ = res.begin()->endpoint();
    if (impl_->udp && (endpoint_.address().is_v4() || impl_->udp->has_ipv6())) {
      shared_ = true;
      return next_step();
    }
    socket_.open(endpoint_.protocol(), ec);
    if (!ec) socket_.connect(endpoint_, ec);  // only replies from the tracker are received
    if (ec) return fail("cannot open a UDP socket: " + ec.message());
    receive();
    next_step();
  }

  // Connect unless a fresh connection id is cached, then announce.
  void next_step() {
    auto it = impl_->udp_connections.find(endpoint_);
    auto now = std::chrono::steady_clock::now();
    if (it != impl_->udp_connections.end() &&
        now - it->second.obtained < impl_->settings.udp_connection_id_lifetime) {
      connection_id_ = it->second.id;
      connected_at_ = it->second.obtained;
      used_cached_id_ = true;
      connecting_ = false;
      packet_ = request_packet();
    } else {
      connecting_ = true;
      packet_ = udp_tracker::build_connect(new_transaction());
    }
    attempt_ = 0;
    send();
  }

  std::string request_packet() {
    if (scrape_) return udp_tracker::build_scrape(connection_id_, new_transaction(), *scrape_);
    return udp_tracker::build_announce(connection_id_, new_transaction(), req_);
  }

  std::uint32_t new_transaction() {
    if (!shared_) {
      transaction_ = static_cast<std::uint32_t>(impl_->rng());
      return transaction_;
    }
    impl_->udp_waiting.erase(transaction_);
    do {
      transaction_ = static_cast<std::uint32_t>(impl_->rng());
    } while (impl_->udp_waiting.count(transaction_));
    std::weak_ptr<UdpAnnounce> weak = shared_from_this();
    impl_->udp_waiting[transaction_] = {
        endpoint_, [weak](std::span<const std::uint8_t> d) {
          if (auto self = weak.lock()) {
            self->on_datagram(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
          }
        }};
    return transaction_;
  }

  void send() {
    if (done_) return;
    if (attempt_ >= impl_->settings.udp_max_attempts) {
      return fail(std::string("no reply to the UDP ") +
                  (connecting_ ? "connect"
                   : scrape_   ? "scrape"
                               : "announce") +
                  " request");
    }
    if (shared_ && !impl_->udp) return fail("the session's UDP socket is closed");
    if (shared_) {
      impl_->udp->send_to(
          endpoint_, std::span<const std::uint8_t>(
                         reinterpret_cast<const std::uint8_t*>(packet_.data()), packet_.size()));
    } else {
      socket_.async_send(asio::buffer(packet_),
                         [self = shared_from_this()](error_code ec, std::size_t) {
                           if (ec && !self->done_)
                             self->fail("cannot send to the UDP tracker: " + ec.message());
                         });
    }
    timer_.expires_after(impl_->settings.udp_base_timeout * (1 << std::min(attempt_, 16)));
    ++attempt_;
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (ec || self->done_) return;
      // An announce retried after the connection id expired needs a new one.
      if (!self->connecting_ && std::chrono::steady_clock::now() - self->connected_at_ >=
                                    self->impl_->settings.udp_connection_id_lifetime) {
        self->impl_->udp_connections.erase(self->endpoint_);
        return self->next_step();
      }
      self->send();
    });
  }

  void receive() {
    if (shared_) return;  // the shared socket hands replies over as they come
    socket_.async_receive(
        asio::buffer(buf_),
        [self = shared_from_this()](error_code ec, std::size_t n) { self->on_receive(ec, n); });
  }

  void on_receive(error_code ec, std::size_t n) {
    if (done_) return;
    if (ec) {
      // ICMP port unreachable arrives as connection_refused on a connected socket: keep
      // waiting for the retransmission schedule rather than failing at once.
      if (ec == asio::error::connection_refused) {
        refused_ = true;
        return receive();
      }
      return fail("UDP receive failed: " + ec.message());
    }
    on_datagram(std::string_view(buf_.data(), n));
  }

  void on_datagram(std::string_view bytes) {
    if (done_) return;
    auto reply = udp_tracker::parse_reply(bytes, endpoint_.address().is_v6());
    if (reply.transaction_id != transaction_ || bytes.size() < 8) return receive();  // stray
    if (reply.action == udp_tracker::kError) {
      impl_->udp_connections.erase(endpoint_);
      if (used_cached_id_ && !connecting_) {
        // The tracker may have forgotten a cached connection id: connect afresh once.
        used_cached_id_ = false;
        receive();
        return next_step();
      }
      AnnounceResult r;
      r.url = full_url_;
      r.error = *reply.error;
      r.tracker_failure = true;
      return finish(r);
    }
    if (reply.malformed) return fail(*reply.error);
    if (connecting_) {
      if (reply.action != udp_tracker::kConnect) return receive();
      connection_id_ = reply.connection_id;
      connected_at_ = std::chrono::steady_clock::now();
      impl_->udp_connections[endpoint_] = {connection_id_, connected_at_};
      connecting_ = false;
      packet_ = request_packet();
      attempt_ = 0;
      timer_.cancel();
      receive();
      return send();
    }
    AnnounceResult r;
    r.url = full_url_;
    if (scrape_) {
      if (reply.action != udp_tracker::kScrape || !reply.scrape) return receive();
      return finish(r, reply.scrape);
    }
    if (reply.action != udp_tracker::kAnnounce || !reply.announce) return receive();
    r.response = std::move(reply.announce);
    finish(r);
  }

  void fail(const std::string& why) {
    finish(announce_error(full_url_, refused_ ? why + " (port unreachable)" : why));
  }

  void finish(const AnnounceResult& r, std::optional<ScrapeInfo> scrape = std::nullopt) {
    if (done_) return;
    done_ = true;
    error_code ignored;
    timer_.cancel();
    resolver_.cancel();
    socket_.close(ignored);
    if (shared_) impl_->udp_waiting.erase(transaction_);
    auto h = std::move(handler_);
    h(UdpOutcome{r, scrape});
  }

  std::shared_ptr<TrackerClient::Impl> impl_;
  base::Url url_;
  std::string full_url_;
  AnnounceRequest req_;
  std::optional<InfoHash> scrape_;
  UdpDone handler_;
  udp::resolver resolver_;
  udp::socket socket_;
  asio::steady_timer timer_;
  udp::endpoint endpoint_;
  std::string packet_;
  std::array<char, 4096> buf_{};
  std::uint32_t transaction_ = 0;
  std::uint64_t connection_id_ = 0;
  std::chrono::steady_clock::time_point connected_at_{};
  int attempt_ = 0;
  bool connecting_ = true;
  bool refused_ = false;
  bool used_cached_id_ = false;
  bool done_ = false;
  bool shared_ = false;
};

}  // namespace

std::shared_ptr<TrackerOp> make_udp_announce(std::shared_ptr<TrackerClient::Impl> impl,
                                             base::Url url, std::string full_url,
                                             AnnounceRequest req, AnnounceHandler handler) {
  return std::make_shared<UdpAnnounce>(
      std::move(impl), std::move(url), std::move(full_url), req, std::nullopt,
      [handler = std::move(handler)](const UdpOutcome& o) { handler(o.result); });
}

std::shared_ptr<TrackerOp> make_udp_scrape(std::shared_ptr<TrackerClient::Impl> impl, base::Url url,
                                           std::string full_url, InfoHash info_hash,
                                           ScrapeHandler handler) {
  return std::make_shared<UdpAnnounce>(
      std::move(impl), std::move(url), std::move(full_url), AnnounceRequest{}, info_hash,
      [handler = std::move(handler)](const UdpOutcome& o) {
        ScrapeResult r;
        r.url = o.result.url;
        r.info = o.scrape;
        r.cancelled = o.result.cancelled;
        if (!o.scrape) {
          r.error = o.result.error.empty() ? "no scrape answer" : o.result.error;
        }
        handler(r);
      });
}

}  // namespace p2p
