#include "p2p/dht/dht.hpp"

#include <fstream>
#include <sstream>

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>

#include "base/log.hpp"
#include "p2p/transport/udp_socket.hpp"
#include "p2p/wire/bencode.hpp"

namespace p2p::dht {

namespace {

constexpr std::chrono::milliseconds kTick{250};
constexpr std::chrono::minutes kSaveInterval{5};
constexpr std::chrono::seconds kBootstrapRetry{30};
constexpr std::chrono::seconds kRefreshInterval{60};
constexpr std::size_t kMaxStateFile = 64 * 1024;
constexpr std::size_t kMaxSavedNodes = 200;
constexpr std::size_t kValuesPerAnswer = 50;

NodeId read_state(const std::filesystem::path& file, std::vector<NodeInfo>& nodes) {
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    std::string text(kMaxStateFile + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (!text.empty() && text.size() <= kMaxStateFile) {
      try {
        bencode::Value doc = bencode::decode(text);
        NodeId id{};
        const bencode::Value* idv = doc.find("id");
        if (idv && idv->is_string() && node_id_from(idv->as_string(), id)) {
          if (const bencode::Value* n = doc.find("nodes"); n && n->is_string())
            nodes = read_compact_nodes(n->as_string(), kMaxSavedNodes);
          return id;
        }
      } catch (const bencode::DecodeError&) {
      }
    }
  }
  return random_node_id();
}

bool split_host_port(const std::string& s, std::string& host, std::string& port) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size()) return false;
  host = s.substr(0, colon);
  port = s.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return true;
}

}  // namespace

Dht::Dht(boost::asio::io_context& io, UdpSocket& udp, DhtSettings settings)
    : io_(io),
      udp_(udp),
      settings_(std::move(settings)),
      table_(read_state(settings_.state_file, saved_nodes_)),
      limiter_(settings_.answers_per_ip, settings_.answers_per_ip * 4),
      timer_(io) {}

Dht::~Dht() {
  stop();
}

void Dht::start() {
  if (running_) return;
  running_ = true;
  handler_ = udp_.add_handler([this](const UdpEndpoint& from, std::span<const std::uint8_t> data) {
    return on_datagram(from, data);
  });
  for (const NodeInfo& n : saved_nodes_) add_node(n.ep);
  saved_nodes_.clear();
  last_save_ = Clock::now();
  bootstrap();
  tick();
}

void Dht::stop() {
  if (!running_) return;
  running_ = false;
  save();
  timer_.cancel();
  if (handler_ >= 0) udp_.remove_handler(handler_);
  handler_ = -1;
  pending_.clear();
  lookups_.clear();
}

std::string Dht::next_tid() {
  ++next_tid_;
  return std::string{static_cast<char>(next_tid_ >> 8), static_cast<char>(next_tid_ & 0xff)};
}

void Dht::send(const UdpEndpoint& to, const Message& m) {
  std::string wire = encode_message(m);
  udp_.send_to(to, {reinterpret_cast<const std::uint8_t*>(wire.data()), wire.size()});
}

void Dht::query(const UdpEndpoint& to, Message q, Reply reply) {
  if (!running_ || pending_.size() >= kMaxPending || !to.address().is_v4()) {
    if (reply)
      boost::asio::post(io_, [reply, alive = std::weak_ptr<bool>(alive_)] {
        if (alive.lock()) reply(nullptr);
      });
    return;
  }
  std::string tid;
  do tid = next_tid();
  while (pending_.count(tid));
  q.tid = tid;
  q.id = table_.self();
  pending_[tid] = {to, Clock::now() + settings_.query_timeout, std::move(reply)};
  send(to, q);
}

