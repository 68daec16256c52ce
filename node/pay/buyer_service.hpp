#pragma once
// The downloader's btt_pay layer joined to the peer engine: every seeder that offers btt_pay
// terms in our token, on our chain and within our maximum price gets a Buyer; payments are
// planned, signed and broadcast on the chain worker through the wallet's crash-safe executor
// (one ledger debt per settlement, so a retry never pays twice), and announced to the seeder.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "node/pay/buyer.hpp"
#include "node/pay/chain_worker.hpp"
#include "p2p/peer/extension.hpp"
#include "tron/fullnode_client.hpp"
#include "tron/keys.hpp"
#include "wallet/fullnode_chain.hpp"
#include "wallet/ledger.hpp"
#include "wallet/payment_executor.hpp"

namespace p2p {
class Torrent;
}

namespace bttnode::pay {

class BuyerPeerState;

class BuyerService {
 public:
  using Output = std::function<void(const std::string&)>;
  // Opens the ledger and asks the node for its chain id (throws if it cannot). `daily`: the
  // node's budget for the day, shared with its other buyers (null: none).
  BuyerService(boost::asio::io_context& io, BuyerSettings settings, const tron::PrivateKey& key,
               tron::FullNodeOptions node, const std::string& ledger_path,
               std::optional<U256> budget, Output out,
               std::shared_ptr<DailyBudget> daily = nullptr);
  ~BuyerService();

  const BuyerSettings& settings() const { return settings_; }
  // Our settings for a torrent of `size` bytes (the settlement plan and fee cap need it).
  BuyerSettings settings_for(std::int64_t size) const {
    BuyerSettings s = settings_;
    if (size > 0) s.torrent_size = size;
    return s;
  }
  // A new most to pay per MiB, and a new budget for the torrent (nullopt: none; what was
  // paid in this run counts against it). Seeders met from now on are judged by them; a
  // session already paying a seeder keeps the price it agreed to. Engine thread.
  void set_max_price(const U256& max_price) { settings_.max_price = max_price; }
  void set_budget(const std::optional<U256>& budget) { budget_->set_limit(budget); }
  std::optional<U256> budget_limit() const { return budget_->limit(); }
  // Before the download starts: finishes payments an earlier run left unfinished, with the
  // same signed bytes. Returns how many it touched.
  int recover();
  std::shared_ptr<p2p::TorrentExtension> extension_for(p2p::Torrent& torrent);

  // Pays every seeder what is still due, then calls done once all is settled and receipted,
  // or after `timeout`.
  void finish(std::function<void()> done, std::chrono::seconds timeout);

  U256 paid() const { return paid_; }
  int payments() const { return payments_; }
  int pending() const { return pending_; }
  bool met_seller() const { return met_seller_; }
  void stop() { worker_.join(); }

  // For the peers (engine thread).
  void pay(std::weak_ptr<BuyerPeerState> peer, const PayOrder& order,
           const wallet::PaymentRequest& request);
  // Polls a sent payment until it is in a block or the deadline passes (worker thread).
  // Follows a payment until it is final or the deadline; a payment of this run (with its
  // request) is counted and told as paid, an earlier run's only told.
  void confirm(std::int64_t payment_id, std::string txid,
               std::optional<wallet::PaymentRequest> request,
               std::chrono::steady_clock::time_point deadline, std::chrono::milliseconds delay);
  void resend_prior(std::weak_ptr<BuyerPeerState> peer, const tron::Address& seeder,
                    const std::string& info_hash_hex, const std::string& nonce_hex);
  tron::Signature sign_bind(const std::string& text) const;
  std::shared_ptr<Budget> budget() { return budget_; }
  std::shared_ptr<DailyBudget> daily_budget() { return daily_; }
  std::set<std::string>& receipted() { return receipted_; }
  void print(const std::string& line) { out_(line); }
  void note_seller() { met_seller_ = true; }
  void add_peer(std::weak_ptr<BuyerPeerState> p) { peers_.push_back(std::move(p)); }
  bool finishing() const { return finishing_; }
  // Called once when a seeder's terms cannot keep fees under the cap and we were told to stop.
  std::function<void(const std::string&)> on_stop;
  void request_stop(const std::string& why) {
    if (stop_told_) return;
    stop_told_ = true;
    if (on_stop) on_stop(why);
  }

 private:
  void finish_poll();

  boost::asio::io_context& io_;
  BuyerSettings settings_;
  tron::PrivateKey key_;
  Output out_;
  std::shared_ptr<Budget> budget_;
  std::shared_ptr<DailyBudget> daily_;
  std::unique_ptr<tron::FullNodeClient> node_;  // worker thread only, after the constructor
  std::unique_ptr<wallet::FullNodeChain> chain_;
  std::unique_ptr<wallet::Ledger> ledger_;
  std::unique_ptr<wallet::PaymentExecutor> executor_;
  ChainWorker worker_;
  std::set<std::string> receipted_;  // txids (hex) a seeder acknowledged
  std::vector<std::weak_ptr<BuyerPeerState>> peers_;
  U256 paid_ = 0;
  int payments_ = 0;
  int pending_ = 0;
  bool met_seller_ = false;
  bool finishing_ = false;
  bool stop_told_ = false;
  std::function<void()> finish_done_;
  std::chrono::steady_clock::time_point finish_started_{}, finish_deadline_{};
  boost::asio::steady_timer finish_timer_;
};

}  // namespace bttnode::pay
