#include "p2p/tracker/tracker_udp.hpp"

#include <boost/asio/ip/address.hpp>

#include "p2p/wire/compact_endpoint.hpp"

namespace p2p::udp_tracker {

namespace ip = boost::asio::ip;

namespace {

void put32(std::string& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out += static_cast<char>((v >> s) & 0xff);
}
void put64(std::string& out, std::uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) out += static_cast<char>((v >> s) & 0xff);
}
void put16(std::string& out, std::uint16_t v) {
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v & 0xff);
}
std::uint32_t get32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}
std::uint64_t get64(const std::uint8_t* p) {
  return std::uint64_t{get32(p)} << 32 | get32(p + 4);
}

}  // namespace

std::string build_connect(std::uint32_t transaction_id) {
  std::string out;
  put64(out, kProtocolId);
  put32(out, kConnect);
  put32(out, transaction_id);
  return out;
}

std::string build_announce(std::uint64_t connection_id, std::uint32_t transaction_id,
                           const AnnounceRequest& req) {
  std::string out;
  out.reserve(98);
  put64(out, connection_id);
  put32(out, kAnnounce);
  put32(out, transaction_id);
  out.append(reinterpret_cast<const char*>(req.info_hash.data()), 20);
  out.append(reinterpret_cast<const char*>(req.peer_id.data()), 20);
  put64(out, static_cast<std::uint64_t>(req.downloaded));
  put64(out, static_cast<std::uint64_t>(req.left));
  put64(out, static_cast<std::uint64_t>(req.uploaded));
  std::uint32_t event = 0;  // BEP 15: 0 none, 1 completed, 2 started, 3 stopped
  switch (req.event) {
    case TrackerEvent::completed:
      event = 1;
      break;
    case TrackerEvent::started:
      event = 2;
      break;
    case TrackerEvent::stopped:
      event = 3;
      break;
    case TrackerEvent::none:
      break;
  }
  put32(out, event);
  put32(out, 0);  // IP: the sender's
  put32(out, req.key);
  put32(out, static_cast<std::uint32_t>(req.numwant));  // -1 -> 0xffffffff: default
  put16(out, req.port);
  return out;
}

std::string build_scrape(std::uint64_t connection_id, std::uint32_t transaction_id,
                         const InfoHash& info_hash) {
  std::string out;
  out.reserve(36);
  put64(out, connection_id);
  put32(out, kScrape);
  put32(out, transaction_id);
  out.append(reinterpret_cast<const char*>(info_hash.data()), 20);
  return out;
}

Reply parse_reply(std::string_view packet, bool ipv6) {
  Reply r;
  const auto* p = reinterpret_cast<const std::uint8_t*>(packet.data());
  if (packet.size() < 8) {
    r.malformed = true;
    r.error = "UDP tracker reply shorter than 8 bytes";
    return r;
  }
  r.action = get32(p);
  r.transaction_id = get32(p + 4);
  switch (r.action) {
    case kConnect:
      if (packet.size() < 16) {
        r.malformed = true;
        r.error = "UDP connect reply shorter than 16 bytes";
        return r;
      }
      r.connection_id = get64(p + 8);
      return r;
    case kAnnounce: {
      if (packet.size() < 20) {
        r.malformed = true;
        r.error = "UDP announce reply shorter than 20 bytes";
        return r;
      }
      AnnounceResponse a;
      std::uint32_t interval = get32(p + 8);
      a.interval =
          std::chrono::seconds(std::min<std::uint32_t>(interval ? interval : 1800, 7 * 24 * 3600));
      a.incomplete = get32(p + 12);
      a.complete = get32(p + 16);
      const std::size_t unit = compact_entry_size(ipv6);
      std::size_t body = packet.size() - 20;
      if (body % unit != 0) {
        r.malformed = true;
        r.error = "UDP announce reply peer list is not a multiple of " + std::to_string(unit);
        return r;
      }
      std::vector<ip::tcp::endpoint> eps;
      read_compact_endpoints(packet.substr(20), ipv6, eps);
      for (auto& ep : eps) a.peers.push_back(TrackerPeer{ep, std::nullopt});
      r.announce = std::move(a);
      return r;
    }
    case kScrape: {
      // seeders, completed, leechers for each torrent asked, in order; we ask for one.
      if (packet.size() < 20) {
        r.malformed = true;
        r.error = "UDP scrape reply shorter than 20 bytes";
        return r;
      }
      ScrapeInfo s;
      s.complete = get32(p + 8);
      s.downloaded = get32(p + 12);
      s.incomplete = get32(p + 16);
      r.scrape = s;
      return r;
    }
    case kError:
      r.error = std::string(packet.substr(8));
      if (r.error->empty()) r.error = "UDP tracker error (no message)";
      return r;
    default:
      r.malformed = true;
      r.error = "UDP tracker reply with unknown action " + std::to_string(r.action);
      return r;
  }
}

}  // namespace p2p::udp_tracker
