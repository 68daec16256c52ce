#pragma once
// The seeder's btt_pay layer joined to the peer engine: a TorrentExtension that gives every
// peer advertising btt_pay a Seller (terms, bind, bid, invoices, settlements), checks
// settlements on a pool of workers through the seeder's own full node, credits them in the
// ledger, and ranks paying peers first for the choker and the upload limit. Peers without
// btt_pay never see a message of it.
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "node/pay/chain_worker.hpp"
#include "node/pay/seller.hpp"
#include "node/pay/verifier.hpp"
#include "node/pay/verify_pool.hpp"
#include "p2p/peer/extension.hpp"
#include "tron/fullnode_client.hpp"
#include "wallet/ledger.hpp"

namespace p2p {
class Torrent;
}

namespace bttnode::pay {

class SellerService {
 public:
  using Output = std::function<void(const std::string&)>;
  // Opens the ledger and asks the node for its chain id (throws if it cannot).
  SellerService(boost::asio::io_context& io, SellerSettings settings, tron::FullNodeOptions node,
                const std::string& ledger_path, Output out, VerifierOptions verifier_options = {},
                VerifyPoolOptions pool_options = {});
  ~SellerService();

  const SellerSettings& settings() const { return settings_; }
  // A torrent's own terms over the service's: not sold at all, or at its own price. Peers
  // that connect after the change get them; a session already under way keeps the terms it
  // agreed to. Engine thread.
  struct TorrentTerms {
    bool sell = true;
    std::optional<U256> price;  // per MiB, above 0
  };
  void set_torrent_terms(const std::string& info_hash_hex, TorrentTerms terms);
  TorrentTerms torrent_terms(const std::string& info_hash_hex) const;
  bool sells(const std::string& info_hash_hex) const { return torrent_terms(info_hash_hex).sell; }
  U256 price_for(const std::string& info_hash_hex) const {
    return torrent_terms(info_hash_hex).price.value_or(settings_.price);
  }
  // Terms for a torrent of this piece length (and info-hash, for its own terms), and why they
  // cannot work if they cannot.
  SellerSettings settings_for(std::int64_t piece_length, const std::string& info_hash_hex = {},
                              std::optional<U256> price = std::nullopt) const;
  std::optional<std::string> check_terms(std::int64_t piece_length,
                                         const std::string& info_hash_hex = {},
                                         std::optional<U256> price = std::nullopt) const {
    return unworkable_terms(settings_for(piece_length, info_hash_hex, price), piece_length);
  }
  std::shared_ptr<p2p::TorrentExtension> extension_for(p2p::Torrent& torrent);

  // Credited in this run.
  U256 earned() const { return earned_; }
  int payments() const { return payments_; }
  // Connected peers bound to a paying address, over every torrent of this service.
  int bound_payers() const;
  // The payer address each connected peer of `torrent` is bound to, by the peer's endpoint.
  std::map<std::string, std::string> payers_of(const p2p::Torrent& torrent) const;
  // Ends the rechecks that wait for blocks, finishes the checks under way and stops the worker:
  // bounded however many settlements peers sent.
  void stop() {
    stopping_ = true;
    pool_->stop();
    worker_.join();
  }

  // For the peers (engine thread). False: no room for it in the process now (answer `busy`).
  bool verify(std::weak_ptr<class SellerPeerState> peer, const Settle& settle,
              const tron::Address& payer, const std::string& info_hash_hex,
              const std::string& peer_hex);
  // Reads the payer's balance in the token; answers the peer's Seller with on_backing.
  void check_backing(std::weak_ptr<SellerPeerState> peer, const tron::Address& payer);
  // Bytes the payer's confirmed payments to us paid for, in the ledger and in this run.
  std::int64_t record_of(const tron::Address& payer) const;
  void note_credit(const U256& amount) {
    earned_ += amount;
    ++payments_;
  }
  void print(const std::string& line) { out_(line); }

  // Unpaid bytes are owed by the bound address, not by one connection: what a session leaves
  // unpaid is carried to the next session of the same payer on the same torrent, so that
  // reconnecting does not renew the credit. Forgotten after the ban time. Engine thread.
  // `price`: the one the new session agreed to; the bytes never owe more than they did.
  std::int64_t take_carried(const std::string& info_hash_hex, const tron::Address& payer,
                            const U256& price);
  // `price`: the one the leaving session agreed to.
  void put_carried(const std::string& info_hash_hex, const tron::Address& payer, std::int64_t bytes,
                   const U256& price);

 private:
  // On a pool worker, through its node client. `known`: the payer had a record when admitted.
  void verify_on_worker(tron::FullNodeClient& node, std::weak_ptr<SellerPeerState> peer,
                        const Settle& settle, const ExpectedPayment& e,
                        std::chrono::steady_clock::time_point quick_until, bool known);
  // A settle that carries its transaction: checked here, broadcast by us, provisionally
  // credited, then followed to its final credit like any other.
  void provisional_on_worker(tron::FullNodeClient& node, std::weak_ptr<SellerPeerState> peer,
                             const Settle& settle, const ExpectedPayment& e,
                             std::chrono::steady_clock::time_point quick_until, bool known);
  ExpectedPayment expected(const Settle& settle, const tron::Address& payer,
                           const std::string& info_hash_hex, const std::string& peer_hex) const;

  boost::asio::io_context& io_;
  SellerSettings settings_;
  Output out_;
  std::unique_ptr<tron::FullNodeClient> node_;  // worker_ only, after the constructor
  std::unique_ptr<wallet::Ledger> ledger_;      // through verifier_ (under its lock)
  std::unique_ptr<SettlementVerifier> verifier_;
  ChainWorker worker_;                // balance reads
  std::unique_ptr<VerifyPool> pool_;  // settlements
  U256 earned_ = 0;
  int payments_ = 0;
  struct Carried {
    std::int64_t bytes = 0;
    U256 price = 0;  // the price of the session that left them
    std::chrono::steady_clock::time_point since;
  };
  std::map<std::pair<std::string, std::string>, Carried> carried_;  // (info-hash, payer)
  std::map<std::string, std::int64_t> record_;  // payer (base58) -> bytes its credits paid for
  std::map<std::string, TorrentTerms> torrent_terms_;  // by info-hash hex
  bool min_settle_follows_ = false;                    // min_settle was the price of one MiB
  std::atomic<bool> stopping_{false};
  std::vector<std::weak_ptr<p2p::TorrentExtension>> extensions_;  // SellerTorrentExt
};

}  // namespace bttnode::pay
