#include "tron/devnet/chain.hpp"

#include <algorithm>

#include "tron/devnet/block_id.hpp"
#include "tron/devnet/resource.hpp"

namespace tron::devnet {

using nlohmann::json;

namespace {

constexpr int kBlockVersion = 32;
constexpr std::int64_t kExpirationWindowMs = 60'000;

std::string key_of(const Hash32& h) {
  return std::string(h.begin(), h.end());
}

protocol::Block make_block(std::int64_t number, std::int64_t timestamp, const Bytes& parent,
                           std::vector<protocol::Transaction> txs, const PrivateKey& witness) {
  protocol::Block block;
  auto* raw = block.mutable_block_header()->mutable_raw_data();
  raw->set_number(number);
  raw->set_timestamp(timestamp);
  raw->set_parenthash(parent.data(), parent.size());
  Hash32 root = tx_trie_root(txs);
  raw->set_txtrieroot(root.data(), root.size());
  Bytes witness_address = witness.address().bytes();
  raw->set_witness_address(witness_address.data(), witness_address.size());
  raw->set_version(kBlockVersion);
  Signature sig = witness.sign_digest(sha256(as_bytes(raw->SerializeAsString())));
  block.mutable_block_header()->set_witness_signature(sig.data(), sig.size());
  for (auto& tx : txs) *block.add_transactions() = std::move(tx);
  return block;
}

}  // namespace

Hash32 transaction_id(const protocol::Transaction& tx) {
  return sha256(as_bytes(tx.raw_data().SerializeAsString()));
}

Chain::Chain(Genesis genesis) : genesis_(std::move(genesis)) {
  state_ = genesis_.state;
  snapshots_.push_back(state_);
  append_block(make_block(0, genesis_.timestamp, genesis_.parent_hash, {}, *genesis_.witness), {});
}

void Chain::append_block(protocol::Block block, std::vector<protocol::TransactionInfo> infos) {
  const std::int64_t number = static_cast<std::int64_t>(blocks_.size());
  ids_.push_back(devnet::block_id(block.block_header().raw_data()));
  for (int i = 0; i < block.transactions_size(); ++i) {
    std::string key = key_of(transaction_id(block.transactions(i)));
    tx_index_[key] = Location{number, i};
    if (static_cast<std::size_t>(i) < infos.size()) infos_[key] = std::move(infos[i]);
  }
  blocks_.push_back(std::move(block));
}

const protocol::Block& Chain::seal(std::int64_t now_ms) {
  const std::int64_t number = head_number() + 1;
  const std::int64_t timestamp = std::max(now_ms, head_timestamp() + 1);
  std::vector<protocol::Transaction> txs;
  std::vector<protocol::TransactionInfo> infos;
  txs.reserve(pending_.size());
  infos.reserve(pending_.size());
  for (auto& p : pending_) {
    p.info.set_blocknumber(number);
    p.info.set_blocktimestamp(timestamp);
    txs.push_back(std::move(p.tx));
    infos.push_back(std::move(p.info));
  }
  pending_.clear();
  pending_ids_.clear();
  const Hash32& parent = ids_.back();
  append_block(make_block(number, timestamp, Bytes(parent.begin(), parent.end()), std::move(txs),
                          *genesis_.witness),
               std::move(infos));
  snapshots_.push_back(state_);
  while (static_cast<std::int64_t>(snapshots_.size()) > solid_lag_ + 1) snapshots_.pop_front();
  return blocks_.back();
}

void Chain::set_solid_lag(std::int64_t blocks) {
  if (blocks < 0) throw std::invalid_argument("the solid lag must be >= 0 blocks");
  solid_lag_ = blocks;
  while (static_cast<std::int64_t>(snapshots_.size()) > solid_lag_ + 1) snapshots_.pop_front();
}

const protocol::Block* Chain::block(std::int64_t number) const {
  if (number < 0 || number > head_number()) return nullptr;
  return &blocks_[static_cast<std::size_t>(number)];
}

const protocol::Block* Chain::block_by_id(const Hash32& id) const {
  const protocol::Block* b = block(block_number_of(id));
  if (b == nullptr || ids_[static_cast<std::size_t>(block_number_of(id))] != id) return nullptr;
  return b;
}

const protocol::Transaction* Chain::find_transaction(const Hash32& txid, bool solid) const {
  auto it = tx_index_.find(key_of(txid));
  if (it == tx_index_.end()) return nullptr;
  if (solid && it->second.block > solid_number()) return nullptr;
  return &blocks_[static_cast<std::size_t>(it->second.block)].transactions(it->second.index);
}

const protocol::Transaction* Chain::find_pending(const Hash32& txid) const {
  for (const auto& p : pending_) {
    if (transaction_id(p.tx) == txid) return &p.tx;
  }
  return nullptr;
}

std::vector<Hash32> Chain::pending_ids() const {
  std::vector<Hash32> ids;
  ids.reserve(pending_.size());
  for (const auto& p : pending_) ids.push_back(transaction_id(p.tx));
  return ids;
}

const protocol::TransactionInfo* Chain::find_info(const Hash32& txid, bool solid) const {
  if (solid && find_transaction(txid, true) == nullptr) return nullptr;
  auto it = infos_.find(key_of(txid));
  return it == infos_.end() ? nullptr : &it->second;
}

std::int64_t Chain::head_slot() const {
  return slot_of(head_timestamp() - genesis_.timestamp);
}

bool Chain::tapos_ok(const protocol::Transaction::raw& raw) const {
  const std::string& ref_bytes = raw.ref_block_bytes();
  const std::string& ref_hash = raw.ref_block_hash();
  if (ref_bytes.size() != 2 || ref_hash.size() != 8) return false;
  const std::int64_t low =
      (static_cast<std::uint8_t>(ref_bytes[0]) << 8) | static_cast<std::uint8_t>(ref_bytes[1]);
  // The newest block whose number ends in those 16 bits: java-tron keeps one per value.
  const std::int64_t head = head_number();
  const std::int64_t number = head - (((head - low) % 65536) + 65536) % 65536;
  if (number < 0) return false;
  const Hash32& id = ids_[static_cast<std::size_t>(number)];
  return std::equal(id.begin() + 8, id.begin() + 16, ref_hash.begin(),
                    [](std::uint8_t a, char b) { return a == static_cast<std::uint8_t>(b); });
}

protocol::Transaction Chain::make_transaction(protocol::Transaction::Contract::ContractType type,
                                              const google::protobuf::Message& parameter,
                                              std::int64_t now_ms, std::int64_t fee_limit) const {
  protocol::Transaction tx;
  auto* raw = tx.mutable_raw_data();
  const Hash32& id = ids_.back();
  raw->set_ref_block_bytes(reinterpret_cast<const char*>(id.data() + 6), 2);
  raw->set_ref_block_hash(reinterpret_cast<const char*>(id.data() + 8), 8);
  raw->set_expiration(head_timestamp() + kExpirationWindowMs);
  raw->set_timestamp(now_ms);
  if (fee_limit > 0) raw->set_fee_limit(fee_limit);
  auto* contract = raw->add_contract();
  contract->set_type(type);
  contract->mutable_parameter()->PackFrom(parameter);
  return tx;
}

json Chain::to_state_json() const {
  json j;
  j["format"] = "bttnode-devnet-state/1";
  j["genesis"] = genesis_.fingerprint();
  json blocks = json::array();
  for (const auto& b : blocks_) blocks.push_back(to_hex(as_bytes(b.SerializeAsString())));
  j["blocks"] = std::move(blocks);
  json infos = json::object();
  for (const auto& [key, info] : infos_) {
    infos[to_hex(as_bytes(key))] = to_hex(as_bytes(info.SerializeAsString()));
  }
  j["infos"] = std::move(infos);
  // Pending transactions are not part of a block yet: the state saved is the head block's.
  j["state"] = snapshots_.back().to_state_json();
  return j;
}

Chain Chain::from_state_json(Genesis genesis, const json& j) {
  try {
    if (j.at("format") != "bttnode-devnet-state/1") {
      throw std::invalid_argument("unknown state file format");
    }
    if (j.at("genesis") != genesis.fingerprint()) {
      throw std::invalid_argument("state file was written for a different genesis");
    }
    Chain chain(std::move(genesis));
    const json& blocks = j.at("blocks");
    if (blocks.empty()) throw std::invalid_argument("state file has no blocks");
    protocol::Block first;
    Bytes first_bytes = from_hex(blocks.at(0).get<std::string>());
    if (!first.ParseFromArray(first_bytes.data(), static_cast<int>(first_bytes.size())) ||
        devnet::block_id(first.block_header().raw_data()) != chain.ids_[0]) {
      throw std::invalid_argument("state file's genesis block differs");
    }
    std::unordered_map<std::string, protocol::TransactionInfo> infos;
    for (const auto& [key, value] : j.at("infos").items()) {
      Bytes k = from_hex(key);
      Bytes v = from_hex(value.get<std::string>());
      protocol::TransactionInfo info;
      if (!info.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
        throw std::invalid_argument("damaged transaction info in state file");
      }
      infos[std::string(k.begin(), k.end())] = std::move(info);
    }
    for (std::size_t n = 1; n < blocks.size(); ++n) {
      Bytes bytes = from_hex(blocks[n].get<std::string>());
      protocol::Block b;
      if (!b.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
          b.block_header().raw_data().number() != static_cast<std::int64_t>(n) ||
          b.block_header().raw_data().parenthash() !=
              std::string(chain.ids_.back().begin(), chain.ids_.back().end())) {
        throw std::invalid_argument("damaged block " + std::to_string(n) + " in state file");
      }
      std::vector<protocol::TransactionInfo> block_infos;
      for (const auto& tx : b.transactions()) {
        auto it = infos.find(key_of(transaction_id(tx)));
        block_infos.push_back(it == infos.end() ? protocol::TransactionInfo() : it->second);
      }
      chain.append_block(std::move(b), std::move(block_infos));
    }
    WorldState loaded = WorldState::from_state_json(j.at("state"));
    chain.state_.accounts = std::move(loaded.accounts);
    chain.state_.token.balances = std::move(loaded.token.balances);
    chain.state_.token.total_supply = loaded.token.total_supply;
    // Older states are not saved: after a restart the solidified block starts at the head.
    chain.snapshots_.assign(1, chain.state_);
    return chain;
  } catch (const json::exception& e) {
    throw std::invalid_argument(std::string("damaged state file: ") + e.what());
  }
}

}  // namespace tron::devnet
