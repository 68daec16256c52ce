#include "tron/http_url.hpp"

#include <stdexcept>

namespace tron {

HttpUrl HttpUrl::parse(std::string_view text) {
  auto bad = [text](std::string_view why) {
    throw std::invalid_argument("bad node URL '" + std::string(text) + "': " + std::string(why));
  };
  base::Url parsed;
  try {
    parsed = base::Url::parse(text);
  } catch (const base::UrlError& e) {
    bad(e.why());
  }
  if (parsed.scheme != "http" && parsed.scheme != "https") bad("scheme must be http or https");
  if (parsed.has_userinfo) bad("no user info allowed");
  if (parsed.has_query || parsed.has_fragment) bad("no query or fragment allowed");
  HttpUrl url;
  url.tls = parsed.scheme == "https";
  url.host = parsed.host;
  url.port = parsed.port;
  std::string_view path = parsed.path;
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  url.prefix = std::string(path);
  return url;
}

base::Url HttpUrl::url() const {
  base::Url out;
  out.scheme = tls ? "https" : "http";
  out.host = host;
  out.port = port;
  out.port_given = port != base::default_port(out.scheme);
  out.path = prefix;
  return out;
}

}  // namespace tron
