#include "p2p/transport/utp_stream.hpp"

#include <atomic>

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>

namespace p2p {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {
std::atomic<std::size_t> g_live_sockets{0};
std::atomic<std::size_t> g_live_streams{0};
}  // namespace

struct UtpSocket {
  UtpSocket(UtpManager* m, const UtpManager::Endpoint& r, const utp::Config& cfg)
      : mgr(m), io(&m->io_), remote(r), conn(cfg, [this](std::span<const std::uint8_t> d) {
          if (mgr) mgr->send_(remote, d);
        }) {
    ++g_live_sockets;
  }
  ~UtpSocket() { --g_live_sockets; }
  UtpSocket(const UtpSocket&) = delete;
  UtpSocket& operator=(const UtpSocket&) = delete;

  UtpManager* mgr;
  asio::io_context* io;
  UtpManager::Endpoint remote;
  utp::Connection conn;
  std::uint16_t recv_id = 0;
  bool attached = true;
  bool flush_queued = false;
  std::uint64_t linger_until = 0;
  Stream::ConnectHandler connect_done;
  std::span<std::uint8_t> read_buf;
  Stream::IoHandler read_done;
  std::vector<std::span<const std::uint8_t>> wbufs;
  std::size_t widx = 0, woff = 0, wtotal = 0;
  Stream::IoHandler write_done;

  std::uint64_t now() const { return mgr ? mgr->now_us() : 0; }

  error_code failure() const {
    switch (conn.error()) {
      case utp::Error::refused:
        return asio::error::connection_refused;
      case utp::Error::timed_out:
      case utp::Error::idle_timeout:
        return asio::error::timed_out;
      case utp::Error::reset:
        return asio::error::connection_reset;
      case utp::Error::none:
        break;
    }
    return asio::error::not_connected;
  }

  template <class H, class... A>
  void complete(H& h, A... a) {
    asio::post(*io, [h = std::move(h), a...] { h(a...); });
    h = nullptr;
  }

  // Completes whatever the connection's state now allows.
  void update() {
    bool closed = conn.state() == utp::State::closed || !mgr;
    if (connect_done) {
      if (conn.state() == utp::State::connected) {
        complete(connect_done, error_code());
      } else if (closed) {
        complete(connect_done, failure());
      }
    }
    if (read_done) {
      std::size_t n = mgr ? conn.read(read_buf, now()) : 0;
      if (n) {
        complete(read_done, error_code(), n);
      } else if (conn.eof()) {
        complete(read_done, error_code(asio::error::eof), std::size_t(0));
      } else if (closed) {
        complete(read_done, failure(), std::size_t(0));
      }
    }
    if (write_done) {
      if (closed) {
        complete(write_done, failure(), wtotal);
      } else if (conn.state() == utp::State::connected) {
        while (widx < wbufs.size()) {
          auto b = wbufs[widx].subspan(woff);
          std::size_t n = b.empty() ? 0 : conn.write(b, now());
          woff += n;
          wtotal += n;
          if (woff < wbufs[widx].size()) break;
          ++widx;
          woff = 0;
        }
        if (widx == wbufs.size()) {
          wbufs.clear();
          complete(write_done, error_code(), wtotal);
        }
      }
    }
  }

  void abort_ops() {
    error_code ec = asio::error::operation_aborted;
    if (connect_done) complete(connect_done, ec);
    if (read_done) complete(read_done, ec, std::size_t(0));
    if (write_done) complete(write_done, ec, wtotal);
  }
};

UtpManager::UtpManager(asio::io_context& io, Send send, UtpSettings settings)
    : io_(io),
      send_(std::move(send)),
      settings_(settings),
      timer_(io),
      epoch_(std::chrono::steady_clock::now()),
      rng_(std::random_device{}()) {}

UtpManager::~UtpManager() {
  for (auto& [k, s] : sockets_) {
    s->abort_ops();
    s->mgr = nullptr;
  }
}

std::size_t UtpManager::live_sockets() {
  return g_live_sockets.load();
}

std::uint64_t UtpManager::now_us() const {
  return std::uint64_t(std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::steady_clock::now() - epoch_)
                           .count()) +
         1;
}

