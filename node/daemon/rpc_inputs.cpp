#include "node/daemon/rpc_inputs.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include "base/url.hpp"

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

std::shared_ptr<TorrentFetch> TorrentFetch::start(boost::asio::io_context& io,
                                                  const std::string& url,
                                                  std::chrono::milliseconds timeout,
                                                  std::uint64_t limit, Done done) {
  auto f = std::make_shared<TorrentFetch>(io, url, timeout, limit, std::move(done));
  f->get(url, 0);
  return f;
}

TorrentFetch::TorrentFetch(boost::asio::io_context& io, std::string url,
                           std::chrono::milliseconds timeout, std::uint64_t limit, Done done)
    : io_(io),
      url_(std::move(url)),
      deadline_(std::chrono::steady_clock::now() + timeout),
      limit_(limit),
      done_(std::move(done)) {}

TorrentFetch::~TorrentFetch() = default;

void TorrentFetch::finish(std::optional<std::string> error, std::string body) {
  auto done = std::move(done_);
  done_ = nullptr;
  if (done) done(std::move(error), std::move(body));
}

void TorrentFetch::get(const std::string& current, int hop) {
  auto fail = [&](const std::string& why) {
    // Always after start() returned, as a fetch that works would.
    boost::asio::post(io_, [self = shared_from_this(), why] {
      self->finish("cannot fetch " + self->url_ + ": " + why);
    });
  };
  if (hop > 5) return fail("too many redirects");
  base::Url url;
  try {
    url = base::Url::parse(current);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  if (url.scheme != "http" && url.scheme != "https") return fail("not an http(s) URL");
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline_ - std::chrono::steady_clock::now());
  if (left <= std::chrono::milliseconds(0)) return fail("no answer in time");
  base::http::ClientOptions o;
  o.keep_alive = false;
  try {
    // Replacing the client from within its own answer is safe: what runs holds its state.
    client_ = std::make_unique<base::http::Client>(io_, url, o);
  } catch (const std::invalid_argument& e) {
    return fail(e.what());
  }
  std::string target = url.path.empty() ? "/" : url.path;
  if (url.has_query) target += "?" + url.query;
  base::http::Request req{boost::beast::http::verb::get, target, 11};
  std::weak_ptr<TorrentFetch> weak = shared_from_this();
  client_->async_request(
      std::move(req), left, limit_,
      [weak, url, hop](std::optional<base::http::TransportError> error, base::http::Response res) {
        auto self = weak.lock();
        if (!self) return;
        if (error) return self->finish("cannot fetch " + self->url_ + ": " + error->what());
        unsigned status = res.result_int();
        if (status >= 300 && status < 400) {
          auto loc = res.find(boost::beast::http::field::location);
          if (loc != res.end()) {
            std::string next(loc->value());
            if (next.starts_with("/")) {
              next = url.scheme + "://" +
                     (url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host) +
                     ":" + std::to_string(url.port) + next;
            }
            return self->get(next, hop + 1);
          }
        }
        if (status != 200) {
          return self->finish("cannot fetch " + self->url_ + ": HTTP " + std::to_string(status));
        }
        self->finish(std::nullopt, std::move(res.body()));
      });
}

}  // namespace bttnode::daemon
