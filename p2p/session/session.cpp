#include "p2p/session/session.hpp"

#include "p2p/dht/dht.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <unordered_map>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <stdexcept>
#include <tuple>
#include <unordered_map>

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <variant>

#include "base/log.hpp"
#include "p2p/peer/peer_connection.hpp"
#include "p2p/session/version.hpp"
#include "p2p/storage/file_moves.hpp"
#include "p2p/torrent/torrent.hpp"
#include "p2p/transport/mse_dial_stream.hpp"
#include "p2p/transport/tcp_stream.hpp"
#include "p2p/transport/udp_socket.hpp"
#include "p2p/transport/utp_dial_stream.hpp"
#include "p2p/transport/utp_stream.hpp"

namespace p2p {

using boost::asio::ip::tcp;

Session::Session(boost::asio::io_context& io, SessionSettings settings)
    : io_(io),
      settings_(std::move(settings)),
      writers_(settings_.disk_write_threads),
      disk_(settings_.disk_threads),
      hashers_(settings_.hash_threads),
      timer_(io) {
  auto mode = parse_encryption_mode(settings_.encryption);
  if (!mode)
    throw std::invalid_argument("encryption: allow, prefer or require, not " +
                                settings_.encryption);
  encryption_ = *mode;
  counting_ = events_.subscribe([this](const Event& e) {
    if (const auto* c = std::get_if<event::PeerConnected>(&e)) {
      ++counters_.connections_opened;
      if (auto t = find_torrent(c->info_hash)) ++t->counters_mut().connections_opened;
    } else if (const auto* c = std::get_if<event::PeerClosed>(&e)) {
      ++counters_.connections_closed[std::size_t(c->reason)];
      if (auto t = find_torrent(c->info_hash)) {
        ++t->counters_mut().connections_closed[std::size_t(c->reason)];
      }
    }
  });
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
  lsd_.reset();
  // Peers hold their torrent: close them so nothing is left in a reference cycle.
  for (auto& [ih, t] : torrents_) t->abort();
  stopped_ = true;
  timer_.cancel();
  for (auto& a : acceptors_) {
    boost::system::error_code ec;
    a->close(ec);
  }
  if (spare_fd_ >= 0) ::close(spare_fd_);
}

void Session::open_spare_fd() {
  if (spare_fd_ < 0) spare_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

void Session::on_out_of_descriptors(tcp::acceptor& acc) {
  ++turned_away_;
  if (spare_fd_ >= 0) {
    ::close(spare_fd_);
    spare_fd_ = -1;
    boost::system::error_code ec;
    acc.native_non_blocking(true, ec);
    int fd = ::accept4(acc.native_handle(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
      ::shutdown(fd, SHUT_RDWR);
      ::close(fd);
    }
    open_spare_fd();
  }
  // Back off, 100 ms doubling to a second, so a full table costs no CPU while it lasts.
  using std::chrono::milliseconds;
  accept_backoff_ = std::clamp(accept_backoff_ * 2, milliseconds(100), milliseconds(1000));
  auto timer = std::make_shared<boost::asio::steady_timer>(io_, accept_backoff_);
  std::weak_ptr<int> alive = alive_;
  timer->async_wait([this, &acc, alive, timer](const boost::system::error_code& ec) {
    if (ec || alive.expired() || stopped_ || !acc.is_open()) return;
    retry_accept(acc);
  });
}

void Session::listen() {
  auto open = [&](const tcp::endpoint& ep, bool v6only) {
    auto acc = std::make_unique<tcp::acceptor>(io_);
    acc->open(ep.protocol());
    acc->set_option(tcp::acceptor::reuse_address(true));
    if (v6only) acc->set_option(boost::asio::ip::v6_only(true));
    acc->bind(ep);
    // As deep a queue as the system allows: a burst of incoming peers (a seedbox after a
    // restart, a tracker's fresh swarm) beyond the queue has its SYNs dropped and waits a
    // second or more to retry.
    acc->listen(boost::asio::socket_base::max_listen_connections);
    return acc;
  };
  // TCP and UDP on the same port. With any free port asked for, the TCP port found may be
  // taken for UDP by another program: then look for another.
  for (int attempt = 0;; ++attempt) {
    auto v4 = open(tcp::endpoint(tcp::v4(), settings_.listen_port), false);
    std::uint16_t port = v4->local_endpoint().port();
    try {
      udp_ = std::make_unique<UdpSocket>(io_, port, settings_.listen_ipv6);
    } catch (const std::system_error&) {
      if (settings_.listen_port != 0 || attempt >= 16) throw;
      continue;
    }
    port_ = port;
    acceptors_.push_back(std::move(v4));
    break;
  }
  tracker_client_->attach_udp(*udp_);
  start_utp();
  if (settings_.listen_ipv6) {
    try {
      acceptors_.push_back(open(tcp::endpoint(tcp::v6(), port_), true));
    } catch (const std::exception&) {
      // No IPv6 on this host: IPv4 alone is fine.
    }
  }
  open_spare_fd();
  for (auto& a : acceptors_) accept_loop(*a);
  if (settings_.enable_dht) start_dht();
  if (settings_.enable_lsd) start_local_discovery();
}

void Session::start_local_discovery() {
  auto running = [](const Torrent& t) {
    auto s = t.state();
    return !t.is_private() && (s == TorrentState::Downloading || s == TorrentState::Seeding ||
                               s == TorrentState::FetchingMetadata);
  };
  lsd_ = std::make_unique<LocalDiscovery>(
      io_, settings_.lsd, port_,
      [this, running] {
        std::vector<InfoHash> out;
        for (const auto& [ih, t] : torrents_) {
          if (running(*t)) out.push_back(ih);
        }
        return out;
      },
      [this, running](const InfoHash& ih, const tcp::endpoint& peer) {
        auto it = torrents_.find(ih);
        if (it == torrents_.end() || !running(*it->second)) return;
        base::log::get("lsd")->debug(
            "{}: local peer {}", it->second->name(),
            peer.address().to_string() + ":" + std::to_string(peer.port()));
        it->second->connect_to(peer);
      });
  lsd_->start();
}

void Session::accept_loop(tcp::acceptor& acc) {
  // The handler can still run after the session is gone (its acceptors' pending accepts
  // complete during io_context teardown or later runs): check liveness before touching it.
  std::weak_ptr<int> alive = alive_;
  acc.async_accept([this, &acc, alive](const boost::system::error_code& ec, tcp::socket s) {
    if (alive.expired()) return;
    on_accepted(acc, ec, std::move(s));
  });
}

void Session::retry_accept(tcp::acceptor& acc) {
  // A connection that came while we waited may have left no readiness edge behind: take it
  // with a non-blocking accept before going back to waiting.
  boost::system::error_code ec;
  acc.non_blocking(true, ec);
  tcp::socket s(io_);
  acc.accept(s, ec);
  if (ec == boost::asio::error::would_block || ec == boost::asio::error::try_again) {
    return accept_loop(acc);
  }
  on_accepted(acc, ec, std::move(s));
}

void Session::on_accepted(tcp::acceptor& acc, const boost::system::error_code& ec, tcp::socket s) {
  if (ec == boost::asio::error::operation_aborted) return;
  if (stopped_ || !acc.is_open()) return;
  if (ec == boost::asio::error::no_descriptors || ec.value() == ENFILE ||
      ec == boost::asio::error::no_buffer_space || ec == boost::asio::error::no_memory) {
    return on_out_of_descriptors(acc);
  }
  accept_backoff_ = std::chrono::milliseconds(0);
  if (!ec) {
    if (!may_connect()) {
      ++turned_away_;
      boost::system::error_code ignored;
      s.shutdown(tcp::socket::shutdown_both, ignored);
      s.close(ignored);
    } else {
      accept_stream(std::make_unique<TcpStream>(std::move(s), settings_.socket_buffer_size));
    }
  }
  accept_loop(acc);
}

void Session::accept_stream(std::unique_ptr<Stream> s) {
  if (stopped_ || !may_connect()) {
    ++turned_away_;
    s->close();
    return;
  }
  ++accepted_;
  // Either kind of peer may knock; the stream tells a plain handshake from an encrypted one.
  auto o = mse_options(encryption_);
  o.find_torrent = [this](const Sha1Digest& req2) -> std::optional<InfoHash> {
    auto it = by_req2_.find(req2);
    if (it == by_req2_.end()) return std::nullopt;
    return it->second;
  };
  auto conn = std::make_shared<PeerConnection>(
      *this, std::make_unique<MseStream>(io_.get_executor(), std::move(s), std::move(o),
                                         encryption_ != EncryptionMode::require));
  conn->start();
}

std::unique_ptr<Stream> Session::outgoing_stream(const InfoHash& ih, const PeerAddress& to) {
  int buffer = settings_.socket_buffer_size;
  MseDialStream::Dial dial = [this, to, buffer] {
    return std::make_unique<TcpStream>(io_, to, buffer);
  };
  if (utp_ && settings_.enable_utp) {
    dial = [this, to, tcp = std::move(dial)]() -> std::unique_ptr<Stream> {
      UtpDialStream::Dial utp = [this, to]() -> std::unique_ptr<Stream> {
        if (!utp_) return nullptr;
        return utp_->dial(to);
      };
      return std::make_unique<UtpDialStream>(io_.get_executor(), std::move(utp), tcp,
                                             settings_.utp_connect_timeout,
                                             settings_.utp_head_start);
    };
  }
  return std::make_unique<MseDialStream>(io_.get_executor(), std::move(dial), encryption_, ih);
}

std::shared_ptr<Torrent> Session::add_torrent(AddTorrentParams params) {
  InfoHash ih = params.metainfo ? params.metainfo->info_hash : params.info_hash;
  if (torrents_.count(ih)) throw std::runtime_error("torrent already added");
  auto t = std::make_shared<Torrent>(*this, std::move(params));
  torrents_[ih] = t;
  order_.push_back(t);
  const Sha1Digest req2 = mse::req2_hash(ih);
  by_req2_[req2] = ih;
  try {
    t->start();
  } catch (...) {
    torrents_.erase(ih);
    by_req2_.erase(req2);
    order_.pop_back();
    throw;
  }
  events_.publish(event::TorrentAdded{ih});
  update_queue();
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

void Session::remove_torrent(const InfoHash& ih, bool delete_files) {
  auto it = torrents_.find(ih);
  if (it == torrents_.end()) return;
  auto t = it->second;
  torrents_.erase(it);
  by_req2_.erase(mse::req2_hash(ih));
  std::erase(order_, t);
  t->stop([this, t, delete_files, alive = std::weak_ptr<int>(alive_)] {
    if (!delete_files || alive.expired()) return;
    // Once no read or write of the torrent is in flight (a late write would make the file
    // again), the files go on the disk thread.
    t->when_disk_idle([this, t, alive] {
      if (alive.expired()) return;
      disk_.post(
          [files = t->relative_paths(), root = t->save_path()] { p2p::delete_files(files, root); });
    });
  });
  events_.publish(event::TorrentRemoved{ih});
  update_queue();
}

bool Session::slot_free(const Torrent& t) const {
  int limit = t.wants_check()                   ? settings_.max_active_checking
              : t.has_metadata() && t.is_seed() ? settings_.max_active_seeds
                                                : settings_.max_active_downloads;
  if (limit < 0) return true;
  int used = 0;
  for (const auto& o : order_) {
    if (o.get() == &t) continue;
    auto st = o->state();
    if (t.wants_check()) {
      used += st == TorrentState::Checking;
    } else if (t.has_metadata() && t.is_seed()) {
      used += st == TorrentState::Seeding;
    } else {
      used += st == TorrentState::Downloading || st == TorrentState::FetchingMetadata;
    }
  }
  return used < limit;
}

void Session::update_queue() {
  if (queue_posted_ || stopped_) return;
  queue_posted_ = true;
  std::weak_ptr<int> alive = alive_;
  boost::asio::post(io_, [this, alive] {
    if (alive.expired()) return;
    queue_posted_ = false;
    run_queue();
  });
}

void Session::reorder_queue(const std::vector<const Torrent*>& first) {
  std::unordered_map<const Torrent*, std::size_t> rank;
  for (std::size_t i = 0; i < first.size(); ++i) rank.emplace(first[i], i);
  std::stable_sort(order_.begin(), order_.end(), [&](const auto& a, const auto& b) {
    auto ra = rank.find(a.get()), rb = rank.find(b.get());
    std::size_t x = ra == rank.end() ? first.size() : ra->second;
    std::size_t y = rb == rank.end() ? first.size() : rb->second;
    return x < y;
  });
  update_queue();
}

void Session::run_queue() {
  if (stopped_) return;
  // Runs after every check: with thousands of torrents it must cost a walk of the queue
  // vector, not a map lookup per torrent, and stop once nothing queued can start.
  int checking = 0, downloading = 0, seeding = 0;
  int queued_checks = 0, queued_others = 0;
  for (const auto& t : order_) {
    auto st = t->state();
    checking += st == TorrentState::Checking;
    downloading += st == TorrentState::Downloading || st == TorrentState::FetchingMetadata;
    seeding += st == TorrentState::Seeding;
    if (st == TorrentState::Queued) ++(t->wants_check() ? queued_checks : queued_others);
  }
  auto fits = [](int used, int limit) { return limit < 0 || used < limit; };
  // By index: a listener may remove torrents while one starts (the next run sees the rest).
  for (std::size_t i = 0; i < order_.size() && queued_checks + queued_others > 0; ++i) {
    std::shared_ptr<Torrent> t = order_[i];
    if (t->state() != TorrentState::Queued) continue;
    if (t->wants_check()) {
      --queued_checks;
      if (!fits(checking, settings_.max_active_checking)) {
        if (queued_others == 0) break;  // only checks wait, and no check slot is free
        continue;
      }
      ++checking;
      t->begin_check();
    } else if (t->has_metadata() && t->is_seed()) {
      --queued_others;
      if (!fits(seeding, settings_.max_active_seeds)) continue;
      ++seeding;
      t->activate();
    } else {
      --queued_others;
      if (!fits(downloading, settings_.max_active_downloads)) continue;
      ++downloading;
      t->activate();
    }
  }
}

void Session::shutdown(std::function<void()> done, std::chrono::seconds timeout) {
  if (lsd_) lsd_->stop();
  for (auto& a : acceptors_) {
    boost::system::error_code ec;
    a->close(ec);
  }
  if (utp_) utp_->set_accept(nullptr);
  auto remaining = std::make_shared<std::size_t>(torrents_.size());
  auto all = std::make_shared<std::function<void()>>(std::move(done));
  if (torrents_.empty()) {
    boost::asio::post(io_, [all] {
      if (*all) (*all)();
    });
  }
  auto list = torrents();
  order_.clear();
  for (auto& t : list) {
    t->stop(
        [remaining, all, t] {
          if (--*remaining == 0 && *all) (*all)();
        },
        timeout);
  }
  stopped_ = true;
  timer_.cancel();
  if (dht_) dht_->stop();
}

namespace {

int tier_index(int torrent_priority) {
  return std::clamp(torrent_priority, -1, 1) + 1;
}

bool higher_tier_waits(const std::array<int, 3>& waiting, int torrent_priority) {
  for (int i = tier_index(torrent_priority) + 1; i < 3; ++i) {
    if (waiting[std::size_t(i)] > 0) return true;
  }
  return false;
}

}  // namespace

void Session::wait_for_bandwidth(std::weak_ptr<PeerConnection> p, bool upload,
                                 std::int64_t upload_priority, int torrent_priority) {
  int tier = std::clamp(torrent_priority, -1, 1);
  if (upload) {
    waiting_up_.push_back({std::move(p), upload_priority, tier});
    ++waiting_up_priorities_[upload_priority];
    ++waiting_tiers_up_[std::size_t(tier_index(tier))];
  } else {
    waiting_down_.push_back({std::move(p), 0, tier});
    ++waiting_tiers_down_[std::size_t(tier_index(tier))];
  }
}

bool Session::may_download(int torrent_priority) const {
  if (!down_.available()) return false;
  return down_.unlimited() || !higher_tier_waits(waiting_tiers_down_, torrent_priority);
}

bool Session::may_upload(std::int64_t upload_priority, int torrent_priority) const {
  if (!up_.available()) return false;
  if (up_.unlimited()) return true;
  if (higher_tier_waits(waiting_tiers_up_, torrent_priority)) return false;
  if (waiting_up_priorities_.empty()) return true;
  if (upload_priority >= waiting_up_priorities_.rbegin()->first) return true;
  // Someone of a higher priority waits: a lower one goes only while its share is short.
  double total = recent_high_bytes_ + recent_low_bytes_;
  return upload_priority <= 0 && recent_low_bytes_ < settings_.low_priority_upload_share * total;
}

void Session::note_upload(std::int64_t upload_priority, std::int64_t bytes) {
  if (up_.unlimited()) return;
  (upload_priority > 0 ? recent_high_bytes_ : recent_low_bytes_) += double(bytes);
}

void Session::tick() {
  auto now = std::chrono::steady_clock::now();
  up_.refill(now);
  down_.refill(now);
  if (now - last_decay_ >= std::chrono::seconds(1)) {
    last_decay_ = now;
    recent_high_bytes_ /= 2;
    recent_low_bytes_ /= 2;
  }
  if (!waiting_up_.empty() && up_.available()) {
    // Highest priority first; a peer woken while the bucket is empty again waits anew.
    auto waiting = std::move(waiting_up_);
    waiting_up_.clear();
    waiting_up_priorities_.clear();
    std::stable_sort(waiting.begin(), waiting.end(), [](const Waiter& a, const Waiter& b) {
      return std::tie(a.tier, a.priority) > std::tie(b.tier, b.priority);
    });
    for (const auto& w : waiting) ++waiting_up_priorities_[w.priority];
    for (auto& w : waiting) {
      if (--waiting_up_priorities_[w.priority] == 0) waiting_up_priorities_.erase(w.priority);
      --waiting_tiers_up_[std::size_t(tier_index(w.tier))];
      if (auto p = w.peer.lock()) p->on_bandwidth(true);
    }
  }
  if (!waiting_down_.empty() && down_.available()) {
    auto waiting = std::move(waiting_down_);
    waiting_down_.clear();
    std::stable_sort(waiting.begin(), waiting.end(),
                     [](const Waiter& a, const Waiter& b) { return a.tier > b.tier; });
    for (auto& w : waiting) {
      --waiting_tiers_down_[std::size_t(tier_index(w.tier))];
      if (auto p = w.peer.lock()) p->on_bandwidth(false);
    }
  }
  if (stopped_) return;
  dht_announce_due(now);
  timer_.expires_after(std::chrono::milliseconds(20));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !stopped_) tick();
  });
}

}  // namespace p2p