std::shared_ptr<UtpSocket> UtpManager::make_socket(const Endpoint& remote) {
  return std::make_shared<UtpSocket>(this, remote, settings_.config);
}

void UtpManager::send_reset(const Endpoint& to, const utp::Packet& p) {
  utp::Header h;
  h.type = utp::Type::reset;
  h.conn_id = p.h.conn_id;
  h.seq = std::uint16_t(rng_());
  h.ack = p.h.seq;
  h.timestamp = std::uint32_t(now_us());
  std::uint8_t buf[utp::kHeaderSize];
  utp::write_header(h, {}, buf);
  send_(to, std::span<const std::uint8_t>(buf, sizeof buf));
}

bool UtpManager::on_datagram(const Endpoint& from, std::span<const std::uint8_t> data) {
  if (!utp::looks_like_utp(data)) return false;
  auto p = utp::parse(data);
  if (!p) return true;
  std::uint64_t now = now_us();
  if (p->h.type == utp::Type::syn) {
    Key key{from, std::uint16_t(p->h.conn_id + 1)};
    auto it = sockets_.find(key);
    if (it != sockets_.end()) {
      it->second->conn.on_packet(*p, now);
      return true;
    }
    if (!accept_ || sockets_.size() >= settings_.max_sockets) {
      send_reset(from, *p);
      return true;
    }
    auto s = make_socket(from);
    s->recv_id = key.second;
    s->conn.accept(*p, std::uint16_t(rng_()), now);
    sockets_[key] = s;
    arm_timer();
    accept_(std::make_unique<UtpStream>(s));
    return true;
  }
  auto it = sockets_.find(Key{from, p->h.conn_id});
  if (it == sockets_.end() && p->h.type == utp::Type::reset) {
    // A reset may name either of the connection's ids.
    it = sockets_.find(Key{from, std::uint16_t(p->h.conn_id - 1)});
    if (it == sockets_.end()) it = sockets_.find(Key{from, std::uint16_t(p->h.conn_id + 1)});
  }
  if (it == sockets_.end()) {
    if (p->h.type != utp::Type::reset) send_reset(from, *p);
    return true;
  }
  auto s = it->second;
  s->conn.on_packet(*p, now);
  schedule_flush(s);
  s->update();
  return true;
}

void UtpManager::schedule_flush(const std::shared_ptr<UtpSocket>& s) {
  if (!s->flush_queued) {
    s->flush_queued = true;
    to_flush_.push_back(s);
  }
  if (flush_posted_) return;
  flush_posted_ = true;
  std::weak_ptr<int> alive = alive_;
  asio::post(io_, [this, alive] {
    if (!alive.expired()) flush();
  });
}

void UtpManager::flush() {
  flush_posted_ = false;
  auto list = std::move(to_flush_);
  to_flush_.clear();
  std::uint64_t now = now_us();
  for (auto& w : list) {
    if (auto s = w.lock()) {
      s->flush_queued = false;
      s->conn.flush_ack(now);
    }
  }
}

std::unique_ptr<UtpStream> UtpManager::dial(const PeerAddress& to) {
  if (sockets_.size() >= settings_.max_sockets) return nullptr;
  Endpoint ep(to.ip(), to.port());
  std::uint16_t id;
  do {
    id = std::uint16_t(rng_());
  } while (sockets_.count(Key{ep, id}));
  auto s = make_socket(ep);
  s->recv_id = id;
  sockets_[Key{ep, id}] = s;
  arm_timer();
  return std::make_unique<UtpStream>(s);
}

void UtpManager::arm_timer() {
  if (timer_armed_) return;
  timer_armed_ = true;
  timer_.expires_after(std::chrono::milliseconds(10));
  std::weak_ptr<int> alive = alive_;
  timer_.async_wait([this, alive](const error_code& ec) {
    if (alive.expired()) return;
    timer_armed_ = false;
    if (!ec) on_timer();
  });
}

