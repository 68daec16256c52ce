// bttnode download TORRENT|MAGNET --out DIR [--port N] [--peer HOST:PORT]... [--seed-after]
//                  [--max-down-rate B/s] [--max-up-rate B/s]
//                  [--keystore F [--network N] [--node URL] --token T --max-price N [--budget N]
//                   [--fee-cap TRX] [--over-fee-cap free|stop] [--ledger DB]
//                   [--password-file F] [--api-key K]]
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <set>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "node/cli/args.hpp"
#include "node/cli/commands.hpp"
#include "node/pay/buyer_service.hpp"
#include "node/pay/options.hpp"
#include "node/cli/torrent_cli_common.hpp"
#include "p2p/metainfo/magnet.hpp"
#include "p2p/metainfo/metainfo.hpp"
#include "p2p/session/session.hpp"
#include "p2p/torrent/torrent.hpp"

namespace bttnode {

int cmd_download(int argc, char** argv, int first) {
  Args args(argc, argv, first, {"seed-after"});
  std::set<std::string> known = {"out",        "port",          "peer",
                                 "seed-after", "max-down-rate", "max-up-rate"};
  known.insert(buy_option_names().begin(), buy_option_names().end());
  args.allow_only(known);
  if (args.positionals().size() != 1) {
    throw UsageError(
        "usage: bttnode download TORRENT|MAGNET --out DIR [--port N] [--peer HOST:PORT]... "
        "[--seed-after] [--max-down-rate B/s] [--max-up-rate B/s]\n"
        "         [--keystore F [--network mainnet|nile|devnet] [--node URL]\n"
        "          --token btt|bttold|trx|trc10:ID|trc20:ADDR --max-price N [--budget N]\n"
        "          [--fee-cap TRX_PER_GIB] [--over-fee-cap free|stop] [--ledger DB]\n"
        "          [--password-file F] [--api-key K]]\n"
        "  amounts in base units (1000) or whole tokens (0.5btt, 0.001trx, 2bttold, 1.5token)");
  }
  auto pay_wallet = parse_pay_wallet(args);
  std::optional<BuyOptions> buy;
  if (pay_wallet) {
    buy = parse_buy_options(args, &*pay_wallet);
    buy->settings.fee_cap_per_gib = buy->fee_cap_sun_per_gib;
    buy->settings.stop_over_fee_cap = buy->stop_over_fee_cap;
  }
  std::filesystem::path out = args.require("out");
  p2p::SessionSettings settings;
  if (auto port = args.get("port")) settings.listen_port = parse_port(*port);
  if (auto r = args.get("max-up-rate")) settings.max_upload_rate = parse_rate("max-up-rate", *r);
  if (auto r = args.get("max-down-rate")) {
    settings.max_download_rate = parse_rate("max-down-rate", *r);
  }
  bool seed_after = args.has("seed-after");

  boost::asio::io_context io;
  p2p::AddTorrentParams params;
  const std::string& source = args.positionals()[0];
  if (p2p::is_magnet_uri(source)) {
    auto link = p2p::parse_magnet(source);
    params.info_hash = link.info_hash;
    params.name = link.display_name;
    for (auto& tr : link.trackers) params.trackers.push_back({tr});
    for (auto& pe : link.peers) {
      try {
        for (auto& ep : resolve_peer(io, pe)) params.peers.push_back(ep);
      } catch (const UsageError&) {
        // A bad x.pe in a link is not the user's typo: skip it.
      }
    }
  } else {
    params.metainfo = p2p::load_metainfo(source);
  }
  for (auto& peer : args.all("peer")) {
    for (auto& ep : resolve_peer(io, peer)) params.peers.push_back(ep);
  }
  std::error_code fec;
  std::filesystem::create_directories(out, fec);
  if (fec) {
    std::cerr << "bttnode download: error: cannot create " << out << ": " << fec.message() << "\n";
    return 1;
  }
  params.save_path = out;

  std::unique_ptr<pay::BuyerService> buyer;
  if (buy) {
    auto key = open_pay_key(args, *pay_wallet);
    buyer = std::make_unique<pay::BuyerService>(
        io, buy->settings, key, pay_wallet->node, pay_wallet->ledger, buy->budget,
        [](const std::string& line) { std::cout << line << std::endl; });
    // Payments an earlier run left unfinished go out first, with their signed bytes.
    buyer->recover();
  }
  p2p::Session session(io, settings);
  if (buyer) {
    session.add_extension([&](p2p::Torrent& t) { return buyer->extension_for(t); });
  }
  session.listen();
  auto torrent = session.add_torrent(std::move(params));

  int exit_code = 1;
  std::function<void()> stop_now;
  if (buyer) {
    buyer->on_stop = [&](const std::string& why) {
      std::cerr << "bttnode download: stopped: " << why << "\n";
      exit_code = 3;
      if (stop_now) stop_now();
    };
  }
  bool done = false;
  bool shutting_down = false;
  auto shutdown = [&] {
    if (shutting_down) return;
    shutting_down = true;
    session.shutdown([&io] { io.stop(); });
  };
  stop_now = shutdown;
  bool tty = isatty(2);
  TorrentWatch watch;
  watch.on_complete = [&] {
    done = true;
    exit_code = 0;
    if (tty) std::cerr << "\r" << status_line(*torrent, true) << "\n";
    std::cout << "complete: " << torrent->name() << " (" << torrent->num_pieces()
              << " pieces verified)" << std::endl;
    if (buyer) {
      // Settle what every paying seeder is owed before leaving (or seeding on).
      buyer->finish(
          [&] {
            if (!seed_after) shutdown();
          },
          std::chrono::seconds(45));
      if (seed_after) std::cerr << "seeding until interrupted\n";
    } else if (!seed_after) {
      shutdown();
    } else {
      std::cerr << "seeding until interrupted\n";
    }
  };
  watch.on_error = [&](const std::string& why) {
    std::cerr << (tty ? "\n" : "") << "bttnode download: error: " << why << "\n";
    exit_code = 1;
    shutdown();
  };
  watch.on_ban = [&](const std::string& who, const std::string& why) {
    std::cerr << (tty ? "\r" : "") << "banned " << who << ": " << why << "\n";
  };
  watch.on_metadata = [&] {
    std::cerr << (tty ? "\r" : "") << "metadata received: " << torrent->name() << " ("
              << torrent->num_pieces() << " pieces)\n";
  };
  auto watching = watch_torrent(session, torrent->info_hash(), std::move(watch));
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (!done) {
      std::cerr << "\ninterrupted before the download finished\n";
      exit_code = 130;
    }
    shutdown();
  });
  boost::asio::steady_timer status(io);
  int ticks = 0;
  std::function<void()> loop = [&] {
    status.expires_after(std::chrono::seconds(1));
    status.async_wait([&](const boost::system::error_code& ec) {
      if (ec || shutting_down) return;
      ++ticks;
      if (tty) {
        std::cerr << "\r" << status_line(*torrent, true) << "\x1b[K" << std::flush;
      } else if (ticks % 5 == 0) {
        std::cerr << status_line(*torrent, false) << "\n";
      }
      loop();
    });
  };
  loop();
  signal(SIGPIPE, SIG_IGN);
  io.run();
  if (buyer) {
    buyer->stop();
    if (buyer->met_seller()) {
      std::cout << "btt_pay: paid " << buyer->paid().str() << " "
                << buyer->settings().token.to_string() << " in " << buyer->payments()
                << " payments";
      if (buyer->pending() > 0) std::cout << " (" << buyer->pending() << " pending)";
      std::cout << std::endl;
    }
  }
  return exit_code;
}

}  // namespace bttnode
