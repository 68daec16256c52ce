// bttnode run [--config FILE]: the seedbox daemon, many torrents in one node, kept in the
// state folder across restarts, driven over the Transmission RPC. Options and help:
// node/cli/cli.cpp.
#include <malloc.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <random>

#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "base/hex.hpp"
#include "node/cli/args.hpp"
#include "node/cli/commands.hpp"
#include "node/daemon/config.hpp"
#include "node/daemon/daemon.hpp"
#include "node/daemon/state_store.hpp"
#include "node/runtime/node.hpp"

// The control API comes with the HTTP frontend and the RPC methods; the dashboard and the
// metrics are routes of the same server, when they are in the tree.
#if __has_include("node/daemon/http_frontend.hpp") && __has_include("node/daemon/rpc_methods.hpp")
#include "node/daemon/http_frontend.hpp"
#include "node/daemon/rpc_methods.hpp"
#define BTTNODE_HAVE_HTTP_FRONTEND 1
#if __has_include("node/daemon/metrics.hpp")
#include "node/daemon/metrics.hpp"
#define BTTNODE_HAVE_METRICS 1
#endif
#if __has_include("node/daemon/dashboard.hpp")
#include "node/daemon/dashboard.hpp"
#define BTTNODE_HAVE_DASHBOARD 1
#endif
#endif

namespace bttnode {

namespace {

namespace fs = std::filesystem;

std::string random_password() {
  std::random_device rd;
  std::uint8_t bytes[12];
  for (auto& b : bytes) b = std::uint8_t(rd());
  return base::to_hex(std::span<const std::uint8_t>(bytes, sizeof bytes));
}

// The RPC password when the config names none: made once, kept (0600) in the state folder.
std::string stored_password(const fs::path& state_dir, bool& made) {
  const fs::path file = state_dir / "rpc-password";
  made = false;
  if (auto text = daemon::read_file(file, 4096)) {
    auto end = text->find_last_not_of(" \r\n\t");
    if (end != std::string::npos) return text->substr(0, end + 1);
  }
  std::string pw = random_password();
  fs::create_directories(state_dir);
  daemon::write_file_atomic(file, pw + "\n", fs::perms::owner_read | fs::perms::owner_write);
  made = true;
  return pw;
}

// Hands the heap's free memory back to the kernel when it grew by a MiB since the last
// time (checked every few seconds): adding thousands of torrents and answering RPC for all
// of them leaves freed blocks between live ones, which glibc keeps mapped (and counted in
// RSS) otherwise.
constexpr std::size_t kTrimAbove = 1u << 20;
void schedule_trim(boost::asio::steady_timer& timer, std::size_t free_after_last = 0) {
  timer.expires_after(std::chrono::seconds(2));
  timer.async_wait([&timer, free_after_last](const boost::system::error_code& ec) {
    if (ec) return;
    std::size_t free_now = mallinfo2().fordblks;
    if (free_now > free_after_last + kTrimAbove) {
      malloc_trim(0);
      schedule_trim(timer, mallinfo2().fordblks);
    } else {
      schedule_trim(timer, std::min(free_now, free_after_last));
    }
  });
}

}  // namespace

int cmd_run(const Args& args) {
  if (!args.positionals().empty()) throw UsageError("run takes no positional arguments");
  daemon::DaemonConfig config;
  const auto path = args.get("config");
  try {
    config = path ? daemon::load_config(*path) : daemon::parse_config(nlohmann::json::object());
  } catch (const daemon::ConfigError& e) {
    std::cerr << "bttnode run: " << e.what() << "\n";
    return 2;
  }
  if (args.has("dump-config")) {
    std::cout << daemon::dump_config(config).dump(2) << std::endl;
    return 0;
  }
  if (!path) {
    std::cout << "no --config: data in " << daemon::default_data_dir().string() << " (downloads in "
              << config.download_dir.string() << ", state in " << config.state_dir.string() << ")"
              << std::endl;
  }
  if (config.rpc_enabled) {
    if (config.rpc_username.empty()) config.rpc_username = "bttnode";
    if (config.rpc_password.empty()) {
      bool made = false;
      config.rpc_password = stored_password(config.state_dir, made);
      std::cout << "rpc credentials: user " << config.rpc_username << ", password "
                << config.rpc_password << " (" << (made ? "made now, " : "") << "kept in "
                << (config.state_dir / "rpc-password").string() << ")" << std::endl;
    }
  }

  Node node(config.node, [](const std::string& line) { std::cout << line << std::endl; });
  try {
    node.listen();
  } catch (const std::system_error& e) {
    std::cerr << "bttnode run: peer port " << config.peer_port << ": " << e.what() << "\n";
    return 1;
  }
  std::cout << "peer port " << node.listen_port() << std::endl;
  if (config.port_forwarding) node.start_port_mapping();
  std::unique_ptr<daemon::Daemon> d;
  try {
    d = std::make_unique<daemon::Daemon>(node, config);
  } catch (const daemon::DaemonError& e) {
    std::cerr << "bttnode run: " << e.what() << "\n";
    return 1;
  }
  std::cout << d->torrents().size() << " torrents in " << config.state_dir.string() << std::endl;

#ifdef BTTNODE_HAVE_HTTP_FRONTEND
  // The control API, dashboard and metrics, on the node's thread.
  std::unique_ptr<daemon::RpcMethods> methods;
  std::unique_ptr<daemon::HttpFrontend> http;
  if (config.rpc_enabled) {
    http = std::make_unique<daemon::HttpFrontend>(
        node.io(), config, [&methods](const nlohmann::json& r, daemon::RpcReply reply) {
          methods->handle(r, std::move(reply));
        });
    daemon::RpcMethods::Options options;
    options.session_id = http->session_id();
    methods = std::make_unique<daemon::RpcMethods>(*d, options);
#ifdef BTTNODE_HAVE_METRICS
    http->add_route("/metrics", daemon::metrics_route(*d));
#endif
#ifdef BTTNODE_HAVE_DASHBOARD
    http->add_route("/", daemon::dashboard_route());
#endif
    try {
      http->start();
    } catch (const std::exception& e) {
      std::cerr << "bttnode run: rpc " << config.rpc_bind << ":" << config.rpc_port << ": "
                << e.what() << "\n";
      return 1;
    }
    std::cout << "rpc listening on " << config.rpc_bind << ":" << http->port() << " (http://"
              << config.rpc_bind << ":" << http->port() << "/transmission/rpc)" << std::endl;
  }
#else
  // The HTTP frontend (Transmission RPC, dashboard, metrics) hooks in here: it runs on
  // node.io() against *d and is stopped before the daemon shuts down.
  if (config.rpc_enabled) {
    std::cout << "rpc: not built into this binary (would listen on http://" << config.rpc_bind
              << ":" << config.rpc_port << "/transmission/rpc)" << std::endl;
  }
#endif

  bool signalled = false;
  node.on_signal = [&] {
    if (signalled) return;
    signalled = true;
    std::cout << "stopping: settling payments and writing state" << std::endl;
#ifdef BTTNODE_HAVE_HTTP_FRONTEND
    if (http) http->stop();
#endif
    d->shutdown([] { std::cout << "stopped" << std::endl; });
  };
  boost::asio::steady_timer trim_timer(node.io());
  schedule_trim(trim_timer);
  node.run();
  return 0;
}

}  // namespace bttnode
