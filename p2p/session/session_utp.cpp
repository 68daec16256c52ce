#include "p2p/session/session.hpp"
#include "p2p/transport/udp_socket.hpp"
#include "p2p/transport/utp_stream.hpp"

namespace p2p {

void Session::start_utp() {
  if (!udp_ || utp_) return;
  UtpSettings us;
  us.max_sockets = std::size_t(std::max(settings_.max_utp_sockets, 1));
  auto idle = std::uint64_t(
      std::chrono::duration_cast<std::chrono::microseconds>(settings_.utp_idle_timeout).count());
  us.config.idle_timeout_us = std::max<std::uint64_t>(idle, 1000000);
  us.config.keepalive_us =
      std::min<std::uint64_t>(us.config.keepalive_us, us.config.idle_timeout_us / 2);
  utp_ = std::make_unique<UtpManager>(
      io_,
      [this](const UdpSocket::Endpoint& to, std::span<const std::uint8_t> d) {
        return udp_ && udp_->send_to(to, d);
      },
      us);
  // Without uTP the manager still answers: a SYN gets a RESET, so the peer turns to TCP at once.
  if (settings_.enable_utp) {
    utp_->set_accept([this](std::unique_ptr<UtpStream> s) { accept_stream(std::move(s)); });
  }
  UtpManager* m = utp_.get();
  utp_handler_ =
      udp_->add_handler([m](const UdpSocket::Endpoint& from, std::span<const std::uint8_t> d) {
        return m->on_datagram(from, d);
      });
}

}  // namespace p2p
