#pragma once
// Block identity as java-tron computes it.
#include <cstdint>
#include <vector>

#include "tron/hashes.hpp"
#include "tron/hex.hpp"
#include "tron/proto/tron.pb.h"

namespace tron::devnet {

// 8-byte big-endian block number followed by bytes 8..31 of SHA-256(serialized header raw).
Hash32 block_id(const protocol::BlockHeader::raw& raw);

// The block's txTrieRoot: a binary Merkle tree over SHA-256 of each serialized transaction,
// pairs hashed as SHA-256(left || right), an odd node carried up unchanged. 32 zero bytes for
// a block without transactions.
Hash32 tx_trie_root(const std::vector<protocol::Transaction>& txs);

// The number a block id carries in its first 8 bytes.
std::int64_t block_number_of(const Hash32& id);

}  // namespace tron::devnet
