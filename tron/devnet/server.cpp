#include "tron/devnet/server.hpp"

#include <iostream>

#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "tron/devnet/state_file.hpp"

namespace tron::devnet {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t kBodyLimit = 4 * 1024 * 1024;  // java-tron's default max message size
constexpr auto kIdleTimeout = std::chrono::seconds(60);

// One keep-alive connection: read a request, answer it, repeat.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<Service> service)
      : stream_(std::move(socket)), service_(std::move(service)) {}

  void run() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Session::do_read, shared_from_this()));
  }

 private:
  void do_read() {
    parser_.emplace();
    parser_->body_limit(kBodyLimit);
    stream_.expires_after(kIdleTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream) return close();
    if (ec == http::error::body_limit) return reply_error(http::status::payload_too_large);
    if (ec) return;  // timeout, reset or garbage: drop the connection
    const auto& req = parser_->get();
    std::string method(req.method_string());
    ApiReply reply;
    if (method == "OPTIONS") {
      reply.status = 200;
    } else {
      reply = service_->handle(method, std::string(req.target()), req.body());
    }
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(reply.status), req.version());
    res->set(http::field::server, "bttnode-devnet");
    res->set(http::field::content_type, "application/json; charset=utf-8");
    // java-tron nodes behind TronGrid answer browsers too; harmless for other clients.
    res->set(http::field::access_control_allow_origin, "*");
    res->set(http::field::access_control_allow_methods, "GET, POST, OPTIONS");
    res->set(http::field::access_control_allow_headers, "*");
    res->keep_alive(req.keep_alive());
    res->body() = reply.body.empty() ? std::string() : reply.body + "\n";
    res->prepare_payload();
    write(res);
  }

  void reply_error(http::status status) {
    auto res = std::make_shared<http::response<http::string_body>>(status, 11);
    res->set(http::field::content_type, "application/json; charset=utf-8");
    res->keep_alive(false);
    res->body() = "{\"Error\":\"request body too large\"}\n";
    res->prepare_payload();
    write(res);
  }

  void write(std::shared_ptr<http::response<http::string_body>> res) {
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
                        if (ec) return;
                        if (!res->keep_alive()) return self->close();
                        self->do_read();
                      });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<Service> service_;
};

}  // namespace

Server::Server(std::shared_ptr<Service> service, ServerOptions options)
    : service_(std::move(service)),
      options_(std::move(options)),
      ioc_(options_.threads),
      acceptor_(ioc_),
      block_timer_(ioc_) {}

Server::~Server() {
  try {
    stop();
  } catch (const std::exception& e) {
    std::cerr << "devnet: " << e.what() << "\n";
  }
}

void Server::start() {
  beast::error_code ec;
  auto address = asio::ip::make_address(options_.host, ec);
  if (ec) throw std::runtime_error("bad listen address " + options_.host);
  tcp::endpoint endpoint(address, options_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error("cannot listen on " + options_.host + ":" +
                             std::to_string(options_.port) + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint().port();
  service_->set_listen_port(port_);
  last_save_ = std::chrono::steady_clock::now();
  running_ = true;
  do_accept();
  schedule_block();
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    threads_.emplace_back([this] { ioc_.run(); });
  }
}

void Server::do_accept() {
  acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket s) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) std::make_shared<Session>(std::move(s), service_)->run();
    do_accept();
  });
}

void Server::schedule_block() {
  block_timer_.expires_after(options_.block_interval);
  block_timer_.async_wait([this](beast::error_code ec) {
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
  asio::post(ioc_, [this] {
    beast::error_code ec;
    acceptor_.close(ec);
    block_timer_.cancel();
  });
  ioc_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  // Nothing accepted is lost: what is pending goes into a last block before saving.
  if (service_->pending_count() > 0) service_->seal();
  save();
}

}  // namespace tron::devnet
