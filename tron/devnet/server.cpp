#include "tron/devnet/server.hpp"

#include <iostream>

#include <boost/asio/post.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "tron/devnet/state_file.hpp"

namespace tron::devnet {

namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

constexpr std::size_t kBodyLimit = 4 * 1024 * 1024;  // java-tron's default max message size

base::http::Response json_response(unsigned status, std::string body) {
  base::http::Response res{static_cast<http::status>(status), 11};
  res.set(http::field::server, "bttnode-devnet");
  res.set(http::field::content_type, "application/json; charset=utf-8");
  // java-tron nodes behind TronGrid answer browsers too; harmless for other clients.
  res.set(http::field::access_control_allow_origin, "*");
  res.set(http::field::access_control_allow_methods, "GET, POST, OPTIONS");
  res.set(http::field::access_control_allow_headers, "*");
  res.body() = std::move(body);
  return res;
}

}  // namespace

Server::Server(std::shared_ptr<Service> service, ServerOptions options)
    : service_(std::move(service)),
      options_(std::move(options)),
      ioc_(options_.threads),
      block_timer_(ioc_) {
  base::http::ServerOptions http_options;
  http_options.host = options_.host;
  http_options.port = options_.port;
  http_options.header_limit = 64u << 10;
  http_options.body_limit = kBodyLimit;
  http_options.request_timeout = std::chrono::seconds(60);
  http_options.idle_timeout = std::chrono::seconds(60);
  http_options.max_connections = 512;
  http_options.server_name = "bttnode-devnet";
  http_options.error_page = [](unsigned status, std::string_view why) {
    return json_response(status, nlohmann::json{{"Error", std::string(why)}}.dump() + "\n");
  };
  http_ = std::make_unique<base::http::Server>(
      ioc_, std::move(http_options), [service = service_](const base::http::Request& req) {
        if (req.method() == http::verb::options) return json_response(200, "");
        ApiReply reply = service->handle(std::string(req.method_string()),
                                         std::string(req.target()), req.body());
        return json_response(reply.status, reply.body.empty() ? std::string() : reply.body + "\n");
      });
}

Server::~Server() {
  try {
    stop();
  } catch (const std::exception& e) {
    std::cerr << "devnet: " << e.what() << "\n";
  }
}

void Server::start() {
  http_->start();
  port_ = http_->port();
  service_->set_listen_port(port_);
  last_save_ = std::chrono::steady_clock::now();
  running_ = true;
  schedule_block();
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    threads_.emplace_back([this] { ioc_.run(); });
  }
}

void Server::schedule_block() {
  block_timer_.expires_after(options_.block_interval);
  block_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    service_->seal();
    if (!options_.state_path.empty() &&
        std::chrono::steady_clock::now() - last_save_ >= options_.save_interval) {
      try {
        save();
      } catch (const std::exception& e) {
        std::cerr << "devnet: " << e.what() << "\n";
      }
    }
    schedule_block();
  });
}

void Server::save() {
  if (options_.state_path.empty()) return;
  write_file_atomically(options_.state_path, service_->state_json());
  last_save_ = std::chrono::steady_clock::now();
}

void Server::stop() {
  if (!running_) return;
  running_ = false;
  http_->stop();
  asio::post(ioc_, [this] { block_timer_.cancel(); });
  ioc_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  // Nothing accepted is lost: what is pending goes into a last block before saving.
  if (service_->pending_count() > 0) service_->seal();
  save();
}

}  // namespace tron::devnet
