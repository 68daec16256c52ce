#pragma once
// The devnet's HTTP server: base::http::Server (keep-alive connections served concurrently
// by a small thread pool) in front of the Service, a timer that seals a block every interval, and
// periodic atomic saves of the chain when a state file is given.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "base/http_server.hpp"

#include "tron/devnet/service.hpp"

namespace tron::devnet {

struct ServerOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 0;  // 0: any free port
  std::chrono::milliseconds block_interval{3000};
  std::string state_path;  // empty: nothing is saved
  std::chrono::milliseconds save_interval{5000};
  int threads = 2;
};

class Server {
 public:
  Server(std::shared_ptr<Service> service, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts serving on background threads. Throws std::runtime_error if the address
  // cannot be bound.
  void start();
  // Stops accepting, finishes, seals what is pending and saves the state (if any).
  void stop();
  unsigned short port() const { return port_; }
  boost::asio::io_context& io() { return ioc_; }
  // Writes the state file now (no-op without one). Throws on I/O errors.
  void save();

 private:
  void schedule_block();

  std::shared_ptr<Service> service_;
  ServerOptions options_;
  boost::asio::io_context ioc_;
  std::unique_ptr<base::http::Server> http_;
  boost::asio::steady_timer block_timer_;
  std::vector<std::thread> threads_;
  unsigned short port_ = 0;
  std::chrono::steady_clock::time_point last_save_;
  bool running_ = false;
};

}  // namespace tron::devnet
