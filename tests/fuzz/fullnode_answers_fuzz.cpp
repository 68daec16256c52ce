// libFuzzer target: a full node's answer bodies through the client's readers. The first byte
// picks the API path; the rest is the body. Any answer gives a value or a NodeError, never a
// crash, a hang or another exception.
#include <cstdlib>
#include <string>
#include <string_view>

#include "tron/fullnode_answers.hpp"
#include "tron/json_bounded.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tron;
  if (size == 0) return 0;
  static const char* kPaths[] = {
      "/wallet/getnowblock",        "/wallet/getblockbynum",           "/wallet/getaccount",
      "/wallet/getchainparameters", "/wallet/triggerconstantcontract", "/wallet/broadcasthex",
      "/wallet/gettransactionbyid", "/wallet/gettransactioninfobyid",
  };
  const std::string_view path = kPaths[data[0] % 8];
  const unsigned status = data[0] >= 0xf0 ? 500 : 200;
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  const Address who = Address::from_string("41a614f803b6fd780986a42c78ec9c7f77e6ded13c");
  const std::string id(64, '0');
  try {
    nlohmann::json answer = answers::parse_answer(path, status, "Fuzz", body, 1 << 20);
    if (!answer.is_object()) std::abort();
    switch (data[0] % 8) {
      case 0:
      case 1: {
        BlockRef b = answers::block(path, answer);
        if (b.id.size() != 32 || b.number < 0 || b.timestamp < 0) std::abort();
        break;
      }
      case 2: {
        AccountBalances a = answers::account(path, answer, who);
        if (a.trx < 0) std::abort();
        for (const auto& [k, v] : a.trc10) {
          if (k.empty() || v < 0) std::abort();
        }
        break;
      }
      case 3:
        answers::chain_parameters(path, answer);
        break;
      case 4:
        answers::constant_result(path, answer, "balanceOf(address)");
        break;
      case 5: {
        BroadcastResult r = answers::broadcast(path, answer, id, data[0] & 0x80);
        if (r.txid != id || (r.ok && r.code != "SUCCESS")) std::abort();
        break;
      }
      case 6:
        answers::transaction(path, answer, id);
        break;
      case 7:
        if (auto info = answers::transaction_info(path, answer, id)) {
          if (info->fee < 0 || info->block_number < 0) std::abort();
          (void)info->raw.dump();  // what a verifier may print: shallow by the depth bound
        }
        break;
    }
  } catch (const NodeError& e) {
    if (e.code.empty()) std::abort();
  }
  // The bounded parser alone, with a small limit and depth.
  try {
    nlohmann::json j = parse_json_bounded(body, 4096, 8);
    if (json_depth(j.dump(), 100) > 8) std::abort();
  } catch (const JsonLimitError&) {
  }
  return 0;
}
