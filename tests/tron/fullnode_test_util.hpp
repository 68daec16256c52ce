#pragma once
// Answers shaped like java-tron's, for tests of the full-node client against a scripted server.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "tron/hashes.hpp"
#include "tron/hex.hpp"
#include "tron/proto/contract.pb.h"
#include "tron/proto/tron.pb.h"

namespace tron::testing {

// A block id: 8-byte big-endian number, then 24 bytes of filler.
inline std::string block_id_hex(std::int64_t number) {
  Bytes id(32, 0xab);
  for (int i = 0; i < 8; ++i) id[i] = static_cast<std::uint8_t>(number >> (56 - 8 * i));
  return to_hex(id);
}

inline nlohmann::json block_answer(std::int64_t number, std::int64_t timestamp) {
  return {{"blockID", block_id_hex(number)},
          {"block_header",
           {{"raw_data", {{"number", number}, {"timestamp", timestamp}, {"version", 30}}},
            {"witness_signature", "00"}}}};
}

// A serialized transaction (not validly signed; the scripted server does not check) and its id.
struct SampleTransaction {
  Bytes bytes;
  std::string txid;
};

inline SampleTransaction sample_transaction(std::int64_t amount = 1'000'000) {
  protocol::TransferContract transfer;
  transfer.set_owner_address(std::string(21, '\x41'));
  transfer.set_to_address(std::string(21, '\x42'));
  transfer.set_amount(amount);
  protocol::Transaction tx;
  auto* raw = tx.mutable_raw_data();
  raw->set_ref_block_bytes(std::string("\x01\x02", 2));
  raw->set_ref_block_hash(std::string(8, '\x07'));
  raw->set_timestamp(1'700'000'000'000);
  raw->set_expiration(1'700'000'060'000);
  auto* contract = raw->add_contract();
  contract->set_type(protocol::Transaction::Contract::TransferContract);
  contract->mutable_parameter()->PackFrom(transfer);
  tx.add_signature(std::string(65, '\x01'));
  std::string bytes = tx.SerializeAsString();
  SampleTransaction out;
  out.bytes.assign(bytes.begin(), bytes.end());
  out.txid = to_hex(sha256(as_bytes(raw->SerializeAsString())));
  return out;
}

}  // namespace tron::testing
