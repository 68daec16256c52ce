#include "p2p/session/settings_table.hpp"

namespace p2p {

namespace {

using base::SettingInfo;
using T = base::SettingType;

constexpr double kDay = 24.0 * 3600 * 1000;  // ms

base::SettingsTable<SessionSettings> make_table() {
  base::SettingsTable<SessionSettings> t;
  using S = SessionSettings;
  t.add(
      {"port", "listen_port", T::Int, "TCP port to listen on (0: any free port)", false, 0, 65535},
      [](S & s) -> auto& { return s.listen_port; });
  t.add(
      {"listen-ipv6", "listen_ipv6", T::Bool, "also listen on IPv6", false},
      [](S & s) -> auto& { return s.listen_ipv6; });
  t.add(
      {"max-up-rate", "max_upload_rate", T::Rate, "upload limit, bytes/s (0: none)", true, 0},
      [](S & s) -> auto& { return s.max_upload_rate; });
  t.add(
      {"max-down-rate", "max_download_rate", T::Rate, "download limit, bytes/s (0: none)", true, 0},
      [](S & s) -> auto& { return s.max_download_rate; });
  t.add(
      {"low-priority-upload-share", "low_priority_upload_share", T::Double,
       "share of a limited upload kept for peers of lower priority", false, 0, 1},
      [](S & s) -> auto& { return s.low_priority_upload_share; });
  t.add(
      {"max-connections", "max_connections", T::Int, "connections across every torrent", false, 1,
       100000},
      [](S & s) -> auto& { return s.max_connections; });
  t.add(
      {"max-connections-per-torrent", "max_connections_per_torrent", T::Int,
       "connections of one torrent", false, 1, 100000},
      [](S & s) -> auto& { return s.max_connections_per_torrent; });
  t.add(
      {"max-outgoing-per-torrent", "max_outgoing_per_torrent", T::Int,
       "connections a torrent opens itself", false, 0, 100000},
      [](S & s) -> auto& { return s.max_outgoing_per_torrent; });
  t.add(
      {"unchoke-slots", "unchoke_slots", T::Int,
       "regular upload slots per torrent (besides the optimistic one)", false, 0, 1000},
      [](S & s) -> auto& { return s.choker.unchoke_slots; });
  t.add(
      {"unranked-share", "unranked_share", T::Double,
       "share of upload slots kept for peers the ranking does not favour", false, 0, 1},
      [](S & s) -> auto& { return s.choker.unranked_share; });
  t.add(
      {"rechoke-interval", "rechoke_interval", T::Duration, "time between choke rounds", false,
       1000, kDay},
      [](S & s) -> auto& { return s.choker.rechoke_interval; });
  t.add(
      {"optimistic-interval", "optimistic_interval", T::Duration,
       "time between optimistic unchokes", false, 1000, kDay},
      [](S & s) -> auto& { return s.choker.optimistic_interval; });
  t.add(
      {"new-peer-age", "new_peer_age", T::Duration,
       "a peer this young is favoured for the optimistic slot", false, 0, kDay},
      [](S & s) -> auto& { return s.choker.new_peer_age; });
  t.add(
      {"request-queue-time", "request_queue_seconds", T::Double,
       "seconds of download kept requested from a peer", false, 0.1, 60},
      [](S & s) -> auto& { return s.request_queue_seconds; });
  t.add(
      {"min-request-queue", "min_request_queue", T::Int, "fewest requests kept out per peer", false,
       1, 10000},
      [](S & s) -> auto& { return s.min_request_queue; });
  t.add(
      {"max-request-queue", "max_request_queue", T::Int, "most requests kept out per peer", false,
       1, 10000},
      [](S & s) -> auto& { return s.max_request_queue; });
  t.add(
      {"max-incoming-requests", "max_incoming_requests", T::Int,
       "requests a peer may have queued with us", false, 1, 100000},
      [](S & s) -> auto& { return s.max_incoming_requests; });
  t.add(
      {"send-buffer-watermark", "send_buffer_watermark", T::Bytes,
       "bytes queued per peer before reading more from disk", false, 16 * 1024, 1 << 30},
      [](S & s) -> auto& { return s.send_buffer_watermark; });
  t.add(
      {"max-send-queue", "max_send_queue", T::Bytes,
       "bytes queued for a peer before we stop reading from it", false, 64 * 1024, 1 << 30},
      [](S & s) -> auto& { return s.max_send_queue; });
  t.add(
      {"max-refused-requests", "max_refused_requests", T::Int,
       "refused requests since the last unchoke before a peer is dropped", false, 1, 1000000},
      [](S & s) -> auto& { return s.max_refused_requests; });
  t.add(
      {"socket-buffer-size", "socket_buffer_size", T::Bytes,
       "SO_SNDBUF/SO_RCVBUF (0: kernel autotuning)", false, 0, 1 << 30},
      [](S & s) -> auto& { return s.socket_buffer_size; });
  t.add(
      {"snub-time", "snub_time", T::Duration,
       "no data for this long with requests out: the peer is snubbed", false, 1000, kDay},
      [](S & s) -> auto& { return s.snub_time; });
  t.add(
      {"inactivity-timeout", "inactivity_timeout", T::Duration,
       "a silent connection is closed after this", false, 1000, kDay},
      [](S & s) -> auto& { return s.inactivity_timeout; });
  t.add(
      {"keepalive-interval", "keepalive_interval", T::Duration, "time between keep-alives", false,
       1000, kDay},
      [](S & s) -> auto& { return s.keepalive_interval; });
  t.add(
      {"handshake-timeout", "handshake_timeout", T::Duration,
       "time a peer has to complete the handshake", false, 1000, kDay},
      [](S & s) -> auto& { return s.handshake_timeout; });
  t.add(
      {"encryption", "encryption", T::String,
       "stream encryption: allow (dial plaintext), prefer (dial encrypted, fall back), require",
       false},
      [](S & s) -> auto& { return s.encryption; });
  t.add(
      {"disk-full-retry", "disk_full_retry", T::Duration,
       "a download stopped by a full disk tries again this often", false, 1000, kDay},
      [](S & s) -> auto& { return s.disk_full_retry; });
  t.add(
      {"resume-save-interval", "resume_save_interval", T::Duration,
       "a torrent that verified pieces saves its resume data at least this often", false, 1000,
       kDay},
      [](S & s) -> auto& { return s.resume_save_interval; });
  t.add(
      {"ban-strikes", "ban_strikes", T::Int, "hash failures a peer may cause before a ban", false,
       1, 1000},
      [](S & s) -> auto& { return s.ban_strikes; });
  t.add(
      {"pex", "enable_pex", T::Bool, "exchange peers with peers (BEP 11)", false},
      [](S & s) -> auto& { return s.enable_pex; });
  t.add(
      {"utp", "enable_utp", T::Bool,
       "uTP (BEP 29) on the listen port: dialled first with TCP as fallback, and accepted",
       false},
      [](S & s) -> auto& { return s.enable_utp; });
  t.add(
      {"utp-connect-timeout", "utp_connect_timeout", T::Duration,
       "a uTP dial unanswered this long falls back to TCP", false, 100, 60000},
      [](S & s) -> auto& { return s.utp_connect_timeout; });
  t.add(
      {"utp-head-start", "utp_head_start", T::Duration,
       "a uTP dial unanswered this long races a TCP dial, the first to connect is kept", false,
       0, 60000},
      [](S & s) -> auto& { return s.utp_head_start; });
  t.add(
      {"max-utp-sockets", "max_utp_sockets", T::Int, "uTP connections at most, incoming and outgoing",
       false, 1, 100000},
      [](S & s) -> auto& { return s.max_utp_sockets; });
  t.add(
      {"utp-idle-timeout", "utp_idle_timeout", T::Duration,
       "a uTP connection that hears nothing from its peer this long is closed", false, 10000,
       3600000},
      [](S & s) -> auto& { return s.utp_idle_timeout; });
  t.add(
      {"dht", "enable_dht", T::Bool, "find peers and be found through the DHT (BEP 5)", false},
      [](S & s) -> auto& { return s.enable_dht; });
  t.add(
      {"dht-bootstrap", "dht_bootstrap", T::String,
       "DHT nodes to bootstrap from, HOST:PORT separated by commas", false},
      [](S & s) -> auto& { return s.dht_bootstrap; });
  t.add(
      {"client-version", "client_version", T::String,
       "the client name sent in the extension handshake", false},
      [](S & s) -> auto& { return s.client_version; });
  t.add(
      {"tracker-http-timeout", "tracker_http_timeout", T::Duration,
       "time an HTTP tracker has to answer", false, 100, kDay},
      [](S & s) -> auto& { return s.tracker.http_timeout; });
  t.add(
      {"tracker-udp-timeout", "tracker_udp_base_timeout", T::Duration,
       "first UDP tracker timeout; doubled for each retry (BEP 15)", false, 100, kDay},
      [](S & s) -> auto& { return s.tracker.udp_base_timeout; });
  t.add(
      {"tracker-udp-attempts", "tracker_udp_max_attempts", T::Int,
       "UDP tracker attempts before giving up", false, 1, 9},
      [](S & s) -> auto& { return s.tracker.udp_max_attempts; });
  t.add(
      {"tracker-udp-connection-lifetime", "tracker_udp_connection_id_lifetime", T::Duration,
       "how long a UDP tracker's connection id is reused", false, 1000, kDay},
      [](S & s) -> auto& { return s.tracker.udp_connection_id_lifetime; });
  t.add(
      {"tracker-user-agent", "tracker_user_agent", T::String, "User-Agent of HTTP announces",
       false},
      [](S & s) -> auto& { return s.tracker.user_agent; });
  t.add(
      {"tracker-max-response", "tracker_max_response_size", T::Bytes, "largest tracker answer read",
       false, 1024, 64 << 20},
      [](S & s) -> auto& { return s.tracker.max_response_size; });
  t.add(
      {"tracker-max-scrape-response", "tracker_max_scrape_response_size", T::Bytes,
       "largest scrape answer read", false, 1024, 16 << 20},
      [](S & s) -> auto& { return s.tracker.max_scrape_response_size; });
  t.add(
      {"tracker-scrape-interval", "tracker_scrape_interval", T::Duration,
       "time between scrapes of a running torrent's tracker", false, 1000, kDay},
      [](S & s) -> auto& { return s.tracker.scrape_interval; });
  t.add(
      {"tracker-ca-file", "tracker_ca_file", T::String,
       "PEM certificates trusted for https trackers beside the system store", false},
      [](S & s) -> auto& { return s.tracker.ca_file; });
  t.add(
      {"lsd", "lsd", T::Bool, "local service discovery (BEP 14) for torrents that are not private",
       false},
      [](S & s) -> auto& { return s.enable_lsd; });
  t.add(
      {"lsd-port", "lsd_port", T::Int, "UDP port of the local discovery groups", false, 1, 65535},
      [](S & s) -> auto& { return s.lsd.port; });
  t.add(
      {"lsd-interval", "lsd_interval", T::Duration, "time between a torrent's local announces",
       false, 1000, kDay},
      [](S & s) -> auto& { return s.lsd.interval; });
  t.add(
      {"max-open-files", "max_open_files", T::Int, "file descriptors kept open per torrent", false,
       1, 100000},
      [](S & s) -> auto& { return s.storage.max_open_files; });
  t.add(
      {"direct-writes", "direct_writes", T::Bool,
       "write whole pages past the page cache (O_DIRECT) where allowed", false},
      [](S & s) -> auto& { return s.storage.direct_writes; });
  return t;
}

}  // namespace

const base::SettingsTable<SessionSettings>& session_settings_table() {
  static const base::SettingsTable<SessionSettings> table = make_table();
  return table;
}

}  // namespace p2p