bool Dht::on_datagram(const UdpEndpoint& from, std::span<const std::uint8_t> data) {
  if (!running_ || data.empty() || data[0] != 'd') return false;
  ParseResult p = parse_message(data);
  if (!p.message) {
    if (p.error_code == 0) return p.tid.size() > 0;  // KRPC-looking answer we could not use
    if (p.is_query || !p.tid.empty()) {
      if (limiter_.allow(from.address(), Clock::now()))
        send(from, make_error(p.tid, p.error_code, p.error_message));
    }
    return true;
  }
  Message& m = *p.message;
  auto now = Clock::now();
  if (m.type == Message::Type::query) {
    if (!limiter_.allow(from.address(), now)) return true;
    if (!m.read_only) table_.heard_from({m.id, from}, false, now);
    answer(from, m);
    return true;
  }
  auto it = pending_.find(m.tid);
  if (it == pending_.end() || it->second.to != from) return true;
  Reply reply = std::move(it->second.reply);
  pending_.erase(it);
  if (m.type == Message::Type::response) {
    table_.heard_from({m.id, from}, true, now);
    if (reply) reply(&m);
  } else {
    if (reply) reply(nullptr);
  }
  return true;
}

void Dht::answer(const UdpEndpoint& from, const Message& q) {
  Message r = make_response(q, table_.self());
  auto now = Clock::now();
  switch (q.method) {
    case Method::ping:
      break;
    case Method::find_node:
      r.nodes = table_.closest(q.target, kBucketSize);
      break;
    case Method::get_peers: {
      InfoHash ih = q.target;
      for (const auto& ep : store_.get(ih, kValuesPerAnswer, now)) r.values.push_back(ep);
      if (r.values.empty()) r.nodes = table_.closest(q.target, kBucketSize);
      r.token = tokens_.make(from.address());
      r.has_token = true;
      break;
    }
    case Method::announce_peer: {
      if (!tokens_.valid(q.token, from.address())) {
        send(from, make_error(q.tid, kProtocolError, "bad token"));
        return;
      }
      std::uint16_t port = q.implied_port ? from.port() : q.port;
      InfoHash ih = q.target;
      if (port == 0 || !store_.add(ih, boost::asio::ip::tcp::endpoint(from.address(), port), now)) {
        send(from, make_error(q.tid, kServerError, "peer store full"));
        return;
      }
      break;
    }
  }
  send(from, r);
}

void Dht::add_node(const UdpEndpoint& ep) {
  if (!running_ || !ep.address().is_v4() || ep.port() == 0 || table_.contains(ep)) return;
  query(ep, make_query(Method::ping, "", table_.self()), nullptr);
}

void Dht::get_peers(const InfoHash& ih, std::uint16_t announce_port, PeersFound found) {
  NodeId target;
  std::copy(ih.begin(), ih.end(), target.begin());
  start_search(target, true, announce_port, std::move(found));
}

void Dht::start_search(const NodeId& target, bool peers_wanted, std::uint16_t announce_port,
                       PeersFound found, const std::vector<NodeInfo>& extra_seeds) {
  if (!running_ || lookups_.size() >= kMaxLookups) {
    if (found)
      boost::asio::post(io_, [found, alive = std::weak_ptr<bool>(alive_)] {
        if (alive.lock()) found({});
      });
    return;
  }
  std::vector<NodeInfo> seeds = table_.closest(target, Lookup::kK * 2);
  seeds.insert(seeds.end(), extra_seeds.begin(), extra_seeds.end());
  auto s = std::make_unique<Search>(
      Search{Lookup(target, seeds), {}, peers_wanted, announce_port, std::move(found)});
  std::copy(target.begin(), target.end(), s->ih.begin());
  std::uint64_t id = next_search_++;
  lookups_.emplace(id, std::move(s));
  step(id);
}

void Dht::step(std::uint64_t search_id) {
  auto it = lookups_.find(search_id);
  if (it == lookups_.end()) return;
  Search& s = *it->second;
  if (s.lookup.done()) {
    finish(search_id);
    return;
  }
  for (const NodeInfo& n : s.lookup.next()) {
    Message q =
        make_query(s.peers_wanted ? Method::get_peers : Method::find_node, "", table_.self());
    q.target = s.lookup.target();
    UdpEndpoint to = n.ep;
    query(to, std::move(q), [this, search_id, to](const Message* r) {
      auto it = lookups_.find(search_id);
      if (it == lookups_.end()) return;
      if (r)
        it->second->lookup.on_response(to, *r);
      else
        it->second->lookup.on_failure(to);
      step(search_id);
    });
  }
  // A lookup whose queries could not even be sent ends here rather than waiting forever.
  if (s.lookup.in_flight() == 0 && s.lookup.done()) finish(search_id);
}

