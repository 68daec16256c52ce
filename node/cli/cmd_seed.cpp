// bttnode seed TORRENT --data DIR: a client of the node runtime that seeds one torrent, selling
// it when a keystore is given. Options and help: node/cli/cli.cpp.
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <optional>

#include <boost/asio/steady_timer.hpp>

#include "node/cli/args.hpp"
#include "node/cli/commands.hpp"
#include "node/cli/password.hpp"
#include "node/cli/torrent_cli_common.hpp"
#include "node/pay/options.hpp"
#include "node/runtime/node.hpp"
#include "p2p/metainfo/metainfo.hpp"
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

int cmd_seed(const Args& args) {
  if (args.positionals().size() != 1) throw UsageError("expected one TORRENT");
  NodeSettings settings = node_settings_from(args);
  if (args.has("dump-config")) {
    std::cout << node_settings_table().dump(settings).dump(2) << std::endl;
    return 0;
  }
  std::string data = args.require("data");
  TorrentRequest request;
  if (auto pay_wallet = parse_pay_wallet(args, settings)) {
    pay::SellerSettings sell = parse_sell_options(args, &*pay_wallet, settings.sell);
    // The seeder never signs, so no password is asked; but only the password authenticates
    // the payout address (wallet/keystore.hpp), so it is checked when one is given.
    if (auto password = given_password(args)) {
      sell.addr = wallet::verified_keystore_address(pay_wallet->keystore, *password);
    } else {
      sell.addr = wallet::keystore_address(pay_wallet->keystore);
      std::cerr << "bttnode seed: warning: payout address " << sell.addr.to_base58()
                << " is not verified (no password given): whoever can write "
                << pay_wallet->keystore
                << " can redirect earnings. Set BTTNODE_PASSWORD or pass --password-file.\n";
    }
    request.sell = SellTerms{std::move(sell), pay_wallet->node, pay_wallet->ledger};
  }
  request.params.metainfo = p2p::load_metainfo(args.positionals()[0]);
  request.params.save_path = data;
  request.params.seed_only = true;
  if (!std::filesystem::is_directory(data)) {
    std::cerr << "bttnode seed: error: " << data << " is not a folder\n";
    return 1;
  }
  const std::string name = request.params.metainfo->name;
  const std::int64_t piece_length = request.params.metainfo->piece_length;

  Node node(settings, [](const std::string& line) { std::cout << line << std::endl; });
  node.listen();
  std::cerr << "verifying " << name << " in " << data << "\n";
  Node::Torrent* entry = nullptr;
  try {
    entry = &node.add_torrent(std::move(request));
  } catch (const std::invalid_argument& e) {
    std::cerr << "bttnode seed: error: " << e.what() << "\n";
    return 2;
  }
  auto& torrent = entry->torrent;
  if (entry->seller) {
    const auto s = entry->seller->settings_for(piece_length);
    std::cout << "btt_pay: selling at " << s.price.str() << " " << s.token.to_string()
              << " per MiB to " << s.addr.to_base58() << " (chain " << s.chain << "); first credit "
              << s.credit / pay::kMiB << " MiB, growing with a payer's record to "
              << s.max_credit / pay::kMiB << " MiB; settlements final in about "
              << s.settle_latency.count() << " ms" << std::endl;
  }
  int exit_code = 0;
  TorrentWatch watch;
  // The data is checked on the disk threads; the verdict comes as an event.
  watch.on_checked = [&] {
    if (torrent->num_have() == 0) {
      std::cerr << "bttnode seed: error: no verified data of the torrent in " << data << "\n";
      exit_code = 1;
      return node.stop();
    }
    if (!torrent->is_seed()) {
      std::cerr << "warning: only " << torrent->num_have() << " of " << torrent->num_pieces()
                << " pieces are present; seeding those\n";
    }
    std::cout << "seeding " << torrent->name() << " (" << torrent->num_have() << "/"
              << torrent->num_pieces() << " pieces) on port " << node.listen_port() << std::endl;
  };
  watch.on_error = [&](const std::string& why) {
    std::cerr << "bttnode seed: error: " << why << "\n";
    exit_code = 1;
    node.stop();
  };
  auto watching = watch_torrent(node.session(), torrent->info_hash(), std::move(watch));
  node.on_signal = [&] {
    std::cerr << "stopping: announcing to trackers\n";
    node.stop();
  };
  boost::asio::steady_timer status(node.io());
  status_loop(status, *torrent, isatty(2) ? 5 : 10);
  node.run();
  auto c = torrent->counters();
  std::cerr << "uploaded " << human_bytes(double(c.payload_up)) << "\n";
  if (entry->seller) {
    std::cout << "earned " << entry->seller->earned().str() << " "
              << entry->seller->settings().token.to_string() << " in " << entry->seller->payments()
              << " payments" << std::endl;
  }
  return exit_code;
}

}  // namespace bttnode
