#include "tron/http_url.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <boost/asio/ip/address.hpp>

namespace tron {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

[[noreturn]] void bad(std::string_view text, std::string_view why) {
  throw std::invalid_argument("bad node URL '" + std::string(text) + "': " + std::string(why));
}

}  // namespace

HttpUrl HttpUrl::parse(std::string_view text) {
  HttpUrl url;
  auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) bad(text, "expected http://host[:port] or https://...");
  std::string scheme = lower(text.substr(0, scheme_end));
  if (scheme == "http") {
    url.tls = false;
    url.port = 80;
  } else if (scheme == "https") {
    url.tls = true;
    url.port = 443;
  } else {
    bad(text, "scheme must be http or https");
  }
  std::string_view rest = text.substr(scheme_end + 3);
  if (rest.find_first_of("?#") != std::string_view::npos) bad(text, "no query or fragment allowed");
  auto path_start = rest.find('/');
  std::string_view authority = rest.substr(0, path_start);
  std::string_view path = path_start == std::string_view::npos ? "" : rest.substr(path_start);
  if (authority.find('@') != std::string_view::npos) bad(text, "no user info allowed");
  if (authority.empty()) bad(text, "missing host");

  std::string_view port_text;
  if (authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) bad(text, "unclosed [ in IPv6 host");
    url.host = std::string(authority.substr(1, close - 1));
    boost::system::error_code ec;
    auto addr = boost::asio::ip::make_address(url.host, ec);
    if (ec || !addr.is_v6()) bad(text, "not an IPv6 address inside [ ]");
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') bad(text, "unexpected text after ]");
      port_text = after.substr(1);
      if (port_text.empty()) bad(text, "empty port");
    }
  } else {
    auto colon = authority.find(':');
    url.host = lower(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) bad(text, "empty port");
    }
    for (char c : url.host) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') {
        bad(text, "invalid character in host");
      }
    }
  }
  if (url.host.empty()) bad(text, "missing host");
  if (!port_text.empty()) {
    unsigned long port = 0;
    if (port_text.size() > 5) bad(text, "port out of range");
    for (char c : port_text) {
      if (!std::isdigit(static_cast<unsigned char>(c))) bad(text, "port is not a number");
      port = port * 10 + static_cast<unsigned long>(c - '0');
    }
    if (port == 0 || port > 65535) bad(text, "port out of range");
    url.port = static_cast<std::uint16_t>(port);
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  url.prefix = std::string(path);
  return url;
}

bool HttpUrl::host_is_ip() const {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  return !ec;
}

std::string HttpUrl::host_header() const {
  bool v6 = host.find(':') != std::string::npos;
  std::string out = v6 ? "[" + host + "]" : host;
  if (port != (tls ? 443 : 80)) out += ":" + std::to_string(port);
  return out;
}

std::string HttpUrl::origin() const {
  bool v6 = host.find(':') != std::string::npos;
  return std::string(tls ? "https://" : "http://") + (v6 ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

}  // namespace tron
