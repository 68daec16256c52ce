#include "tron/devnet/trc20.hpp"

#include <algorithm>
#include <string>

namespace tron::devnet {

namespace {

using nlohmann::json;

std::uint32_t selector_of(const char* signature) {
  Hash32 h = keccak256(as_bytes(signature));
  return (std::uint32_t{h[0]} << 24) | (std::uint32_t{h[1]} << 16) | (std::uint32_t{h[2]} << 8) |
         h[3];
}

const std::uint32_t kTransfer = selector_of("transfer(address,uint256)");
const std::uint32_t kBalanceOf = selector_of("balanceOf(address)");
const std::uint32_t kDecimals = selector_of("decimals()");
const std::uint32_t kSymbol = selector_of("symbol()");
const std::uint32_t kName = selector_of("name()");
const std::uint32_t kTotalSupply = selector_of("totalSupply()");

U256 read_word(const Bytes& data, std::size_t offset) {
  U256 v = 0;
  for (std::size_t i = 0; i < 32; ++i) v = (v << 8) | data[offset + i];
  return v;
}

// An ABI address argument: 12 zero bytes then 20 address bytes. Solidity (>= 0.8) reverts on
// dirty upper bytes, so this does too.
std::optional<Address> read_address(const Bytes& data, std::size_t offset) {
  for (std::size_t i = 0; i < 12; ++i) {
    if (data[offset + i] != 0) return std::nullopt;
  }
  return Address::from_bytes(std::span<const std::uint8_t>(data.data() + offset + 12, 20));
}

Bytes abi_string(const std::string& s) {
  Bytes out = abi_word(32);
  Bytes len = abi_word(s.size());
  out.insert(out.end(), len.begin(), len.end());
  out.insert(out.end(), s.begin(), s.end());
  out.resize(64 + (s.size() + 31) / 32 * 32, 0);
  return out;
}

Hash32 address_topic(const Address& a) {
  Hash32 t{};
  std::copy(a.evm().begin(), a.evm().end(), t.begin() + 12);
  return t;
}

CallOutcome revert(Bytes data = {}) {
  CallOutcome out;
  out.success = false;
  out.output = std::move(data);
  out.energy = kRevertEnergy;
  return out;
}

CallOutcome view(Bytes output) {
  CallOutcome out;
  out.success = true;
  out.output = std::move(output);
  out.energy = kViewEnergy;
  return out;
}

}  // namespace

Bytes abi_word(const U256& v) {
  Bytes out(32, 0);
  U256 x = v;
  for (int i = 31; i >= 0; --i) {
    out[i] = static_cast<std::uint8_t>(x & 0xff);
    x >>= 8;
  }
  return out;
}

Hash32 transfer_topic() { return keccak256(as_bytes("Transfer(address,address,uint256)")); }

Bytes revert_reason(const std::string& reason) {
  Bytes out = {0x08, 0xc3, 0x79, 0xa0};  // Error(string)
  Bytes body = abi_string(reason);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

CallOutcome trc20_call(Trc20Token& token, const Address& caller, const Bytes& data,
                       std::int64_t call_value, bool commit) {
  // No function of the token is payable.
  if (call_value != 0 || data.size() < 4) return revert();
  std::uint32_t selector = (std::uint32_t{data[0]} << 24) | (std::uint32_t{data[1]} << 16) |
                           (std::uint32_t{data[2]} << 8) | data[3];
  if (selector == kTransfer) {
    if (data.size() < 4 + 64) return revert();
    auto to = read_address(data, 4);
    if (!to) return revert();
    U256 amount = read_word(data, 36);
    if (*to == Address()) return revert(revert_reason("ERC20: transfer to the zero address"));
    U256 from_balance = token.balance_of(caller);
    if (from_balance < amount) {
      return revert(revert_reason("ERC20: transfer amount exceeds balance"));
    }
    CallOutcome out;
    out.success = true;
    out.output = abi_word(1);
    out.energy = token.balance_of(*to) == 0 && *to != caller ? kTransferNewHolderEnergy
                                                             : kTransferEnergy;
    out.logs.push_back(VmLog{token.contract,
                             {transfer_topic(), address_topic(caller), address_topic(*to)},
                             abi_word(amount)});
    if (commit && *to != caller) {
      U256 left = from_balance - amount;
      if (left == 0) {
        token.balances.erase(caller);
      } else {
        token.balances[caller] = left;
      }
      if (amount != 0) token.balances[*to] += amount;
    }
    return out;
  }
  if (selector == kBalanceOf) {
    if (data.size() < 4 + 32) return revert();
    auto who = read_address(data, 4);
    if (!who) return revert();
    return view(abi_word(token.balance_of(*who)));
  }
  if (selector == kDecimals) return view(abi_word(token.decimals));
  if (selector == kSymbol) return view(abi_string(token.symbol));
  if (selector == kName) return view(abi_string(token.name));
  if (selector == kTotalSupply) return view(abi_word(token.total_supply));
  return revert();
}

json trc20_abi() {
  auto fn = [](const char* name, json inputs, json outputs, bool constant) {
    json e = {{"name", name},
              {"type", "Function"},
              {"stateMutability", constant ? "View" : "Nonpayable"}};
    if (constant) e["constant"] = true;
    if (!inputs.empty()) e["inputs"] = std::move(inputs);
    if (!outputs.empty()) e["outputs"] = std::move(outputs);
    return e;
  };
  json entrys = json::array();
  entrys.push_back(fn("name", json::array(), json::array({{{"type", "string"}}}), true));
  entrys.push_back(fn("symbol", json::array(), json::array({{{"type", "string"}}}), true));
  entrys.push_back(fn("decimals", json::array(), json::array({{{"type", "uint8"}}}), true));
  entrys.push_back(fn("totalSupply", json::array(), json::array({{{"type", "uint256"}}}), true));
  entrys.push_back(fn("balanceOf", json::array({{{"name", "account"}, {"type", "address"}}}),
                      json::array({{{"type", "uint256"}}}), true));
  entrys.push_back(fn("transfer",
                      json::array({{{"name", "to"}, {"type", "address"}},
                                   {{"name", "amount"}, {"type", "uint256"}}}),
                      json::array({{{"type", "bool"}}}), false));
  entrys.push_back({{"anonymous", false},
                    {"name", "Transfer"},
                    {"type", "Event"},
                    {"inputs", json::array({{{"indexed", true}, {"name", "from"}, {"type", "address"}},
                                            {{"indexed", true}, {"name", "to"}, {"type", "address"}},
                                            {{"name", "value"}, {"type", "uint256"}}})}});
  return {{"entrys", std::move(entrys)}};
}

}  // namespace tron::devnet
