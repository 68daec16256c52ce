#include "p2p/tracker/tracker_http.hpp"

#include <boost/asio/ip/address.hpp>

#include "p2p/wire/bencode.hpp"
#include "p2p/wire/compact_endpoint.hpp"

namespace p2p {

namespace be = bencode;
namespace ip = boost::asio::ip;

std::string url_encode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size() * 3);
  for (char c : bytes) {
    auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '-' ||
        u == '.' || u == '_' || u == '~') {
      out += c;
    } else {
      out += '%';
      out += kDigits[u >> 4];
      out += kDigits[u & 0xf];
    }
  }
  return out;
}

namespace {

std::string_view as_sv(const std::array<std::uint8_t, 20>& a) {
  return {reinterpret_cast<const char*>(a.data()), a.size()};
}

const char* event_name(TrackerEvent e) {
  switch (e) {
    case TrackerEvent::started:
      return "started";
    case TrackerEvent::completed:
      return "completed";
    case TrackerEvent::stopped:
      return "stopped";
    case TrackerEvent::none:
      break;
  }
  return nullptr;
}

[[noreturn]] void bad(const std::string& what) {
  throw TrackerResponseError("malformed tracker response: " + what, false);
}

// A tracker's bencoded reply within the limits, as a dictionary; its "failure reason", if
// any, is thrown as the tracker's own refusal.
be::Value decode_reply(std::string_view body, std::size_t max_size, std::size_t max_depth) {
  be::Limits limits;
  limits.max_size = max_size;
  limits.max_depth = max_depth;
  be::Value root;
  try {
    root = be::decode(body, limits);
  } catch (const be::DecodeError& e) {
    bad(e.what());
  }
  if (!root.is_dict()) bad("not a dictionary");
  if (const be::Value* f = root.find("failure reason")) {
    throw TrackerResponseError(f->is_string() ? f->as_string() : std::string("(unreadable)"), true);
  }
  return root;
}

std::optional<std::int64_t> opt_int(const be::Value& d, std::string_view key) {
  const be::Value* v = d.find(key);
  if (!v) return std::nullopt;
  if (!v->is_int()) bad(std::string(key) + " is not an integer");
  return v->as_int();
}

void compact_peers(const std::string& s, bool v6, std::vector<TrackerPeer>& out) {
  const std::size_t unit = compact_entry_size(v6);
  if (s.size() % unit != 0) {
    bad(std::string(v6 ? "peers6" : "peers") + " length " + std::to_string(s.size()) +
        " is not a multiple of " + std::to_string(unit));
  }
  std::vector<ip::tcp::endpoint> eps;
  read_compact_endpoints(s, v6, eps);
  for (auto& ep : eps) out.push_back(TrackerPeer{ep, std::nullopt});
}

}  // namespace

std::string build_http_announce_url(const std::string& announce_url, const AnnounceRequest& req,
                                    const std::string& tracker_id) {
  std::string url = announce_url;
  url += announce_url.find('?') == std::string::npos ? '?' : '&';
  url += "info_hash=" + url_encode(as_sv(req.info_hash));
  url += "&peer_id=" + url_encode(as_sv(req.peer_id));
  url += "&port=" + std::to_string(req.port);
  url += "&uploaded=" + std::to_string(req.uploaded);
  url += "&downloaded=" + std::to_string(req.downloaded);
  url += "&left=" + std::to_string(req.left);
  url += "&compact=1";
  if (const char* e = event_name(req.event)) url += std::string("&event=") + e;
  if (req.numwant >= 0) url += "&numwant=" + std::to_string(req.numwant);
  char key[9];
  static constexpr char kDigits[] = "0123456789ABCDEF";
  for (int i = 0; i < 8; ++i) key[i] = kDigits[(req.key >> (28 - 4 * i)) & 0xf];
  key[8] = '\0';
  url += std::string("&key=") + key;
  if (!tracker_id.empty()) url += "&trackerid=" + url_encode(tracker_id);
  return url;
}

