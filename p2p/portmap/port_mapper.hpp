#pragma once
// Maps the listen port, TCP and UDP, on the home router: PCP (RFC 6887) to the default gateway
// first, NAT-PMP (RFC 6886, the same port) when the gateway does not speak PCP, then UPnP IGD
// (libminiupnpc) when neither gets an answer. Mappings are
// renewed at half their lifetime and removed by stop(). NAT-PMP runs on the io_context;
// UPnP's calls block, so they run on a thread of their own and post their results back.
// Single-threaded towards its user: everything is called and reported on the io_context.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "p2p/portmap/natpmp_codec.hpp"
#include "p2p/portmap/pcp_codec.hpp"

namespace p2p {

struct PortMapSettings {
  bool natpmp = true;  // PCP, then NAT-PMP
  bool pcp = true;     // false: NAT-PMP alone
  bool upnp = true;
  // Empty: the default gateway of the routing table. Tests point it at a local answerer.
  std::string natpmp_gateway;
  std::uint16_t natpmp_port = natpmp::kPort;
  std::chrono::seconds lifetime{3600};
  // RFC 6886 3.1: 250 ms, doubled each retry; we give up after natpmp_attempts.
  std::chrono::milliseconds natpmp_timeout{250};
  int natpmp_attempts = 4;
  // A NAT-PMP gateway answers PCP with "unsupported version"; one that stays silent to PCP is
  // asked in NAT-PMP after this many tries.
  int pcp_attempts = 2;
  int upnp_discover_ms = 2000;
};

enum class PortMapState { none, mapping, mapped, failed };
const char* to_string(PortMapState s);

struct PortMapStatus {
  PortMapState state = PortMapState::none;
  std::string method;       // "PCP", "NAT-PMP" or "UPnP" once mapped
  std::string external_ip;  // when known
  std::uint16_t external_port = 0;
  std::string error;         // why it failed
  std::string text() const;  // "mapped 203.0.113.7:6881 (NAT-PMP)", "failed: ...", "none"
};

class PortMapper {
 public:
  PortMapper(boost::asio::io_context& io, PortMapSettings settings, std::uint16_t port);
  ~PortMapper();  // removes nothing: call stop() first
  PortMapper(const PortMapper&) = delete;
  PortMapper& operator=(const PortMapper&) = delete;

  void start();
  // Removes the mappings made (best effort, bounded by a second or two) and stops renewing.
  void stop();
  const PortMapStatus& status() const { return status_; }
  // Called on every change of status().
  void on_change(std::function<void(const PortMapStatus&)> f) { changed_ = std::move(f); }

 private:
  enum class Step { pcp_udp, pcp_tcp, address, udp, tcp };
  void natpmp_start();
  void natpmp_send();
  void natpmp_receive();
  void natpmp_answer(const natpmp::Response& r);
  void pcp_answer(const pcp::MapResponse& r);
  void natpmp_instead();  // the gateway speaks NAT-PMP only
  std::string pcp_request(pcp::Protocol p, std::uint32_t lifetime) const;
  void natpmp_failed(const std::string& why);
  void upnp_start();
  void upnp_done(bool ok, std::string ip, std::string error);
  void mapped(const std::string& method);
  void set(PortMapStatus s);
  void renew_in(std::chrono::seconds s);

  boost::asio::io_context& io_;
  PortMapSettings settings_;
  std::uint16_t port_;
  PortMapStatus status_;
  std::function<void(const PortMapStatus&)> changed_;
  boost::asio::ip::udp::socket socket_;
  boost::asio::ip::udp::endpoint gateway_, from_;
  boost::asio::steady_timer timer_, renew_timer_;
  std::array<char, 1100> buf_{};  // PCP answers are at most 1,100 bytes
  Step step_ = Step::address;
  int attempt_ = 0;
  std::uint16_t external_port_ = 0;
  std::uint32_t granted_lifetime_ = 0;
  bool via_upnp_ = false;
  bool via_pcp_ = false;
  pcp::Nonce nonce_{};     // one per mapper: renewals and removal repeat it
  pcp::Address client_{};  // our address towards the gateway (PCP checks it)
  bool stopped_ = false;
  // A UPnP discovery can take seconds (several device types, each waited for): its thread is
  // detached and hands its result over through this, which the mapper closes when it goes.
  struct Mailbox {
    std::mutex mu;
    boost::asio::io_context* io = nullptr;  // null once the mapper is gone
  };
  std::shared_ptr<Mailbox> mailbox_;
  bool upnp_running_ = false;
  std::thread upnp_remover_;  // joined by the destructor: removals are two quick requests
  std::string upnp_control_url_, upnp_service_type_, upnp_lan_address_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// The IPv4 default gateway from /proc/net/route, or empty.
std::string default_gateway_v4();

}  // namespace p2p
