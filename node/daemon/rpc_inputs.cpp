#include "node/daemon/rpc_inputs.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include "base/http_client.hpp"
#include "base/url.hpp"
#include "node/daemon/rpc_methods.hpp"

namespace bttnode::daemon {

namespace {

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;  // '-' and '_': the URL-safe alphabet
  if (c == '/' || c == '_') return 63;
  return -1;
}

}  // namespace

std::optional<std::string> decode_base64(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3 + 3);
  std::uint32_t bits = 0;
  int have = 0;
  bool padding = false;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      padding = true;
      continue;
    }
    int v = base64_value(c);
    if (v < 0 || padding) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    have += 6;
    if (have >= 8) {
      have -= 8;
      out.push_back(static_cast<char>((bits >> have) & 0xff));
    }
  }
  if (have >= 6) return std::nullopt;  // a lone sixth-bit group is not whole bytes
  return out;
}

std::string encode_base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    std::uint32_t n = (std::uint8_t(bytes[i]) << 16) | (std::uint8_t(bytes[i + 1]) << 8) |
                      std::uint8_t(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i < bytes.size()) {
    std::uint32_t n = std::uint8_t(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= std::uint8_t(bytes[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string fetch_torrent(const std::string& url_text, std::chrono::milliseconds timeout,
                          std::uint64_t limit) {
  std::string current = url_text;
  for (int hop = 0; hop <= 5; ++hop) {
    base::Url url;
    try {
      url = base::Url::parse(current);
    } catch (const std::exception& e) {
      throw RpcError("cannot fetch " + current + ": " + e.what());
    }
    if (url.scheme != "http" && url.scheme != "https") {
      throw RpcError("cannot fetch " + current + ": not an http(s) URL");
    }
    base::http::Response res;
    try {
      base::http::ClientOptions o;
      o.keep_alive = false;
      base::http::BlockingClient client(url, o);
      std::string target = url.path.empty() ? "/" : url.path;
      if (url.has_query) target += "?" + url.query;
      base::http::Request req{boost::beast::http::verb::get, target, 11};
      res = client.request(std::move(req), timeout, limit);
    } catch (const base::http::TransportError& e) {
      throw RpcError("cannot fetch " + url_text + ": " + e.what());
    } catch (const std::invalid_argument& e) {
      throw RpcError("cannot fetch " + url_text + ": " + e.what());
    }
    unsigned status = res.result_int();
    if (status >= 300 && status < 400) {
      auto loc = res.find(boost::beast::http::field::location);
      if (loc == res.end()) break;
      std::string next(loc->value());
      if (next.starts_with("/")) {
        next = url.scheme + "://" +
               (url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host) + ":" +
               std::to_string(url.port) + next;
      }
      current = next;
      continue;
    }
    if (status != 200) {
      throw RpcError("cannot fetch " + url_text + ": HTTP " + std::to_string(status));
    }
    return std::move(res.body());
  }
  throw RpcError("cannot fetch " + url_text + ": too many redirects");
}

}  // namespace bttnode::daemon
