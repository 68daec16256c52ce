#include "node/runtime/node.hpp"

#include <csignal>
#include <stdexcept>

namespace bttnode {

Node::Node(NodeSettings settings, Output out)
    : settings_(std::move(settings)),
      out_(std::move(out)),
      session_(io_, settings_.session),
      signals_(io_, SIGINT, SIGTERM) {
  // Each torrent gets the extensions of its own payment services.
  session_.add_extension([this](p2p::Torrent& t) -> std::shared_ptr<p2p::TorrentExtension> {
    Torrent* entry = find(t.info_hash());
    return entry && entry->seller ? entry->seller->extension_for(t) : nullptr;
  });
  session_.add_extension([this](p2p::Torrent& t) -> std::shared_ptr<p2p::TorrentExtension> {
    Torrent* entry = find(t.info_hash());
    return entry && entry->buyer ? entry->buyer->extension_for(t) : nullptr;
  });
  // A peer that closes its socket must not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
}

Node::~Node() {
  for (auto& t : torrents_) {
    if (t->seller) t->seller->stop();
    if (t->buyer) t->buyer->stop();
  }
}

Node::Torrent* Node::find(const p2p::InfoHash& ih) {
  auto it = by_hash_.find(ih);
  return it == by_hash_.end() ? nullptr : it->second;
}

Node::Torrent& Node::add_torrent(TorrentRequest request) {
  const p2p::InfoHash ih =
      request.params.metainfo ? request.params.metainfo->info_hash : request.params.info_hash;
  if (find(ih)) throw std::runtime_error("torrent already added");
  auto entry = std::make_unique<Torrent>();
  auto print = [this](const std::string& line) {
    if (out_) out_(line);
  };
  if (request.sell) {
    SellTerms& s = *request.sell;
    s.node.timeout = settings_.chain_timeout;
    s.node.retries = settings_.chain_retries;
    entry->seller = std::make_unique<pay::SellerService>(io_, s.settings, s.node, s.ledger, print,
                                                         settings_.verifier);
    if (request.params.metainfo) {
      if (auto why = entry->seller->check_terms(request.params.metainfo->piece_length)) {
        entry->seller->stop();
        throw std::invalid_argument("these terms cannot work: " + *why);
      }
    }
  }
  if (request.buy) {
    BuyTerms& b = *request.buy;
    b.node.timeout = settings_.chain_timeout;
    b.node.retries = settings_.chain_retries;
    entry->buyer = std::make_unique<pay::BuyerService>(io_, b.settings, b.key, b.node, b.ledger,
                                                       b.budget, print);
    // Payments an earlier run left unfinished go out first, with their signed bytes.
    entry->buyer->recover();
  }
  Torrent& ref = *entry;
  by_hash_[ih] = &ref;
  torrents_.push_back(std::move(entry));
  try {
    ref.torrent = session_.add_torrent(std::move(request.params));
  } catch (...) {
    by_hash_.erase(ih);
    if (ref.seller) ref.seller->stop();
    if (ref.buyer) ref.buyer->stop();
    torrents_.pop_back();
    throw;
  }
  return ref;
}

void Node::set(const std::string& name, const std::string& value) {
  const auto& table = node_settings_table();
  table.set(settings_, name, value, true);
  session_.set_upload_rate(settings_.session.max_upload_rate);
  session_.set_download_rate(settings_.session.max_download_rate);
}

void Node::run() {
  signals_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (on_signal) {
      on_signal();
    } else {
      stop();
    }
  });
  io_.run();
  for (auto& t : torrents_) {
    if (t->seller) t->seller->stop();
    if (t->buyer) t->buyer->stop();
  }
  stopped_ = true;
}

void Node::stop() {
  if (stopping_) return;
  stopping_ = true;
  signals_.cancel();
  session_.shutdown([this] { io_.stop(); });
}

void Node::settle(Torrent& t, std::function<void()> done) {
  if (!t.buyer) {
    done();
    return;
  }
  t.buyer->finish(std::move(done), settings_.settle_on_exit);
}

}  // namespace bttnode