void UtpManager::on_timer() {
  std::uint64_t now = now_us();
  std::vector<std::shared_ptr<UtpSocket>> all;
  all.reserve(sockets_.size());
  for (auto& [k, s] : sockets_) all.push_back(s);
  for (auto& s : all) {
    s->conn.tick(now);
    s->update();
  }
  reap();
  if (!sockets_.empty()) arm_timer();
}

void UtpManager::reap() {
  std::uint64_t now = now_us();
  for (auto it = sockets_.begin(); it != sockets_.end();) {
    auto& s = it->second;
    // A closed connection stays while its stream is open, to tell why on the next call.
    bool dead = false;
    if (!s->attached) {
      if (s->conn.state() == utp::State::idle || s->conn.finished()) dead = true;
      if (now >= s->linger_until && !dead) {
        s->conn.abort();
        dead = true;
      }
    }
    if (dead) {
      s->update();
      it = sockets_.erase(it);
    } else {
      ++it;
    }
  }
}

// The manager owns its sockets and a stream only looks at its own: when the manager goes
// (with the session) every socket goes with it, even one whose pending operation holds,
// through its connection, the very stream that would otherwise keep it.
UtpStream::UtpStream(const std::shared_ptr<UtpSocket>& s)
    : s_(s), io_(s->io), remote_(s->remote.address(), s->remote.port()) {
  ++g_live_streams;
}

UtpStream::~UtpStream() {
  close();
  --g_live_streams;
}

std::size_t UtpStream::live() {
  return g_live_streams.load();
}

const utp::Connection* UtpStream::connection() const {
  auto s = s_.lock();
  return s ? &s->conn : nullptr;
}

bool UtpStream::is_open() const {
  auto s = s_.lock();
  return s && s->attached && s->mgr && s->conn.state() != utp::State::closed;
}

void UtpStream::fail_soon(IoHandler done) {
  asio::post(*io_, [done = std::move(done)] { done(asio::error::bad_descriptor, 0); });
}

void UtpStream::async_connect(ConnectHandler done) {
  auto s = s_.lock();
  if (!s || !s->attached) {
    asio::post(*io_, [done = std::move(done)] { done(asio::error::bad_descriptor); });
    return;
  }
  s->connect_done = std::move(done);
  if (s->mgr && s->conn.state() == utp::State::idle) {
    s->conn.connect(s->recv_id, std::uint16_t(s->mgr->rng_()), s->now());
    return;
  }
  s->update();
}

void UtpStream::async_read_some(std::span<std::uint8_t> buf, IoHandler done) {
  auto s = s_.lock();
  if (!s || !s->attached) return fail_soon(std::move(done));
  s->read_buf = buf;
  s->read_done = std::move(done);
  s->update();
}

void UtpStream::async_write(std::span<const std::uint8_t> buf, IoHandler done) {
  std::span<const std::uint8_t> one[] = {buf};
  async_write(one, std::move(done));
}

void UtpStream::async_write(std::span<const std::span<const std::uint8_t>> bufs, IoHandler done) {
  auto s = s_.lock();
  if (!s || !s->attached) return fail_soon(std::move(done));
  s->wbufs.assign(bufs.begin(), bufs.end());
  s->widx = s->woff = s->wtotal = 0;
  s->write_done = std::move(done);
  s->update();
}

void UtpStream::close() {
  auto s = s_.lock();
  if (!s || !s->attached) return;
  s->attached = false;
  s->abort_ops();
  if (!s->mgr) return;
  s->linger_until =
      s->now() +
      std::uint64_t(
          std::chrono::duration_cast<std::chrono::microseconds>(s->mgr->settings_.linger).count());
  s->conn.shutdown(s->now());
  s->mgr->arm_timer();
}

}  // namespace p2p
