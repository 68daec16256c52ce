#pragma once
// The daemon's one HTTP server: the Transmission RPC at /transmission/rpc (with or without
// the trailing slash) and the routes others add (dashboard, metrics). Every request passes,
// in this order: the client address whitelist (403), basic auth when a user or password is
// set (401 with WWW-Authenticate, which is what makes libcurl send the credentials), and,
// while bound to a loopback address, the Host header whitelist (421: a web page that renamed
// itself to 127.0.0.1 by DNS rebinding is refused even when it knows the password). The RPC
// also wants the X-Transmission-Session-Id it hands out in a 409 (a cross-site form cannot
// read it). Bodies up to 10 MiB.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <nlohmann/json.hpp>

#include "base/http_server.hpp"
#include "node/daemon/config.hpp"

namespace bttnode::daemon {

// One RPC request (the parsed body) to its answer, given to `reply` once, at once or later (a
// torrent-add that fetches a URL); runs on the server's thread.
using RpcReply = std::function<void(nlohmann::json answer)>;
using RpcHandler = std::function<void(const nlohmann::json& request, RpcReply reply)>;
// The same, answering at once.
using RpcAnswer = std::function<nlohmann::json(const nlohmann::json& request)>;
// A route answers the requests it knows; nullopt passes the request on (404 at the end).
using Route = std::function<std::optional<base::http::Response>(const base::http::Request&)>;

inline constexpr std::uint64_t kRpcBodyLimit = 10ull << 20;
inline constexpr const char* kSessionIdHeader = "X-Transmission-Session-Id";

class HttpFrontend {
 public:
  HttpFrontend(boost::asio::io_context& io, const DaemonConfig& config, RpcHandler rpc);
  HttpFrontend(boost::asio::io_context& io, const DaemonConfig& config, RpcAnswer rpc);
  ~HttpFrontend();
  HttpFrontend(const HttpFrontend&) = delete;
  HttpFrontend& operator=(const HttpFrontend&) = delete;

  // Before start(). Routes are tried in the order added, for paths starting with the prefix.
  void add_route(std::string path_prefix, Route r);
  // Throws std::runtime_error when the address cannot be bound.
  void start();
  void stop();
  std::uint16_t port() const;
  // A new random one each time the frontend is made.
  const std::string& session_id() const { return session_id_; }

  // The whole check and dispatch, without sockets; `reply` is called once.
  void handle(const base::http::Request& req, const boost::asio::ip::address& from,
              base::http::Reply reply) const;
  // The same for a request answered at once (500 if the answer is still to come).
  base::http::Response handle(const base::http::Request& req,
                              const boost::asio::ip::address& from) const;

 private:
  void rpc(const base::http::Request& req, base::http::Reply reply) const;

  DaemonConfig config_;
  RpcHandler rpc_;
  std::string session_id_;
  bool loopback_bound_ = false;
  std::vector<std::pair<std::string, Route>> routes_;
  std::unique_ptr<base::http::Server> server_;
};

// '*' matches any run of characters (within an octet for addresses: "192.168.*.*").
bool glob_match(std::string_view pattern, std::string_view text);
bool client_allowed(const std::vector<std::string>& whitelist, const boost::asio::ip::address& a);
// The host part of a Host header value ("[::1]:9091" -> "::1", "a.b:80" -> "a.b").
std::string host_of(std::string_view host_header);
bool host_allowed(const std::vector<std::string>& whitelist, std::string_view host_header);
bool is_loopback_bind(const std::string& bind);

}  // namespace bttnode::daemon
