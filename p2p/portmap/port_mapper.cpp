#include "p2p/portmap/port_mapper.hpp"

#include <fstream>
#include <random>
#include <sstream>

#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/upnpcommands.h>
#include <miniupnpc/upnperrors.h>
#include <boost/asio/post.hpp>

#include "base/log.hpp"

namespace p2p {

namespace asio = boost::asio;
using udp = asio::ip::udp;

const char* to_string(PortMapState s) {
  switch (s) {
    case PortMapState::none:
      return "none";
    case PortMapState::mapping:
      return "mapping";
    case PortMapState::mapped:
      return "mapped";
    case PortMapState::failed:
      return "failed";
  }
  return "?";
}

std::string PortMapStatus::text() const {
  switch (state) {
    case PortMapState::mapped:
      return "mapped " + (external_ip.empty() ? std::string("?") : external_ip) + ":" +
             std::to_string(external_port) + " (" + method + ")";
    case PortMapState::failed:
      return "failed: " + error;
    default:
      return to_string(state);
  }
}

std::string default_gateway_v4() {
  std::ifstream in("/proc/net/route");
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string iface, dest, gw;
    unsigned flags = 0;
    f >> iface >> dest >> gw >> std::hex >> flags;
    if (dest != "00000000" || gw.size() != 8 || !(flags & 0x2)) continue;  // RTF_GATEWAY
    unsigned long v = std::stoul(gw, nullptr, 16);  // little-endian on the wire order
    return std::to_string(v & 0xff) + "." + std::to_string((v >> 8) & 0xff) + "." +
           std::to_string((v >> 16) & 0xff) + "." + std::to_string((v >> 24) & 0xff);
  }
  return "";
}

PortMapper::PortMapper(asio::io_context& io, PortMapSettings settings, std::uint16_t port)
    : io_(io),
      settings_(std::move(settings)),
      port_(port),
      socket_(io),
      timer_(io),
      renew_timer_(io),
      mailbox_(std::make_shared<Mailbox>()) {
  mailbox_->io = &io;
  std::random_device rd;
  for (auto& b : nonce_) b = static_cast<std::uint8_t>(rd());
}

PortMapper::~PortMapper() {
  *alive_ = false;
  {
    std::lock_guard lock(mailbox_->mu);
    mailbox_->io = nullptr;
  }
  if (upnp_remover_.joinable()) upnp_remover_.join();
}

void PortMapper::set(PortMapStatus s) {
  status_ = std::move(s);
  base::log::get("portmap")->info("port mapping: {}", status_.text());
  if (changed_) changed_(status_);
}

void PortMapper::start() {
  stopped_ = false;
  PortMapStatus s;
  s.state = PortMapState::mapping;
  set(s);
  if (settings_.natpmp) return natpmp_start();
  if (settings_.upnp) return upnp_start();
  s.state = PortMapState::failed;
  s.error = "no method enabled";
  set(s);
}

void PortMapper::natpmp_start() {
  std::string gw =
      settings_.natpmp_gateway.empty() ? default_gateway_v4() : settings_.natpmp_gateway;
  boost::system::error_code ec;
  auto addr = asio::ip::make_address_v4(gw, ec);
  if (gw.empty() || ec) return natpmp_failed("no IPv4 default gateway");
  gateway_ = udp::endpoint(addr, settings_.natpmp_port);
  {
    // The source address the gateway will see: a connected socket sends nothing.
    udp::socket probe(io_);
    probe.connect(gateway_, ec);
    if (!ec) {
      auto local = probe.local_endpoint(ec);
      if (!ec && local.address().is_v4())
        client_ = pcp::v4_mapped(local.address().to_v4().to_bytes());
    }
  }
  if (!socket_.is_open()) {
    socket_.open(udp::v4(), ec);
    if (ec) return natpmp_failed("cannot open a UDP socket: " + ec.message());
    natpmp_receive();
  }
  step_ = settings_.pcp ? Step::pcp_udp : Step::address;
  attempt_ = 0;
  natpmp_send();
}

std::string PortMapper::pcp_request(pcp::Protocol p, std::uint32_t lifetime) const {
  std::uint16_t wanted = lifetime == 0 ? 0 : external_port_ ? external_port_ : port_;
  return pcp::build_map_request(nonce_, p, port_, wanted, lifetime, client_);
}

void PortMapper::natpmp_instead() {
  timer_.cancel();
  step_ = Step::address;
  attempt_ = 0;
  natpmp_send();
}

