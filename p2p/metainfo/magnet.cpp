#include "p2p/metainfo/magnet.hpp"

#include "base/hex.hpp"
#include "p2p/tracker/tracker_http.hpp"

namespace p2p {
namespace {

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) {
        throw MagnetError("magnet: truncated percent escape");
      }
      int hi = hexval(s[i + 1]);
      int lo = hexval(s[i + 2]);
      if (hi < 0 || lo < 0) throw MagnetError("magnet: bad percent escape");
      out += static_cast<char>(hi << 4 | lo);
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

// RFC 4648 base32 (BEP 9 allows it for the 20-byte hash: 32 characters).
bool base32_decode(std::string_view s, InfoHash& out) {
  if (s.size() != 32) return false;
  std::uint64_t buffer = 0;
  int bits = 0;
  std::size_t n = 0;
  for (char c : s) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a';
    } else if (c >= '2' && c <= '7') {
      v = c - '2' + 26;
    } else {
      return false;
    }
    buffer = buffer << 5 | static_cast<std::uint64_t>(v);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = static_cast<std::uint8_t>(buffer >> bits);
    }
  }
  return n == 20;
}

}  // namespace

bool is_magnet_uri(std::string_view s) {
  return s.size() >= 8 && (s.substr(0, 8) == "magnet:?" || s.substr(0, 8) == "MAGNET:?");
}

MagnetLink parse_magnet(std::string_view uri) {
  if (!is_magnet_uri(uri)) throw MagnetError("not a magnet link (expected \"magnet:?\")");
  MagnetLink link;
  bool have_hash = false;
  bool saw_v2 = false;
  std::string_view rest = uri.substr(8);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view param = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (param.empty()) continue;
    auto eq = param.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = param.substr(0, eq);
    std::string value = url_decode(param.substr(eq + 1));
    if (key == "xt" || key.starts_with("xt.")) {
      if (value.starts_with("urn:btih:")) {
        if (have_hash) continue;  // the first one wins
        std::string_view h = std::string_view(value).substr(9);
        if (h.size() == 40) {
          if (!base::from_hex_into(h, link.info_hash)) throw MagnetError("magnet: bad hex info-hash");
        } else if (h.size() == 32) {
          if (!base32_decode(h, link.info_hash)) {
            throw MagnetError("magnet: bad base32 info-hash");
          }
        } else {
          throw MagnetError("magnet: info-hash must be 40 hex or 32 base32 characters");
        }
        have_hash = true;
      } else if (value.starts_with("urn:btmh:")) {
        saw_v2 = true;
      }
    } else if (key == "dn") {
      link.display_name = value;
    } else if (key == "tr" || key.starts_with("tr.")) {
      if (!value.empty()) link.trackers.push_back(value);
    } else if (key == "x.pe") {
      if (!value.empty()) link.peers.push_back(value);
    }
  }
  if (!have_hash) {
    throw MagnetError(saw_v2 ? "magnet: only a v2 hash (urn:btmh) is given; v1 is needed"
                             : "magnet: no xt=urn:btih: info-hash");
  }
  return link;
}

std::string make_magnet(const MagnetLink& link) {
  std::string out = "magnet:?xt=urn:btih:" + base::to_hex(link.info_hash);
  if (!link.display_name.empty()) out += "&dn=" + url_encode(link.display_name);
  for (const auto& t : link.trackers) out += "&tr=" + url_encode(t);
  for (const auto& p : link.peers) out += "&x.pe=" + url_encode(p);
  return out;
}

}  // namespace p2p
