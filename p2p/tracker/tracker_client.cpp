#include <boost/asio/post.hpp>
#include <stdexcept>

#include "p2p/tracker/tracker.hpp"
#include "p2p/tracker/tracker_client_impl.hpp"
#include "p2p/transport/udp_socket.hpp"

namespace p2p {

base::Url parse_tracker_url(const std::string& url) {
  base::Url u = base::Url::parse(url);
  if (u.port == 0) throw base::UrlError(url, "a port is required for " + u.scheme);
  return u;
}

void TrackerClient::Impl::track(const std::shared_ptr<TrackerOp>& op) {
  std::erase_if(ops, [](const std::weak_ptr<TrackerOp>& w) { return w.expired(); });
  ops.push_back(op);
}

TrackerClient::TrackerClient(boost::asio::io_context& io, TrackerSettings settings)
    : io_(io), settings_(settings), impl_(std::make_shared<Impl>(io, settings)) {}

TrackerClient::~TrackerClient() {
  cancel_all();
  detach_udp();
}

void TrackerClient::attach_udp(UdpSocket& socket) {
  detach_udp();
  impl_->udp = &socket;
  std::weak_ptr<Impl> impl = impl_;
  impl_->udp_handler =
      socket.add_handler([impl](const UdpSocket::Endpoint& from, std::span<const std::uint8_t> d) {
        auto i = impl.lock();
        return i && i->on_udp(from, d);
      });
}

void TrackerClient::detach_udp() {
  if (!impl_->udp) return;
  impl_->udp->remove_handler(impl_->udp_handler);
  impl_->udp = nullptr;
  impl_->udp_handler = 0;
}

bool TrackerClient::Impl::on_udp(const boost::asio::ip::udp::endpoint& from,
                                 std::span<const std::uint8_t> data) {
  // Every BEP 15 reply begins with the action and the transaction id.
  if (data.size() < 8 || udp_waiting.empty()) return false;
  std::uint32_t action = (std::uint32_t(data[0]) << 24) | (std::uint32_t(data[1]) << 16) |
                         (std::uint32_t(data[2]) << 8) | data[3];
  if (action > 3) return false;
  std::uint32_t tid = (std::uint32_t(data[4]) << 24) | (std::uint32_t(data[5]) << 16) |
                      (std::uint32_t(data[6]) << 8) | data[7];
  auto it = udp_waiting.find(tid);
  if (it == udp_waiting.end() || it->second.from != from) return false;
  auto deliver = it->second.deliver;  // the announce may wait again under a new id
  deliver(data);
  return true;
}

void TrackerClient::announce(const std::string& url, const AnnounceRequest& req,
                             const std::string& tracker_id, AnnounceHandler handler) {
  base::Url u;
  try {
    u = parse_tracker_url(url);
  } catch (const std::exception& e) {
    AnnounceResult r;
    r.url = url;
    r.error = e.what();
    boost::asio::post(io_, [handler = std::move(handler), r] { handler(r); });
    return;
  }
  std::shared_ptr<TrackerOp> op;
  if (u.scheme == "http" || u.scheme == "https") {
    op = make_http_announce(impl_, u, url, req, tracker_id, std::move(handler));
  } else if (u.scheme == "udp") {
    op = make_udp_announce(impl_, u, url, req, std::move(handler));
  } else {
    AnnounceResult r;
    r.url = url;
    r.error = "unsupported tracker scheme '" + u.scheme + "'";
    boost::asio::post(io_, [handler = std::move(handler), r] { handler(r); });
    return;
  }
  impl_->track(op);
  op->start();
}

void TrackerClient::scrape(const std::string& announce_url, const InfoHash& info_hash,
                           ScrapeHandler handler) {
  auto fail = [&](std::string why) {
    ScrapeResult r;
    r.url = announce_url;
    r.error = std::move(why);
    boost::asio::post(io_, [handler = std::move(handler), r] { handler(r); });
  };
  auto scrape_url = scrape_url_of(announce_url);
  if (!scrape_url) return fail("this tracker has no scrape URL");
  base::Url u;
  try {
    u = parse_tracker_url(*scrape_url);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  std::shared_ptr<TrackerOp> op;
  if (u.scheme == "udp") {
    op = make_udp_scrape(impl_, u, announce_url, info_hash, std::move(handler));
  } else {
    op = make_http_scrape(impl_, u, announce_url, info_hash, std::move(handler));
  }
  impl_->track(op);
  op->start();
}

void TrackerClient::cancel_all() {
  auto ops = std::move(impl_->ops);
  impl_->ops.clear();
  for (auto& w : ops) {
    if (auto op = w.lock()) op->cancel();
  }
}

}  // namespace p2p
