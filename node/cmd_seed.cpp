// bttnode seed TORRENT --data DIR [--port N] [--max-up-rate B/s]
#include <unistd.h>

#include <csignal>
#include <iostream>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "node/args.hpp"
#include "node/commands.hpp"
#include "node/torrent_cli_common.hpp"
#include "p2p/metainfo.hpp"
#include "p2p/session.hpp"
#include "p2p/torrent.hpp"

namespace bttnode {

namespace {

void status_loop(boost::asio::steady_timer& timer, const p2p::Torrent& t, int seconds) {
  timer.expires_after(std::chrono::seconds(seconds));
  timer.async_wait([&timer, &t, seconds](const boost::system::error_code& ec) {
    if (ec) return;
    auto c = t.counters();
    std::cerr << "seeding: uploaded " << human_bytes(double(c.payload_up)) << ", "
              << human_bytes(t.upload_rate()) << "/s, peers " << t.num_peers() << "\n";
    status_loop(timer, t, seconds);
  });
}

}  // namespace

int cmd_seed(int argc, char** argv, int first) {
  Args args(argc, argv, first, {});
  args.allow_only({"data", "port", "max-up-rate"});
  if (args.positionals().size() != 1) {
    throw UsageError("usage: bttnode seed TORRENT --data DIR [--port N] [--max-up-rate B/s]");
  }
  std::string data = args.require("data");
  p2p::SessionSettings settings;
  if (auto port = args.get("port")) settings.listen_port = parse_port(*port);
  if (auto r = args.get("max-up-rate")) settings.max_upload_rate = parse_rate("max-up-rate", *r);

  p2p::AddTorrentParams params;
  params.metainfo = p2p::load_metainfo(args.positionals()[0]);
  params.save_path = data;
  params.seed_only = true;
  if (!std::filesystem::is_directory(data)) {
    std::cerr << "bttnode seed: error: " << data << " is not a folder\n";
    return 1;
  }

  boost::asio::io_context io;
  p2p::Session session(io, settings);
  session.listen();
  std::cerr << "verifying " << params.metainfo->name << " in " << data << "\n";
  auto torrent = session.add_torrent(std::move(params));
  if (torrent->num_have() == 0) {
    std::cerr << "bttnode seed: error: no verified data of the torrent in " << data << "\n";
    return 1;
  }
  if (!torrent->is_seed()) {
    std::cerr << "warning: only " << torrent->num_have() << " of " << torrent->num_pieces()
              << " pieces are present; seeding those\n";
  }
  std::cout << "seeding " << torrent->name() << " (" << torrent->num_have() << "/"
            << torrent->num_pieces() << " pieces) on port " << session.listen_port()
            << std::endl;

  int exit_code = 0;
  bool shutting_down = false;
  auto shutdown = [&] {
    if (shutting_down) return;
    shutting_down = true;
    session.shutdown([&io] { io.stop(); });
  };
  torrent->on_error = [&](const std::string& why) {
    std::cerr << "bttnode seed: error: " << why << "\n";
    exit_code = 1;
    shutdown();
  };
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    std::cerr << "stopping: announcing to trackers\n";
    shutdown();
  });
  boost::asio::steady_timer status(io);
  status_loop(status, *torrent, isatty(2) ? 5 : 10);
  signal(SIGPIPE, SIG_IGN);
  io.run();
  auto c = torrent->counters();
  std::cerr << "uploaded " << human_bytes(double(c.payload_up)) << "\n";
  return exit_code;
}

}  // namespace bttnode
