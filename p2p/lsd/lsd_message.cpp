#include "p2p/lsd/lsd_message.hpp"

#include <algorithm>
#include <cctype>

#include "base/hex.hpp"

namespace p2p::lsd {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::optional<InfoHash> parse_hash(std::string_view hex) {
  if (hex.size() != 40) return std::nullopt;
  InfoHash h{};
  for (std::size_t i = 0; i < 20; ++i) {
    int v = 0;
    for (int k = 0; k < 2; ++k) {
      char c = hex[2 * i + k];
      int d;
      if (c >= '0' && c <= '9') {
        d = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        d = c - 'A' + 10;
      } else {
        return std::nullopt;
      }
      v = v * 16 + d;
    }
    h[i] = static_cast<std::uint8_t>(v);
  }
  return h;
}

}  // namespace

std::string build_announce(const std::string& host, const Announce& a) {
  std::string out =
      "BT-SEARCH * HTTP/1.1\r\nHost: " + host + "\r\nPort: " + std::to_string(a.port) + "\r\n";
  std::size_t n = std::min(a.info_hashes.size(), kMaxHashes);
  for (std::size_t i = 0; i < n; ++i) {
    out += "Infohash: " + base::to_hex(a.info_hashes[i]) + "\r\n";
  }
  if (!a.cookie.empty()) out += "cookie: " + a.cookie + "\r\n";
  out += "\r\n\r\n";
  return out;
}

std::optional<Announce> parse_announce(std::string_view message) {
  if (message.size() > kMaxMessage) return std::nullopt;
  Announce a;
  bool first = true, have_port = false;
  while (!message.empty()) {
    std::size_t eol = message.find('\n');
    std::string_view line = message.substr(0, eol);
    message = eol == std::string_view::npos ? std::string_view{} : message.substr(eol + 1);
    line = trim(line);
    if (first) {
      if (!line.starts_with("BT-SEARCH * HTTP/1.")) return std::nullopt;
      first = false;
      continue;
    }
    if (line.empty()) continue;
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = trim(line.substr(0, colon));
    std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "port")) {
      if (value.empty() || value.size() > 5) return std::nullopt;
      unsigned v = 0;
      for (char c : value) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + unsigned(c - '0');
      }
      if (v == 0 || v > 65535) return std::nullopt;
      a.port = static_cast<std::uint16_t>(v);
      have_port = true;
    } else if (iequals(name, "infohash")) {
      if (a.info_hashes.size() >= kMaxHashes) continue;
      if (auto h = parse_hash(value)) {
        if (std::find(a.info_hashes.begin(), a.info_hashes.end(), *h) == a.info_hashes.end()) {
          a.info_hashes.push_back(*h);
        }
      }
    } else if (iequals(name, "cookie")) {
      a.cookie = std::string(value.substr(0, 64));
    }
  }
  if (first || !have_port || a.info_hashes.empty()) return std::nullopt;
  return a;
}

}  // namespace p2p::lsd
