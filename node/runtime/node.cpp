#include "node/runtime/node.hpp"

#include <algorithm>
#include <csignal>
#include <filesystem>
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
  stop_services();
}

void Node::stop_services() {
  for (auto& s : sellers_) s->stop();
  sellers_.clear();
  for (auto& t : torrents_) {
    if (t->buyer) {
      t->buyer->stop();
      t->buyer.reset();
    }
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
  std::shared_ptr<p2p::Torrent> t = entry->torrent;
  std::vector<std::filesystem::path> files;
  std::filesystem::path top;
  if (delete_files && t && t->metainfo()) {
    const p2p::Metainfo& m = *t->metainfo();
    const std::filesystem::path base = entry->save_path;
    for (const auto& f : m.files) {
      if (f.pad) continue;
      std::filesystem::path p = base;
      if (m.multi_file) p /= m.name;
      for (const auto& c : f.path) p /= c;
      files.push_back(p);
    }
    if (m.multi_file) top = base / m.name;
  }
  by_hash_.erase(it);
  // Torrent::stop (through the session) waits for the torrent's disk jobs and writes its
  // resume data before it returns; the files are free after it.
  session_.remove_torrent(ih);
  if (entry->buyer) entry->buyer->stop();
  std::erase_if(torrents_, [entry](const std::unique_ptr<Torrent>& e) { return e.get() == entry; });
  std::error_code ec;
  for (const auto& f : files) std::filesystem::remove(f, ec);
  if (!top.empty()) {
    // Folders of the torrent, deepest first, while empty; never above its top folder.
    std::vector<std::filesystem::path> dirs;
    for (auto i = std::filesystem::recursive_directory_iterator(top, ec);
         !ec && i != std::filesystem::recursive_directory_iterator(); i.increment(ec)) {
      if (i->is_directory(ec)) dirs.push_back(i->path());
    }
    std::sort(dirs.begin(), dirs.end(),
              [](const auto& a, const auto& b) { return a.string().size() > b.string().size(); });
    for (const auto& d : dirs) std::filesystem::remove(d, ec);  // fails unless empty
    std::filesystem::remove(top, ec);
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
  if (request.seller) {
    entry->seller = std::move(request.seller);
  } else if (request.sell) {
    entry->seller = make_seller(std::move(*request.sell));
  }
  if (entry->seller && request.params.metainfo) {
    if (auto why = entry->seller->check_terms(request.params.metainfo->piece_length)) {
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
                                                       b.budget, print);
    // Payments an earlier run left unfinished go out first, with their signed bytes.
    entry->buyer->recover();
  }
  entry->save_path = request.params.save_path;
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

void Node::stop(std::function<void()> then) {
  if (stopping_) return;
  stopping_ = true;
  signals_.cancel();
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
