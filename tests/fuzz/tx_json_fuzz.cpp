// libFuzzer target: java-tron's JSON form of a transaction, as `tx sign` and `tx broadcast`
// read it and a full node answers it. Accepted input must print back to JSON that reads to
// the same transaction.
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "tron/json_bounded.hpp"
#include "tron/tx_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tron;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  nlohmann::json json;
  try {
    json = parse_json_bounded(text, 1 << 20, 64);
  } catch (const JsonLimitError&) {
    return 0;
  }
  protocol::Transaction tx;
  try {
    tx = txjson::transaction_from_json(json);
  } catch (const std::invalid_argument&) {
    return 0;
  } catch (const nlohmann::json::exception&) {
    std::abort();  // a wrong type must be reported as invalid_argument, not escape
  }
  std::string raw = tx.raw_data().SerializeAsString();
  for (bool visible : {false, true}) {
    nlohmann::json printed = txjson::transaction_to_json(tx, raw, visible);
    protocol::Transaction again;
    try {
      again = txjson::transaction_from_json(printed);
    } catch (const std::invalid_argument&) {
      continue;  // contracts read from raw_data_hex alone may not print as raw_data
    }
    if (again.raw_data().SerializeAsString() != raw) std::abort();
  }
  return 0;
}
