#include "node/daemon/rpc_fields.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "base/hex.hpp"
#include "node/daemon/rpc_inputs.hpp"
#include "node/daemon/rpc_methods.hpp"
#include "node/daemon/rpc_payments.hpp"
#include "node/pay/seller_service.hpp"
#include "p2p/metainfo/magnet.hpp"

namespace bttnode::daemon {

using json = nlohmann::json;

namespace {

constexpr std::int64_t kSpeedUnit = 1000;

const p2p::Torrent& tor(const DaemonTorrent& t) {
  return t.torrent();
}
std::int64_t size_of(const DaemonTorrent& t) {
  return tor(t).total_size();
}
// Read only; the engine's PeerHost face is where the picker is public.
const p2p::PiecePicker* picker_of(const DaemonTorrent& t) {
  return static_cast<p2p::PeerHost&>(*t.entry->torrent).picker();
}

std::int64_t peers_getting(const DaemonTorrent& t) {
  std::int64_t n = 0;
  for (const auto& p : tor(t).peers()) n += (!p.am_choking && p.peer_interested) ? 1 : 0;
  return n;
}

std::int64_t peers_sending(const DaemonTorrent& t) {
  std::int64_t n = 0;
  for (const auto& p : tor(t).peers()) n += (!p.peer_choking && p.am_interested) ? 1 : 0;
  return n;
}

std::optional<double> effective_ratio_limit(const DaemonTorrent& t, const Daemon& d) {
  switch (t.options.ratio_mode) {
    case LimitMode::Global:
      return d.config().ratio_limit;
    case LimitMode::Single:
      return t.options.ratio_limit;
    case LimitMode::Unlimited:
      return std::nullopt;
  }
  return std::nullopt;
}

std::int64_t eta(const DaemonTorrent& t) {
  std::int64_t left = left_until_done(t);
  if (tor(t).has_metadata() && left == 0) return -1;  // done: Transmission's "not available"
  int status = transmission_status(t);
  double rate = tor(t).download_rate();
  if (status != 4 || rate < 1 || !tor(t).has_metadata()) return -2;  // unknown
  return static_cast<std::int64_t>(double(left) / rate);
}

json file_list(const DaemonTorrent& t) {
  json files = json::array();
  const auto* m = tor(t).metainfo();
  if (!m) return files;
  // Bytes done per file from the pieces had: a piece counts for the part of it in the file.
  auto* picker = picker_of(t);
  for (const auto& f : m->files) {
    if (f.pad) continue;
    std::int64_t done = 0;
    if (picker && f.length > 0) {
      std::int64_t first = f.offset / m->piece_length;
      std::int64_t last = (f.offset + f.length - 1) / m->piece_length;
      for (std::int64_t p = first; p <= last; ++p) {
        if (!picker->have(p2p::PieceIndex(static_cast<std::int32_t>(p)))) continue;
        std::int64_t begin = std::max(f.offset, p * m->piece_length);
        std::int64_t end = std::min(f.offset + f.length, (p + 1) * m->piece_length);
        done += end - begin;
      }
    }
    files.push_back({{"name", f.relative_path.generic_string()},
                     {"length", f.length},
                     {"bytesCompleted", done}});
  }
  return files;
}

std::size_t file_count(const DaemonTorrent& t) {
  const auto* m = tor(t).metainfo();
  if (!m) return 0;
  return std::count_if(m->files.begin(), m->files.end(), [](const auto& f) { return !f.pad; });
}

std::vector<std::vector<std::string>> tracker_tiers(const DaemonTorrent& t) {
  if (const auto* m = tor(t).metainfo()) return m->trackers;
  std::vector<std::vector<std::string>> tiers;
  if (!t.magnet.empty()) {
    try {
      for (const auto& tr : p2p::parse_magnet(t.magnet).trackers) tiers.push_back({tr});
    } catch (const std::exception&) {
    }
  }
  return tiers;
}

std::string host_of_url(const std::string& url) {
  auto start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  auto end = url.find_first_of("/?", start);
  return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::int64_t epoch_seconds(std::chrono::system_clock::time_point t) {
  if (t == std::chrono::system_clock::time_point{}) return 0;
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

json trackers(const DaemonTorrent& t, bool stats) {
  json list = json::array();
  std::vector<p2p::TrackerStatus> status;
  if (stats) status = tor(t).tracker_status();
  int id = 0, tier = 0;
  for (const auto& urls : tracker_tiers(t)) {
    for (const auto& u : urls) {
      json e = {{"announce", u},
                {"id", id++},
                {"scrape", p2p::scrape_url_of(u).value_or("")},
                {"tier", tier}};
      std::string host = host_of_url(u);
      e["sitename"] = host.substr(0, host.find(':'));
      if (stats) {
        const p2p::TrackerStatus* st = nullptr;
        for (const auto& s : status) {
          if (s.url == u) st = &s;
        }
        p2p::TrackerStatus none;
        if (!st) st = &none;
        bool announced = st->last_announce != std::chrono::system_clock::time_point{};
        bool scraped = st->last_scrape != std::chrono::system_clock::time_point{};
        e["host"] = host;
        e["isBackup"] = false;
        e["hasAnnounced"] = announced;
        e["lastAnnounceSucceeded"] = st->last_announce_ok;
        e["lastAnnounceResult"] = st->last_announce_ok && st->last_announce_message.empty()
                                      ? "Success"
                                      : st->last_announce_message;
        e["lastAnnounceTime"] = epoch_seconds(st->last_announce);
        e["lastAnnouncePeerCount"] = st->last_peer_count;
        e["announceState"] = 0;
        e["seederCount"] = st->seeders.value_or(-1);
        e["leecherCount"] = st->leechers.value_or(-1);
        e["downloadCount"] = st->downloaded.value_or(-1);
        e["hasScraped"] = scraped;
        e["lastScrapeSucceeded"] = st->last_scrape_ok;
        e["lastScrapeResult"] = st->last_scrape_message;
        e["lastScrapeTime"] = epoch_seconds(st->last_scrape);
        e["scrapeState"] = 0;
      }
      list.push_back(std::move(e));
    }
    ++tier;
  }
  return list;
}

}  // namespace

json peer_fields(const p2p::PeerStats& p) {
  std::string address = p.endpoint;
  std::int64_t port = 0;
  auto colon = address.rfind(':');
  if (colon != std::string::npos) {
    port = std::atoi(address.c_str() + colon + 1);
    address = address.substr(0, colon);
    if (address.size() > 1 && address.front() == '[')
      address = address.substr(1, address.size() - 2);
  }
  bool downloading = !p.peer_choking && p.am_interested;
  bool uploading = !p.am_choking && p.peer_interested;
  std::string flags;
  if (p.utp) flags += 'T';
  if (downloading)
    flags += 'D';
  else if (p.am_interested)
    flags += 'd';
  if (uploading)
    flags += 'U';
  else if (p.peer_interested)
    flags += 'u';
  if (!p.am_choking && !p.peer_interested) flags += '?';
  if (p.encrypted) flags += 'E';
  if (p.incoming) flags += 'I';
  return {{"address", address},
          {"port", port},
          {"clientName", p.client},
          {"progress", p.progress},
          {"flagStr", flags},
          {"rateToClient", static_cast<std::int64_t>(p.download_rate)},
          {"rateToPeer", static_cast<std::int64_t>(p.upload_rate)},
          {"isIncoming", p.incoming},
          {"isEncrypted", p.encrypted},
          {"isUTP", p.utp},
          {"clientIsChoked", p.peer_choking},
          {"clientIsInterested", p.am_interested},
          {"peerIsChoked", p.am_choking},
          {"peerIsInterested", p.peer_interested},
          {"isDownloadingFrom", downloading},
          {"isUploadingTo", uploading},
          {"bytesToClient", p.counters.payload_down},
          {"bytesToPeer", p.counters.payload_up}};
}

namespace {

json peer_list(const DaemonTorrent& t) {
  json list = json::array();
  std::map<std::string, std::string> payers;
  if (t.entry->seller) payers = t.entry->seller->payers_of(tor(t));
  for (const auto& p : tor(t).peers()) {
    list.push_back(peer_fields(p));
    // The address a paying peer is bound to; absent for a free one.
    if (auto it = payers.find(p.endpoint); it != payers.end()) {
      list.back()["bttnodePayer"] = it->second;
    }
  }
  return list;
}

json pieces_bitfield(const DaemonTorrent& t) {
  auto* picker = picker_of(t);
  std::int32_t n = tor(t).num_pieces();
  std::string bits((n + 7) / 8, '\0');
  if (picker) {
    for (std::int32_t p = 0; p < n; ++p) {
      if (picker->have(p2p::PieceIndex(p))) bits[p / 8] |= static_cast<char>(0x80 >> (p % 8));
    }
  }
  return encode_base64(bits);
}

std::int64_t error_code(const DaemonTorrent& t) {
  return tor(t).error().empty() ? 0 : 3;  // 3: local error
}

const std::unordered_map<std::string_view, FieldGetter>& table() {
  using T = const DaemonTorrent&;
  using C = FieldContext&;
  static const std::unordered_map<std::string_view, FieldGetter> fields = {
      {"activityDate", [](T t, C) -> json { return t.activity_date; }},
      {"addedDate", [](T t, C) -> json { return t.added_date; }},
      {"bandwidthPriority", [](T t, C) -> json { return t.options.bandwidth_priority; }},
      {"comment",
       [](T t, C) -> json { return tor(t).metainfo() ? tor(t).metainfo()->comment : ""; }},
      {"corruptEver",
       [](T t, C) -> json { return t.corrupt_before + tor(t).counters().failed_down; }},
      {"creator",
       [](T t, C) -> json { return tor(t).metainfo() ? tor(t).metainfo()->created_by : ""; }},
      {"dateCreated",
       [](T t, C) -> json {
         const auto* m = tor(t).metainfo();
         return m && m->creation_date ? *m->creation_date : 0;
       }},
      {"desiredAvailable",
       [](T t, C) -> json {
         for (const auto& p : tor(t).peers()) {
           if (p.seed) return left_until_done(t);
         }
         return 0;
       }},
      {"doneDate", [](T t, C) -> json { return t.done_date; }},
      {"downloadDir", [](T t, C) -> json { return t.download_dir.string(); }},
      {"downloadedEver",
       [](T t, C) -> json { return t.downloaded_before + tor(t).counters().payload_down; }},
      {"downloadLimit", [](T t, C) -> json { return t.options.download_limit / kSpeedUnit; }},
      {"downloadLimited", [](T t, C) -> json { return t.options.download_limited; }},
      {"editDate", [](T, C) -> json { return 0; }},
      {"error", [](T t, C) -> json { return error_code(t); }},
      {"errorString", [](T t, C) -> json { return tor(t).error(); }},
      {"eta", [](T t, C) -> json { return eta(t); }},
      {"etaIdle", [](T, C) -> json { return -1; }},
      {"fileCount", [](T t, C) -> json { return file_count(t); }},
      {"file-count", [](T t, C) -> json { return file_count(t); }},
      {"files", [](T t, C) -> json { return file_list(t); }},
      {"fileStats",
       [](T t, C) -> json {
         json list = json::array();
         for (const auto& f : file_list(t)) {
           list.push_back(
               {{"bytesCompleted", f["bytesCompleted"]}, {"wanted", true}, {"priority", 0}});
         }
         return list;
       }},
      {"hashString", [](T t, C) -> json { return base::to_hex(tor(t).info_hash()); }},
      {"haveUnchecked", [](T, C) -> json { return 0; }},
      {"haveValid", [](T t, C) -> json { return tor(t).bytes_done(); }},
      {"honorsSessionLimits", [](T t, C) -> json { return t.options.honors_session_limits; }},
      {"id", [](T t, C) -> json { return t.id; }},
      {"isFinished",
       [](T t, C c) -> json {
         if (!t.paused || !tor(t).has_metadata() || left_until_done(t) != 0) return false;
         auto limit = effective_ratio_limit(t, c.daemon);
         return limit && upload_ratio(t) >= *limit;
       }},
      {"isPrivate", [](T t, C) -> json { return tor(t).is_private(); }},
      {"isStalled", [](T, C) -> json { return false; }},
      {"labels", [](T t, C) -> json { return t.options.labels; }},
      {"leftUntilDone", [](T t, C) -> json { return left_until_done(t); }},
      {"magnetLink", [](T t, C) -> json { return magnet_link(t); }},
      {"manualAnnounceTime", [](T, C) -> json { return -1; }},
      {"maxConnectedPeers",
       [](T, C c) -> json {
         return c.daemon.node().settings().session.max_connections_per_torrent;
       }},
      {"metadataPercentComplete", [](T t, C) -> json { return tor(t).has_metadata() ? 1.0 : 0.0; }},
      {"name", [](T t, C) -> json { return torrent_name(t); }},
      {"peer-limit",
       [](T, C c) -> json {
         return c.daemon.node().settings().session.max_connections_per_torrent;
       }},
      {"peers", [](T t, C) -> json { return peer_list(t); }},
      {"peersConnected", [](T t, C) -> json { return tor(t).num_peers(); }},
      {"peersFrom",
       [](T t, C) -> json {
         std::int64_t incoming = 0, outgoing = 0;
         for (const auto& p : tor(t).peers()) (p.incoming ? incoming : outgoing)++;
         return {{"fromCache", 0}, {"fromDht", 0}, {"fromIncoming", incoming}, {"fromLpd", 0},
                 {"fromLtep", 0},  {"fromPex", 0}, {"fromTracker", outgoing}};
       }},
      {"peersGettingFromUs", [](T t, C) -> json { return peers_getting(t); }},
      {"peersSendingToUs", [](T t, C) -> json { return peers_sending(t); }},
      {"percentComplete",
       [](T t, C) -> json {
         auto size = size_of(t);
         return size > 0 ? double(tor(t).bytes_done()) / double(size) : 0.0;
       }},
      {"percentDone",
       [](T t, C) -> json {
         auto size = size_of(t);
         return size > 0 ? double(size - left_until_done(t)) / double(size) : 0.0;
       }},
      {"pieceCount", [](T t, C) -> json { return tor(t).num_pieces(); }},
      {"pieceSize",
       [](T t, C) -> json { return tor(t).metainfo() ? tor(t).metainfo()->piece_length : 0; }},
      {"pieces", [](T t, C) -> json { return pieces_bitfield(t); }},
      {"priorities", [](T t, C) -> json { return std::vector<int>(file_count(t), 0); }},
      {"queuePosition", [](T t, C) -> json { return t.queue_position; }},
      {"rateDownload",
       [](T t, C) -> json { return static_cast<std::int64_t>(tor(t).download_rate()); }},
      {"rateUpload",
       [](T t, C) -> json { return static_cast<std::int64_t>(tor(t).upload_rate()); }},
      {"recheckProgress",
       [](T t, C) -> json {
         auto n = tor(t).num_pieces();
         if (tor(t).state() != p2p::TorrentState::Checking || n == 0) return 0.0;
         return double(tor(t).checked_pieces()) / double(n);
       }},
      {"secondsDownloading", [](T t, C) -> json { return t.seconds_downloading_before; }},
      {"secondsSeeding", [](T t, C) -> json { return t.seconds_seeding_before; }},
      {"seedIdleLimit", [](T t, C) -> json { return std::int64_t(t.options.idle_limit.count()); }},
      {"seedIdleMode", [](T t, C) -> json { return static_cast<int>(t.options.idle_mode); }},
      {"seedRatioLimit", [](T t, C) -> json { return t.options.ratio_limit; }},
      {"seedRatioMode", [](T t, C) -> json { return static_cast<int>(t.options.ratio_mode); }},
      {"sizeWhenDone", [](T t, C) -> json { return size_of(t); }},
      {"startDate", [](T t, C) -> json { return t.start_date; }},
      {"status", [](T t, C) -> json { return transmission_status(t); }},
      {"torrentFile",
       [](T t, C c) -> json {
         return (c.daemon.config().state_dir / "torrents" /
                 (base::to_hex(tor(t).info_hash()) + ".torrent"))
             .string();
       }},
      {"totalSize", [](T t, C) -> json { return size_of(t); }},
      {"trackers", [](T t, C) -> json { return trackers(t, false); }},
      {"trackerStats", [](T t, C) -> json { return trackers(t, true); }},
      {"uploadedEver",
       [](T t, C) -> json { return t.uploaded_before + tor(t).counters().payload_up; }},
      {"uploadLimit", [](T t, C) -> json { return t.options.upload_limit / kSpeedUnit; }},
      {"uploadLimited", [](T t, C) -> json { return t.options.upload_limited; }},
      {"uploadRatio", [](T t, C) -> json { return upload_ratio(t); }},
      {"wanted", [](T t, C) -> json { return std::vector<int>(file_count(t), 1); }},
      {"webseeds",
       [](T t, C) -> json {
         return tor(t).metainfo() ? tor(t).metainfo()->url_list : std::vector<std::string>{};
       }},
      {"webseedsSendingToUs", [](T, C) -> json { return 0; }},
      {"bttnodeEarned", [](T t, C c) -> json { return earned_field(t, c); }},
      {"bttnodeSpent", [](T t, C c) -> json { return spent_field(t, c); }},
      {"bttnodeToken", [](T t, C) -> json { return token_of(t); }},
      {"bttnodePayers", [](T t, C c) -> json { return payers_field(t, c); }},
      {"bttnodeSell", [](T t, C c) -> json { return sell_field(t, c); }},
      {"bttnodePrice", [](T t, C c) -> json { return price_field(t, c); }},
      {"bttnodeMaxPrice", [](T t, C c) -> json { return max_price_field(t, c); }},
      {"bttnodeBudget", [](T t, C c) -> json { return budget_field(t, c); }},
      {"bttnodeOverrides", [](T t, C c) -> json { return overrides_field(t, c); }},
  };
  return fields;
}

}  // namespace

FieldGetter field_getter(std::string_view name) {
  const auto& t = table();
  auto it = t.find(name);
  return it == t.end() ? nullptr : it->second;
}

std::string torrent_name(const DaemonTorrent& t) {
  if (const auto* m = tor(t).metainfo()) return m->name;
  if (!t.magnet.empty()) {
    try {
      auto link = p2p::parse_magnet(t.magnet);
      if (!link.display_name.empty()) return link.display_name;
    } catch (const std::exception&) {
    }
  }
  return tor(t).name();
}

std::int64_t left_until_done(const DaemonTorrent& t) {
  if (!tor(t).has_metadata()) return 0;
  return std::max<std::int64_t>(0, size_of(t) - tor(t).bytes_done());
}

double upload_ratio(const DaemonTorrent& t) {
  std::int64_t up = t.uploaded_before + tor(t).counters().payload_up;
  std::int64_t down = t.downloaded_before + tor(t).counters().payload_down;
  if (down == 0) down = tor(t).bytes_done();
  if (down > 0) return double(up) / double(down);
  return up > 0 ? -2.0 : -1.0;
}

std::string magnet_link(const DaemonTorrent& t) {
  p2p::MagnetLink link;
  link.info_hash = tor(t).info_hash();
  link.display_name = torrent_name(t);
  for (const auto& tier : tracker_tiers(t)) {
    for (const auto& u : tier) link.trackers.push_back(u);
  }
  return p2p::make_magnet(link);
}

}  // namespace bttnode::daemon
