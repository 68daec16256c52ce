#pragma once
// The one URL parser of the project, for the absolute URLs it is given: tracker announce URLs,
// full-node addresses, listen addresses. scheme://[userinfo@]host[:port][/path][?query][#fragment]
// where host is a name, an IPv4 address or a bracketed IPv6 address. Nothing is decoded:
// path and query stay percent-encoded as given.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace base {

class UrlError : public std::invalid_argument {
 public:
  UrlError(std::string_view text, std::string_view why);
  // What is wrong, without the URL.
  const std::string& why() const { return why_; }

 private:
  std::string why_;
};

// 80 for http and ws, 443 for https and wss, 0 for a scheme with no default (udp).
std::uint16_t default_port(std::string_view scheme);

struct Url {
  std::string scheme;  // lower case
  std::string userinfo;
  bool has_userinfo = false;
  std::string host;        // lower case for names; IPv6 without brackets
  std::uint16_t port = 0;  // the given port, else the scheme's default (0 if it has none)
  bool port_given = false;
  std::string path;   // "" or starting with '/'
  std::string query;  // without the '?'
  bool has_query = false;
  std::string fragment;  // without the '#'
  bool has_fragment = false;

  // Throws UrlError: no scheme, bad scheme, missing host, bad character in the host, unclosed
  // or invalid [IPv6], empty, non-numeric or out-of-range port, control characters or spaces.
  static Url parse(std::string_view text);

  bool host_is_ip() const;
  bool host_is_ipv6() const { return host.find(':') != std::string::npos; }
  // The host as written in a URL: bracketed if IPv6.
  std::string host_text() const;
  // host[:port], the port left out when it is the scheme's default: a Host header's value.
  std::string authority() const;
  // scheme://host:port, for messages.
  std::string origin() const;
  // An HTTP request target: the path ("/" if empty) and "?query" if there is one.
  std::string target() const;

  // Where a redirect's Location leads from this URL: an absolute URL, or an absolute path
  // ("/x?y") on the same origin. Throws UrlError for anything else.
  Url resolve(std::string_view location) const;
};

}  // namespace base