void PortMapper::natpmp_send() {
  if (stopped_) return;
  bool pcp_step = step_ == Step::pcp_udp || step_ == Step::pcp_tcp;
  if (pcp_step && attempt_ >= settings_.pcp_attempts) return natpmp_instead();
  if (attempt_ >= settings_.natpmp_attempts) {
    return natpmp_failed("no NAT-PMP answer from " + gateway_.address().to_string());
  }
  std::string packet;
  if (pcp_step) {
    packet = pcp_request(step_ == Step::pcp_udp ? pcp::Protocol::udp : pcp::Protocol::tcp,
                         static_cast<std::uint32_t>(settings_.lifetime.count()));
  } else if (step_ == Step::address) {
    packet = natpmp::build_external_address_request();
  } else {
    auto proto = step_ == Step::udp ? natpmp::Protocol::udp : natpmp::Protocol::tcp;
    std::uint16_t wanted = external_port_ ? external_port_ : port_;
    packet = natpmp::build_mapping_request(proto, port_, wanted,
                                           static_cast<std::uint32_t>(settings_.lifetime.count()));
  }
  boost::system::error_code ec;
  socket_.send_to(asio::buffer(packet), gateway_, 0, ec);  // UDP: never blocks for long
  timer_.expires_after(settings_.natpmp_timeout * (1 << std::min(attempt_, 10)));
  ++attempt_;
  timer_.async_wait([this, alive = alive_](const boost::system::error_code& e) {
    if (!e && *alive) natpmp_send();
  });
}

void PortMapper::natpmp_receive() {
  socket_.async_receive_from(
      asio::buffer(buf_), from_,
      [this, alive = alive_](const boost::system::error_code& ec, std::size_t n) {
        if (!*alive || ec == asio::error::operation_aborted || !socket_.is_open()) return;
        if (!ec && from_.address() == gateway_.address()) {
          std::string_view packet(buf_.data(), n);
          if (auto p = pcp::parse_map_response(packet)) {
            pcp_answer(*p);
          } else if (auto r = natpmp::parse_response(packet)) {
            natpmp_answer(*r);
          }
        }
        natpmp_receive();
      });
}

void PortMapper::pcp_answer(const pcp::MapResponse& r) {
  if (stopped_ || (step_ != Step::pcp_udp && step_ != Step::pcp_tcp)) return;
  if (r.result == 1) return natpmp_instead();  // unsupported version: an older gateway
  auto want = step_ == Step::pcp_udp ? pcp::Protocol::udp : pcp::Protocol::tcp;
  if (r.has_map && (r.nonce != nonce_ || r.protocol != std::uint8_t(want))) return;  // not ours
  timer_.cancel();
  if (r.result != 0) return natpmp_failed("PCP: " + pcp::result_text(r.result));
  attempt_ = 0;
  external_port_ = r.external_port;
  if (auto ip = r.external_ip(); !ip.empty()) status_.external_ip = ip;
  if (step_ == Step::pcp_udp) {
    granted_lifetime_ = r.lifetime;
    step_ = Step::pcp_tcp;
    return natpmp_send();
  }
  granted_lifetime_ = std::min(granted_lifetime_, r.lifetime);
  via_upnp_ = false;
  via_pcp_ = true;
  mapped("PCP");
  renew_in(std::chrono::seconds(std::max<std::uint32_t>(granted_lifetime_ / 2, 1)));
}

void PortMapper::natpmp_answer(const natpmp::Response& r) {
  if (stopped_) return;
  if (step_ == Step::pcp_udp || step_ == Step::pcp_tcp) {
    // RFC 6886 3.5: a NAT-PMP gateway answers another version with result 1.
    if (r.result == 1) natpmp_instead();
    return;
  }
  std::uint8_t expected = step_ == Step::address ? 128 : step_ == Step::udp ? 129 : 130;
  if (r.opcode != expected) return;  // a late answer to an earlier request
  timer_.cancel();
  if (r.result != 0) return natpmp_failed("NAT-PMP: " + natpmp::result_text(r.result));
  attempt_ = 0;
  switch (step_) {
    case Step::pcp_udp:
    case Step::pcp_tcp:
      return;
    case Step::address: {
      const auto& a = r.external_address;
      status_.external_ip = std::to_string(a[0]) + "." + std::to_string(a[1]) + "." +
                            std::to_string(a[2]) + "." + std::to_string(a[3]);
      step_ = Step::udp;
      return natpmp_send();
    }
    case Step::udp:
      external_port_ = r.external_port;
      granted_lifetime_ = r.lifetime;
      step_ = Step::tcp;
      return natpmp_send();
    case Step::tcp:
      // TCP and UDP on different external ports would confuse peers: the TCP one is shown.
      external_port_ = r.external_port;
      granted_lifetime_ = std::min(granted_lifetime_, r.lifetime);
      via_upnp_ = false;
      via_pcp_ = false;
      mapped("NAT-PMP");
      renew_in(std::chrono::seconds(std::max<std::uint32_t>(granted_lifetime_ / 2, 1)));
      return;
  }
}

void PortMapper::natpmp_failed(const std::string& why) {
  base::log::get("portmap")->debug("NAT-PMP: {}", why);
  if (settings_.upnp) return upnp_start();
  PortMapStatus s;
  s.state = PortMapState::failed;
  s.error = why;
  set(s);
}

void PortMapper::mapped(const std::string& method) {
  PortMapStatus s;
  s.state = PortMapState::mapped;
  s.method = method;
  s.external_ip = status_.external_ip;
  s.external_port = external_port_;
  set(s);
}

