// bttnode seed TORRENT --data DIR [--port N] [--max-up-rate B/s]
//              [--keystore F [--network N] [--node URL] --token T --price N
//               [--credit BYTES] [--min-settle N] [--confirmations N] [--ledger DB] [--api-key K]]
#include <unistd.h>

#include <csignal>
#include <iostream>
#include <memory>
#include <optional>
#include <set>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "node/cli/args.hpp"
#include "node/cli/commands.hpp"
#include "node/cli/password.hpp"
#include "node/pay/options.hpp"
#include "node/pay/seller_service.hpp"
#include "node/cli/torrent_cli_common.hpp"
#include "p2p/metainfo/metainfo.hpp"
#include "p2p/session/session.hpp"
#include "p2p/torrent/torrent.hpp"
#include "wallet/keystore.hpp"

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
  std::set<std::string> known = {"data", "port", "max-up-rate", "password-file"};
  known.insert(sell_option_names().begin(), sell_option_names().end());
  args.allow_only(known);
  if (args.positionals().size() != 1) {
    throw UsageError(
        "usage: bttnode seed TORRENT --data DIR [--port N] [--max-up-rate B/s]\n"
        "         [--keystore F [--network mainnet|nile|devnet] [--node URL]\n"
        "          --token btt|bttold|trx|trc10:ID|trc20:ADDR --price N [--credit BYTES]\n"
        "          [--min-settle N] [--confirmations N] [--ledger DB] [--api-key K]]\n"
        "  amounts in base units (1000) or whole tokens (0.5btt, 0.001trx, 2bttold, 1.5token)");
  }
  std::string data = args.require("data");
  p2p::SessionSettings settings;
  if (auto port = args.get("port")) settings.listen_port = parse_port(*port);
  if (auto r = args.get("max-up-rate")) settings.max_upload_rate = parse_rate("max-up-rate", *r);
  auto pay_wallet = parse_pay_wallet(args);
  std::optional<pay::SellerSettings> sell;
  if (pay_wallet) {
    sell = parse_sell_options(args, &*pay_wallet);
    // The seeder never signs, so no password is asked; but only the password authenticates
    // the payout address (wallet/keystore.hpp), so it is checked when one is given.
    if (auto password = given_password(args)) {
      sell->addr = wallet::verified_keystore_address(pay_wallet->keystore, *password);
    } else {
      sell->addr = wallet::keystore_address(pay_wallet->keystore);
      std::cerr << "bttnode seed: warning: payout address " << sell->addr.to_base58()
                << " is not verified (no password given): whoever can write "
                << pay_wallet->keystore
                << " can redirect earnings. Set BTTNODE_PASSWORD or pass --password-file.\n";
    }
  }

  p2p::AddTorrentParams params;
  params.metainfo = p2p::load_metainfo(args.positionals()[0]);
  params.save_path = data;
  params.seed_only = true;
  if (!std::filesystem::is_directory(data)) {
    std::cerr << "bttnode seed: error: " << data << " is not a folder\n";
    return 1;
  }

  boost::asio::io_context io;
  std::unique_ptr<pay::SellerService> seller;
  if (sell) {
    // A payment the node does not know yet may still be on its way to it: wait that long.
    pay::VerifierOptions verifier;
    verifier.unknown_grace = std::chrono::seconds(15);
    seller = std::make_unique<pay::SellerService>(
        io, *sell, pay_wallet->node, pay_wallet->ledger,
        [](const std::string& line) { std::cout << line << std::endl; }, verifier);
    const std::int64_t piece_length = params.metainfo->piece_length;
    if (auto why = seller->check_terms(piece_length)) {
      std::cerr << "bttnode seed: error: these terms cannot work: " << *why << "\n";
      return 2;
    }
    const auto s = seller->settings_for(piece_length);
    std::cout << "btt_pay: selling at " << s.price.str() << " " << s.token.to_string()
              << " per MiB to " << s.addr.to_base58() << " (chain " << s.chain << "); first credit "
              << s.credit / pay::kMiB << " MiB, growing with a payer's record to "
              << s.max_credit / pay::kMiB << " MiB; settlements final in about "
              << s.settle_latency.count() << " ms" << std::endl;
  }
  p2p::Session session(io, settings);
  if (seller) {
    session.add_extension([&](p2p::Torrent& t) { return seller->extension_for(t); });
  }
  session.listen();
  std::cerr << "verifying " << params.metainfo->name << " in " << data << "\n";
  auto torrent = session.add_torrent(std::move(params));

  int exit_code = 0;
  bool shutting_down = false;
  auto shutdown = [&] {
    if (shutting_down) return;
    shutting_down = true;
    session.shutdown([&io] { io.stop(); });
  };
  TorrentWatch watch;
  watch.on_checked = [&] {
    if (torrent->num_have() == 0) {
      std::cerr << "bttnode seed: error: no verified data of the torrent in " << data << "\n";
      exit_code = 1;
      return shutdown();
    }
    if (!torrent->is_seed()) {
      std::cerr << "warning: only " << torrent->num_have() << " of " << torrent->num_pieces()
                << " pieces are present; seeding those\n";
    }
    std::cout << "seeding " << torrent->name() << " (" << torrent->num_have() << "/"
              << torrent->num_pieces() << " pieces) on port " << session.listen_port()
              << std::endl;
  };
  watch.on_error = [&](const std::string& why) {
    std::cerr << "bttnode seed: error: " << why << "\n";
    exit_code = 1;
    shutdown();
  };
  auto watching = watch_torrent(session, torrent->info_hash(), std::move(watch));
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
  if (seller) {
    seller->stop();
    std::cout << "earned " << seller->earned().str() << " " << seller->settings().token.to_string()
              << " in " << seller->payments() << " payments" << std::endl;
  }
  return exit_code;
}

}  // namespace bttnode
