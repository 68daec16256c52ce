#pragma once
// One process, many torrents: the listen sockets (IPv4 and IPv6 on one port), the tracker
// client, the global rate limits and the settings every torrent shares. Single-threaded:
// everything runs on the io_context the caller runs.
#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "p2p/lsd/local_discovery.hpp"
#include "p2p/metainfo/metainfo.hpp"
#include "p2p/peer/extension.hpp"
#include "p2p/session/counters.hpp"
#include "p2p/session/events.hpp"
#include "p2p/storage/disk_buffer.hpp"
#include "p2p/storage/disk_pool.hpp"
#include "p2p/storage/storage.hpp"
#include "p2p/torrent/bandwidth.hpp"
#include "p2p/torrent/choker.hpp"
#include "p2p/tracker/tracker.hpp"
#include "p2p/wire/core_types.hpp"
#include "p2p/wire/peer_address.hpp"

namespace p2p {

class Stream;
class UtpManager;
class UdpSocket;
namespace dht {
class Dht;
}
enum class EncryptionMode;  // p2p/transport/mse_dial_stream.hpp

class Torrent;
class PeerConnection;

struct SessionSettings {
  std::uint16_t listen_port = 0;  // 0: any free port
  bool listen_ipv6 = true;
  std::int64_t max_upload_rate = 0;    // bytes/s, 0 unlimited
  std::int64_t max_download_rate = 0;  // bytes/s, 0 unlimited
  // While uploads are rate limited, this share of the bytes stays with peers of a lower
  // upload priority when higher ones want everything (paying peers must not starve others).
  double low_priority_upload_share = 0.1;
  int max_connections = 500;  // across every torrent, incoming and outgoing
  int max_connections_per_torrent = 200;
  int max_outgoing_per_torrent = 50;
  ChokerSettings choker;
  // Download pipelining: keep about rate x this many seconds of requests outstanding.
  double request_queue_seconds = 3.0;
  int min_request_queue = 16;
  int max_request_queue = 500;
  int max_incoming_requests = 500;              // per peer; more are rejected
  std::size_t send_buffer_watermark = 1 << 20;  // bytes queued per peer before reading more
  // Over this many bytes queued for a peer (replies, rejects, metadata) we stop reading what
  // it sends until the queue drains: a peer that asks without reading cannot grow it.
  std::size_t max_send_queue = 4 << 20;
  // Requests refused since the last unchoke (while choked, for pieces we lack, over the
  // queue limit, metadata asked too often) before the peer is disconnected.
  int max_refused_requests = 1000;
  int socket_buffer_size = 0;          // SO_SNDBUF/SO_RCVBUF; 0 = kernel autotuning
  std::chrono::seconds snub_time{30};  // no data for this long with requests out
  std::chrono::seconds inactivity_timeout{180};
  std::chrono::seconds keepalive_interval{60};
  std::chrono::seconds handshake_timeout{20};
  // Stream encryption (MSE/PE): "allow" dials plaintext, "prefer" dials encrypted and falls
  // back to plaintext once, "require" sends and accepts nothing in plaintext. Incoming
  // connections may be either unless required.
  std::string encryption = "prefer";
  // uTP (BEP 29) on the listen port's UDP socket: dialled first, with TCP raced against it
  // once its SYN is unanswered for utp_head_start (the first to connect is kept), and TCP alone
  // when it gets no answer within utp_connect_timeout or is reset; accepted. Off: TCP only, and a
  // uTP SYN is answered with RESET. A node turns it on; a library session keeps to TCP unless
  // asked.
  bool enable_utp = false;
  std::chrono::milliseconds utp_connect_timeout{2500};
  std::chrono::milliseconds utp_head_start{400};  // >= utp_connect_timeout: no race
  int max_utp_sockets = 1000;
  // A uTP connection that hears nothing from its peer this long is closed; ours sends a
  // keep-alive after 25 s of silence (or half this, when shorter).
  std::chrono::seconds utp_idle_timeout{60};
  // A download stopped by a full disk tries again this often (resume data is kept).
  std::chrono::seconds disk_full_retry{10};
  // A torrent that verified pieces writes its resume data at least this often (on the disk
  // thread, only when it changed): a killed process loses no more of it than this.
  std::chrono::seconds resume_save_interval{10};
  int ban_strikes = 2;                       // hash failures a peer may cause before a ban
  std::chrono::seconds ban_duration{3600};   // a ban is lifted after this
  std::chrono::seconds strike_memory{3600};  // strikes are forgotten this long after the last
  std::size_t max_past_peers = 1000;         // accounts of closed connections kept per torrent
  std::size_t max_redial_entries = 4000;     // per torrent
  // Disk threads of the session: piece hash-and-write jobs, resume data and block reads;
  // writers that write a piece while its hash is computed; checks of whole torrents.
  int disk_threads = 1;
  int disk_write_threads = 2;
  int hash_threads = 1;
  // Torrents over these limits are Queued and start when a slot frees (-1: no limit).
  int max_active_downloads = -1;  // downloading or fetching metadata
  int max_active_seeds = -1;
  int max_active_checking = 1;
  bool enable_pex = true;
  // The DHT (BEP 5) on the listen port's UDP socket: get_peers and announce_peer for every
  // torrent that is not private. Bootstrap nodes: "host:port" separated by commas.
  bool enable_dht = true;
  std::string dht_bootstrap =
      "router.bittorrent.com:6881,dht.transmissionbt.com:6881,router.utorrent.com:6881";
  std::filesystem::path dht_state_file;  // the routing table is kept here; empty: not kept
  std::string client_version = "bttnode 0.1";
  TrackerSettings tracker;
  StorageOptions storage;  // read_only is set per torrent (seed_only)
  // Local service discovery (BEP 14) for torrents that are not private; starts with listen().
  bool enable_lsd = false;
  LocalDiscoverySettings lsd;
};

struct AddTorrentParams {
  // Either a parsed .torrent ...
  std::optional<Metainfo> metainfo;
  // ... or an info-hash (magnet): the metadata is fetched from peers (BEP 9).
  InfoHash info_hash{};
  std::string name;                                // display name (magnet dn)
  std::vector<std::vector<std::string>> trackers;  // extra tiers (magnet tr)
  std::filesystem::path save_path;
  std::filesystem::path resume_file;  // empty: default_resume_path(info_hash)
  bool seed_only = false;             // never create or write files (seeding command)
  std::vector<boost::asio::ip::tcp::endpoint> peers;  // to connect to at start
};

class Session {
 public:
  Session(boost::asio::io_context& io, SessionSettings settings = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Opens the listen sockets, TCP and UDP on one port; throws std::system_error when the port
  // is taken.
  void listen();
  std::uint16_t listen_port() const { return port_; }

  std::shared_ptr<Torrent> add_torrent(AddTorrentParams params);
  std::shared_ptr<Torrent> find_torrent(const InfoHash& ih) const;
  std::vector<std::shared_ptr<Torrent>> torrents() const;
  // Stops the torrent (announces stopped) and forgets it. With delete_files its files, and
  // their folders under the save folder once empty, are deleted on the disk thread after the
  // stop (nothing outside the save folder).
  void remove_torrent(const InfoHash& ih, bool delete_files = false);

  // What happens in the session (listeners run on this thread).
  EventBus& events() { return events_; }
  const Counters& counters() const { return counters_; }
  Counters& counters() { return counters_; }

  // Disk work, off the network thread. disk_pool() runs jobs in order with one thread.
  DiskPool& disk_pool() { return disk_; }
  DiskPool& write_pool() { return writers_; }
  DiskPool& hash_pool() { return hashers_; }
  void post(std::function<void()> job) { disk_.post(std::move(job)); }
  // Buffers that upload reads go into and the send queues send from.
  const DiskBufferPool& read_buffers() const { return read_buffers_; }

  // For torrents: whether a slot of the kind `t` wants is free now, and a request to start
  // the queued torrents that fit (run soon, on this thread).
  bool slot_free(const Torrent& t) const;
  void update_queue();
  // Puts these torrents first in the queue, in this order (the rest keep theirs, after them):
  // a queued torrent ahead takes the next free slot.
  void reorder_queue(const std::vector<const Torrent*>& first);

  // Every torrent added from now on gets an extension made by this factory.
  using ExtensionFactory = std::function<std::shared_ptr<TorrentExtension>(Torrent&)>;
  void add_extension(ExtensionFactory f) { extension_factories_.push_back(std::move(f)); }

  // Stops every torrent, announcing stopped to the trackers, and calls done when all the
  // announces finished or `timeout` passed. Closes the listen sockets.
  void shutdown(std::function<void()> done, std::chrono::seconds timeout = std::chrono::seconds(5));

  void set_upload_rate(std::int64_t r) { up_.set_rate(r); }
  void set_download_rate(std::int64_t r) { down_.set_rate(r); }

  boost::asio::io_context& io() { return io_; }
  // A stream to dial `to` for the torrent `ih` with, encrypted as the settings say.
  std::unique_ptr<Stream> outgoing_stream(const InfoHash& ih, const PeerAddress& to);
  EncryptionMode encryption() const { return encryption_; }
  const SessionSettings& settings() const { return settings_; }
  const PeerId& peer_id() const { return peer_id_; }
  // The DHT node: null when off or before listen().
  dht::Dht* dht() { return dht_.get(); }
  // The UDP port our DHT node answers on (sent in the port message); 0 when off.
  std::uint16_t dht_port() const;
  // A peer named the UDP port of its DHT node.
  void dht_add_node(const boost::asio::ip::address& ip, std::uint16_t port);
  TrackerClient& tracker_client() { return *tracker_client_; }
  // The UDP socket on the listen port (trackers, DHT, uTP); null until listen().
  UdpSocket* udp() { return udp_.get(); }
  // Null unless local discovery runs.
  const LocalDiscovery* local_discovery() const { return lsd_.get(); }
  std::uint32_t announce_key() const { return key_; }

  // For connections: bandwidth and waiting for it.
  TokenBucket& up_bucket() { return up_; }
  TokenBucket& down_bucket() { return down_; }
  // torrent_priority: its torrent's bandwidth priority (-1, 0, 1), which goes first.
  void wait_for_bandwidth(std::weak_ptr<PeerConnection> p, bool upload,
                          std::int64_t upload_priority = 0, int torrent_priority = 0);
  // Whether a peer of this upload priority, of a torrent of this bandwidth priority, may send
  // a block now; whether one may read now. No while a peer of a higher torrent priority waits.
  bool may_upload(std::int64_t upload_priority, int torrent_priority = 0) const;
  bool may_download(int torrent_priority = 0) const;
  void note_upload(std::int64_t upload_priority, std::int64_t bytes);

  const std::vector<ExtensionFactory>& extension_factories() const { return extension_factories_; }

  // Open peer connections across every torrent (kept by the connections themselves).
  int num_connections() const { return *connections_; }
  bool may_connect() const { return *connections_ < settings_.max_connections; }
  // The count a new connection adds itself to; shared so that a connection closed after
  // the session is gone has somewhere to take itself off.
  std::shared_ptr<int> connection_counter() { return connections_; }
  // Expires with the session: a connection closed later counts nothing.
  std::weak_ptr<int> alive_token() const { return alive_; }
  // Incoming connections taken, and those closed at once for want of descriptors or slots.
  std::uint64_t accepted() const { return accepted_; }
  std::uint64_t turned_away() const { return turned_away_; }
  // The uTP sockets on the listen port; null before listen().
  UtpManager* utp() { return utp_.get(); }

 private:
  // Starts uTP on the UDP socket (session_utp.cpp).
  void start_utp();
  // An incoming stream of either transport: the peer may speak plain BitTorrent or MSE.
  void accept_stream(std::unique_ptr<Stream> s);
  void accept_loop(boost::asio::ip::tcp::acceptor& acc);
  void retry_accept(boost::asio::ip::tcp::acceptor& acc);
  void on_accepted(boost::asio::ip::tcp::acceptor& acc, const boost::system::error_code& ec,
                   boost::asio::ip::tcp::socket s);
  // Out of descriptors: close the spare, take the waiting connection and close it, so the
  // peer hears no at once instead of the listen queue filling; then try again later.
  void on_out_of_descriptors(boost::asio::ip::tcp::acceptor& acc);
  void open_spare_fd();
  void tick();

  void run_queue();
  void start_dht();
  // Starts a get_peers (and announce) for every torrent due one: at start, then every
  // kDhtAnnounceInterval; sooner while lookups find nobody.
  void dht_announce_due(std::chrono::steady_clock::time_point now);

  boost::asio::io_context& io_;
  SessionSettings settings_;
  // Declared before the torrents: a torrent destroyed with the session waits for its jobs.
  DiskPool writers_;
  DiskPool disk_;
  DiskPool hashers_;
  // Batches of up to 16 blocks; 64 idle ones (16 MiB) are kept.
  DiskBufferPool read_buffers_{std::size_t(16) * 16384, 64};
  EventBus events_;
  EventBus::Subscription counting_;
  Counters counters_;
  std::vector<std::shared_ptr<Torrent>> order_;  // torrents in the order added: the queue
  bool queue_posted_ = false;
  PeerId peer_id_{};
  std::uint32_t key_ = 0;
  std::uint16_t port_ = 0;
  // Before the tracker client: it lets go of the socket when it is destroyed.
  std::unique_ptr<UdpSocket> udp_;
  std::unique_ptr<TrackerClient> tracker_client_;
  std::unique_ptr<LocalDiscovery> lsd_;
  void start_local_discovery();
  std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // expires with the session
  std::map<InfoHash, std::shared_ptr<Torrent>> torrents_;
  // HASH('req2', info-hash) of each torrent: an encrypted peer names its torrent this way,
  // and hashing every info-hash per incoming connection would cost a seedbox dearly.
  std::map<Sha1Digest, InfoHash> by_req2_;
  EncryptionMode encryption_{};
  std::vector<ExtensionFactory> extension_factories_;
  TokenBucket up_, down_;
  struct Waiter {
    std::weak_ptr<PeerConnection> peer;
    std::int64_t priority = 0;
    int tier = 0;  // the torrent's bandwidth priority
  };
  std::vector<Waiter> waiting_up_, waiting_down_;
  // Peers waiting per torrent bandwidth priority (index priority + 1).
  std::array<int, 3> waiting_tiers_up_{}, waiting_tiers_down_{};
  std::map<std::int64_t, int> waiting_up_priorities_;  // priority -> peers waiting
  // Recent upload bytes to peers of priority > 0 and <= 0, halved every second.
  double recent_high_bytes_ = 0, recent_low_bytes_ = 0;
  std::chrono::steady_clock::time_point last_decay_{};
  boost::asio::steady_timer timer_;
  bool stopped_ = false;
  std::shared_ptr<int> connections_ = std::make_shared<int>(0);
  std::uint64_t accepted_ = 0, turned_away_ = 0;
  int spare_fd_ = -1;  // a descriptor held back for the moment the process runs out
  std::chrono::milliseconds accept_backoff_{0};
  // Last: gone before the UDP socket it sends on and before the torrents' streams.
  std::unique_ptr<UtpManager> utp_;
  int utp_handler_ = 0;
  struct DhtAnnounce {
    std::chrono::steady_clock::time_point next{};
    std::chrono::seconds retry{5};
    bool in_flight = false;
  };
  std::map<InfoHash, DhtAnnounce> dht_announces_;
  std::chrono::steady_clock::time_point last_dht_check_{};
  // Last: it lets go of the UDP socket before the socket goes.
  std::unique_ptr<dht::Dht> dht_;
};

}  // namespace p2p
