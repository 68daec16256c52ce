#include "node/daemon/http_frontend.hpp"

#include <random>
#include <stdexcept>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>

#include "tron/json_bounded.hpp"

namespace bttnode::daemon {

namespace bhttp = boost::beast::http;
namespace ip = boost::asio::ip;
using base::http::Request;
using base::http::Response;

namespace {

std::string random_session_id() {
  static constexpr std::string_view kChars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device rd;
  std::uniform_int_distribution<std::size_t> pick(0, kChars.size() - 1);
  std::string id(48, ' ');
  for (char& c : id) c = kChars[pick(rd)];
  return id;
}

bool same_secret(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  }
  return diff == 0;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Response page(bhttp::status status, std::string_view title, std::string_view text) {
  Response res{status, 11};
  res.set(bhttp::field::content_type, "text/html; charset=utf-8");
  res.body() = "<h1>" + std::string(title) + "</h1><p>" + std::string(text) + "</p>";
  return res;
}

Response json_response(const nlohmann::json& j) {
  Response res{bhttp::status::ok, 11};
  res.set(bhttp::field::content_type, "application/json; charset=UTF-8");
  res.body() = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return res;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative wildcard match with one backtrack point: linear enough for short patterns.
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool client_allowed(const std::vector<std::string>& whitelist, const ip::address& a) {
  if (whitelist.empty()) return true;
  const std::string text = a.to_string();
  for (const auto& entry : whitelist) {
    if (a.is_v4()) {
      // Per octet, so "192.168.1.*" never matches "192.168.10.5" by accident of text.
      std::vector<std::string_view> want, have;
      auto split = [](std::string_view s, std::vector<std::string_view>& out) {
        std::size_t start = 0;
        for (std::size_t i = 0; i <= s.size(); ++i) {
          if (i == s.size() || s[i] == '.') {
            out.push_back(s.substr(start, i - start));
            start = i + 1;
          }
        }
      };
      split(entry, want);
      split(text, have);
      if (want.size() != 4) continue;
      bool ok = true;
      for (int i = 0; i < 4 && ok; ++i) ok = glob_match(want[i], have[i]);
      if (ok) return true;
    } else {
      boost::system::error_code ec;
      auto parsed = ip::make_address(entry, ec);
      if (!ec && parsed == a) return true;
      if (ec && glob_match(lower(entry), text)) return true;
    }
  }
  return false;
}

std::string host_of(std::string_view h) {
  while (!h.empty() && (h.front() == ' ' || h.front() == '\t')) h.remove_prefix(1);
  while (!h.empty() && (h.back() == ' ' || h.back() == '\t')) h.remove_suffix(1);
  if (!h.empty() && h.front() == '[') {
    auto close = h.find(']');
    if (close == std::string_view::npos) return std::string(h);
    return std::string(h.substr(1, close - 1));
  }
  auto colon = h.rfind(':');
  if (colon != std::string_view::npos && h.find(':') == colon) h = h.substr(0, colon);
  return std::string(h);
}

bool host_allowed(const std::vector<std::string>& whitelist, std::string_view host_header) {
  std::string host = host_of(host_header);
  if (!host.empty() && host.back() == '.') host.pop_back();  // "localhost." is localhost
  boost::system::error_code ec;
  ip::make_address(host, ec);
  if (!ec) return true;
  host = lower(host);
  if (host == "localhost") return true;
  constexpr std::string_view kSuffix = ".localhost";
  if (host.size() > kSuffix.size() && host.ends_with(kSuffix)) return true;
  for (const auto& entry : whitelist) {
    if (glob_match(lower(entry), host)) return true;
  }
  return false;
}

bool is_loopback_bind(const std::string& bind) {
  if (bind == "localhost") return true;
  boost::system::error_code ec;
  auto a = ip::make_address(bind, ec);
  return !ec && a.is_loopback();
}

HttpFrontend::HttpFrontend(boost::asio::io_context& io, const DaemonConfig& config, RpcHandler rpc)
    : config_(config), rpc_(std::move(rpc)), session_id_(random_session_id()) {
  loopback_bound_ = is_loopback_bind(config_.rpc_bind);
  base::http::ServerOptions o;
  o.host = config_.rpc_bind == "localhost" ? "127.0.0.1" : config_.rpc_bind;
  o.port = config_.rpc_port;
  o.body_limit = kRpcBodyLimit;
  o.server_name = "bttnode";
  server_ = std::make_unique<base::http::Server>(
      io, std::move(o),
      base::http::AsyncPeerHandler(
          [this](const Request& req, const ip::address& from, base::http::Reply reply) {
            handle(req, from, std::move(reply));
          }));
}

HttpFrontend::HttpFrontend(boost::asio::io_context& io, const DaemonConfig& config, RpcAnswer rpc)
    : HttpFrontend(
          io, config,
          RpcHandler([rpc = std::move(rpc)](const nlohmann::json& request, const RpcReply& reply) {
            reply(rpc(request));
          })) {}

HttpFrontend::~HttpFrontend() {
  stop();
}

void HttpFrontend::add_route(std::string path_prefix, Route r) {
  routes_.emplace_back(std::move(path_prefix), std::move(r));
}

void HttpFrontend::start() {
  server_->start();
}

void HttpFrontend::stop() {
  server_->stop();
}

std::uint16_t HttpFrontend::port() const {
  return server_->port();
}

void HttpFrontend::handle(const Request& req, const ip::address& from,
                          base::http::Reply reply) const {
  if (!client_allowed(config_.rpc_whitelist, from)) {
    return reply(page(bhttp::status::forbidden, "403: Forbidden",
                      "Unauthorized IP Address. Either disable the IP address whitelist or add "
                      "your address to it (rpc_whitelist)."));
  }
  if (!config_.rpc_username.empty() || !config_.rpc_password.empty()) {
    auto header = req[bhttp::field::authorization];
    auto given = base::http::parse_basic_auth(std::string_view(header.data(), header.size()));
    // Both compared in full: how far a guess matched does not show in the time taken.
    bool user_ok = given && same_secret(given->first, config_.rpc_username);
    bool pass_ok = given && same_secret(given->second, config_.rpc_password);
    if (!user_ok || !pass_ok) {
      Response res = page(bhttp::status::unauthorized, "401: Unauthorized", "Unauthorized User");
      res.set(bhttp::field::www_authenticate, "Basic realm=\"bttnode\"");
      return reply(std::move(res));
    }
  }
  if (loopback_bound_) {
    auto host = req.find(bhttp::field::host);
    if (host != req.end() &&
        !host_allowed(config_.rpc_host_whitelist,
                      std::string_view(host->value().data(), host->value().size()))) {
      Response res{bhttp::status::misdirected_request, 11};
      res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
      res.body() =
          "421: Misdirected Request\nThe server is bound to a loopback address and answers only "
          "requests for localhost or an IP address; the host name \"" +
          host_of(std::string_view(host->value().data(), host->value().size())) +
          "\" is not in rpc_host_whitelist. Add it there to allow it.\n";
      return reply(std::move(res));
    }
  }
  std::string_view target(req.target().data(), req.target().size());
  std::string_view path = target.substr(0, target.find('?'));
  if (path == "/transmission/rpc" || path == "/transmission/rpc/")
    return rpc(req, std::move(reply));
  for (const auto& [prefix, route] : routes_) {
    if (!path.starts_with(prefix)) continue;
    if (auto res = route(req)) return reply(std::move(*res));
  }
  reply(page(bhttp::status::not_found, "404: Not Found", "No such page."));
}

Response HttpFrontend::handle(const Request& req, const ip::address& from) const {
  std::optional<Response> answer;
  handle(req, from, [&answer](Response res) { answer = std::move(res); });
  if (!answer) throw std::logic_error("the answer to this request comes later");
  return std::move(*answer);
}

void HttpFrontend::rpc(const Request& req, base::http::Reply reply) const {
  auto given = req.find(kSessionIdHeader);
  if (given == req.end() || given->value() != session_id_) {
    Response res = page(bhttp::status::conflict, "409: Conflict",
                        "Your request had an invalid session-id header.</p><p>To fix this, "
                        "follow these steps:<ol><li> When reading a response, get its "
                        "X-Transmission-Session-Id header and remember it<li> Add the updated "
                        "header to your outgoing requests<li> When you get this 409 error "
                        "message, resend your request with the updated header</ol></p><p>"
                        "<code>X-Transmission-Session-Id: " +
                            session_id_ + "</code>");
    res.set(kSessionIdHeader, session_id_);
    return reply(std::move(res));
  }
  if (req.method() != bhttp::verb::post) {
    Response res = page(bhttp::status::method_not_allowed, "405: Method Not Allowed",
                        "The RPC is called with POST.");
    res.set(bhttp::field::allow, "POST");
    res.set(kSessionIdHeader, session_id_);
    return reply(std::move(res));
  }
  // A value nested a million deep is a lot of work and memory for no RPC: refused before
  // the parser builds anything.
  nlohmann::json request =
      tron::json_depth(req.body(), tron::kDefaultJsonDepth) <= tron::kDefaultJsonDepth
          ? nlohmann::json::parse(req.body(), nullptr, false)
          : nlohmann::json(nlohmann::json::value_t::discarded);
  auto send = [reply, id = session_id_](const nlohmann::json& answer) {
    Response res = json_response(answer);
    res.set(kSessionIdHeader, id);
    reply(std::move(res));
  };
  if (request.is_discarded() || !request.is_object()) {
    return send({{"arguments", nlohmann::json::object()}, {"result", "no method name"}});
  }
  try {
    rpc_(request, send);
  } catch (const std::exception& e) {
    nlohmann::json answer = {{"arguments", nlohmann::json::object()}, {"result", e.what()}};
    if (request.contains("tag")) answer["tag"] = request["tag"];
    send(answer);
  }
}

}  // namespace bttnode::daemon
