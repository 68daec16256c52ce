#include "p2p/transport/udp_socket.hpp"

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/system/system_error.hpp>

namespace p2p {

using boost::asio::ip::udp;

struct UdpSocket::Side {
  explicit Side(boost::asio::io_context& io) : sock(io) {}
  udp::socket sock;
  struct Pending {
    Endpoint to;
    std::vector<std::uint8_t> bytes;
  };
  std::deque<Pending> queue;
  std::size_t queued_bytes = 0;
  bool write_waiting = false;
};

namespace {

// Larger buffers than the kernel's default keep a burst of uTP packets from being dropped
// between two reads; the kernel caps them at its own maximum.
constexpr int kSocketBuffer = 4 << 20;
// Datagrams read in one go before the other work of the thread gets its turn.
constexpr int kReadsPerRound = 64;

}  // namespace

UdpSocket::UdpSocket(boost::asio::io_context& io, std::uint16_t port, bool ipv6)
    : io_(io), buf_(65536) {
  auto open = [&](const Endpoint& ep, bool v6only) {
    auto side = std::make_unique<Side>(io_);
    side->sock.open(ep.protocol());
    if (v6only) side->sock.set_option(boost::asio::ip::v6_only(true));
    boost::system::error_code ec;
    side->sock.set_option(boost::asio::socket_base::receive_buffer_size(kSocketBuffer), ec);
    side->sock.set_option(boost::asio::socket_base::send_buffer_size(kSocketBuffer), ec);
    side->sock.bind(ep);
    side->sock.non_blocking(true);
    return side;
  };
  v4_ = open(Endpoint(udp::v4(), port), false);
  port_ = v4_->sock.local_endpoint().port();
  if (ipv6) {
    try {
      v6_ = open(Endpoint(udp::v6(), port_), true);
    } catch (const std::exception&) {
      v6_.reset();  // no IPv6 on this host: IPv4 alone is fine
    }
  }
  wait_readable(*v4_);
  if (v6_) wait_readable(*v6_);
}

UdpSocket::~UdpSocket() {
  close();
}

void UdpSocket::close() {
  alive_ = std::make_shared<int>(0);
  for (auto* s : {v4_.get(), v6_.get()}) {
    if (!s) continue;
    boost::system::error_code ec;
    s->sock.close(ec);
    s->queue.clear();
    s->queued_bytes = 0;
  }
}

int UdpSocket::add_handler(Handler h) {
  handlers_.emplace_back(next_id_, std::make_shared<Handler>(std::move(h)));
  return next_id_++;
}

void UdpSocket::remove_handler(int id) {
  // Emptied, not erased: a handler may remove itself while datagrams are dispatched.
  for (auto& [hid, h] : handlers_) {
    if (hid == id) h.reset();
  }
}

void UdpSocket::wait_readable(Side& s) {
  std::weak_ptr<int> alive = alive_;
  s.sock.async_wait(udp::socket::wait_read, [this, &s, alive](const boost::system::error_code& ec) {
    if (ec || alive.expired()) return;
    drain(s);
  });
}

void UdpSocket::drain(Side& s) {
  std::weak_ptr<int> alive = alive_;
  for (int i = 0; i < kReadsPerRound; ++i) {
    Endpoint from;
    boost::system::error_code ec;
    std::size_t n = s.sock.receive_from(boost::asio::buffer(buf_), from, 0, ec);
    if (ec == boost::asio::error::would_block || ec == boost::asio::error::try_again) {
      return wait_readable(s);
    }
    if (ec == boost::asio::error::operation_aborted || !s.sock.is_open()) return;
    if (ec) continue;  // an ICMP error of an earlier send: nothing to read
    dispatch(from, std::span<const std::uint8_t>(buf_.data(), n));
    if (alive.expired() || !s.sock.is_open()) return;
  }
  // More may be waiting: read on after what else the thread has to do.
  boost::asio::post(io_, [this, &s, alive] {
    if (!alive.expired()) drain(s);
  });
}

void UdpSocket::dispatch(const Endpoint& from, std::span<const std::uint8_t> data) {
  Endpoint src = from;
  if (src.address().is_v6() && src.address().to_v6().is_v4_mapped()) {
    src = Endpoint(
        boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, src.address().to_v6()),
        src.port());
  }
  // By index, each held while it runs: a handler may add or remove handlers.
  for (std::size_t i = 0; i < handlers_.size(); ++i) {
    std::shared_ptr<Handler> h = handlers_[i].second;
    if (h && *h && (*h)(src, data)) return;
  }
  ++unclaimed_;
}

bool UdpSocket::send_to(const Endpoint& to, std::span<const std::uint8_t> data) {
  Side* s = to.address().is_v6() ? v6_.get() : v4_.get();
  if (!s || !s->sock.is_open()) {
    ++dropped_sends_;
    return false;
  }
  if (s->queue.empty()) {
    boost::system::error_code ec;
    s->sock.send_to(boost::asio::buffer(data.data(), data.size()), to, 0, ec);
    if (ec != boost::asio::error::would_block && ec != boost::asio::error::try_again) {
      // Sent, or refused for good (unreachable, too big): UDP gives no second chance.
      if (ec) ++dropped_sends_;
      return !ec;
    }
  }
  if (s->queue.size() >= kMaxQueuedDatagrams || s->queued_bytes + data.size() > kMaxQueuedBytes) {
    ++dropped_sends_;
    return false;
  }
  s->queue.push_back({to, std::vector<std::uint8_t>(data.begin(), data.end())});
  s->queued_bytes += data.size();
  wait_writable(*s);
  return true;
}

void UdpSocket::wait_writable(Side& s) {
  if (s.write_waiting) return;
  s.write_waiting = true;
  std::weak_ptr<int> alive = alive_;
  s.sock.async_wait(udp::socket::wait_write,
                    [this, &s, alive](const boost::system::error_code& ec) {
                      if (alive.expired()) return;
                      s.write_waiting = false;
                      if (ec) return;
                      flush(s);
                    });
}

void UdpSocket::flush(Side& s) {
  while (!s.queue.empty()) {
    auto& p = s.queue.front();
    boost::system::error_code ec;
    s.sock.send_to(boost::asio::buffer(p.bytes), p.to, 0, ec);
    if (ec == boost::asio::error::would_block || ec == boost::asio::error::try_again) {
      return wait_writable(s);
    }
    if (ec) ++dropped_sends_;
    s.queued_bytes -= p.bytes.size();
    s.queue.pop_front();
  }
}

}  // namespace p2p
