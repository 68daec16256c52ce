#include "tron/devnet/block_id.hpp"

#include <string>

namespace tron::devnet {

namespace {
Hash32 sha256_of(const std::string& s) { return sha256(as_bytes(s)); }
}  // namespace

Hash32 block_id(const protocol::BlockHeader::raw& raw) {
  Hash32 id = sha256_of(raw.SerializeAsString());
  auto number = static_cast<std::uint64_t>(raw.number());
  for (int i = 0; i < 8; ++i) id[i] = static_cast<std::uint8_t>(number >> (56 - 8 * i));
  return id;
}

Hash32 tx_trie_root(const std::vector<protocol::Transaction>& txs) {
  if (txs.empty()) return Hash32{};
  std::vector<Hash32> level;
  level.reserve(txs.size());
  for (const auto& tx : txs) level.push_back(sha256_of(tx.SerializeAsString()));
  while (level.size() > 1) {
    std::vector<Hash32> next;
    next.reserve((level.size() + 1) / 2);
    for (std::size_t i = 0; i + 1 < level.size(); i += 2) {
      Bytes pair(level[i].begin(), level[i].end());
      pair.insert(pair.end(), level[i + 1].begin(), level[i + 1].end());
      next.push_back(sha256(pair));
    }
    if (level.size() % 2 == 1) next.push_back(level.back());
    level = std::move(next);
  }
  return level.front();
}

std::int64_t block_number_of(const Hash32& id) {
  std::uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n = (n << 8) | id[i];
  return static_cast<std::int64_t>(n);
}

}  // namespace tron::devnet
