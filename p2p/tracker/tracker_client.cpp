#include <algorithm>
#include <boost/asio/post.hpp>
#include <stdexcept>

#include "p2p/tracker/tracker.hpp"
#include "p2p/tracker/tracker_client_impl.hpp"

namespace p2p {

TrackerUrl parse_tracker_url(const std::string& url) {
  TrackerUrl u;
  auto sep = url.find("://");
  if (sep == std::string::npos) throw std::invalid_argument("tracker URL without a scheme: " + url);
  u.scheme = url.substr(0, sep);
  std::transform(u.scheme.begin(), u.scheme.end(), u.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string rest = url.substr(sep + 3);
  auto slash = rest.find_first_of("/?");
  std::string authority = rest.substr(0, slash);
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (u.target[0] == '?') u.target = "/" + u.target;
  if (auto at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
  if (!authority.empty() && authority[0] == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos) throw std::invalid_argument("bad IPv6 host in " + url);
    u.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') throw std::invalid_argument("bad host in " + url);
      u.port = authority.substr(close + 2);
    }
  } else {
    auto colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    if (colon != std::string::npos) u.port = authority.substr(colon + 1);
  }
  if (u.host.empty()) throw std::invalid_argument("tracker URL without a host: " + url);
  if (u.port.empty()) {
    if (u.scheme == "http") {
      u.port = "80";
    } else if (u.scheme == "https") {
      u.port = "443";
    } else {
      throw std::invalid_argument("tracker URL without a port: " + url);
    }
  }
  if (u.port.find_first_not_of("0123456789") != std::string::npos || u.port.size() > 5 ||
      std::stoi(u.port) == 0 || std::stoi(u.port) > 65535) {
    throw std::invalid_argument("bad port in tracker URL " + url);
  }
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
}

void TrackerClient::announce(const std::string& url, const AnnounceRequest& req,
                             const std::string& tracker_id, AnnounceHandler handler) {
  TrackerUrl u;
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
  if (u.scheme == "http") {
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

void TrackerClient::cancel_all() {
  auto ops = std::move(impl_->ops);
  impl_->ops.clear();
  for (auto& w : ops) {
    if (auto op = w.lock()) op->cancel();
  }
}

}  // namespace p2p
