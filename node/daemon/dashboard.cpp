#include "node/daemon/dashboard.hpp"

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>

#include "node/daemon/web_assets.hpp"

namespace bttnode::daemon {

namespace {

namespace http = boost::beast::http;

struct File {
  std::string_view bytes;
  std::string_view type;
  std::string etag;
};

// FNV-1a, 64 bits: only to tell versions of a file apart.
std::string etag_of(std::string_view bytes) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[24];
  std::snprintf(buf, sizeof buf, "\"%016llx\"", static_cast<unsigned long long>(h));
  return buf;
}

const std::map<std::string, File, std::less<>>& files() {
  static const auto table = [] {
    std::map<std::string, File, std::less<>> t;
    for (const auto& a : kWebAssets) {
      t.emplace(a.path, File{a.bytes(), content_type_of(a.path), etag_of(a.bytes())});
    }
    return t;
  }();
  return table;
}

bool etag_matches(std::string_view header, std::string_view etag) {
  if (header == "*") return true;
  // A list of tags, each possibly weak (W/"...").
  std::size_t pos = 0;
  while (pos < header.size()) {
    auto end = header.find(',', pos);
    if (end == std::string_view::npos) end = header.size();
    auto tag = header.substr(pos, end - pos);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag) return true;
    pos = end + 1;
  }
  return false;
}

}  // namespace

std::string_view content_type_of(std::string_view path) {
  static const std::map<std::string_view, std::string_view> types = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
  };
  auto dot = path.rfind('.');
  if (dot != std::string_view::npos) {
    if (auto it = types.find(path.substr(dot)); it != types.end()) return it->second;
  }
  return "application/octet-stream";
}

Route dashboard_route() {
  return [](const base::http::Request& req) -> std::optional<base::http::Response> {
    std::string_view target(req.target().data(), req.target().size());
    target = target.substr(0, target.find_first_of("?#"));
    std::string_view name;
    if (target == "/" || target == "/index.html") {
      name = "index.html";
    } else if (target.starts_with("/web/")) {
      name = target.substr(5);
    } else {
      return std::nullopt;
    }
    base::http::Response res;
    res.set("X-Content-Type-Options", "nosniff");
    if (req.method() != http::verb::get) {
      res.result(http::status::method_not_allowed);
      res.set(http::field::allow, "GET");
      return res;
    }
    auto it = files().find(name);
    if (it == files().end()) {
      res.result(http::status::not_found);
      res.set(http::field::content_type, "text/plain; charset=utf-8");
      res.body() = "not found\n";
      return res;
    }
    const File& f = it->second;
    res.set(http::field::etag, f.etag);
    res.set(http::field::cache_control, "no-cache");
    res.set(http::field::content_type, std::string(f.type));
    if (name == "index.html") {
      // The page runs only its own scripts; nothing is loaded from elsewhere.
      res.set("Content-Security-Policy",
              "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
      res.set(http::field::x_frame_options, "DENY");
    }
    auto inm = req.find(http::field::if_none_match);
    if (inm != req.end() && etag_matches({inm->value().data(), inm->value().size()}, f.etag)) {
      res.result(http::status::not_modified);
      return res;
    }
    res.result(http::status::ok);
    res.body() = std::string(f.bytes);
    return res;
  };
}

}  // namespace bttnode::daemon
