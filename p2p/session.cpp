#include "p2p/session.hpp"

#include <cstring>
#include <random>
#include <stdexcept>

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>

#include "p2p/peer_connection.hpp"
#include "p2p/torrent.hpp"
#include "p2p/version.hpp"

namespace p2p {

using boost::asio::ip::tcp;

Session::Session(boost::asio::io_context& io, SessionSettings settings)
    : io_(io), settings_(std::move(settings)), timer_(io) {
  std::random_device rd;
  std::mt19937_64 rng((std::uint64_t(rd()) << 32) ^ rd());
  std::size_t n = std::strlen(kPeerIdPrefix);
  std::memcpy(peer_id_.data(), kPeerIdPrefix, n);
  static const char kChars[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  for (std::size_t i = n; i < peer_id_.size(); ++i) peer_id_[i] = std::uint8_t(kChars[rng() % 62]);
  key_ = std::uint32_t(rng());
  tracker_client_ = std::make_unique<TrackerClient>(io_, settings_.tracker);
  up_.set_rate(settings_.max_upload_rate);
  down_.set_rate(settings_.max_download_rate);
  tick();
}

Session::~Session() {
  // Peers hold their torrent: close them so nothing is left in a reference cycle.
  for (auto& [ih, t] : torrents_) t->abort();
  stopped_ = true;
  timer_.cancel();
  for (auto& a : acceptors_) {
    boost::system::error_code ec;
    a->close(ec);
  }
}

void Session::listen() {
  auto open = [&](const tcp::endpoint& ep, bool v6only) {
    auto acc = std::make_unique<tcp::acceptor>(io_);
    acc->open(ep.protocol());
    acc->set_option(tcp::acceptor::reuse_address(true));
    if (v6only) acc->set_option(boost::asio::ip::v6_only(true));
    acc->bind(ep);
    acc->listen(128);
    return acc;
  };
  auto v4 = open(tcp::endpoint(tcp::v4(), settings_.listen_port), false);
  port_ = v4->local_endpoint().port();
  acceptors_.push_back(std::move(v4));
  if (settings_.listen_ipv6) {
    try {
      acceptors_.push_back(open(tcp::endpoint(tcp::v6(), port_), true));
    } catch (const std::exception&) {
      // No IPv6 on this host: IPv4 alone is fine.
    }
  }
  for (auto& a : acceptors_) accept_loop(*a);
}

void Session::accept_loop(tcp::acceptor& acc) {
  // The handler can still run after the session is gone (its acceptors' pending accepts
  // complete during io_context teardown or later runs): check liveness before touching it.
  std::weak_ptr<int> alive = alive_;
  acc.async_accept([this, &acc, alive](const boost::system::error_code& ec, tcp::socket s) {
    if (alive.expired()) return;
    if (ec == boost::asio::error::operation_aborted) return;
    if (stopped_) return;
    if (!ec) {
      auto conn = std::make_shared<PeerConnection>(*this, std::move(s));
      conn->start();
    }
    accept_loop(acc);
  });
}

std::shared_ptr<Torrent> Session::add_torrent(AddTorrentParams params) {
  InfoHash ih = params.metainfo ? params.metainfo->info_hash : params.info_hash;
  if (torrents_.count(ih)) throw std::runtime_error("torrent already added");
  auto t = std::make_shared<Torrent>(*this, std::move(params));
  torrents_[ih] = t;
  t->start();
  return t;
}

std::shared_ptr<Torrent> Session::find_torrent(const InfoHash& ih) const {
  auto it = torrents_.find(ih);
  return it == torrents_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<Torrent>> Session::torrents() const {
  std::vector<std::shared_ptr<Torrent>> out;
  for (auto& [ih, t] : torrents_) out.push_back(t);
  return out;
}

void Session::remove_torrent(const InfoHash& ih) {
  auto it = torrents_.find(ih);
  if (it == torrents_.end()) return;
  auto t = it->second;
  torrents_.erase(it);
  t->stop([t] {});
}

void Session::shutdown(std::function<void()> done, std::chrono::seconds timeout) {
  for (auto& a : acceptors_) {
    boost::system::error_code ec;
    a->close(ec);
  }
  auto remaining = std::make_shared<std::size_t>(torrents_.size());
  auto all = std::make_shared<std::function<void()>>(std::move(done));
  if (torrents_.empty()) {
    boost::asio::post(io_, [all] {
      if (*all) (*all)();
    });
  }
  auto list = torrents();
  for (auto& t : list) {
    t->stop(
        [remaining, all, t] {
          if (--*remaining == 0 && *all) (*all)();
        },
        timeout);
  }
  stopped_ = true;
  timer_.cancel();
}

void Session::wait_for_bandwidth(std::weak_ptr<PeerConnection> p, bool upload) {
  (upload ? waiting_up_ : waiting_down_).push_back(std::move(p));
}

void Session::tick() {
  auto now = std::chrono::steady_clock::now();
  up_.refill(now);
  down_.refill(now);
  auto wake = [](std::vector<std::weak_ptr<PeerConnection>>& list, bool upload, TokenBucket& b) {
    if (list.empty() || !b.available()) return;
    auto waiting = std::move(list);
    list.clear();
    for (auto& w : waiting) {
      if (auto p = w.lock()) p->on_bandwidth(upload);
    }
  };
  wake(waiting_up_, true, up_);
  wake(waiting_down_, false, down_);
  if (stopped_) return;
  timer_.expires_after(std::chrono::milliseconds(20));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !stopped_) tick();
  });
}

}  // namespace p2p