AnnounceResponse parse_http_announce_response(std::string_view body) {
  be::Value root = decode_reply(body, 4u * 1024 * 1024, 8);
  AnnounceResponse r;
  if (auto iv = opt_int(root, "interval")) {
    if (*iv <= 0 || *iv > 7 * 24 * 3600) bad("interval out of range");
    r.interval = std::chrono::seconds(*iv);
  }
  if (auto mi = opt_int(root, "min interval")) {
    if (*mi < 0 || *mi > 7 * 24 * 3600) bad("min interval out of range");
    r.min_interval = std::chrono::seconds(*mi);
  }
  r.complete = opt_int(root, "complete");
  r.incomplete = opt_int(root, "incomplete");
  if (const be::Value* w = root.find("warning message"); w && w->is_string()) {
    r.warning_message = w->as_string();
  }
  if (const be::Value* t = root.find("tracker id")) {
    if (!t->is_string()) bad("tracker id is not a string");
    r.tracker_id = t->as_string();
  }
  if (const be::Value* peers = root.find("peers")) {
    if (peers->is_string()) {
      compact_peers(peers->as_string(), false, r.peers);
    } else if (peers->is_list()) {
      for (const auto& p : peers->as_list()) {
        if (!p.is_dict()) bad("a peer is not a dictionary");
        const be::Value* ipv = p.find("ip");
        const be::Value* port = p.find("port");
        if (!ipv || !ipv->is_string() || !port || !port->is_int()) bad("a peer lacks ip or port");
        if (port->as_int() <= 0 || port->as_int() > 65535) continue;
        boost::system::error_code ec;
        auto addr = ip::make_address(ipv->as_string(), ec);
        if (ec) continue;  // a host name: not resolved here
        TrackerPeer tp{ip::tcp::endpoint(addr, static_cast<std::uint16_t>(port->as_int())),
                       std::nullopt};
        if (const be::Value* id = p.find("peer id");
            id && id->is_string() && id->as_string().size() == 20) {
          PeerId pid;
          std::copy_n(id->as_string().data(), 20, reinterpret_cast<char*>(pid.data()));
          tp.peer_id = pid;
        }
        r.peers.push_back(std::move(tp));
      }
    } else {
      bad("peers is neither a string nor a list");
    }
  }
  if (const be::Value* p6 = root.find("peers6")) {
    if (!p6->is_string()) bad("peers6 is not a string");
    compact_peers(p6->as_string(), true, r.peers);
  }
  return r;
}

std::optional<std::string> scrape_url_of(const std::string& announce_url) {
  if (announce_url.starts_with("udp://")) return announce_url;
  if (!announce_url.starts_with("http://") && !announce_url.starts_with("https://")) {
    return std::nullopt;
  }
  std::size_t query = announce_url.find('?');
  std::size_t path_end = query == std::string::npos ? announce_url.size() : query;
  std::size_t slash = announce_url.rfind('/', path_end == 0 ? 0 : path_end - 1);
  std::size_t host_start = announce_url.find("://") + 3;
  if (slash == std::string::npos || slash < host_start) return std::nullopt;
  std::string_view segment(announce_url.data() + slash + 1, path_end - slash - 1);
  if (!segment.starts_with("announce")) return std::nullopt;
  return announce_url.substr(0, slash + 1) + "scrape" + announce_url.substr(slash + 9);
}

std::string build_http_scrape_url(const std::string& scrape_url, const InfoHash& info_hash) {
  std::string url = scrape_url;
  url += scrape_url.find('?') == std::string::npos ? '?' : '&';
  url += "info_hash=" + url_encode(as_sv(info_hash));
  return url;
}

ScrapeInfo parse_http_scrape_response(std::string_view body, const InfoHash& info_hash) {
  be::Value root = decode_reply(body, 1u * 1024 * 1024, 6);
  const be::Value* files = root.find("files");
  if (!files || !files->is_dict()) bad("no files dictionary");
  const be::Value* entry = files->find(as_sv(info_hash));
  if (!entry) throw TrackerResponseError("the tracker does not know this torrent", false);
  if (!entry->is_dict()) bad("a files entry is not a dictionary");
  auto count = [&](std::string_view key) -> std::int64_t {
    auto v = opt_int(*entry, key);
    if (!v) return 0;
    if (*v < 0 || *v > (std::int64_t{1} << 40)) bad(std::string(key) + " out of range");
    return *v;
  };
  ScrapeInfo info;
  info.complete = count("complete");
  info.incomplete = count("incomplete");
  info.downloaded = count("downloaded");
  return info;
}

}  // namespace p2p
