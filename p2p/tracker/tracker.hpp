#pragma once
// Announcing to trackers: HTTP and HTTPS (BEP 3, compact peers BEP 23, IPv6 peers6 BEP 7) and
// UDP (BEP 15), with multitracker tiers (BEP 12); scrapes (BEP 48, BEP 15 action 2). Asynchronous
// on a Boost.Asio io_context; every announce completes exactly once through its handler, on the
// io_context's thread.
//
//   p2p::TrackerClient client(io);                  // one per io_context, shared by torrents
//   p2p::TrackerTiers tiers(meta.trackers, client);  // one per torrent
//   tiers.announce(req, [](const p2p::AnnounceResult& r) { ... r.response->peers ... });
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "p2p/wire/core_types.hpp"

namespace p2p {

enum class TrackerEvent { none, started, completed, stopped };

struct AnnounceRequest {
  InfoHash info_hash{};
  PeerId peer_id{};
  std::uint16_t port = 0;
  ByteCount uploaded = 0;
  ByteCount downloaded = 0;
  ByteCount left = 0;
  TrackerEvent event = TrackerEvent::none;
  std::int32_t numwant = 50;  // -1: tracker default
  std::uint32_t key = 0;      // stays the same for the session (lets trackers follow IP changes)
};

struct TrackerPeer {
  boost::asio::ip::tcp::endpoint endpoint;
  std::optional<PeerId> peer_id;  // only in non-compact responses
};

struct AnnounceResponse {
  std::vector<TrackerPeer> peers;  // IPv4 and IPv6 together
  std::chrono::seconds interval{1800};
  std::optional<std::chrono::seconds> min_interval;
  std::optional<std::int64_t> complete;    // seeders
  std::optional<std::int64_t> incomplete;  // leechers
  std::string warning_message;
  std::string tracker_id;  // HTTP only; sent back on the next announce
};

struct AnnounceResult {
  std::string url;  // the tracker that answered (or the last one tried)
  // Set on success. A tracker's "failure reason" is an error, not a response.
  std::optional<AnnounceResponse> response;
  std::string error;             // what went wrong, readable
  bool tracker_failure = false;  // the tracker answered with a failure reason
  bool cancelled = false;        // cancel_all() or the client's destruction ended it
};

using AnnounceHandler = std::function<void(const AnnounceResult&)>;

// One torrent's counts from a scrape.
struct ScrapeInfo {
  std::int64_t complete = 0;    // seeders
  std::int64_t incomplete = 0;  // leechers
  std::int64_t downloaded = 0;  // completed downloads the tracker has seen
};

struct ScrapeResult {
  std::string url;                 // the announce URL whose tracker was scraped
  std::optional<ScrapeInfo> info;  // set on success
  std::string error;
  bool cancelled = false;
};

using ScrapeHandler = std::function<void(const ScrapeResult&)>;

// The scrape URL of an HTTP(S) announce URL (BEP 48): the last path segment must begin with
// "announce", which becomes "scrape" (the query is kept). nullopt when the tracker cannot be
// scraped that way. A udp:// URL is its own scrape URL.
std::optional<std::string> scrape_url_of(const std::string& announce_url);

// What one tracker of a torrent last said, for status displays.
struct TrackerStatus {
  std::string url;
  int tier = 0;
  std::chrono::system_clock::time_point last_announce{};  // epoch: never
  bool last_announce_ok = false;
  std::string last_announce_message;  // the error, or the tracker's warning
  int last_peer_count = 0;
  std::optional<std::int64_t> seeders, leechers, downloaded;  // the latest figures known
  std::chrono::system_clock::time_point last_scrape{};
  bool last_scrape_ok = false;
  std::string last_scrape_message;
  bool scrapable = false;
};

struct TrackerSettings {
  std::chrono::milliseconds http_timeout{30'000};
  // BEP 15: wait 15 * 2^n seconds for attempt n, up to n = 8. Tests shorten the base.
  std::chrono::milliseconds udp_base_timeout{15'000};
  int udp_max_attempts = 9;
  std::chrono::seconds udp_connection_id_lifetime{60};
  std::string user_agent = "bttnode/0.1";
  std::size_t max_response_size = 2 * 1024 * 1024;
  std::size_t max_scrape_response_size = 64 * 1024;           // one torrent's counts
  std::chrono::milliseconds scrape_interval{30 * 60 * 1000};  // per torrent, while it runs
  // PEM certificates trusted for https trackers beside the system store (a private CA).
  std::string ca_file;
};

// Announces to and scrapes single tracker URLs (http://, https://, udp://). HTTPS checks the
// certificate and host name against the system store plus TrackerSettings::ca_file.
// Keeps UDP connection ids for reuse. Must be used and destroyed on the io_context's thread;
// destroying it cancels announces in flight (their handlers run with an error).
class UdpSocket;

class TrackerClient {
 public:
  explicit TrackerClient(boost::asio::io_context& io, TrackerSettings settings = {});
  ~TrackerClient();
  TrackerClient(const TrackerClient&) = delete;
  TrackerClient& operator=(const TrackerClient&) = delete;

  // tracker_id: the id this tracker gave last time (HTTP), or empty.
  void announce(const std::string& url, const AnnounceRequest& req, const std::string& tracker_id,
                AnnounceHandler handler);
  // Scrapes one torrent from the tracker of `announce_url`; an error when it has no scrape
  // URL.
  void scrape(const std::string& announce_url, const InfoHash& info_hash, ScrapeHandler handler);
  // Cancels everything in flight; handlers are called with an error.
  void cancel_all();
  // UDP announces go through the session's shared socket from now on (until detached), not a
  // socket of their own. The socket must outlive this client or be detached first.
  void attach_udp(UdpSocket& socket);
  void detach_udp();

  boost::asio::io_context& io() { return io_; }
  const TrackerSettings& settings() const { return settings_; }

  struct Impl;

 private:
  boost::asio::io_context& io_;
  TrackerSettings settings_;
  std::shared_ptr<Impl> impl_;
};

// BEP 12 tiers for one torrent: trackers shuffled within each tier once; an announce tries
// tiers in order and trackers in order within a tier until one answers, and a tracker that
// answers moves to the front of its tier. Remembers each tracker's tracker id.
class TrackerTiers {
 public:
  TrackerTiers(std::vector<std::vector<std::string>> tiers, TrackerClient& client,
               std::uint64_t seed = std::random_device{}());
  ~TrackerTiers();

  // Completes with the first success, or with the last error when every tracker failed.
  // A "stopped" event is sent to the tracker that answered last (or the first one).
  void announce(const AnnounceRequest& req, AnnounceHandler handler);

  // Scrapes the tracker that answered the last announce (else the first one).
  void scrape(const InfoHash& info_hash, std::function<void()> done = {});

  const std::vector<std::vector<std::string>>& tiers() const { return tiers_; }
  bool empty() const;
  // Every tracker, in tier order, with what it said last.
  std::vector<TrackerStatus> status() const;

 private:
  struct State;
  void try_next(std::shared_ptr<State> st);

  std::vector<std::vector<std::string>> tiers_;
  TrackerClient& client_;
  std::shared_ptr<bool> alive_;
  std::vector<std::pair<std::string, std::string>> tracker_ids_;  // url -> tracker id
  std::optional<std::string> last_working_;
  std::vector<TrackerStatus> status_;  // one per URL, in the original tier order

  TrackerStatus* status_of(const std::string& url);
  void note_announce(const std::string& url, const AnnounceResult& r);
};

}  // namespace p2p
