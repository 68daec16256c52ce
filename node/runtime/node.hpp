#pragma once
// A running node: the io_context, the p2p session, the signals, and the torrents with the
// payment services of each (terms, price, token and budget belong to a torrent, not to the
// process). The seed and download commands are clients of it; so is a daemon.
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "node/pay/buyer_service.hpp"
#include "node/pay/seller_service.hpp"
#include "node/runtime/settings.hpp"
#include "p2p/portmap/port_mapper.hpp"
#include "p2p/session/session.hpp"
#include "p2p/torrent/torrent.hpp"
#include "tron/fullnode_client.hpp"
#include "tron/keys.hpp"

namespace bttnode {

// Selling a torrent: the terms (token, price, payout address, chain, credit...) and the
// chain and ledger the verifications use.
struct SellTerms {
  pay::SellerSettings settings;
  tron::FullNodeOptions node;
  std::string ledger;
};

// Buying a torrent: the most to pay per MiB and in all, the key that signs, the chain and
// ledger the payments use, and the node's budget for the day (shared by the torrents; null:
// none).
struct BuyTerms {
  pay::BuyerSettings settings;
  std::optional<pay::U256> budget;
  tron::PrivateKey key;
  tron::FullNodeOptions node;
  std::string ledger;
  std::shared_ptr<pay::DailyBudget> daily;
};

struct TorrentRequest {
  p2p::AddTorrentParams params;
  // A seller service shared with other torrents of the same terms (Node::make_seller): its
  // verify pool and threads serve them all. Else `sell` makes one for this torrent alone.
  std::shared_ptr<pay::SellerService> seller;
  std::optional<SellTerms> sell;
  std::optional<BuyTerms> buy;
};

class Node {
 public:
  using Output = std::function<void(const std::string&)>;  // payment log lines

  // A torrent of the node and the payment services of that torrent.
  struct Torrent {
    std::shared_ptr<p2p::Torrent> torrent;
    std::shared_ptr<pay::SellerService> seller;  // may serve other torrents too
    std::unique_ptr<pay::BuyerService> buyer;
  };

  explicit Node(NodeSettings settings, Output out = {});
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  boost::asio::io_context& io() { return io_; }
  p2p::Session& session() { return session_; }
  const NodeSettings& settings() const { return settings_; }

  // Opens the listen sockets (std::system_error when the port is taken).
  void listen() { session_.listen(); }
  std::uint16_t listen_port() const { return session_.listen_port(); }
  // Maps the listen port on the router (PCP, NAT-PMP, then UPnP) until stop().
  void start_port_mapping(p2p::PortMapSettings settings = {});
  // Null unless start_port_mapping ran.
  const p2p::PortMapper* port_mapper() const { return port_mapper_.get(); }

  // Starts the payment services the request asks for, then the torrent. Throws
  // std::invalid_argument when the selling terms cannot work for its pieces.
  Torrent& add_torrent(TorrentRequest request);
  // A seller service on this node's io_context for any number of torrents; stopped with the
  // node. Throws what SellerService throws (ledger, chain id).
  std::shared_ptr<pay::SellerService> make_seller(SellTerms terms);
  // Stops the torrent (announcing stopped), forgets it and stops its buyer; a shared seller
  // service stays for the other torrents. With delete_files, the torrent's files (and the
  // folders it made, when empty) are deleted once it stopped.
  void remove_torrent(const p2p::InfoHash& ih, bool delete_files);
  const std::vector<std::unique_ptr<Torrent>>& torrents() const { return torrents_; }
  Torrent* find(const p2p::InfoHash& ih);

  // Changes one setting while running: refused (base::SettingsError) unless it applies at run
  // time; the rate limits take effect at once.
  void set(const std::string& name, const std::string& value);

  // SIGINT/SIGTERM call this (default: stop()).
  std::function<void()> on_signal;
  // Runs the io_context until stop() has finished, then stops every payment service.
  void run();
  // Stops every torrent (announcing to trackers), runs `then` (when given), then stops the
  // io_context. Idempotent.
  void stop(std::function<void()> then = {});
  bool stopping() const { return stopping_; }

  // Settles what every paying seeder of `t` is owed (settings' settle_on_exit at most), then
  // calls done; at once without a buyer.
  void settle(Torrent& t, std::function<void()> done);

 private:
  NodeSettings settings_;
  Output out_;
  boost::asio::io_context io_;
  p2p::Session session_;
  boost::asio::signal_set signals_;
  std::vector<std::unique_ptr<Torrent>> torrents_;
  std::map<p2p::InfoHash, Torrent*> by_hash_;
  std::vector<std::shared_ptr<pay::SellerService>> sellers_;  // every seller, each once
  std::unique_ptr<p2p::PortMapper> port_mapper_;
  void stop_services();
  bool stopping_ = false;
  bool stopped_ = false;
};

}  // namespace bttnode
