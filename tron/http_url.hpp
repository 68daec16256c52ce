#pragma once
// The address of a full node: http:// or https://, a host (name, IPv4, or [IPv6]), an optional
// port, and an optional path prefix that every request path is appended to. Parsed by
// base::Url, with what a node address may not have refused.
#include <cstdint>
#include <string>
#include <string_view>

#include "base/url.hpp"

namespace tron {

struct HttpUrl {
  bool tls = false;
  std::string host;  // without brackets for IPv6
  std::uint16_t port = 0;
  std::string prefix;  // "" or "/something" without a trailing slash

  // Throws std::invalid_argument naming what is wrong: unknown scheme, missing host, bad port,
  // user info, query or fragment.
  static HttpUrl parse(std::string_view text);

  // The same address as a base::Url (for the HTTP client).
  base::Url url() const;
  bool host_is_ip() const { return url().host_is_ip(); }
  // The Host header value: host, bracketed if IPv6, with ":port" unless the scheme's default.
  std::string host_header() const { return url().authority(); }
  // For messages: scheme://host:port.
  std::string origin() const { return url().origin(); }
};

}  // namespace tron