void PortMapper::renew_in(std::chrono::seconds s) {
  renew_timer_.expires_after(s);
  renew_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive || stopped_) return;
    if (via_upnp_) return upnp_start();
    step_ = via_pcp_ ? Step::pcp_udp : Step::udp;
    attempt_ = 0;
    natpmp_send();
  });
}

void PortMapper::upnp_start() {
  if (upnp_running_) return;
  upnp_running_ = true;
  std::weak_ptr<bool> alive = alive_;
  auto port = std::to_string(port_);
  auto lease = std::to_string(settings_.lifetime.count());
  int delay = settings_.upnp_discover_ms;
  std::thread([this, mailbox = mailbox_, alive, port, lease, delay] {
    int err = 0;
    std::string error, ip, control, service, lan;
    bool ok = false;
    UPNPDev* devs = upnpDiscover(delay, nullptr, nullptr, 0, 0, 2, &err);
    UPNPUrls urls{};
    IGDdatas data{};
    char lan_addr[64] = {0};
    int igd = devs ? UPNP_GetValidIGD(devs, &urls, &data, lan_addr, sizeof lan_addr) : 0;
    if (!devs) {
      error = "no UPnP device answered";
    } else if (igd != 1) {
      error = igd == 0 ? "no UPnP internet gateway found" : "the UPnP gateway is not connected";
    } else {
      control = urls.controlURL;
      service = data.first.servicetype;
      lan = lan_addr;
      char ext[40] = {0};
      if (UPNP_GetExternalIPAddress(urls.controlURL, data.first.servicetype, ext) == 0) ip = ext;
      ok = true;
      for (const char* proto : {"TCP", "UDP"}) {
        int r =
            UPNP_AddPortMapping(urls.controlURL, data.first.servicetype, port.c_str(), port.c_str(),
                                lan_addr, "bttnode", proto, nullptr, lease.c_str());
        if (r != 0) {
          ok = false;
          error = std::string("UPnP AddPortMapping ") + proto + " failed: " + strupnperror(r);
          break;
        }
      }
    }
    if (igd) FreeUPNPUrls(&urls);
    if (devs) freeUPNPDevlist(devs);
    std::lock_guard lock(mailbox->mu);
    if (!mailbox->io) return;
    asio::post(*mailbox->io, [this, alive, ok, ip, error, control, service, lan] {
      auto live = alive.lock();
      if (!live || !*live) return;
      upnp_running_ = false;
      upnp_control_url_ = control;
      upnp_service_type_ = service;
      upnp_lan_address_ = lan;
      upnp_done(ok, ip, error);
    });
  }).detach();
}

void PortMapper::upnp_done(bool ok, std::string ip, std::string error) {
  if (stopped_) return;
  if (!ok) {
    PortMapStatus s;
    s.state = PortMapState::failed;
    s.error = settings_.natpmp ? "no NAT-PMP answer; " + error : error;
    return set(s);
  }
  status_.external_ip = ip;
  external_port_ = port_;
  via_upnp_ = true;
  mapped("UPnP");
  renew_in(std::chrono::seconds(std::max<std::int64_t>(settings_.lifetime.count() / 2, 1)));
}

void PortMapper::stop() {
  if (stopped_) return;
  stopped_ = true;
  timer_.cancel();
  renew_timer_.cancel();
  bool was_mapped = status_.state == PortMapState::mapped;
  if (was_mapped && via_pcp_ && socket_.is_open()) {
    // RFC 6887 15: a MAP of lifetime 0 with the mapping's nonce removes it.
    for (auto proto : {pcp::Protocol::udp, pcp::Protocol::tcp}) {
      boost::system::error_code ec;
      socket_.send_to(asio::buffer(pcp_request(proto, 0)), gateway_, 0, ec);
    }
  } else if (was_mapped && !via_upnp_ && socket_.is_open()) {
    // RFC 6886 3.4: lifetime 0 and external port 0 remove the mapping.
    for (auto proto : {natpmp::Protocol::udp, natpmp::Protocol::tcp}) {
      boost::system::error_code ec;
      socket_.send_to(asio::buffer(natpmp::build_mapping_request(proto, port_, 0, 0)), gateway_, 0,
                      ec);
    }
  }
  boost::system::error_code ec;
  socket_.close(ec);
  if (was_mapped && via_upnp_ && !upnp_control_url_.empty() && !upnp_remover_.joinable()) {
    // Removed on a thread: the destructor waits for it (two small requests to the LAN).
    upnp_remover_ = std::thread(
        [control = upnp_control_url_, service = upnp_service_type_, port = std::to_string(port_)] {
          for (const char* proto : {"TCP", "UDP"}) {
            UPNP_DeletePortMapping(control.c_str(), service.c_str(), port.c_str(), proto, nullptr);
          }
        });
  }
  if (status_.state != PortMapState::none) set(PortMapStatus{});
}

}  // namespace p2p
