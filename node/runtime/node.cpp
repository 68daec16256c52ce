#include "node/runtime/node.hpp"

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <stdexcept>

#include "base/hex.hpp"

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
  stop_services();
}

void Node::stop_services() {
  for (auto& s : sellers_) s->stop();
  sellers_.clear();
  for (auto& t : torrents_) {
    // Stopped, not dropped: a command reads what was paid once the node has run.
    if (t->buyer) t->buyer->stop();
  }
}

std::shared_ptr<pay::SellerService> Node::make_seller(SellTerms s) {
  auto print = [this](const std::string& line) {
    if (out_) out_(line);
  };
  s.node.timeout = settings_.chain_timeout;
  s.node.retries = settings_.chain_retries;
  auto seller = std::make_shared<pay::SellerService>(io_, s.settings, s.node, s.ledger, print,
                                                     settings_.verifier);
  sellers_.push_back(seller);
  return seller;
}

void Node::remove_torrent(const p2p::InfoHash& ih, bool delete_files) {
  auto it = by_hash_.find(ih);
  if (it == by_hash_.end()) return;
  Torrent* entry = it->second;
  by_hash_.erase(it);
  // The files go on the disk thread, after the torrent stopped.
  session_.remove_torrent(ih, delete_files);
  if (entry->buyer) entry->buyer->stop();
  std::erase_if(torrents_, [entry](const std::unique_ptr<Torrent>& e) { return e.get() == entry; });
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
  if (request.seller) {
    entry->seller = std::move(request.seller);
  } else if (request.sell) {
    entry->seller = make_seller(std::move(*request.sell));
  }
  if (entry->seller && request.params.metainfo) {
    if (auto why =
            entry->seller->check_terms(request.params.metainfo->piece_length, base::to_hex(ih))) {
      if (entry->seller.use_count() == 2) {  // ours and sellers_': made for this torrent
        entry->seller->stop();
        std::erase(sellers_, entry->seller);
      }
      throw std::invalid_argument("these terms cannot work: " + *why);
    }
  }
  if (request.buy) {
    BuyTerms& b = *request.buy;
    b.node.timeout = settings_.chain_timeout;
    b.node.retries = settings_.chain_retries;
    entry->buyer = std::make_unique<pay::BuyerService>(io_, b.settings, b.key, b.node, b.ledger,
                                                       b.budget, print, b.daily);
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
  stop_services();
  stopped_ = true;
}

void Node::start_port_mapping(p2p::PortMapSettings settings) {
  port_mapper_ = std::make_unique<p2p::PortMapper>(io_, std::move(settings), listen_port());
  port_mapper_->start();
}

void Node::stop(std::function<void()> then) {
  if (stopping_) return;
  stopping_ = true;
  signals_.cancel();
  if (port_mapper_) port_mapper_->stop();
  session_.shutdown([this, then = std::move(then)] {
    if (then) then();
    io_.stop();
  });
}

void Node::settle(Torrent& t, std::function<void()> done) {
  if (!t.buyer) {
    done();
    return;
  }
  t.buyer->finish(std::move(done), settings_.settle_on_exit);
}

}  // namespace bttnode
