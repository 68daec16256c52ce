// bttnode download TORRENT|MAGNET --out DIR: a client of the node runtime that downloads one
// torrent, paying for it when a keystore is given. Options and help: node/cli/cli.cpp.
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <iostream>
#include <optional>

#include <boost/asio/steady_timer.hpp>

#include "node/cli/args.hpp"
#include "node/cli/commands.hpp"
#include "node/cli/torrent_cli_common.hpp"
#include "node/pay/options.hpp"
#include "node/runtime/node.hpp"
#include "p2p/metainfo/magnet.hpp"
#include "p2p/metainfo/metainfo.hpp"

namespace bttnode {

int cmd_download(const Args& args) {
  if (args.positionals().size() != 1) throw UsageError("expected one TORRENT or MAGNET");
  NodeSettings settings = node_settings_from(args);
  if (args.has("dump-config")) {
    std::cout << node_settings_table().dump(settings).dump(2) << std::endl;
    return 0;
  }
  auto pay_wallet = parse_pay_wallet(args, settings);
  std::optional<BuyOptions> buy;
  if (pay_wallet) {
    buy = parse_buy_options(args, &*pay_wallet, settings.buy);
    buy->settings.fee_cap_per_gib = buy->fee_cap_sun_per_gib;
    buy->settings.stop_over_fee_cap = buy->stop_over_fee_cap;
  }
  std::filesystem::path out = args.require("out");
  const bool seed_after = args.has("seed-after");

  Node node(settings, [](const std::string& line) { std::cout << line << std::endl; });
  TorrentRequest request;
  p2p::AddTorrentParams& params = request.params;
  const std::string& source = args.positionals()[0];
  if (p2p::is_magnet_uri(source)) {
    auto link = p2p::parse_magnet(source);
    params.info_hash = link.info_hash;
    params.name = link.display_name;
    for (auto& tr : link.trackers) params.trackers.push_back({tr});
    for (auto& pe : link.peers) {
      try {
        for (auto& ep : resolve_peer(node.io(), pe)) params.peers.push_back(ep);
      } catch (const UsageError&) {
        // A bad x.pe in a link is not the user's typo: skip it.
      }
    }
  } else {
    params.metainfo = p2p::load_metainfo(source);
  }
  for (auto& peer : args.all("peer")) {
    for (auto& ep : resolve_peer(node.io(), peer)) params.peers.push_back(ep);
  }
  std::error_code fec;
  std::filesystem::create_directories(out, fec);
  if (fec) {
    std::cerr << "bttnode download: error: cannot create " << out << ": " << fec.message() << "\n";
    return 1;
  }
  params.save_path = out;
  if (buy) {
    request.buy = BuyTerms{buy->settings, buy->budget, open_pay_key(args, *pay_wallet),
                           pay_wallet->node, pay_wallet->ledger, nullptr};
  }

  node.listen();
  Node::Torrent& entry = node.add_torrent(std::move(request));
  auto& torrent = entry.torrent;

  int exit_code = 1;
  if (entry.buyer) {
    entry.buyer->on_stop = [&](const std::string& why) {
      std::cerr << "bttnode download: stopped: " << why << "\n";
      exit_code = 3;
      node.stop();
    };
  }
  bool done = false;
  const bool tty = isatty(2);
  TorrentWatch watch;
  watch.on_complete = [&] {
    done = true;
    exit_code = 0;
    if (tty) std::cerr << "\r" << status_line(*torrent, true) << "\n";
    std::cout << "complete: " << torrent->name() << " (" << torrent->num_pieces()
              << " pieces verified)" << std::endl;
    // Settle what every paying seeder is owed before leaving (or seeding on).
    node.settle(entry, [&] {
      if (!seed_after) node.stop();
    });
    if (seed_after) std::cerr << "seeding until interrupted\n";
  };
  watch.on_error = [&](const std::string& why) {
    std::cerr << (tty ? "\n" : "") << "bttnode download: error: " << why << "\n";
    exit_code = 1;
    node.stop();
  };
  watch.on_ban = [&](const std::string& who, const std::string& why) {
    std::cerr << (tty ? "\r" : "") << "banned " << who << ": " << why << "\n";
  };
  watch.on_metadata = [&] {
    std::cerr << (tty ? "\r" : "") << "metadata received: " << torrent->name() << " ("
              << torrent->num_pieces() << " pieces)\n";
  };
  auto watching = watch_torrent(node.session(), torrent->info_hash(), std::move(watch));
  node.on_signal = [&] {
    if (!done) {
      std::cerr << "\ninterrupted before the download finished\n";
      exit_code = 130;
    }
    node.stop();
  };
  boost::asio::steady_timer status(node.io());
  int ticks = 0;
  std::function<void()> loop = [&] {
    status.expires_after(std::chrono::seconds(1));
    status.async_wait([&](const boost::system::error_code& ec) {
      if (ec || node.stopping()) return;
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
  node.run();
  if (auto& buyer = entry.buyer) {
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