void Dht::finish(std::uint64_t search_id) {
  auto it = lookups_.find(search_id);
  if (it == lookups_.end()) return;
  std::unique_ptr<Search> s = std::move(it->second);
  lookups_.erase(it);
  if (s->peers_wanted && s->announce_port != 0) {
    for (const auto& a : s->lookup.closest_answered()) {
      if (a.token.empty()) continue;
      Message q = make_query(Method::announce_peer, "", table_.self());
      q.target = s->lookup.target();
      q.port = s->announce_port;
      q.token = a.token;
      query(a.node.ep, std::move(q), nullptr);
    }
  }
  if (s->found) s->found(s->lookup.peers());
}

void Dht::bootstrap() {
  last_bootstrap_ = Clock::now();
  auto resolver = std::make_shared<boost::asio::ip::udp::resolver>(io_);
  for (const std::string& b : settings_.bootstrap) {
    std::string host, port;
    if (!split_host_port(b, host, port)) continue;
    resolver->async_resolve(boost::asio::ip::udp::v4(), host, port,
                            [this, resolver, alive = std::weak_ptr<bool>(alive_)](
                                const boost::system::error_code& ec,
                                const boost::asio::ip::udp::resolver::results_type& results) {
                              if (ec || !alive.lock() || !running_) return;
                              for (const auto& r : results) {
                                // A router is asked for the nodes near us; it is never put in the
                                // table itself unless it answers like any node.
                                Message q = make_query(Method::find_node, "", table_.self());
                                q.target = table_.self();
                                UdpEndpoint to = r.endpoint();
                                query(to, std::move(q), [this, to](const Message* m) {
                                  if (!m) return;
                                  for (const NodeInfo& n : m->nodes) add_node(n.ep);
                                  // Then the lookup of our own id, through what the router named.
                                  std::vector<NodeInfo> seeds = m->nodes;
                                  seeds.push_back({m->id, to});
                                  start_search(table_.self(), false, 0, nullptr, seeds);
                                });
                                break;
                              }
                            });
  }
  // A lookup of our own id fills the buckets near us from whatever the table holds.
  if (table_.size() > 0) start_search(table_.self(), false, 0, nullptr);
}

void Dht::tick() {
  if (!running_) return;
  auto now = Clock::now();
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    UdpEndpoint to = it->second.to;
    Reply reply = std::move(it->second.reply);
    it = pending_.erase(it);
    table_.failed(to);
    if (reply) reply(nullptr);
    if (!running_) return;
  }
  tokens_.tick(now);
  if (now - last_refresh_ >= kRefreshInterval) {
    last_refresh_ = now;
    store_.expire(now);
    for (const NodeInfo& n : table_.questionable(now, 8))
      query(n.ep, make_query(Method::ping, "", table_.self()), nullptr);
    for (const NodeId& target : table_.stale_buckets(now)) {
      if (lookups_.size() >= kMaxLookups / 2) break;
      start_search(target, false, 0, nullptr);
    }
  }
  if (table_.size() < kBucketSize && now - last_bootstrap_ >= kBootstrapRetry) bootstrap();
  if (now - last_save_ >= kSaveInterval) {
    last_save_ = now;
    save();
  }
  timer_.expires_after(kTick);
  timer_.async_wait(
      [this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
        if (!ec && alive.lock()) tick();
      });
}

void Dht::save() {
  if (settings_.state_file.empty()) return;
  bencode::Dict doc;
  doc["id"] = std::string(as_bytes(table_.self()));
  std::string nodes;
  auto good = table_.good_nodes(Clock::now());
  for (std::size_t i = 0; i < good.size() && i < kMaxSavedNodes; ++i)
    append_compact_node(nodes, good[i]);
  doc["nodes"] = std::move(nodes);
  std::error_code ec;
  auto tmp = settings_.state_file;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return;
    std::string text = bencode::encode(doc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out) return;
  }
  std::filesystem::rename(tmp, settings_.state_file, ec);
  if (ec)
    base::log::get("dht")->warn("cannot save {}: {}", settings_.state_file.string(), ec.message());
}

}  // namespace p2p::dht
