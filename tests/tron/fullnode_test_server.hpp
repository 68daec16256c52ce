#pragma once
// A small scripted HTTP(S) server on 127.0.0.1 for the full-node client's transport tests: it
// answers, drops the connection, stays silent or cuts an answer short, as each test asks.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include "tron/fullnode_client.hpp"

namespace tron::testing {

struct SeenRequest {
  std::string target;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  int connection = 0;                          // 1 for the first accepted connection, ...
  std::string sni;                             // server name the TLS client sent
};

struct Reply {
  enum class Action {
    Respond,               // send the answer
    Drop,                  // close the connection without answering
    Reset,                 // reset the connection (RST) without answering
    Silent,                // keep the connection open, never answer
    Truncate,              // send the headers and half the body, then close
    RespondThenIdleClose,  // answer (keep-alive), then close quietly as an idle server does
  };
  Action action = Action::Respond;
  unsigned status = 200;
  std::string body = "{}";
  bool keep_alive = true;
};

class TestHttpServer {
 public:
  using Handler = std::function<Reply(const SeenRequest&)>;

  // With `tls` set, connections are TLS with that context.
  explicit TestHttpServer(Handler handler, std::shared_ptr<boost::asio::ssl::context> tls = {})
      : handler_(std::move(handler)), tls_(std::move(tls)), acceptor_(ioc_) {
    using boost::asio::ip::tcp;
    tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept();
    thread_ = std::thread([this] { ioc_.run(); });
  }

  // Stops the loop; sessions still pending are destroyed with the io_context, which closes
  // their sockets.
  ~TestHttpServer() {
    ioc_.stop();
    thread_.join();
  }

  std::uint16_t port() const { return port_; }
  std::string url() const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
  }
  int connections() const { return connections_.load(); }
  std::vector<SeenRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  using tcp = boost::asio::ip::tcp;

  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) return;
      int id = ++connections_;
      if (tls_) {
        auto stream =
            std::make_shared<boost::beast::ssl_stream<tcp::socket>>(std::move(socket), *tls_);
        stream->async_handshake(boost::asio::ssl::stream_base::server,
                                [this, stream, id](boost::system::error_code ec) {
                                  if (ec) return;  // the client refused us: nothing to serve
                                  const char* name = SSL_get_servername(stream->native_handle(),
                                                                        TLSEXT_NAMETYPE_host_name);
                                  serve(stream, id, name ? name : "");
                                });
      } else {
        auto stream = std::make_shared<tcp::socket>(std::move(socket));
        serve(stream, id, "");
      }
      accept();
    });
  }

  template <class Stream>
  void serve(std::shared_ptr<Stream> stream, int id, std::string sni) {
    namespace http = boost::beast::http;
    auto buffer = std::make_shared<boost::beast::flat_buffer>();
    auto request = std::make_shared<http::request<http::string_body>>();
    http::async_read(
        *stream, *buffer, *request,
        [this, stream, buffer, request, id, sni](boost::system::error_code ec, std::size_t) {
          if (ec) return;
          SeenRequest seen;
          seen.target = std::string(request->target());
          seen.body = request->body();
          for (const auto& field : *request) {
            std::string name(field.name_string());
            for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            seen.headers[name] = std::string(field.value());
          }
          seen.connection = id;
          seen.sni = sni;
          {
            std::lock_guard lock(mutex_);
            requests_.push_back(seen);
          }
          Reply reply = handler_(seen);
          act(stream, buffer, id, sni, reply);
        });
  }

  template <class Stream>
  void act(std::shared_ptr<Stream> stream, std::shared_ptr<boost::beast::flat_buffer> buffer,
           int id, std::string sni, const Reply& reply) {
    namespace http = boost::beast::http;
    using Action = Reply::Action;
    auto& socket = boost::beast::get_lowest_layer(*stream);
    boost::system::error_code ignored;
    switch (reply.action) {
      case Action::Drop:
        socket.shutdown(tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
        return;
      case Action::Reset:
        socket.set_option(boost::asio::socket_base::linger(true, 0), ignored);
        socket.close(ignored);
        return;
      case Action::Silent:
        silent_.push_back(stream);  // kept open until the server stops
        return;
      case Action::Truncate: {
        auto text = std::make_shared<std::string>(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
            std::to_string(reply.body.size()) + "\r\n\r\n" +
            reply.body.substr(0, reply.body.size() / 2));
        boost::asio::async_write(*stream, boost::asio::buffer(*text),
                                 [stream, text](boost::system::error_code, std::size_t) {
                                   boost::system::error_code ignored;
                                   auto& s = boost::beast::get_lowest_layer(*stream);
                                   s.shutdown(tcp::socket::shutdown_both, ignored);
                                   s.close(ignored);
                                 });
        return;
      }
      case Action::Respond:
      case Action::RespondThenIdleClose: {
        auto response = std::make_shared<http::response<http::string_body>>(
            static_cast<http::status>(reply.status), 11);
        response->set(http::field::content_type, "application/json");
        response->body() = reply.body;
        response->keep_alive(reply.keep_alive);
        response->prepare_payload();
        bool idle_close = reply.action == Action::RespondThenIdleClose;
        http::async_write(*stream, *response,
                          [this, stream, buffer, response, id, sni, idle_close](
                              boost::system::error_code ec, std::size_t) {
                            auto& s = boost::beast::get_lowest_layer(*stream);
                            boost::system::error_code ignored;
                            if (ec || !response->keep_alive() || idle_close) {
                              s.shutdown(tcp::socket::shutdown_both, ignored);
                              s.close(ignored);
                              return;
                            }
                            serve(stream, id, sni);
                          });
        return;
      }
    }
  }

  Handler handler_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  boost::asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<int> connections_{0};
  mutable std::mutex mutex_;
  std::vector<SeenRequest> requests_;
  std::vector<std::shared_ptr<void>> silent_;
};

// Client options for a test server: its URL, a timeout, and retries with a backoff.
inline FullNodeOptions options_for(
    const TestHttpServer& server, std::chrono::milliseconds timeout = std::chrono::seconds(5),
    int retries = 3, std::chrono::milliseconds backoff = std::chrono::milliseconds(100)) {
  FullNodeOptions o;
  o.url = server.url();
  o.timeout = timeout;
  o.retries = retries;
  o.backoff = backoff;
  return o;
}

}  // namespace tron::testing
