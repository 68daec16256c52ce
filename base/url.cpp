#include "base/url.hpp"

#include <algorithm>
#include <cctype>

#include <boost/asio/ip/address.hpp>

namespace base {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool is_scheme_char(unsigned char c) {
  return std::isalnum(c) || c == '+' || c == '-' || c == '.';
}

bool is_host_char(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_';
}

}  // namespace

UrlError::UrlError(std::string_view text, std::string_view why)
    : std::invalid_argument("bad URL '" + std::string(text) + "': " + std::string(why)),
      why_(why) {}

std::uint16_t default_port(std::string_view scheme) {
  if (scheme == "http" || scheme == "ws") return 80;
  if (scheme == "https" || scheme == "wss") return 443;
  return 0;
}

Url Url::parse(std::string_view text) {
  auto bad = [text](std::string_view why) { throw UrlError(text, why); };
  for (unsigned char c : text) {
    if (c <= 0x20 || c == 0x7f) bad("spaces and control characters are not allowed");
  }
  Url url;
  auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) bad("expected scheme://host");
  std::string_view scheme = text.substr(0, scheme_end);
  if (scheme.empty() || !std::isalpha(static_cast<unsigned char>(scheme.front())) ||
      !std::all_of(scheme.begin(), scheme.end(),
                   [](char c) { return is_scheme_char(static_cast<unsigned char>(c)); })) {
    bad("invalid scheme");
  }
  url.scheme = lower(scheme);

  std::string_view rest = text.substr(scheme_end + 3);
  if (auto hash = rest.find('#'); hash != std::string_view::npos) {
    url.fragment = std::string(rest.substr(hash + 1));
    url.has_fragment = true;
    rest = rest.substr(0, hash);
  }
  if (auto question = rest.find('?'); question != std::string_view::npos) {
    url.query = std::string(rest.substr(question + 1));
    url.has_query = true;
    rest = rest.substr(0, question);
  }
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) url.path = std::string(rest.substr(slash));
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    url.userinfo = std::string(authority.substr(0, at));
    url.has_userinfo = true;
    authority = authority.substr(at + 1);
  }
  if (authority.empty()) bad("missing host");

  std::string_view port_text;
  bool has_port = false;
  if (authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) bad("unclosed [ in IPv6 host");
    url.host = lower(authority.substr(1, close - 1));
    boost::system::error_code ec;
    auto addr = boost::asio::ip::make_address(url.host, ec);
    if (ec || !addr.is_v6()) bad("not an IPv6 address inside [ ]");
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') bad("unexpected text after ]");
      port_text = after.substr(1);
      has_port = true;
    }
  } else {
    auto colon = authority.find(':');
    url.host = lower(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      has_port = true;
    }
    for (char c : url.host) {
      if (!is_host_char(static_cast<unsigned char>(c))) bad("invalid character in host");
    }
  }
  if (url.host.empty()) bad("missing host");
  if (has_port) {
    if (port_text.empty()) bad("empty port");
    if (port_text.size() > 5) bad("port out of range");
    unsigned long port = 0;
    for (char c : port_text) {
      if (!std::isdigit(static_cast<unsigned char>(c))) bad("port is not a number");
      port = port * 10 + static_cast<unsigned long>(c - '0');
    }
    if (port == 0 || port > 65535) bad("port out of range");
    url.port = static_cast<std::uint16_t>(port);
    url.port_given = true;
  } else {
    url.port = default_port(url.scheme);
  }
  return url;
}

bool Url::host_is_ip() const {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  return !ec;
}

std::string Url::host_text() const {
  return host_is_ipv6() ? "[" + host + "]" : host;
}

std::string Url::authority() const {
  std::string out = host_text();
  if (port != default_port(scheme)) out += ":" + std::to_string(port);
  return out;
}

std::string Url::origin() const {
  return scheme + "://" + host_text() + ":" + std::to_string(port);
}

std::string Url::target() const {
  std::string out = path.empty() ? "/" : path;
  if (has_query) out += "?" + query;
  return out;
}

Url Url::resolve(std::string_view location) const {
  if (location.find("://") != std::string_view::npos) return parse(location);
  if (location.empty() || location.front() != '/' || location.substr(0, 2) == "//") {
    throw UrlError(location, "expected an absolute URL or an absolute path");
  }
  // Checked as the path and query of this URL.
  Url next =
      parse(scheme + "://" + host_text() + ":" + std::to_string(port) + std::string(location));
  next.port_given = port_given;
  next.userinfo = userinfo;
  next.has_userinfo = has_userinfo;
  return next;
}

}  // namespace base
