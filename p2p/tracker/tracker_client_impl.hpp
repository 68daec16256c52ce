#pragma once
// Internals of TrackerClient shared by the HTTP and UDP announce operations.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/ip/udp.hpp>

#include "base/url.hpp"
#include "p2p/tracker/tracker.hpp"

namespace p2p {

// An announce URL: base::Url::parse, and a port required (UDP has no default).
// Throws std::invalid_argument with a readable message.
base::Url parse_tracker_url(const std::string& url);

// An announce in flight; completes its handler exactly once.
class TrackerOp {
 public:
  virtual ~TrackerOp() = default;
  virtual void start() = 0;
  virtual void cancel() = 0;
};

// The result of an announce to `url` that ended without an answer.
inline AnnounceResult announce_error(const std::string& url, std::string why,
                                     bool cancelled = false) {
  AnnounceResult r;
  r.url = url;
  r.error = std::move(why);
  r.cancelled = cancelled;
  return r;
}

struct TrackerClient::Impl {
  Impl(boost::asio::io_context& io, const TrackerSettings& s)
      : io(io), settings(s), rng(std::random_device{}()) {}

  boost::asio::io_context& io;
  TrackerSettings settings;
  std::mt19937 rng;
  std::vector<std::weak_ptr<TrackerOp>> ops;

  struct ConnectionId {
    std::uint64_t id = 0;
    std::chrono::steady_clock::time_point obtained;
  };
  std::map<boost::asio::ip::udp::endpoint, ConnectionId> udp_connections;

  // The shared socket, when attached, and the UDP announces waiting on it by transaction id.
  UdpSocket* udp = nullptr;
  int udp_handler = 0;
  using UdpReply = std::function<void(std::span<const std::uint8_t>)>;
  struct UdpWaiter {
    boost::asio::ip::udp::endpoint from;
    UdpReply deliver;
  };
  std::map<std::uint32_t, UdpWaiter> udp_waiting;
  // Takes a datagram of the shared socket when it answers a waiting announce.
  bool on_udp(const boost::asio::ip::udp::endpoint& from, std::span<const std::uint8_t> data);

  void track(const std::shared_ptr<TrackerOp>& op);
};

std::shared_ptr<TrackerOp> make_http_announce(std::shared_ptr<TrackerClient::Impl> impl,
                                              base::Url url, std::string full_url,
                                              AnnounceRequest req, std::string tracker_id,
                                              AnnounceHandler handler);
std::shared_ptr<TrackerOp> make_udp_announce(std::shared_ptr<TrackerClient::Impl> impl,
                                             base::Url url, std::string full_url,
                                             AnnounceRequest req, AnnounceHandler handler);
std::shared_ptr<TrackerOp> make_http_scrape(std::shared_ptr<TrackerClient::Impl> impl,
                                            base::Url scrape_url, std::string announce_url,
                                            InfoHash info_hash, ScrapeHandler handler);
std::shared_ptr<TrackerOp> make_udp_scrape(std::shared_ptr<TrackerClient::Impl> impl, base::Url url,
                                           std::string full_url, InfoHash info_hash,
                                           ScrapeHandler handler);

}  // namespace p2p
