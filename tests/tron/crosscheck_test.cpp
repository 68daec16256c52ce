// Random keys, transactions of all three kinds and TIP-191 messages, made by us and checked by
// tronweb (tests/js/crosscheck.js, the real npm package, offline) byte for byte.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tron/tip191.hpp"
#include "tron/transaction.hpp"

namespace {

using nlohmann::json;
using tron::Address;
using tron::U256;

constexpr int kCasesPerKind = 200;

class Random {
 public:
  explicit Random(std::uint64_t seed) : rng_(seed) {}

  std::uint64_t below(std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_); }
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) {
    return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng_);
  }
  tron::Bytes bytes(std::size_t n) {
    tron::Bytes out(n);
    for (auto& b : out) b = static_cast<std::uint8_t>(below(256));
    return out;
  }
  tron::PrivateKey key() {
    for (;;) {
      tron::Bytes secret = bytes(32);
      try {
        return tron::PrivateKey::from_bytes(secret);
      } catch (const std::invalid_argument&) {
        // astronomically rare: zero or above the group order
      }
    }
  }
  Address address() { return *Address::from_bytes(bytes(20)); }
  // Spread over magnitudes: 1 to `max_bits` bits, never zero.
  U256 amount(unsigned max_bits) {
    unsigned bits = static_cast<unsigned>(between(1, max_bits));
    U256 value = 0;
    for (unsigned i = 0; i < bits; i += 32) value = (value << 32) | U256(below(1ull << 32));
    value &= (U256(1) << bits) - 1;
    value |= U256(1) << (bits - 1);
    return value;
  }
  // UTF-8 text of ASCII, accented letters, CJK and emoji.
  std::string message() {
    static const char* kPieces[] = {"a", "Z", "0", " ", "\n", "\"", "\\", "{", "é", "ß", "€",
                                    "中", "文", "😀", "🚀", "hello", "BTT", "\t", "%", "0x"};
    std::string out;
    std::size_t n = below(40);
    for (std::size_t i = 0; i < n; ++i) out += kPieces[below(std::size(kPieces))];
    return out;
  }

 private:
  std::mt19937_64 rng_;
};

std::string address_text(Random& r, const Address& a) {
  return r.below(2) ? a.to_base58() : a.to_hex();
}

json make_transaction_case(Random& r, int id, const std::string& kind) {
  tron::PrivateKey key = r.key();
  Address to = r.address();
  tron::Bytes block_id = r.bytes(32);
  block_id[0] = block_id[1] = 0;  // block numbers are small; the rest is hash
  const std::int64_t timestamp = static_cast<std::int64_t>(r.between(1'500'000'000'000, 2'500'000'000'000));
  const std::int64_t expiration = timestamp + static_cast<std::int64_t>(r.between(1'000, 86'400'000));
  auto timing = tron::TxTiming::from_block_id(block_id, timestamp, expiration);

  json c = {{"id", id},
            {"kind", kind},
            {"priv", tron::to_hex(key.secret())},
            {"address", key.address().to_base58()},
            {"to", address_text(r, to)},
            {"block_id", tron::to_hex(block_id)},
            {"timestamp", timestamp},
            {"expiration", expiration}};
  tron::Token token;
  U256 amount;
  std::int64_t fee_limit = tron::kDefaultFeeLimit;
  if (kind == "trc20") {
    token.kind = tron::Token::Kind::Trc20;
    token.contract = r.address();
    amount = r.amount(256);
    fee_limit = static_cast<std::int64_t>(r.between(1, 15'000'000'000));
    c["contract"] = address_text(r, token.contract);
    c["fee_limit"] = fee_limit;
  } else {
    // tronweb holds amounts as JavaScript numbers: stay within 2^53.
    amount = r.amount(53);
    if (kind == "trc10") {
      token = tron::Token::parse("trc10:" + std::to_string(r.between(1'000'001, 9'999'999)));
      c["asset_id"] = token.asset_id;
    }
  }
  c["amount"] = amount.str();

  tron::Transaction tx = tron::Transaction::transfer(token, key.address(), to, amount, timing, fee_limit);
  tx.sign(key);
  c["raw_data_hex"] = tx.raw_data_hex();
  c["txID"] = tron::to_hex(tx.txid());
  c["signature"] = tron::to_hex(tron::as_bytes(tx.proto().signature(0)));
  json j = tx.to_json();
  j.erase("signature");
  c["json"] = std::move(j);
  return c;
}

json make_message_case(Random& r, int id) {
  tron::PrivateKey key = r.key();
  std::string message = r.message();
  return {{"id", id},
          {"kind", "message"},
          {"priv", tron::to_hex(key.secret())},
          {"address", key.address().to_base58()},
          {"message", message},
          {"message_signature", tron::sign_message_hex(key, message)}};
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "bttnode-crosscheck-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

TEST(TronwebCrosscheck, TransactionsAndMessagesMatchByteForByte) {
  const std::uint64_t seed = std::random_device{}() ^ (std::uint64_t(std::random_device{}()) << 32);
  SCOPED_TRACE("seed " + std::to_string(seed));
  Random r(seed);

  TempDir dir;
  const auto cases_path = dir.path / "cases.jsonl";
  std::map<int, json> cases;
  {
    std::ofstream out(cases_path);
    int id = 0;
    for (int i = 0; i < kCasesPerKind; ++i) {
      for (const char* kind : {"trx", "trc10", "trc20"}) {
        json c = make_transaction_case(r, id, kind);
        out << c.dump() << "\n";
        cases[id++] = std::move(c);
      }
      json m = make_message_case(r, id);
      out << m.dump() << "\n";
      cases[id++] = std::move(m);
    }
    ASSERT_TRUE(out.good());
  }

  const std::string command = "cd '" BTTNODE_JS_DIR "' && node crosscheck.js < '" +
                              cases_path.string() + "' 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[65536];
  std::size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  const int status = pclose(pipe);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "node crosscheck.js failed (is node installed and `npm ci` run in tests/js?):\n"
      << output.substr(0, 4000);

  std::istringstream lines(output);
  std::string line;
  std::map<std::string, int> ok_by_kind;
  json summary;
  int reported_failures = 0;
  while (std::getline(lines, line)) {
    json result = json::parse(line, nullptr, false);
    ASSERT_FALSE(result.is_discarded()) << "not JSON from crosscheck.js: " << line;
    if (result.contains("summary")) {
      summary = result;
      continue;
    }
    if (result["ok"] == true) {
      ok_by_kind[result["kind"]]++;
    } else if (reported_failures++ < 5) {
      ADD_FAILURE() << "tronweb disagrees: " << result["errors"].dump(2) << "\ncase: "
                    << cases[result["id"].get<int>()].dump();
    }
  }
  ASSERT_TRUE(summary.is_object()) << output.substr(0, 4000);
  EXPECT_EQ(summary["failed"], 0);
  for (const char* kind : {"trx", "trc10", "trc20", "message"}) {
    EXPECT_EQ(ok_by_kind[kind], kCasesPerKind) << kind;
  }
}

}  // namespace
